"""The imported sets read back (the writer and the parsers are cptcli.imports): which are active, their meta rows,
and indexed look-ups in the kinds' own tables, each set opened through ``open_kind`` and every failure one
DataError naming the set and its fix (cptcli.places.damaged_set, exit 3).

A module of its own, outside the imports package, so that `show` and `check` read the payer sets without loading
what parses and writes them (the package, its record classes, dataclasses and pathlib): the look-ups cost a
call's start-up nothing it does not use. The layout of a set's file is documented in cptcli.imports.store.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from typing import Any, NamedTuple

from cptcli.places import SUFFIX, is_set_name


class ImportedSource(NamedTuple):
    """One active set as its store's meta row describes it."""

    kind: str
    release: str
    files: tuple[str, ...]
    sha256: tuple[tuple[str, str], ...]
    records: int
    modifiers: int
    imported_at: str
    path: str
    slot: str = ""
    covers: tuple[str, str] | None = None
    counts: tuple[tuple[str, int], ...] = ()

    @property
    def name(self) -> str:
        """The set as users name it: its kind, and its slot where the kind keeps several ("ncci-ptp practitioner")."""
        return f"{self.kind} {self.slot}" if self.slot else self.kind

    @property
    def authority(self) -> str:
        """How a finding cites the set: its files and release."""
        return f"{', '.join(self.files)}, {self.release}"

    def covers_date(self, date: str) -> bool | None:
        """Whether the release applies to a date of service (YYYY-MM-DD); None where the publisher gives no range."""
        if self.covers is None:
            return None
        return self.covers[0] <= date <= self.covers[1]

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": 1,
            "kind": self.kind,
            "slot": self.slot or None,
            "release": self.release,
            "files": list(self.files),
            "sha256": dict(self.sha256),
            "records": self.records,
            "modifiers": self.modifiers,
            "covers": list(self.covers) if self.covers else None,
            "imported_at": self.imported_at,
            "path": self.path,
        }


def data_dir() -> str:
    from cptcli.cache import data_dir as where

    return str(where())


def set_name(kind: str, slot: str = "") -> str:
    return f"{kind}.{slot}" if slot else kind


def kind_path(kind: str, slot: str = "") -> str:
    return os.path.join(data_dir(), f"{set_name(kind, slot)}{SUFFIX}")


def active_sets(lenient: bool = False) -> list[tuple[str, str]]:
    """(kind, slot) of every active set, sorted; temporary files (dot-named) are never among them.

    Listed through cptcli.places.imported_sets, which refuses (DataError, exit 3) a data directory or a set that
    fails the trust rule and anything but a regular file in a set's place. `lenient`: listed as they are, for
    the import that replaces them and the removal that clears them (the fixes those refusals name)."""
    from cptcli.places import check_data_dir, imported_sets

    if lenient:
        check_data_dir(data_dir())  # what is imported there would be refused when read back
        return listed()
    return sorted(_set_of(n) for n, _ in imported_sets()[1])


def listed() -> list[tuple[str, str]]:
    """(kind, slot) of every file named as an active set, whatever it is."""
    try:
        names = os.listdir(data_dir())
    except OSError:
        return []
    return sorted(_set_of(n) for n in names if is_set_name(n))


def _set_of(name: str) -> tuple[str, str]:
    kind, _, slot = name[: -len(SUFFIX)].partition(".")
    return kind, slot


def active_kinds() -> list[str]:
    """Kinds with at least one active set, sorted."""
    return sorted({k for k, _ in active_sets()})


# -- reading: every way into a set's file goes through open_kind, and every failure is one DataError ------------
# (cptcli.places.damaged_set: the file, why, `cptcli import --remove SET` and a re-import), never a traceback and
# never a set silently left out: a set the user imported and cannot be read is damage, not absence.

_MAGIC = b"SQLite format 3\x00"


def _whole(path: str, st: os.stat_result) -> str | None:
    """Why the file at `path` is not a whole SQLite database, from its 100-byte header alone, or None: not one
    at all, or a size other than the page count its header gives times its page size (a file cut short by a
    full disk or a copy that stopped, or grown by bytes appended). Opened without blocking and checked to be the
    regular file `st` describes, in case it was swapped for a named pipe since."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    try:
        now = os.fstat(fd)
        if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
            return "was replaced while it was opened"
        head = os.read(fd, 100)
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    finally:
        os.close(fd)
    if not head:
        return "is empty"
    if len(head) < 100 or not head.startswith(_MAGIC):
        return f"is not an SQLite database ({st.st_size:,} bytes)"
    page = int.from_bytes(head[16:18], "big")
    page = 65536 if page == 1 else page
    pages = int.from_bytes(head[28:32], "big")
    # The page count is valid when its "version-valid-for" number is the change counter (SQLite 3.7.0 on,
    # which wrote every store): always so for a file the store wrote.
    if head[92:96] == head[24:28] and pages and st.st_size != page * pages:
        if st.st_size < page * pages:
            return f"is damaged (cut short: {st.st_size:,} of {page * pages:,} bytes)"
        return f"is damaged ({st.st_size:,} bytes, not the {page * pages:,} its header gives)"
    return None


def open_kind(kind: str, slot: str = "") -> sqlite3.Connection | None:
    """The active set of ``kind`` (in ``slot``), read-only, or None if none is imported; raises DataError for a
    set that is damaged or not trusted (cptcli.places.check_set)."""
    from cptcli.cache import sqlite_uri
    from cptcli.places import check_set, damaged_set

    p = kind_path(kind, slot)
    st = check_set(str(p))
    if st is None:
        return None
    why = _whole(p, st)
    if why is not None:
        raise damaged_set(str(p), why)
    try:
        con = sqlite3.connect(sqlite_uri(os.path.abspath(p), "mode=ro"), uri=True)
    except sqlite3.Error as exc:
        raise damaged_set(str(p), f"cannot be opened ({exc})") from None
    try:
        with reading(p):
            _checked_meta(con, kind, slot, p)
    except BaseException:
        con.close()
        raise
    return con


class reading:
    """Turns a database error, or a stored row that does not parse as what the store wrote, met while reading
    the set at `path`, into its one DataError. A context manager, not a decorator: the readers are generators."""

    def __init__(self, path) -> None:
        self.path = path

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, exc, tb) -> None:
        if kind is not None and issubclass(kind, (sqlite3.Error, BadRow)):
            from cptcli.places import damaged_set

            raise damaged_set(str(self.path), f"is damaged ({exc})") from None


class BadRow(Exception):
    """A stored row or meta value that is not of the shape the store writes."""


def _meta(con: sqlite3.Connection) -> dict[str, Any]:
    cur = con.execute("SELECT * FROM meta")
    row = cur.fetchone()
    if row is None:
        raise BadRow("its meta table is empty")
    meta = dict(zip((d[0] for d in cur.description), row, strict=True))
    meta.setdefault("reader", 0)
    meta.setdefault("slot", "")
    return meta


def _source(meta: dict[str, Any], path: str) -> ImportedSource:
    try:
        files = json.loads(meta["files"])
        lo, hi = meta.get("covers_from"), meta.get("covers_to")
        found = ImportedSource(
            kind=meta["kind"],
            release=meta["release"],
            files=tuple(f["name"] for f in files),
            sha256=tuple((f["name"], f["sha256"]) for f in files),
            records=meta["records"],
            modifiers=meta["modifiers"],
            imported_at=meta["imported_at"],
            path=str(path),
            slot=meta.get("slot") or "",
            covers=(lo, hi) if lo and hi else None,
            counts=tuple(json.loads(meta.get("counts") or "{}").items()),
        )
    except (ValueError, TypeError, KeyError, AttributeError):
        raise BadRow("its meta row does not parse") from None
    texts = (found.kind, found.release, found.imported_at, found.slot, *found.files, *(s for _, s in found.sha256))
    if not all(isinstance(t, str) for t in texts) or not all(
        isinstance(n, int) and not isinstance(n, bool) for n in (found.records, found.modifiers)
    ):
        raise BadRow("its meta row holds a value of the wrong type")
    return found


def _checked_meta(con: sqlite3.Connection, kind: str, slot: str, path: str) -> dict[str, Any]:
    """The set's meta row, which must parse (_source) and name the set its file is named after."""
    meta = _meta(con)
    found = _source(meta, path)
    if (found.kind, found.slot) != (kind, slot):
        raise BadRow(f"its meta row is of the set {set_name(found.kind, found.slot)!r}")
    return meta


def read_meta(kind: str, slot: str) -> dict[str, Any] | None:
    con = open_kind(kind, slot)
    if con is None:
        return None
    try:
        with reading(kind_path(kind, slot)):
            return _meta(con)
    finally:
        con.close()


def active_identity(kind: str, slot: str = "") -> tuple[list[str], int] | None:
    """The active set's sorted file digests and the reader version that parsed them, or None (none, or one that
    cannot be read: the import replaces it)."""
    from cptcli.errors import DataError

    try:
        meta = read_meta(kind, slot)
        return None if meta is None else (list(json.loads(meta["sha256s"])), int(meta["reader"]))
    except (DataError, ValueError, TypeError, KeyError):
        return None


def active(kind: str, slot: str = "", lenient: bool = False) -> ImportedSource | None:
    """The active set of ``kind`` in ``slot``, or None. `lenient`: None for a set that cannot be read or trusted
    too (the import replacing it); else that raises DataError."""
    from cptcli.errors import DataError

    try:
        meta = read_meta(kind, slot)
        if meta is None:
            return None
        with reading(kind_path(kind, slot)):
            return _source(meta, kind_path(kind, slot))
    except DataError:
        if lenient:
            return None
        raise


def sources(lenient: bool = False) -> list[ImportedSource]:
    """Every active set; `lenient`: those that can be read and trusted (see active)."""
    found = (active(k, slot, lenient) for k, slot in active_sets(lenient))
    return [s for s in found if s is not None]


def each(kind: str | None = None) -> Iterator[tuple[str, sqlite3.Connection]]:
    """A read-only connection to every active set (of ``kind``), closed after its turn."""
    for k, slot in active_sets():
        if kind is not None and k != kind:
            continue
        con = open_kind(k, slot)
        if con is None:
            continue
        try:
            yield kind_path(k, slot), con
        finally:
            con.close()


# SQL's declared type -> the Python types a value read back may be (SQLite keeps a value that does not convert
# to a column's type as it was given: 'x' in an INTEGER column stays text).
_TYPES: dict[str, tuple[type, ...]] = {"INTEGER": (int,), "TEXT": (str,), "REAL": (float, int)}


class Lookup:
    """Indexed look-ups in the kinds' own tables for one call (the check rules' reader): each active set is opened
    once, on its first question, and asked only what the question names; nothing is loaded whole. Every value
    read from a column of the set's own tables is checked against the column's declared type (and NOT NULL), so
    that a row damaged in place is reported as damage, not met as a wrong type deep in a rule."""

    def __init__(self) -> None:
        self._cons: dict[
            tuple[str, str], tuple[sqlite3.Connection, dict[str, tuple[tuple[type, ...], bool]]] | None
        ] = {}
        self._sets: dict[str, list[ImportedSource]] | None = None

    def sets(self, kind: str) -> list[ImportedSource]:
        """The active sets of ``kind``, one a slot (read once a Lookup: a claims file asks for every line)."""
        if self._sets is None:
            self._sets = {}
            for k, slot in active_sets():
                found = active(k, slot)
                if found is not None:
                    self._sets.setdefault(k, []).append(found)
        return self._sets.get(kind, [])

    def _open(self, kind: str, slot: str):
        con = open_kind(kind, slot)
        if con is None:
            return None
        columns: dict[str, tuple[tuple[type, ...], bool]] = {}
        seen: set[str] = set()
        with reading(kind_path(kind, slot)):
            tables = [t for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            for table in tables:
                if table in ("meta", "codes", "modifiers", "taxonomy"):
                    continue
                for _, name, declared, notnull, _, _ in con.execute(f'PRAGMA table_info("{table}")'):
                    types = _TYPES.get(str(declared).upper())
                    if name in seen or types is None:
                        columns.pop(name, None)  # in two tables, or of no type: not checked
                    else:
                        columns[name] = (types, bool(notnull))
                    seen.add(name)
        return con, columns

    def rows(self, kind: str, slot: str, sql: str, args: tuple = ()) -> list[tuple]:
        """The rows of one query (``sql`` names the kind's own table) in the active set of ``kind`` in ``slot``."""
        key = (kind, slot)
        if key not in self._cons:
            self._cons[key] = self._open(*key)
        opened = self._cons[key]
        if opened is None:
            return []
        con, columns = opened
        path = kind_path(kind, slot)
        with reading(path):
            cur = con.execute(sql, args)
            found = cur.fetchall()
            names = [d[0] for d in cur.description or ()]
            checks = [(i, name, *columns[name]) for i, name in enumerate(names) if name in columns]
            for row in found if checks else ():
                for i, name, types, notnull in checks:
                    value = row[i]
                    if (value is not None or notnull) and not isinstance(value, types):
                        raise BadRow(f"a {name} value of {value!r} where its table holds {types[0].__name__}s")
        return found

    def close(self) -> None:
        for opened in self._cons.values():
            if opened is not None:
                opened[0].close()
        self._cons.clear()
