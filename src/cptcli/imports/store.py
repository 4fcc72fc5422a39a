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

from .records import ImportedCode, ImportedModifier, TaxonomyEntry

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


def active_sets() -> list[tuple[str, str]]:
    """(kind, slot) of every active set, sorted; temporary files (dot-named) are never among them."""
    d = data_dir()
    try:
        names = os.listdir(d)
    except OSError:
        return []
    found = []
    for n in names:
        if n.endswith(SUFFIX) and not n.startswith("."):
            kind, _, slot = n[: -len(SUFFIX)].partition(".")
            found.append((kind, slot))
    return sorted(found)


def active_kinds() -> list[str]:
    """Kinds with at least one active set, sorted."""
    return sorted({k for k, _ in active_sets()})


def stamp() -> str:
    """A key that changes whenever any active set changes; stats files only."""
    from cptcli.places import imported_stamp

    return imported_stamp()


def open_kind(kind: str, slot: str = "") -> sqlite3.Connection | None:
    """The active set of ``kind`` (in ``slot``), read-only, or None if none is imported."""
    p = kind_path(kind, slot)
    if not p.is_file():
        return None
    try:
        con = sqlite3.connect(f"{p.resolve().as_uri()}?mode=ro", uri=True)
        con.execute("SELECT 1 FROM meta LIMIT 1").fetchall()
    except sqlite3.Error:
        return None
    return con


def _meta(con: sqlite3.Connection) -> dict[str, Any] | None:
    cur = con.execute("SELECT * FROM meta")
    row = cur.fetchone()
    if row is None:
        return None
    meta = dict(zip((d[0] for d in cur.description), row, strict=True))
    meta.setdefault("reader", 0)
    meta.setdefault("slot", "")
    return meta


def _source(meta: dict[str, Any], path: Path) -> ImportedSource:
    files = json.loads(meta["files"])
    lo, hi = meta.get("covers_from"), meta.get("covers_to")
    return ImportedSource(
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


def active_identity(kind: str, slot: str = "") -> tuple[list[str], int] | None:
    """The active set's sorted file digests and the reader version that parsed them, or None."""
    con = open_kind(kind, slot)
    if con is None:
        return None
    try:
        meta = _meta(con)
    finally:
        con.close()
    return None if meta is None else (list(json.loads(meta["sha256s"])), int(meta["reader"]))


def active(kind: str, slot: str = "") -> ImportedSource | None:
    """The active set of ``kind`` in ``slot``, or None."""
    con = open_kind(kind, slot)
    if con is None:
        return None
    try:
        meta = _meta(con)
    finally:
        con.close()
    return None if meta is None else _source(meta, kind_path(kind, slot))


def sources() -> list[ImportedSource]:
    return [s for s in (active(k, slot) for k, slot in active_sets()) if s is not None]


def _each(kind: str | None = None) -> Iterator[sqlite3.Connection]:
    """A read-only connection to every active set (of ``kind``), closed after its turn."""
    for k, slot in active_sets():
        if kind is not None and k != kind:
            continue
        con = open_kind(k, slot)
        if con is None:
            continue
        try:
            yield con
        finally:
            con.close()


def get_code(code: str) -> list[ImportedCode]:
    code = code.strip().upper()
    out: list[ImportedCode] = []
    for con in _each():
        row = con.execute("SELECT doc FROM codes WHERE code = ?", (code,)).fetchone()
        if row:
            out.append(ImportedCode.from_dict(json.loads(row[0])))
    return out


def iter_codes() -> Iterator[ImportedCode]:
    for con in _each():
        for (doc,) in con.execute("SELECT doc FROM codes ORDER BY code"):
            yield ImportedCode.from_dict(json.loads(doc))


def modifiers() -> list[ImportedModifier]:
    out: list[ImportedModifier] = []
    for con in _each():
        out.extend(
            ImportedModifier.from_dict(json.loads(doc))
            for (doc,) in con.execute("SELECT doc FROM modifiers ORDER BY modifier")
        )
    return out


def taxonomy(code: str) -> TaxonomyEntry | None:
    con = open_kind("nucc")
    if con is None:
        return None
    try:
        row = con.execute("SELECT doc FROM taxonomy WHERE code = ?", (code.strip().upper(),)).fetchone()
    finally:
        con.close()
    return TaxonomyEntry.from_dict(json.loads(row[0])) if row else None


def has_taxonomy() -> bool:
    con = open_kind("nucc")
    if con is None:
        return False
    try:
        return con.execute("SELECT 1 FROM taxonomy LIMIT 1").fetchone() is not None
    finally:
        con.close()


class Lookup:
    """Indexed look-ups in the kinds' own tables for one call (the check rules' reader): each active set is opened
    once, on its first question, and asked only what the question names; nothing is loaded whole."""

    def __init__(self) -> None:
        self._cons: dict[tuple[str, str], sqlite3.Connection | None] = {}
        self._sets: list[tuple[str, str]] | None = None

    def sets(self, kind: str) -> list[ImportedSource]:
        """The active sets of ``kind``, one a slot."""
        if self._sets is None:
            self._sets = active_sets()
        return [s for s in (active(k, slot) for k, slot in self._sets if k == kind) if s is not None]

    def rows(self, source: ImportedSource, sql: str, args: tuple = ()) -> list[tuple]:
        """The rows of one query (``sql`` names the kind's own table) in one active set."""
        key = (source.kind, source.slot)
        if key not in self._cons:
            self._cons[key] = open_kind(*key)
        con = self._cons[key]
        if con is None:
            return []
        return con.execute(sql, args).fetchall()

    def close(self) -> None:
        for con in self._cons.values():
            if con is not None:
                con.close()
        self._cons.clear()


def remove(kind: str, slot: str | None = None) -> bool:
    """Remove the active set of ``kind`` in ``slot``, or every set of ``kind`` when ``slot`` is None."""
    targets = [s for k, s in active_sets() if k == kind and (slot is None or s == slot)]
    removed = False
    for s in targets:
        try:
            os.unlink(kind_path(kind, s))
            removed = True
        except FileNotFoundError:
            pass
    return removed


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
    d = data_dir()
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
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
