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
from pathlib import Path

from ..sets import (  # noqa: F401  (the read side, re-exported: the writer and the doc readers use it)
    SUFFIX,
    BadRow,
    ImportedSource,
    Lookup,
    active,
    active_identity,
    active_kinds,
    active_sets,
    each,
    listed,
    open_kind,
    read_meta,
    reading,
    set_name,
    sources,
)
from ..sets import data_dir as _data_dir
from ..sets import kind_path as _kind_path
from .records import Attribute, ImportedCode, ImportedModifier, TaxonomyEntry


def data_dir() -> Path:
    return Path(_data_dir())


def kind_path(kind: str, slot: str = "") -> Path:
    return Path(_kind_path(kind, slot))


STORE_FORMAT = 3
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


def stamp() -> str:
    """A key that changes whenever any active set changes; stats files only."""
    from cptcli.places import imported_stamp

    return imported_stamp()


def _doc(cls, text, key: str | None = None):
    """A stored document (``ImportedCode`` and the like, as ``to_dict`` wrote it) read back, every value text
    where the class has text; anything else raises BadRow naming the row."""
    where = f"row {key!r}" if key is not None else "a row"
    try:
        d = json.loads(text)
    except (ValueError, TypeError):
        raise BadRow(f"{where} is not JSON") from None
    try:
        found = cls.from_dict(d) if isinstance(d, dict) else None
    except KeyError as exc:
        raise BadRow(f"{where} has no {exc}") from None
    except (ValueError, TypeError, AttributeError):
        found = None
    if found is None or not _texts(found):
        raise BadRow(f"{where} is not of the shape the store writes")
    if key is not None and getattr(found, "code", getattr(found, "modifier", key)) != key:
        raise BadRow(f"{where} holds the document of another code")
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


def get_code(code: str) -> list[ImportedCode]:
    code = code.strip().upper()
    out: list[ImportedCode] = []
    for path, con in each():
        with reading(path):
            row = con.execute("SELECT doc FROM codes WHERE code = ?", (code,)).fetchone()
            if row:
                out.append(_doc(ImportedCode, row[0], code))
    return out


def iter_codes() -> Iterator[ImportedCode]:
    for path, con in each():
        with reading(path):
            for code, doc in con.execute("SELECT code, doc FROM codes ORDER BY code"):
                yield _doc(ImportedCode, doc, code)


def modifiers() -> list[ImportedModifier]:
    out: list[ImportedModifier] = []
    for path, con in each():
        with reading(path):
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
        with reading(kind_path("nucc")):
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
        with reading(kind_path("nucc")):
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
        with reading(kind_path("nucc")):
            return con.execute("SELECT 1 FROM taxonomy LIMIT 1").fetchone() is not None
    finally:
        con.close()


def remove(kind: str, slot: str | None = None) -> bool:
    """Remove the active set of ``kind`` in ``slot``, or every set of ``kind`` when ``slot`` is None: whatever is
    in its place, a set that is damaged or not trusted included (the fix their refusal names), an empty directory
    too, and from a data directory that is not trusted as well (removing reads nothing back); a directory holding
    files is refused (DataError), not emptied."""
    targets = [s for k, s in listed() if k == kind and (slot is None or s == slot)]
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
    from cptcli.cache import make_dirs
    from cptcli.places import check_data_dir

    d = data_dir()
    make_dirs(d)
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
