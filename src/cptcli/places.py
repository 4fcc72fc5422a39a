"""The stamp of the imported official code sets (in the user data directory,
cptcli.cache.data_dir): computed on every call's path to the index key, so
with the standard library only."""

from __future__ import annotations

import os

# The store's file name ending (cptcli.imports.store): one active set a kind.
SUFFIX = ".sqlite"


def imported_stamp() -> str:
    """Every active set's path, inode, size and modification time: a new
    release replaces its file, so any import or removal changes the stamp."""
    from cptcli.cache import data_dir

    try:
        directory = data_dir()
    except OSError:
        return ""
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
