"""Where the imported official code sets live (the user data directory), and
the stamp of what is there: computed on every call's path to the index key, so
with the standard library only (platformdirs is imported only off Linux)."""

from __future__ import annotations

import os
import sys

# The store's file name ending (cptcli.imports.store): one active set a kind.
SUFFIX = ".sqlite"


def data_dir() -> str:
    """CPTCLI_DATA_DIR, else the platform's user data directory. On Linux
    computed as platformdirs does (XDG_DATA_HOME, else ~/.local/share) without
    importing it; a test pins the two equal."""
    override = os.environ.get("CPTCLI_DATA_DIR")
    if override:
        return override
    if sys.platform.startswith("linux"):
        base = os.environ.get("XDG_DATA_HOME", "").strip()
        if not base or not os.path.isabs(base):
            base = os.path.expanduser("~/.local/share")
        return os.path.join(base, "cptcli")
    import platformdirs

    return platformdirs.user_data_dir("cptcli", appauthor=False)


def imported_stamp() -> str:
    """Every active set's path, inode, size and modification time: a new
    release replaces its file, so any import or removal changes the stamp."""
    directory = data_dir()
    try:
        names = sorted(n for n in os.listdir(directory) if n.endswith(SUFFIX) and not n.startswith("."))
    except OSError:
        return ""
    parts = []
    for name in names:
        try:
            st = os.stat(os.path.join(directory, name))
        except OSError:
            continue
        parts.append(f"{name}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}")
    return ";".join(parts)
