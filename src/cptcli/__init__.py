"""cptcli: offline look-up of CPT procedure codes, their modifiers and diagnosis pairings."""

# A literal, not importlib.metadata: reading metadata costs ~28 ms at start-up.
# pyproject.toml reads the package version from this line, so the two cannot drift.
__version__ = "0.1.0"

# Version of the JSON documents cptcli prints (not of the data file's format).
# Here rather than in cptcli.model so that the search fast path, which prints
# JSON without the model's dataclasses (~10 ms to import), names it too.
SCHEMA_VERSION = 1
