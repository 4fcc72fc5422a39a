"""Drawn pages: the exact text a `cptcli show CODE` call printed, kept so that
the next call for the same code prints it without drawing it again.

Drawing one code's tables costs Rich ~30 ms, and importing Rich and the model
~25 ms more, against ~17 ms for the interpreter to start; a page is read back
in a fraction of a millisecond (man keeps formatted "cat pages" for the same
reason). A JSON page spares importing sqlite3.

A page is trusted only while everything it was drawn from is unchanged. Its
first line records all of it, compared in full on every read:
- the key of the knowledge-base files (datafiles.key_for: each file's real
  path, size and modification time, the tool's version, the format), and the
  files as the caller named them, since output names files that way;
- the variant: JSON, or tables at one width, with or without colour;
- the code that drew it: the size and modification time of every module of
  cptcli and Rich loaded when it was drawn, so an upgraded Rich or an edited
  renderer draws afresh;
- the page's length, so a damaged page is not printed in part.
Any difference is a miss: the caller draws as it would without pages and keeps
the result (written atomically; an unwritable cache directory only means no
page). Pages live beside the index they were drawn from, and go when it is
rebuilt. Not on Windows, where Rich's drawing also depends on the console.
"""
import json
import os
import sys

from cptcli import datafiles
from cptcli.cache import cache_dir

ENABLED = os.name != "nt"


def directory(key: str) -> str:
    return os.path.join(cache_dir(), f"pages-{datafiles.name_for(key)}")


def _stamps(files) -> list:
    return [[f, st.st_size, st.st_mtime_ns] for f, st in ((f, os.stat(f)) for f in files)]


def read(paths, code: str, variant: str):
    """The page of `code` drawn as `variant` from the files `paths` as they are
    now, or None."""
    if not ENABLED:
        return None
    try:
        key = datafiles.key_for(paths)
        # newline="": the text comes back exactly as written, any '\r' included.
        with open(os.path.join(directory(key), f"{code}.{variant}"), encoding="utf-8", newline="") as f:
            head = json.loads(f.readline())
            text = f.read()
        fresh = (head["key"] == key and head["files"] == [str(p) for p in paths] and head["variant"] == variant
                 and head["length"] == len(text)
                 and head["drawn_by"] == _stamps(stamp[0] for stamp in head["drawn_by"]))
    except (OSError, ValueError, LookupError, TypeError):
        return None
    return text if fresh else None


def _loaded_files(packages) -> list:
    return sorted(m.__file__ for name, m in list(sys.modules.items())
                  if name.split(".", 1)[0] in packages and getattr(m, "__file__", None))


def write(key: str, paths, code: str, variant: str, text: str, packages=("cptcli",)) -> None:
    """Keep `text`, drawn as `variant` from the files `paths` under `key` (the
    key they had when drawn, not now) by the loaded modules of `packages`."""
    if not ENABLED:
        return
    from cptcli.cache import atomic_write

    try:
        head = {"key": key, "files": [str(p) for p in paths], "variant": variant, "length": len(text),
                "drawn_by": _stamps(_loaded_files(packages))}
        data = (json.dumps(head) + "\n" + text).encode("utf-8")
    except (OSError, UnicodeEncodeError):  # a module file gone; text with lone surrogates
        return
    atomic_write(os.path.join(directory(key), f"{code}.{variant}"), data)


def table_variant() -> str:
    """The variant of tables drawn for this stdout (see output.terminal)."""
    from cptcli.output import terminal

    width, colour = terminal()
    return f"table-{width}-{'colour' if colour else 'plain'}"
