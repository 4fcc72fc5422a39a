"""Imported code sets on disk: one SQLite file per kind under the user data directory.

Where: ``$CPTCLI_DATA_DIR`` if set, else ``platformdirs.user_data_dir("cptcli", appauthor=False)``; the active set of
kind K is ``K.sqlite`` there (``hcpcs.sqlite``, ``cpt.sqlite``, ``nucc.sqlite``).

Tables (the engine may query them directly):

- ``meta``: one row. ``kind`` TEXT, ``release`` TEXT, ``files`` TEXT (JSON list of {"name", "sha256"}),
  ``sha256s`` TEXT (JSON list, sorted), ``records`` INTEGER (codes or taxonomy rows), ``modifiers`` INTEGER,
  ``imported_at`` TEXT (ISO-8601, UTC), ``format`` INTEGER (``STORE_FORMAT``), ``reader`` INTEGER (the parser
  module's ``READER``: a file imported by an older reader is read again, not reported unchanged; format 1 had none).
- ``codes(code TEXT PRIMARY KEY, doc TEXT)``: ``doc`` is ``ImportedCode.to_dict()`` as JSON.
- ``modifiers(modifier TEXT PRIMARY KEY, doc TEXT)``: ``ImportedModifier.to_dict()`` as JSON.
- ``taxonomy(code TEXT PRIMARY KEY, doc TEXT)``: ``TaxonomyEntry.to_dict()`` as JSON (NUCC only).

Every kind's file has all four tables (empty where they do not apply), so readers need no per-kind cases.

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

STORE_FORMAT = 2
SUFFIX = ".sqlite"
# Tests set this to a number of seconds to sleep after each row, so an import can be killed mid-write.
SLOW_ENV = "CPTCLI_TEST_SLOW_IMPORT"

_SCHEMA = """
CREATE TABLE meta (kind TEXT NOT NULL, release TEXT NOT NULL, files TEXT NOT NULL, sha256s TEXT NOT NULL,
                   records INTEGER NOT NULL, modifiers INTEGER NOT NULL, imported_at TEXT NOT NULL,
                   format INTEGER NOT NULL, reader INTEGER NOT NULL);
CREATE TABLE codes (code TEXT PRIMARY KEY, doc TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE modifiers (modifier TEXT PRIMARY KEY, doc TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE taxonomy (code TEXT PRIMARY KEY, doc TEXT NOT NULL) WITHOUT ROWID;
"""


@dataclass(frozen=True, slots=True)
class ImportedSource:
    kind: str
    release: str
    files: tuple[str, ...]
    sha256: tuple[tuple[str, str], ...]
    records: int
    modifiers: int
    imported_at: str
    path: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": 1,
            "kind": self.kind,
            "release": self.release,
            "files": list(self.files),
            "sha256": dict(self.sha256),
            "records": self.records,
            "modifiers": self.modifiers,
            "imported_at": self.imported_at,
            "path": self.path,
        }


def data_dir() -> Path:
    from cptcli.cache import data_dir as where

    return Path(where())


def kind_path(kind: str) -> Path:
    return data_dir() / f"{kind}{SUFFIX}"


def active_kinds() -> list[str]:
    """Kinds with an active set, sorted; temporary files (dot-named) are never among them."""
    d = data_dir()
    try:
        names = os.listdir(d)
    except OSError:
        return []
    return sorted(n[: -len(SUFFIX)] for n in names if n.endswith(SUFFIX) and not n.startswith("."))


def stamp() -> str:
    """A key that changes whenever any active set changes; stats files only."""
    from cptcli.places import imported_stamp

    return imported_stamp()


def open_kind(kind: str) -> sqlite3.Connection | None:
    """The active set of ``kind``, read-only, or None if none is imported."""
    p = kind_path(kind)
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
    return meta


def active_identity(kind: str) -> tuple[list[str], int] | None:
    """The active set's sorted file digests and the reader version that parsed them, or None."""
    con = open_kind(kind)
    if con is None:
        return None
    try:
        meta = _meta(con)
    finally:
        con.close()
    return None if meta is None else (list(json.loads(meta["sha256s"])), int(meta["reader"]))


def sources() -> list[ImportedSource]:
    out = []
    for kind in active_kinds():
        con = open_kind(kind)
        if con is None:
            continue
        try:
            meta = _meta(con)
        finally:
            con.close()
        if meta is None:
            continue
        files = json.loads(meta["files"])
        out.append(
            ImportedSource(
                kind=meta["kind"],
                release=meta["release"],
                files=tuple(f["name"] for f in files),
                sha256=tuple((f["name"], f["sha256"]) for f in files),
                records=meta["records"],
                modifiers=meta["modifiers"],
                imported_at=meta["imported_at"],
                path=str(kind_path(kind)),
            )
        )
    return out


def get_code(code: str) -> list[ImportedCode]:
    code = code.strip().upper()
    out: list[ImportedCode] = []
    for kind in active_kinds():
        con = open_kind(kind)
        if con is None:
            continue
        try:
            row = con.execute("SELECT doc FROM codes WHERE code = ?", (code,)).fetchone()
        finally:
            con.close()
        if row:
            out.append(ImportedCode.from_dict(json.loads(row[0])))
    return out


def iter_codes() -> Iterator[ImportedCode]:
    for kind in active_kinds():
        con = open_kind(kind)
        if con is None:
            continue
        try:
            for (doc,) in con.execute("SELECT doc FROM codes ORDER BY code"):
                yield ImportedCode.from_dict(json.loads(doc))
        finally:
            con.close()


def modifiers() -> list[ImportedModifier]:
    out: list[ImportedModifier] = []
    for kind in active_kinds():
        con = open_kind(kind)
        if con is None:
            continue
        try:
            out.extend(
                ImportedModifier.from_dict(json.loads(doc))
                for (doc,) in con.execute("SELECT doc FROM modifiers ORDER BY modifier")
            )
        finally:
            con.close()
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


def remove(kind: str) -> bool:
    try:
        os.unlink(kind_path(kind))
    except FileNotFoundError:
        return False
    return True


def _create_temp(d: Path, kind: str) -> Path:
    """A new temporary file for a release of `kind`, after removing those dead
    imports left (cptcli.cache: exclusive, never through a symlink, mode 0600);
    dot-named, so that no reader takes it for an active set."""
    from cptcli.cache import create_temporary, remove_stale

    prefix = f".{kind}{SUFFIX}."
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
) -> ImportedSource:
    """Build the set of ``kind`` in a temporary file and make it the active one in one rename."""
    d = data_dir()
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = _create_temp(d, kind)
    slow = float(os.environ.get(SLOW_ENV) or 0)
    imported_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    try:
        con = sqlite3.connect(tmp, isolation_level=None)
        try:
            con.execute("PRAGMA journal_mode=OFF")
            con.execute("PRAGMA synchronous=OFF")
            con.executescript(_SCHEMA)
            con.execute("BEGIN")
            done = 0
            n_codes = n_mods = n_tax = 0
            dumps = json.dumps
            for table, key, items in (
                ("codes", "code", codes),
                ("modifiers", "modifier", mods),
                ("taxonomy", "code", tax),
            ):
                sql = f"INSERT OR REPLACE INTO {table} ({key}, doc) VALUES (?, ?)"
                for item in items:
                    k = item.modifier if isinstance(item, ImportedModifier) else item.code
                    con.execute(sql, (k, dumps(item.to_dict(), ensure_ascii=False, separators=(",", ":"))))
                    done += 1
                    if table == "codes":
                        n_codes += 1
                    elif table == "modifiers":
                        n_mods += 1
                    else:
                        n_tax += 1
                    if slow:
                        time.sleep(slow)
                    if progress is not None and done % 500 == 0:
                        progress("storing", done, total)
            names = [{"name": n, "sha256": s} for n, s in files]
            con.execute(
                "INSERT INTO meta VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    kind,
                    release,
                    json.dumps(names),
                    json.dumps(sorted(s for _, s in files)),
                    n_codes or n_tax,
                    n_mods,
                    imported_at,
                    STORE_FORMAT,
                    reader,
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
        os.replace(tmp, kind_path(kind))
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
        records=n_codes or n_tax,
        modifiers=n_mods,
        imported_at=imported_at,
        path=str(kind_path(kind)),
    )
