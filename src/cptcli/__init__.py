"""cptcli: offline look-up of CPT procedure codes, their modifiers and diagnosis pairings."""

# A literal, not importlib.metadata: reading metadata costs ~28 ms at start-up.
# pyproject.toml reads the package version from this line, so the two cannot drift.
__version__ = "0.1.0"
