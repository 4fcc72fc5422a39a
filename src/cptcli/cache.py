"""Where cptcli keeps derived files (indexes, code-set extracts), and how it
writes them: atomically, so a crash or a concurrent run never leaves a
half-written cache that a later run would trust.

Paths are plain strings: this module is on every command's path, and pathlib,
tempfile and platformdirs together cost more to import (~15 ms) than a
cached look-up takes."""

from __future__ import annotations

import os
import sys


def cache_dir() -> str:
    """CPTCLI_CACHE_DIR, else the platform's user cache directory. On Linux
    computed as platformdirs does (XDG_CACHE_HOME, else ~/.cache) without
    importing it; a test pins the two equal."""
    override = os.environ.get("CPTCLI_CACHE_DIR")
    if override:
        return override
    if sys.platform.startswith("linux"):
        base = os.environ.get("XDG_CACHE_HOME", "").strip()
        if not base or not os.path.isabs(base):
            base = os.path.expanduser("~/.cache")
        return os.path.join(base, "cptcli")
    import platformdirs

    return platformdirs.user_cache_dir("cptcli", appauthor=False)


def sqlite_uri(path, query: str) -> str:
    """An SQLite URI for a file path. SQLite decodes %XX escapes in the path,
    and '?' and '#' end it, so those three are escaped (SQLite's URI rules)."""
    escaped = os.fspath(path).replace("%", "%25").replace("?", "%3f").replace("#", "%23")
    return f"file:{escaped}?{query}"


def atomic_write(path, data: bytes):
    """Write `data` to `path` via a temporary file and rename; returns the
    path, or None, without raising, when the directory cannot be written:
    callers then keep the result in memory, and the tool still answers.

    The temporary file is named by the process id: no two live processes
    share one, so a leftover of that name is a dead process's and is
    overwritten. (tempfile costs ~2 ms to import; a drawn page is written on
    the call that draws it.)"""
    path = os.fspath(path)
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        return None
    return path
