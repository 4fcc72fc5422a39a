"""Which knowledge-base files are in play, the key that identifies them as they
are now, and the one reader of their bytes.

The index (cptcli.engine) is built under the key and trusted only while it
matches. The key is each file's real path, size, modification
and change times (ns) and inode, the tool's version and the format stamp
(format_stamp: the source of the modules that shape the index): an edit, a
replacement by rename, a restored mtime (`cp -p`, `rsync -t`, `touch -d`: the
kernel still sets the change time) all change it.

What the key cannot see is an edit of the same size within one timestamp tick
of the build: on filesystems that keep whole seconds (ext2/3, HFS+, many NFS and
SMB mounts) or two (FAT), and even on nanosecond filesystems, whose kernel
stamps files from a coarse clock. So the engine follows git's racy-timestamp
rule:

1. Build: record `built_at_ns = time.time_ns()` and the key BEFORE reading the
   files; read each with `read_bytes` and parse the bytes read with
   `parse_document`; store `bytes_digest(those bytes)` with the key. (Hashing
   the bytes parsed, not the files again, so that an edit during the build
   cannot be certified by a digest of its new text.)
2. Open: the key must match. If it does and `is_racy(paths, built_at_ns)`, a
   file may have changed within the tick: compare `content_digest(paths)` with
   the stored digest, and rebuild on a difference (or if a file cannot be read).
The index is opened read-only and its `built_at_ns` never moved on: a file
last changed within the window before its build is hashed on every open until
the next build (any later edit changes the key and so brings one).

The key and the one reader of the files' bytes live here, apart from the
index, so that reading and trusting share one definition of "the same files";
json and hashlib are imported only when a file is read or hashed.
"""

from __future__ import annotations

import os
import stat
import zlib

from cptcli import __version__
from cptcli.errors import DataError, UsageError
from cptcli.textsafe import cut_name, visible

# The modules whose code decides what the index holds, relative to this
# package: the field registry and the records' JSON (model), the layering
# (knowledge), the documents, postings and the join of imported sets (engine/),
# the words indexed (search's analysis, candidates, abbreviations) and every
# import reader with its READER version (imports/). Their source is the
# index's format stamp (format_stamp), so a field added or changed, or a reader
# bumped, rebuilds every index without anyone bumping a number.
SHAPING = (
    "model.py",
    "knowledge.py",
    "engine",
    "search/analysis.py",
    "search/candidates.py",
    "search/abbreviations.py",
    "imports",
)
_PACKAGE = os.path.dirname(os.path.abspath(__file__))
_stamps: dict[str, str] = {}

# Two seconds: FAT keeps even seconds; one-second filesystems are inside it.
RACY_WINDOW_NS = 2_000_000_000

# Refused above this many bytes unless CPTCLI_MAX_DATA_BYTES says more: a
# document is held in memory several times over while it is parsed and indexed.
DEFAULT_MAX_BYTES = 1 << 30
MAX_BYTES_ENV = "CPTCLI_MAX_DATA_BYTES"


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
    """Every file's real path, size, modification and change times (ns) and
    inode, the tool's version and format_stamp() (see the module docstring for what it
    cannot see, and the racy rule that covers it). Raises OSError if a file
    cannot be stat'ed: the caller then reads the files itself and reports the
    problem properly."""
    parts = [f"cptcli {__version__}", f"index format {format_stamp()}"]
    for p in paths:
        st = os.stat(p)
        parts.append(f"{os.path.realpath(p)}|{st.st_size}|{st.st_mtime_ns}|{st.st_ctime_ns}|{st.st_dev}:{st.st_ino}")
    return "\n".join(parts)


def format_stamp(package: str | None = None) -> str:
    """The crc32 and length of the source of the SHAPING modules under
    `package` (this one unless a test gives a copy): what the index's format
    is made of, reached without importing the model, whose import the
    plainest calls cannot afford (reading and checksumming the files costs a
    small part of it). A module that cannot be read (an install that ships
    only bytecode) is stamped by its name alone, so the tool's version, also
    in the key, decides there. Computed once a process."""
    package = package or _PACKAGE
    found = _stamps.get(package)
    if found is not None:
        return found
    crc, size = 0, 0
    for name in SHAPING:
        place = os.path.join(package, *name.split("/"))
        try:
            files = sorted(os.path.join(place, n) for n in os.listdir(place) if n.endswith(".py"))
        except NotADirectoryError:
            files = [place]
        except OSError:
            files = []
        for path in files:
            crc = zlib.crc32(path[len(package) :].encode("utf-8", "surrogateescape"), crc)
            try:
                with open(path, "rb") as f:
                    source = f.read()
            except OSError:
                continue
            crc, size = zlib.crc32(source, crc), size + len(source)
    _stamps[package] = found = f"{crc:08x}-{size}"
    return found


# The key's lines that are not part of the configuration an index is named by: the tool's version and format (an
# upgrade's index replaces the old one's), the imported sets' stamp (a new import's index replaces the one before).
_NOT_NAMING = ("cptcli ", "index format ", "imported ")


def name_for(key: str) -> str:
    """A short name for the derived files of `key`, made from its configuration
    only: the files' paths as named and real, and the data directory of the
    imported sets; not the files' sizes, times and inodes, the sets' stamp or
    the tool's version and format. So a new index (an edited file, a new
    import, an upgrade) replaces the one of its configuration instead of
    leaving it behind: one index a configuration. crc32 only names; the full
    key inside a derived file is what is trusted."""
    name = "\n".join(line.rsplit("|", 4)[0] for line in key.splitlines() if not line.startswith(_NOT_NAMING))
    return f"{zlib.crc32(name.encode('utf-8', 'surrogateescape')):08x}"


def is_racy(paths, built_at_ns: int) -> bool:
    """Whether any file may have changed after `built_at_ns` (when the build
    started reading) without its timestamps showing it: its modification or
    change time is not at least RACY_WINDOW_NS older than the build. True too
    when a file cannot be stat'ed, so that the caller checks and fails there."""
    limit = built_at_ns - RACY_WINDOW_NS
    for p in paths:
        try:
            st = os.stat(p)
        except OSError:
            return True
        if max(st.st_mtime_ns, st.st_ctime_ns) >= limit:
            return True
    return False


def bytes_digest(blobs) -> str:
    """sha256 over the files' contents given as bytes, one per file, in order
    (the digest `content_digest` computes from the files themselves). Each
    file's own sha256 is hashed in turn, so no two lists of files with the
    same concatenation share a digest."""
    import hashlib

    outer = hashlib.sha256()
    for blob in blobs:
        outer.update(hashlib.sha256(blob).digest())
    return outer.hexdigest()


def content_digest(paths) -> str:
    """bytes_digest of the files as they are now, read in chunks so a big file
    is never held in memory. Raises OSError when a file cannot be read (a file
    that is not regular included), which the caller takes as "changed"."""
    import hashlib

    outer = hashlib.sha256()
    for p in paths:
        inner = hashlib.sha256()
        fd = _open_regular(p)
        with os.fdopen(fd, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                inner.update(chunk)
        outer.update(inner.digest())
    return outer.hexdigest()


def shown(path) -> str:
    """A file's name as errors show it: control characters (a newline, ESC)
    and undecodable bytes as visible escapes, and a name of thousands of
    characters cut in the middle, so that the error stays one readable line."""
    return cut_name(os.fsdecode(path))


def max_bytes() -> int:
    """The size limit on one data file: CPTCLI_MAX_DATA_BYTES (a number of bytes,
    or with a K, M, G or T suffix, powers of 1024), else DEFAULT_MAX_BYTES."""
    text = os.environ.get(MAX_BYTES_ENV, "").strip()
    if not text:
        return DEFAULT_MAX_BYTES
    scale = 1
    unit = text[-1:].upper()
    if unit in ("K", "M", "G", "T"):
        scale = 1024 ** ("KMGT".index(unit) + 1)
        text = text[:-1].strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 30:
        raise UsageError(
            f"{MAX_BYTES_ENV} must be a number of bytes (such as 4294967296 or 4G), "
            f"not {visible(os.environ[MAX_BYTES_ENV])!r}"
        )
    return int(text) * scale


_KIND = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def kind_of(mode: int) -> str | None:
    """What a path that is not a regular file is, in words ("a named pipe"), from its stat mode; None for a kind
    not named here."""
    return next((name for test, name in _KIND if test(mode)), None)


def _not_regular(st: os.stat_result) -> str:
    return f"not a regular file ({kind_of(st.st_mode) or 'not a file'})"


def _open_regular(path) -> int:
    """An open read-only descriptor of `path` if it is a regular file; raises
    OSError (NotARegularFile for the rest) otherwise. Stat'ed before opening, so
    that no FIFO is waited on and no device is opened (opening some has side
    effects), and opened non-blocking in case it was swapped for one since;
    the descriptor is then checked to be that same regular file."""
    before = os.stat(path)
    if stat.S_ISDIR(before.st_mode):
        raise IsADirectoryError(21, "Is a directory")
    if not stat.S_ISREG(before.st_mode):
        raise NotARegularFile(_not_regular(before))
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags | getattr(os, "O_BINARY", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or (st.st_dev, st.st_ino) != (before.st_dev, before.st_ino):
            raise NotARegularFile(_not_regular(st) if not stat.S_ISREG(st.st_mode) else "replaced while being opened")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


class NotARegularFile(OSError):
    """A data file that is a FIFO, a device, a socket: refused, not read."""


def read_bytes(path, limit: int | None = None) -> bytes:
    """The bytes of one knowledge-base file, or a DataError naming it: not
    found, a directory, not a regular file, over the size limit (`limit`, else
    max_bytes()), unreadable. A file that grows while it is read past the limit
    is refused too, rather than read to its end."""
    name = shown(path)
    if limit is None:
        limit = max_bytes()
    try:
        fd = _open_regular(path)
    except FileNotFoundError:
        raise DataError(f"{name}: knowledge base file not found") from None
    except IsADirectoryError:
        raise DataError(f"{name}: is a directory, not a knowledge base file") from None
    except NotARegularFile as exc:
        raise DataError(f"{name}: {exc}, not a knowledge base file; copy it to a file first") from None
    except ValueError:  # a NUL byte in the name
        raise DataError(f"{name}: cannot read knowledge base file: the name holds a NUL byte") from None
    except OSError as exc:
        raise DataError(f"{name}: cannot read knowledge base file: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > limit:
                raise DataError(_too_big(name, size, limit))
            raw = f.read(size + 1)
            if len(raw) > size:  # grew since: read on, to the limit and no further
                raw += f.read(limit + 1 - len(raw))
    except OSError as exc:
        raise DataError(f"{name}: cannot read knowledge base file: {exc.strerror or exc}") from None
    except MemoryError:
        raise DataError(f"{name}: knowledge base file is too big for the memory available") from None
    if len(raw) > limit:
        raise DataError(_too_big(name, len(raw), limit))
    return raw


def _too_big(name: str, size: int, limit: int) -> str:
    return (
        f"{name}: knowledge base file is {size:,} bytes, over the limit of {limit:,} (set {MAX_BYTES_ENV} to raise it)"
    )


def read_document(path, max_bytes: int | None = None, verify: bool = True) -> dict:
    """Read and parse one knowledge-base file (read_bytes, parse_document)."""
    return parse_document(read_bytes(path, max_bytes), path, verify)


class _Duplicate(Exception):
    def __init__(self, key: str):
        self.key = key


def _unique_pairs(pairs):
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set = set()
        for k, _ in pairs:
            if k in seen:
                raise _Duplicate(k)
            seen.add(k)
    return obj


def _constant(name: str):
    raise ValueError(f"{name} is not a JSON value")


def parse_document(raw: bytes, path, verify: bool = True) -> dict:
    """Parse the bytes of one knowledge-base file (named `path` in errors).
    Every failure is one DataError line naming the file: empty, not UTF-8
    (an initial BOM is allowed and skipped), a JSON syntax error (line and
    column), a duplicate key in an object (line and column: JSON readers
    disagree on which one wins, so the file is ambiguous), NaN or Infinity,
    nesting deeper than json's parser can follow, an integer of more digits
    than Python converts, a lone surrogate ("\\ud800" escapes: text no encoder
    can write) in any string or key.

    `verify=False` skips the duplicate-key and lone-surrogate checks (a quarter
    of the parse's time or more): for bytes the index certifies were checked
    when it was built (key matched, not racy, or digest equal)."""
    import json

    name = shown(path)
    skip = 3 if raw.startswith(b"\xef\xbb\xbf") else 0
    try:
        text = str(memoryview(raw)[skip:], "utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{name}: not UTF-8 text (byte {exc.start + skip})") from None
    if not text.strip():
        raise DataError(f"{name}: knowledge base file is empty")
    try:
        doc = json.loads(text, object_pairs_hook=_unique_pairs if verify else None, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        raise DataError(f"{name}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    except _Duplicate as exc:
        raise DataError(_duplicate(name, text, exc.key)) from None
    except RecursionError:
        raise DataError(f"{name}: invalid JSON: nested too deeply to read") from None
    except MemoryError:
        raise DataError(f"{name}: knowledge base file is too big for the memory available") from None
    except ValueError as exc:
        raise DataError(_value_error(name, text, exc)) from None
    # A lone surrogate can only come from a "\\u" escape (the text was decoded
    # as UTF-8), and walking every string costs a third of the parse: only then.
    if verify and "\\u" in text:
        _check_strings(doc, name)
    return doc


def _line_col(text: str, pos: int) -> str:
    line = text.count("\n", 0, pos) + 1
    return f"{line}:{pos - (text.rfind(chr(10), 0, pos) + 1) + 1}"


def _value_error(name: str, text: str, exc: ValueError) -> str:
    message = str(exc)
    if message.endswith("is not a JSON value"):
        return f"{name}: invalid JSON: {message}"
    import re
    import sys

    digits = sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else 4300
    match = re.search(f"[0-9]{{{digits + 1},}}", text)
    where = f"{name}:{_line_col(text, match.start())}" if match else name
    return f"{where}: invalid JSON: an integer of more than {digits:,} digits, which is more than cptcli reads"


def _duplicate(name: str, text: str, key: str) -> str:
    """The one line for a duplicate key, with the line and column of its second
    occurrence when a second, slower parse can find it."""
    where = name
    try:
        pos = _find_duplicate(text)
        if pos is not None:
            where = f"{name}:{_line_col(text, pos)}"
    except Exception:  # any failure only loses the position
        pass
    return f'{where}: invalid JSON: duplicate key "{visible(key)}" in one object'


def _find_duplicate(text: str) -> int | None:
    """The offset of the first key that repeats one of its object's, found by
    json's pure-Python scanner with objects parsed here (json's C parser reports
    no positions to a hook)."""
    import json
    import json.decoder
    import json.scanner

    # Undeclared in typeshed, present in every CPython json since 2.6.
    ws = getattr(json.decoder, "WHITESPACE").match  # noqa: B009
    scanstring = getattr(json.decoder, "scanstring")  # noqa: B009
    found: list[int] = []

    def parse_object(s_and_end, strict, scan_once, object_hook, object_pairs_hook, memo=None):
        s, end = s_and_end
        obj: dict = {}
        end = ws(s, end).end()
        if s[end] == "}":
            return obj, end + 1
        while True:
            start = end
            key, end = scanstring(s, end + 1, strict)
            if key in obj:
                found.append(start)
                raise _Found  # not StopIteration: json's array parser turns that into a syntax error
            end = ws(s, end).end() + 1  # past ':'
            end = ws(s, end).end()
            obj[key], end = scan_once(s, end)
            end = ws(s, end).end()
            if s[end] == "}":
                return obj, end + 1
            end = ws(s, end + 1).end()  # past ','

    decoder = json.JSONDecoder()
    setattr(decoder, "parse_object", parse_object)  # noqa: B010
    scan = getattr(json.scanner, "py_make_scanner")(decoder)  # noqa: B009
    try:
        scan(text, ws(text, 0).end())
    except _Found:
        pass
    return found[0] if found else None


class _Found(Exception):
    pass


def _has_surrogate(s: str) -> bool:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _check_strings(doc, name: str) -> None:
    """Refuse a lone surrogate in any string or key, naming its place. The walk
    is iterative, so it cannot meet the recursion limit json's parser allowed."""
    stack: list[tuple[object, tuple]] = [(doc, ())]
    while stack:
        value, where = stack.pop()
        if isinstance(value, str):
            if _has_surrogate(value):
                raise DataError(
                    f"{name}: {_where(doc, where)}: text holds a lone surrogate "
                    f"({visible(_first_surrogate(value))}), which is not a character"
                )
        elif isinstance(value, dict):
            for k, v in value.items():
                if _has_surrogate(k):
                    raise DataError(
                        f"{name}: {_where(doc, where)}: a key holds a lone surrogate "
                        f"({visible(_first_surrogate(k))}), which is not a character"
                    )
                stack.append((v, (*where, k)))
        elif isinstance(value, list):
            stack.extend((v, (*where, i)) for i, v in enumerate(value))


def _first_surrogate(s: str) -> str:
    return next(c for c in s if "\ud800" <= c <= "\udfff")


def _where(doc, path: tuple) -> str:
    """A JSON path as knowledge-base errors word it: 'record 20700, field
    modifiers[3].description' (as cptcli.knowledge does for schema errors)."""
    parts = list(path)
    label, rest = "top level", parts
    if len(parts) >= 2 and parts[0] == "codes" and isinstance(parts[1], int) and isinstance(doc, dict):
        rec = doc["codes"][parts[1]]
        code = rec.get("code") if isinstance(rec, dict) else None
        label = f"record {visible(code)}" if isinstance(code, str) else f"record #{parts[1] + 1}"
        rest = parts[2:]
    text = ""
    for p in rest:
        text += f"[{p}]" if isinstance(p, int) else (f".{visible(p)}" if text else visible(p))
    return f"{label}, field {text}" if text else label
