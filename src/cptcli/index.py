"""The knowledge-base index: an SQLite file built once from validated
knowledge-base files and reused while they are unchanged.

Validating with jsonschema costs ~65 ms a call and loading 100,000 JSON records
1-4 s, so every command reads this index instead. It is keyed by every file in
play (real path, size, modification time in ns) plus the tool's version and the
index format: any change means a rebuild, never a stale answer. Hashing the
files' bytes would be safer against same-size edits within one nanosecond tick,
but costs more than the query on a 100 MB file.

This module is also imported by the fast path (cptcli.entry), so it imports only
what that path can afford: os, sys, json, sqlite3, zlib.
"""
from __future__ import annotations

import json
import os
import sqlite3
import sys
import zlib

from cptcli import __version__

FORMAT = 1


def bundled_file() -> str:
    """The data file inside the installed package; in a source checkout used
    without installing, the repository's data/codes.json."""
    here = os.path.dirname(os.path.abspath(__file__))
    packaged = os.path.join(here, "data", "codes.json")
    if os.path.isfile(packaged):
        return packaged
    return os.path.join(os.path.dirname(os.path.dirname(here)), "data", "codes.json")


def data_files(extra=(), bundled: bool = True) -> list:
    """Every knowledge-base file in play, in layering order: bundled, --data, CPTCLI_DATA."""
    files = [bundled_file()] if bundled else []
    files += [str(p) for p in extra]
    env = os.environ.get("CPTCLI_DATA")
    if env:
        files += [p for p in env.split(os.pathsep) if p]
    return files


def key_for(paths) -> str:
    """Raises OSError if a file cannot be stat'ed: the caller then reads the
    files itself and reports the problem properly."""
    parts = [f"cptcli {__version__}", f"index format {FORMAT}"]
    for p in paths:
        st = os.stat(p)
        parts.append(f"{os.path.realpath(p)}|{st.st_size}|{st.st_mtime_ns}")
    return "\n".join(parts)


def cache_dir() -> str:
    """Same answer as cptcli.cache.cache_dir(); on Linux computed without
    importing platformdirs (~16 ms, most of the fast path's budget). A test
    pins the two equal."""
    override = os.environ.get("CPTCLI_CACHE_DIR")
    if override:
        return override
    if sys.platform.startswith("linux"):
        base = os.environ.get("XDG_CACHE_HOME", "").strip()
        if not base or not os.path.isabs(base):
            base = os.path.expanduser("~/.cache")
        return os.path.join(base, "cptcli")
    from cptcli.cache import cache_dir as platform_cache_dir

    return str(platform_cache_dir())


def path_for(key: str) -> str:
    # crc32 only names the file; the full key inside is what is trusted.
    return os.path.join(cache_dir(), f"index-{zlib.crc32(key.encode()):08x}.sqlite")


def open_index(key: str):
    """A read-only connection to the index for `key`, or None when there is
    none, it belongs to other files (name clash), or it is corrupt."""
    path = path_for(key)
    if not os.path.exists(path):
        return None
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        row = con.execute("SELECT value FROM meta WHERE name = 'key'").fetchone()
        if row and row[0] == key:
            return con
        con.close()
    except sqlite3.Error:
        pass
    return None


def show_json(con, code: str):
    row = con.execute("SELECT text FROM show_json WHERE code = ?", (code,)).fetchone()
    return row[0] if row else None


def read_documents(con) -> list[tuple[str, dict]]:
    return [(path, json.loads(doc)) for path, doc in con.execute("SELECT path, doc FROM documents ORDER BY seq")]


SCHEMA = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE documents (seq INTEGER PRIMARY KEY, path TEXT NOT NULL, doc TEXT NOT NULL);
CREATE TABLE show_json (code TEXT PRIMARY KEY, text TEXT NOT NULL);
"""


def build(kb, documents, key: str) -> bool:
    """Write the index: each file's validated document, and every code's
    `show --json` output as the JSON renderer draws it (UTF-8; the fast path
    serves it only to a UTF-8 stdout). Built in a temporary file and renamed
    into place, so a crash leaves no half-written index. Returns False (the
    caller keeps its in-memory copy) when the cache directory cannot be written."""
    import tempfile

    from cptcli.render import json as render_json

    directory = cache_dir()
    try:
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix="index-", suffix=".tmp")
        os.close(fd)
    except OSError:
        return False
    try:
        con = sqlite3.connect(tmp)
        con.executescript(SCHEMA)
        con.executemany("INSERT INTO documents VALUES (?, ?, ?)",
                        [(i, str(path), json.dumps(doc, ensure_ascii=False)) for i, (path, doc) in enumerate(documents)])
        con.executemany("INSERT INTO show_json VALUES (?, ?)",
                        [(code, render_json.dumps(kb.show(code), ascii_only=False)) for code in kb.records])
        con.execute("INSERT INTO meta VALUES ('key', ?)", (key,))
        con.commit()
        con.close()
        os.replace(tmp, path_for(key))
        return True
    except (OSError, sqlite3.Error):
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return False
