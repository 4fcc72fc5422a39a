"""Imported code sets on disk: one SQLite file per kind and slot under the user data directory.

Where: ``$CPTCLI_DATA_DIR`` if set, else ``platformdirs.user_data_dir("cptcli", appauthor=False)``; the active set of
kind K is ``K.sqlite`` there (``hcpcs.sqlite``, ``cpt.sqlite``, ``nucc.sqlite``), or ``K.SLOT.sqlite`` for a kind
that keeps several sets side by side (``ncci-ptp.practitioner.sqlite``, ``icd10cm.FY2026.sqlite``).

Tables (the engine and the check rules may query them directly):

- ``meta``: one row. ``kind`` TEXT, ``release`` TEXT, ``files`` TEXT (JSON list of {"name", "sha256"}),
  ``sha256s`` TEXT (JSON list, sorted), ``records`` INTEGER (codes, taxonomy rows, or the rows of the kind's first
  own table), ``modifiers`` INTEGER, ``imported_at`` TEXT (ISO-8601, UTC), ``format`` INTEGER (``STORE_FORMAT``),
  ``reader`` INTEGER (the parser module's ``READER``: a file imported by an older reader is read again, not
  reported unchanged; format 1 had none); from format 3: ``slot`` TEXT, ``covers_from`` and ``covers_to`` TEXT
  (YYYY-MM-DD or NULL: the dates of service the release applies to), ``counts`` TEXT (JSON: table -> rows).
- ``codes(code TEXT PRIMARY KEY, doc TEXT)``: ``doc`` is ``ImportedCode.to_dict()`` as JSON.
- ``modifiers(modifier TEXT PRIMARY KEY, doc TEXT)``: ``ImportedModifier.to_dict()`` as JSON.
- ``taxonomy(code TEXT PRIMARY KEY, doc TEXT)``: ``TaxonomyEntry.to_dict()`` as JSON (NUCC only).
- the kind's own tables (``cptcli.imports.kind.Table``), with the indexes they declare.

Every set's file has the first four tables (empty where they do not apply), so readers need no per-kind cases.

A new release is written to a temporary file created exclusively (O_EXCL, O_NOFOLLOW, mode 0600) beside the active
one, then ``os.replace``d over it: readers see the old release or the new one, never half of one. Temporary files
are dot-named and never opened by readers; a later import deletes those whose writer is gone.

Read back, a set is the user's data: the sets are listed through ``cptcli.places.imported_sets`` (the rule for
everything read back, and what a set's status shows), opened only through ``open_kind`` (its header against its
size, its meta row), and read through ``_reading``; whatever fails is one DataError naming the set and its fix
(``cptcli.places.damaged_set``, exit 3), never a set left out as if it were not imported.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .records import Attribute, ImportedCode, ImportedModifier, TaxonomyEntry

STORE_FORMAT = 3
SUFFIX = ".sqlite"
# Tests set this to a number of seconds to sleep after each row, so an import can be killed mid-write.
SLOW_ENV = "CPTCLI_TEST_SLOW_IMPORT"

_SCHEMA = """
CREATE TABLE meta (kind TEXT NOT NULL, release TEXT NOT NULL, files TEXT NOT NULL, sha256s TEXT NOT NULL,
                   records INTEGER NOT NULL, modifiers INTEGER NOT NULL, imported_at TEXT NOT NULL,
                   format INTEGER NOT NULL, reader INTEGER NOT NULL, slot TEXT NOT NULL DEFAULT '',
                   covers_from TEXT, covers_to TEXT, counts TEXT NOT NULL DEFAULT '{}');
CREATE TABLE codes (code TEXT PRIMARY KEY, doc TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE modifiers (modifier TEXT PRIMARY KEY, doc TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE taxonomy (code TEXT PRIMARY KEY, doc TEXT NOT NULL) WITHOUT ROWID;
"""


@dataclass(frozen=True, slots=True)
class ImportedSource:
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


def data_dir() -> Path:
    from cptcli.cache import data_dir as where

    return Path(where())


def set_name(kind: str, slot: str = "") -> str:
    return f"{kind}.{slot}" if slot else kind


def kind_path(kind: str, slot: str = "") -> Path:
    return data_dir() / f"{set_name(kind, slot)}{SUFFIX}"


def active_sets(lenient: bool = False) -> list[tuple[str, str]]:
    """(kind, slot) of every active set, sorted; temporary files (dot-named) are never among them.

    Listed through cptcli.places.imported_sets, which refuses (DataError, exit 3) a data directory or a set that
    fails the trust rule and anything but a regular file in a set's place. `lenient`: listed as they are, for
    the import that replaces them and the removal that clears them (the fixes those refusals name)."""
    from cptcli.places import check_data_dir, imported_sets

    if lenient:
        check_data_dir(str(data_dir()))  # what is imported there would be refused when read back
        return _listed()
    return sorted(_set_of(n) for n, _ in imported_sets()[1])


def _listed() -> list[tuple[str, str]]:
    """(kind, slot) of every file named as an active set, whatever it is."""
    try:
        names = os.listdir(data_dir())
    except OSError:
        return []
    return sorted(_set_of(n) for n in names if n.endswith(SUFFIX) and not n.startswith("."))


def _set_of(name: str) -> tuple[str, str]:
    kind, _, slot = name[: -len(SUFFIX)].partition(".")
    return kind, slot


def active_kinds() -> list[str]:
    """Kinds with at least one active set, sorted."""
    return sorted({k for k, _ in active_sets()})


def stamp() -> str:
    """A key that changes whenever any active set changes; stats files only."""
    from cptcli.places import imported_stamp

    return imported_stamp()


# -- reading: every way into a set's file goes through open_kind, and every failure is one DataError ------------
# (cptcli.places.damaged_set: the file, why, `cptcli import --remove SET` and a re-import), never a traceback and
# never a set silently left out: a set the user imported and cannot be read is damage, not absence.

_MAGIC = b"SQLite format 3\x00"


def _whole(path: Path, st: os.stat_result) -> str | None:
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
        with _reading(p):
            _checked_meta(con, kind, slot, p)
    except BaseException:
        con.close()
        raise
    return con


class _reading:
    """Turns a database error, or a stored row that does not parse as what the store wrote, met while reading
    the set at `path`, into its one DataError. A context manager, not a decorator: the readers are generators."""

    def __init__(self, path) -> None:
        self.path = path

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, exc, tb) -> None:
        if kind is not None and issubclass(kind, (sqlite3.Error, _BadRow)):
            from cptcli.places import damaged_set

            raise damaged_set(str(self.path), f"is damaged ({exc})") from None


class _BadRow(Exception):
    """A stored row or meta value that is not of the shape the store writes."""


def _doc(cls, text, key: str | None = None):
    """A stored document (``ImportedCode`` and the like, as ``to_dict`` wrote it) read back, every value text
    where the class has text; anything else raises _BadRow naming the row."""
    where = f"row {key!r}" if key is not None else "a row"
    try:
        d = json.loads(text)
    except (ValueError, TypeError):
        raise _BadRow(f"{where} is not JSON") from None
    try:
        found = cls.from_dict(d) if isinstance(d, dict) else None
    except KeyError as exc:
        raise _BadRow(f"{where} has no {exc}") from None
    except (ValueError, TypeError, AttributeError):
        found = None
    if found is None or not _texts(found):
        raise _BadRow(f"{where} is not of the shape the store writes")
    if key is not None and getattr(found, "code", getattr(found, "modifier", key)) != key:
        raise _BadRow(f"{where} holds the document of another code")
    return found


def _texts(value) -> bool:
    """Whether a read-back record holds text wherever the store writes text (its fields, tuples of them, an
    Attribute's; an Attribute's meaning may be None)."""
    if isinstance(value, str):
        return True
    if isinstance(value, tuple):
        return all(_texts(v) for v in value)
    if isinstance(value, Attribute):
        return (
            isinstance(value.label, str)
            and isinstance(value.value, str)
            and isinstance(value.meaning, (str, type(None)))
        )
    slots = getattr(value, "__slots__", None)
    return slots is not None and all(_texts(getattr(value, f)) for f in slots)


def _meta(con: sqlite3.Connection) -> dict[str, Any]:
    cur = con.execute("SELECT * FROM meta")
    row = cur.fetchone()
    if row is None:
        raise _BadRow("its meta table is empty")
    meta = dict(zip((d[0] for d in cur.description), row, strict=True))
    meta.setdefault("reader", 0)
    meta.setdefault("slot", "")
    return meta


def _source(meta: dict[str, Any], path: Path) -> ImportedSource:
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
        raise _BadRow("its meta row does not parse") from None
    texts = (found.kind, found.release, found.imported_at, found.slot, *found.files, *(s for _, s in found.sha256))
    if not all(isinstance(t, str) for t in texts) or not all(
        isinstance(n, int) and not isinstance(n, bool) for n in (found.records, found.modifiers)
    ):
        raise _BadRow("its meta row holds a value of the wrong type")
    return found


def _checked_meta(con: sqlite3.Connection, kind: str, slot: str, path: Path) -> dict[str, Any]:
    """The set's meta row, which must parse (_source) and name the set its file is named after."""
    meta = _meta(con)
    found = _source(meta, path)
    if (found.kind, found.slot) != (kind, slot):
        raise _BadRow(f"its meta row is of the set {set_name(found.kind, found.slot)!r}")
    return meta


def _read_meta(kind: str, slot: str) -> dict[str, Any] | None:
    con = open_kind(kind, slot)
    if con is None:
        return None
    try:
        with _reading(kind_path(kind, slot)):
            return _meta(con)
    finally:
        con.close()


def active_identity(kind: str, slot: str = "") -> tuple[list[str], int] | None:
    """The active set's sorted file digests and the reader version that parsed them, or None (none, or one that
    cannot be read: the import replaces it)."""
    from cptcli.errors import DataError

    try:
        meta = _read_meta(kind, slot)
        return None if meta is None else (list(json.loads(meta["sha256s"])), int(meta["reader"]))
    except (DataError, ValueError, TypeError, KeyError):
        return None


def active(kind: str, slot: str = "", lenient: bool = False) -> ImportedSource | None:
    """The active set of ``kind`` in ``slot``, or None. `lenient`: None for a set that cannot be read or trusted
    too (the import replacing it); else that raises DataError."""
    from cptcli.errors import DataError

    try:
        meta = _read_meta(kind, slot)
        if meta is None:
            return None
        with _reading(kind_path(kind, slot)):
            return _source(meta, kind_path(kind, slot))
    except DataError:
        if lenient:
            return None
        raise


def sources(lenient: bool = False) -> list[ImportedSource]:
    """Every active set; `lenient`: those that can be read and trusted (see active)."""
    found = (active(k, slot, lenient) for k, slot in active_sets(lenient))
    return [s for s in found if s is not None]


def _each(kind: str | None = None) -> Iterator[tuple[Path, sqlite3.Connection]]:
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


def get_code(code: str) -> list[ImportedCode]:
    code = code.strip().upper()
    out: list[ImportedCode] = []
    for path, con in _each():
        with _reading(path):
            row = con.execute("SELECT doc FROM codes WHERE code = ?", (code,)).fetchone()
            if row:
                out.append(_doc(ImportedCode, row[0], code))
    return out


def iter_codes() -> Iterator[ImportedCode]:
    for path, con in _each():
        with _reading(path):
            for code, doc in con.execute("SELECT code, doc FROM codes ORDER BY code"):
                yield _doc(ImportedCode, doc, code)


def modifiers() -> list[ImportedModifier]:
    out: list[ImportedModifier] = []
    for path, con in _each():
        with _reading(path):
            out.extend(
                _doc(ImportedModifier, doc, m)
                for m, doc in con.execute("SELECT modifier, doc FROM modifiers ORDER BY modifier")
            )
    return out


def taxonomy(code: str) -> TaxonomyEntry | None:
    code = code.strip().upper()
    con = open_kind("nucc")
    if con is None:
        return None
    try:
        with _reading(kind_path("nucc")):
            row = con.execute("SELECT doc FROM taxonomy WHERE code = ?", (code,)).fetchone()
            return _doc(TaxonomyEntry, row[0], code) if row else None
    finally:
        con.close()


def taxonomy_entries() -> list[TaxonomyEntry]:
    """Every entry of the NUCC set, in code order; [] when none is imported."""
    con = open_kind("nucc")
    if con is None:
        return []
    try:
        with _reading(kind_path("nucc")):
            return [
                _doc(TaxonomyEntry, doc, c) for c, doc in con.execute("SELECT code, doc FROM taxonomy ORDER BY code")
            ]
    finally:
        con.close()


def has_taxonomy() -> bool:
    con = open_kind("nucc")
    if con is None:
        return False
    try:
        with _reading(kind_path("nucc")):
            return con.execute("SELECT 1 FROM taxonomy LIMIT 1").fetchone() is not None
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
        with _reading(kind_path(kind, slot)):
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
        with _reading(path):
            cur = con.execute(sql, args)
            found = cur.fetchall()
            names = [d[0] for d in cur.description or ()]
            checks = [(i, name, *columns[name]) for i, name in enumerate(names) if name in columns]
            for row in found if checks else ():
                for i, name, types, notnull in checks:
                    value = row[i]
                    if (value is not None or notnull) and not isinstance(value, types):
                        raise _BadRow(f"a {name} value of {value!r} where its table holds {types[0].__name__}s")
        return found

    def close(self) -> None:
        for opened in self._cons.values():
            if opened is not None:
                opened[0].close()
        self._cons.clear()


def remove(kind: str, slot: str | None = None) -> bool:
    """Remove the active set of ``kind`` in ``slot``, or every set of ``kind`` when ``slot`` is None: whatever is
    in its place, a set that is damaged or not trusted included (the fix their refusal names), an empty directory
    too, and from a data directory that is not trusted as well (removing reads nothing back); a directory holding
    files is refused (DataError), not emptied."""
    targets = [s for k, s in _listed() if k == kind and (slot is None or s == slot)]
    removed = False
    for s in targets:
        path = kind_path(kind, s)
        try:
            os.unlink(path)
            removed = True
        except FileNotFoundError:
            pass
        except OSError:
            if path.is_symlink() or not path.is_dir():
                raise
            _remove_directory(path)
            removed = True
    return removed


def _remove_directory(path: Path) -> None:
    from cptcli.datafiles import shown
    from cptcli.errors import DataError

    try:
        os.rmdir(path)
    except FileNotFoundError:
        pass
    except OSError:
        raise DataError(
            f"{shown(path)} is a directory holding files, not an imported set: move it out of the data directory"
        ) from None


def _create_temp(d: Path, name: str) -> Path:
    """A new temporary file for a release of set `name`, after removing those dead
    imports left (cptcli.cache: exclusive, never through a symlink, mode 0600);
    dot-named, so that no reader takes it for an active set."""
    from cptcli.cache import create_temporary, remove_stale

    prefix = f".{name}{SUFFIX}."
    remove_stale(d, prefix, ".tmp")
    fd, tmp = create_temporary(d, prefix, ".tmp")
    os.close(fd)
    return Path(tmp)


Progress = Callable[[str, int, "int | None"], None]


def write(
    kind: str,
    release: str,
    files: list[tuple[str, str]],
    codes: Iterable[ImportedCode] = (),
    mods: Iterable[ImportedModifier] = (),
    tax: Iterable[TaxonomyEntry] = (),
    total: int | None = None,
    progress: Progress | None = None,
    reader: int = 0,
    slot: str = "",
    covers: tuple[str, str] | None = None,
    tables: Iterable = (),
    rows: dict[str, Iterable[tuple]] | None = None,
    accept: Callable[[int], None] | None = None,
) -> ImportedSource:
    """Build the set of ``kind`` (in ``slot``) in a temporary file and make it the active one in one rename.

    ``tables`` are the kind's own (``cptcli.imports.kind.Table``) and ``rows`` their rows by table name; every
    table declared is created, and its indexes made once its rows are in. ``accept(records)`` may refuse the
    release (by raising) after it is read and before it replaces the active one."""
    from cptcli.places import check_data_dir

    d = data_dir()
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    check_data_dir(str(d))  # a set written where others can write would be refused when read back
    name = set_name(kind, slot)
    tmp = _create_temp(d, name)
    slow = float(os.environ.get(SLOW_ENV) or 0)
    imported_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    own = list(tables)
    rows = rows or {}
    counts: dict[str, int] = {}
    done = 0

    def ticking(items: Iterable, table: str) -> Iterator:
        nonlocal done
        n = 0
        for item in items:
            yield item
            n += 1
            done += 1
            if slow:
                time.sleep(slow)
            if progress is not None and done % 5000 == 0:
                progress("storing", done, total)
        counts[table] = n

    dumps = json.dumps
    try:
        con = sqlite3.connect(tmp, isolation_level=None)
        try:
            con.execute("PRAGMA journal_mode=OFF")
            con.execute("PRAGMA synchronous=OFF")
            con.executescript(_SCHEMA)
            for t in own:
                con.execute(f"CREATE TABLE {t.name} ({', '.join(t.columns)})")
            con.execute("BEGIN")
            for table, key, items in (
                ("codes", "code", codes),
                ("modifiers", "modifier", mods),
                ("taxonomy", "code", tax),
            ):
                con.executemany(
                    f"INSERT OR REPLACE INTO {table} ({key}, doc) VALUES (?, ?)",
                    (
                        (
                            item.modifier if isinstance(item, ImportedModifier) else item.code,
                            dumps(item.to_dict(), ensure_ascii=False, separators=(",", ":")),
                        )
                        for item in ticking(items, table)
                    ),
                )
            for t in own:
                marks = ", ".join("?" * len(t.columns))
                con.executemany(f"INSERT INTO {t.name} VALUES ({marks})", ticking(rows.get(t.name, ()), t.name))
            for t in own:
                for i, cols in enumerate(t.indexes):
                    con.execute(f"CREATE INDEX {t.name}_{i} ON {t.name} ({', '.join(cols)})")
            records = counts.get("codes") or counts.get("taxonomy") or (counts.get(own[0].name, 0) if own else 0)
            if accept is not None:
                accept(records)
            names = [{"name": n, "sha256": s} for n, s in files]
            con.execute(
                "INSERT INTO meta VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    kind,
                    release,
                    json.dumps(names),
                    json.dumps(sorted(s for _, s in files)),
                    records,
                    counts.get("modifiers", 0),
                    imported_at,
                    STORE_FORMAT,
                    reader,
                    slot,
                    covers[0] if covers else None,
                    covers[1] if covers else None,
                    json.dumps(counts),
                ),
            )
            con.execute("COMMIT")
        finally:
            con.close()
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, kind_path(kind, slot))
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if progress is not None:
        progress("storing", done, total)
    return ImportedSource(
        kind=kind,
        release=release,
        files=tuple(n for n, _ in files),
        sha256=tuple(files),
        records=records,
        modifiers=counts.get("modifiers", 0),
        imported_at=imported_at,
        path=str(kind_path(kind, slot)),
        slot=slot,
        covers=covers,
        counts=tuple(counts.items()),
    )
