"""Which knowledge-base files are in play, and the key that identifies them as
they are now: every derived file (the index, drawn pages) is built under that
key and trusted only while it matches.

Kept apart from the index so that a call answered from a drawn page checks
the key without importing sqlite3 (~2 ms of the ~3 ms such a call may spend
over the interpreter's start-up).
"""

import os
import zlib

from cptcli import __version__

# The format of what is derived from the files (index tables, show documents,
# pages): bump it when that changes, and every derived file is rebuilt.
FORMAT = 6


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
    """Every file's real path, size and modification time (ns), the tool's
    version and FORMAT. Hashing the files' bytes would be safer against
    same-size edits within one nanosecond tick, but costs more than the query
    on a 100 MB file. Raises OSError if a file cannot be stat'ed: the caller
    then reads the files itself and reports the problem properly."""
    parts = [f"cptcli {__version__}", f"index format {FORMAT}"]
    for p in paths:
        st = os.stat(p)
        parts.append(f"{os.path.realpath(p)}|{st.st_size}|{st.st_mtime_ns}")
    return "\n".join(parts)


def name_for(key: str) -> str:
    """A short name for the derived files of `key`, made from the files' paths
    and the tool version only, not their sizes and times: an edited file's new
    index replaces the old one (300 MB for 100,000 codes) instead of leaving it
    behind. crc32 only names; the full key inside a derived file is what is
    trusted."""
    name = "\n".join(line.rsplit("|", 2)[0] for line in key.splitlines())
    return f"{zlib.crc32(name.encode()):08x}"
