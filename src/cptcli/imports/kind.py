"""The one protocol every official file kind implements, and how a file's kind is decided.

A kind is a module in this package listed once in ``cptcli.places.KINDS``. The host (``cptcli.imports``) knows
only this protocol, never a kind by name: it asks every kind how sure it is that a file is its own, hands the
files of one set to that kind's parser, and has the store (``cptcli.imports.store``) write whatever the parser
yields into the tables the kind declares. What a kind may bring:

- per-code facts (``Parsed.codes``: HCPCS, CPT), joined to the records before they are indexed;
- registry entries (``Parsed.modifiers``, ``Parsed.taxonomy``: HCPCS modifiers, NUCC);
- rows of tables of its own (``Parsed.rows``, keyed by the names in ``TABLES``: NCCI PTP pairs keyed by code,
  MUE values by code, ...), which stay in the kind's store and are read by the check rules through indexed
  look-ups, never loaded whole. ``Parsed.rows`` values may be generators: a 2.5-million-row release is written
  as it is read.

One release is active per kind and *slot*: a kind whose publisher ships several sets side by side (NCCI's
practitioner and outpatient hospital edits, ICD-10-CM fiscal years) names the slot in ``Parsed.slot``; a new
release replaces only the set in its own slot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import NamedTuple, Protocol

from .records import Member, Parsed

# How sure a kind must be that a file is its own for the file to be imported as that kind without --kind.
CONFIDENT = 0.5
# What a kind's sniff returns for evidence of each strength: content (a header, records in the kind's layout)
# decides; a name the publisher gives its files only suggests, except where the head cannot show the content
# (an .xlsx is a zip, whose first bytes say nothing of its sheets).
CONTENT = 0.9
NAME_ONLY = 0.3
NAME_OF_CONTAINER = 0.6


class Table(NamedTuple):
    """A table of a kind's own in its store: ``columns`` as ``"name TYPE"`` SQL, ``indexes`` the column lists
    that look-ups use (each becomes one index, made after the rows are in)."""

    name: str
    columns: tuple[str, ...]
    indexes: tuple[tuple[str, ...], ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.split()[0] for c in self.columns)


Progress = Callable[[str, int, "int | None"], None]


class Kind(Protocol):
    """What every kind module provides (modules satisfy it as they are)."""

    KIND: str  # the name users give --kind and --remove
    LABEL: str  # as a sentence names the set ("NCCI PTP")
    A_LABEL: str  # with its article ("an NCCI PTP")
    READER: int  # bumped when the same file would now be read differently: re-importing it then re-reads it
    TABLES: tuple[Table, ...]  # the kind's own tables; () for kinds that bring only codes and registries
    MAX_BYTES: int  # the largest file of the kind read, well beyond its largest real one (docs/limits.md)

    def sniff(self, name: str, head: bytes) -> float:
        """How sure the kind is that a file named ``name`` beginning with ``head`` is its own, 0 to 1
        (CONTENT, NAME_OF_CONTAINER, NAME_ONLY or 0; content beats name)."""
        ...

    def sets(self, members: list[Member]) -> tuple[list[list[Member]], list[tuple[Member, str]]]:
        """The files given of this kind split into the sets to import (each one release of one slot), and the
        files skipped with the reason why."""
        ...

    def parse(self, members: list[Member], hint: str = "", progress: Progress | None = None) -> Parsed:
        """One set's files read into what the store writes. Raise ``DataError`` naming the file, line and field
        for a file that is damaged; record lines that are merely skipped with ``Parsed.skip``."""
        ...


def one_set(choose: Callable[[list[Member]], tuple[list[Member], list[tuple[Member, str]]]]):
    """``sets`` for a kind that imports one set a call, from its ``choose(members) -> (kept, skipped)``."""

    def sets(members: list[Member]) -> tuple[list[list[Member]], list[tuple[Member, str]]]:
        keep, rest = choose(members)
        return ([keep] if keep else []), rest

    return sets


class Verdict(NamedTuple):
    """Which kind a file is: ``kind`` when one kind claims it with confidence and more surely than any other,
    else None with ``candidates`` (kind, score) for the refusal to name."""

    kind: str | None
    candidates: tuple[tuple[str, float], ...]


def decide(name: str, head: bytes, kinds: Iterable[tuple[str, Kind]]) -> Verdict:
    """The highest score wins; a tie at the top, or no score of CONFIDENT or more, decides nothing."""
    scores = sorted(((k, float(mod.sniff(name, head))) for k, mod in kinds), key=lambda ks: -ks[1])
    candidates = tuple((k, s) for k, s in scores if s > 0)
    if not candidates or candidates[0][1] < CONFIDENT:
        return Verdict(None, candidates)
    if len(candidates) > 1 and candidates[1][1] == candidates[0][1]:
        return Verdict(None, tuple(c for c in candidates if c[1] == candidates[0][1]))
    return Verdict(candidates[0][0], candidates)
