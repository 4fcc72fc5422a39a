"""Where cptcli keeps derived files (indexes, drawn pages, code-set extracts),
whether that place can be trusted, and how files are written there.

A cache directory is a place other people may have touched: a team's shared
CPTCLI_CACHE_DIR, a CI cache restored from elsewhere, a path in /tmp that
someone created first. Whoever can write into it can plant symlinks at the
names cptcli writes (turning a write into an overwrite of any file of the
user's) and can plant derived files that cptcli would trust. So:

- `private_dir` says whether a directory is the user's alone (owned by them
  or root, writable by no one else: cptcli.places.untrusted, the rule for
  every file cptcli reads back); `refused_cache_dir` applies it to the cache
  directory, and the engine (its index) and the ICD-10-CM extract use
  nothing they find in a directory that is refused, and keep what they build
  in memory instead.
- `create_temporary` creates files exclusively (O_EXCL, O_NOFOLLOW) under
  unpredictable names, mode 0600, so nothing planted is ever followed or
  reused, and derived copies of a 0600 file's text are not readable by others.
- `atomic_write` writes through such a file and a rename, so a crash or a
  concurrent run never leaves a half-written file under the final name.
- `remove_stale` removes the temporaries of processes that died mid-write.

Paths are plain strings: this module is on every command's path, and pathlib,
tempfile, secrets and platformdirs cost more to import than a cached look-up
takes. Random names come from os.urandom, the source secrets uses.
"""

from __future__ import annotations

import os
import stat
import sys
import time


class NoCacheDir(OSError):
    """No cache directory can be named (no usable home directory). An OSError,
    so that callers that already treat an unwritable cache as "keep the index
    in memory" do so here too; str(exc) is the one-line reason."""


def _home() -> str | None:
    """The home directory, or None. An empty or relative HOME is ignored: it
    would put the cache in "/.cache" or under the current directory. Then the
    password database's entry, if it names an absolute directory other than "/"."""
    home = os.environ.get("HOME", "")
    if os.path.isabs(home):
        return home
    try:
        import pwd

        entry = pwd.getpwuid(os.getuid()).pw_dir
    except (ImportError, KeyError, OSError):
        return None
    return entry if os.path.isabs(entry) and entry != "/" else None


def cache_dir() -> str:
    """CPTCLI_CACHE_DIR, else the platform's user cache directory (see _user_dir)."""
    return _user_dir("CPTCLI_CACHE_DIR", "XDG_CACHE_HOME", ".cache", "user_cache_dir")


def data_dir() -> str:
    """CPTCLI_DATA_DIR, else the platform's user data directory, where imported
    official code sets live (see _user_dir)."""
    return _user_dir("CPTCLI_DATA_DIR", "XDG_DATA_HOME", os.path.join(".local", "share"), "user_data_dir")


def _user_dir(override_env: str, xdg_env: str, under_home: str, platformdirs_name: str) -> str:
    """`override_env`, else the platform's directory. On Linux computed as
    platformdirs does (`xdg_env` if absolute, else ~/`under_home`) without
    importing it; a test pins the two equal. Unlike platformdirs, an empty or
    unset HOME does not give "/.cache": the password database's home is used,
    and failing that NoCacheDir is raised with the reason, so that the caller
    keeps its index in memory."""
    override = os.environ.get(override_env)
    if override:
        return override
    if sys.platform.startswith("linux"):
        base = os.environ.get(xdg_env, "").strip()
        if not base or not os.path.isabs(base):
            home = _home()
            if home is None:
                raise NoCacheDir(
                    f"no home directory is known (HOME is empty or unset); set {override_env} to keep "
                    f"{'an index' if override_env == 'CPTCLI_CACHE_DIR' else 'imported code sets'} between calls"
                )
            base = os.path.join(home, under_home)
        return os.path.join(base, "cptcli")
    import platformdirs

    return getattr(platformdirs, platformdirs_name)("cptcli", appauthor=False)


def _shown(path: str) -> str:
    from cptcli.textsafe import visible

    return visible(path)


def make_dirs(path) -> None:
    """os.makedirs(path, 0o700, exist_ok=True), with one more failure said as an OSError: os.makedirs climbs a
    path by recursion, so a directory named with over a thousand parts (a hostile or mistaken CPTCLI_CACHE_DIR)
    raises RecursionError, which every caller here would report as an internal error, not as a place that
    cannot be made."""
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
    except RecursionError:
        import errno

        raise OSError(errno.ENAMETOOLONG, "the path has too many parts") from None


def private_dir(path) -> str | None:
    """Make sure `path` is a directory only the current user can write: create
    it (mode 0700) if missing. Returns None when it is, else a one-line reason
    ending in "; using an in-memory index", for the engine to print once and
    act on by using nothing in the directory.

    Refused by the rule for everything cptcli reads back (cptcli.places.untrusted):
    a directory owned by another user than you or root, one writable by its
    group or by others, and a symlink to either. A directory that is refused
    is left as it is: changing its mode would not remove what others may
    already have put in it."""
    path = os.fspath(path)
    suffix = "; using an in-memory index"
    try:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            make_dirs(path)
            st = os.stat(path)
    except OSError as exc:
        return f"cache directory {_shown(path)} cannot be created or read ({exc.strerror or exc}){suffix}"
    try:
        link = os.path.islink(path)
        target = f" (a symlink to {_shown(os.path.realpath(path))})" if link else ""
    except OSError:
        target = ""
    where = f"cache directory {_shown(path)}{target}"
    if not stat.S_ISDIR(st.st_mode):
        return f"{where} is not a directory{suffix}"
    from cptcli.places import untrusted

    why = untrusted(st)
    return None if why is None else f"{where} {why}{suffix}"


def refused_cache_dir() -> str | None:
    """Why nothing in the cache directory may be read or written (no directory
    can be named, or it is not the user's alone: private_dir), as one line
    ending in "; using an in-memory index", or None. A directory that cannot
    be created (a read-only place) is not refused here: writing there fails,
    and the caller keeps what it builds in memory all the same."""
    try:
        directory = cache_dir()
    except NoCacheDir as exc:
        return f"{exc}; using an in-memory index"
    try:
        make_dirs(directory)
    except OSError:
        return None
    return private_dir(directory)


# O_NOFOLLOW is belt and braces: with O_CREAT|O_EXCL, open already fails on any
# existing name, a dangling symlink included.
_CREATE = (
    os.O_RDWR
    | os.O_CREAT
    | os.O_EXCL
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


def create_temporary(directory, prefix: str, suffix: str) -> tuple[int, str]:
    """Create a new file in `directory`, named `{prefix}{pid}-{16 random hex
    digits}{suffix}`, for reading and writing, mode 0600; returns (open file
    descriptor, path). Raises OSError when it cannot.

    Created exclusively: a name that exists, as a file or as a symlink planted
    by someone guessing names, is never opened, and another random name is
    tried. The pid lets `remove_stale` tell a dead process's leftover from a
    live one's file."""
    directory = os.fspath(directory)
    pid = os.getpid()
    for _ in range(100):
        path = os.path.join(directory, f"{prefix}{pid}-{os.urandom(8).hex()}{suffix}")
        try:
            fd = os.open(path, _CREATE, 0o600)
        except FileExistsError:
            continue
        return fd, path
    raise FileExistsError(f"no free temporary name in {directory}")


def atomic_write(path, data: bytes, durable: bool = False) -> str | None:
    """Write `data` to `path` (mode 0600) through a new temporary file in the
    same directory and a rename; returns the path, or None, without raising,
    when the directory cannot be written: callers then keep the result in
    memory, and the tool still answers. A symlink planted at `path` is
    replaced, not followed (rename never follows one), and the temporary file
    is created exclusively (see create_temporary).

    Not fsync'ed unless `durable`: everything written here is derived data
    that its reader verifies (the index by its key and tables, a page by its
    key and length), so a file left empty or short by a power loss is rebuilt,
    and an fsync per write would make every cached call wait for the disk."""
    path = os.fspath(path)
    directory = os.path.dirname(path) or "."
    tmp = None
    try:
        make_dirs(directory)
        fd, tmp = create_temporary(directory, os.path.basename(path) + ".", ".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
        tmp = None
    except OSError:
        return None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    return path


# A temporary older than this is a leftover even if its pid is alive again
# (pids are reused).
STALE_AFTER_SECONDS = 24 * 60 * 60


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's live process
    except (OSError, OverflowError, ValueError):
        return False
    return True


def remove_stale(directory, prefix: str, suffix: str) -> list[str]:
    """Remove the temporaries that dead processes left in `directory`: regular
    files named `{prefix}…{suffix}` whose creating pid (see create_temporary)
    is no longer running, and any such file, whatever its name's middle (the
    unattributable names of older versions), last modified more than a day
    ago. A live process's temporary and every other name are left alone.
    Returns the names removed; never raises OSError. The pid is read from the
    end of the name, so `prefix` may be wider than the one the files were
    created with ("" for every "*.tmp"), as long as it does not end in a digit.

    A pid is judged in this process's pid namespace: a build running in
    another container sharing the directory looks dead, and losing its
    temporary only makes that build keep its index in memory."""
    directory = os.fspath(directory)
    removed: list[str] = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    import re

    attributed = re.compile(r"(?<![0-9])([0-9]+)-[0-9a-f]{16}\Z")
    now = time.time()
    for name in names:
        if not (name.startswith(prefix) and name.endswith(suffix)) or len(name) <= len(prefix) + len(suffix):
            continue
        middle = name[len(prefix) : len(name) - len(suffix)]
        path = os.path.join(directory, name)
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode):
            continue
        match = attributed.search(middle)
        old = now - st.st_mtime > STALE_AFTER_SECONDS
        if old or (match is not None and not _alive(int(match.group(1)))):
            try:
                os.unlink(path)
            except OSError:
                continue
            removed.append(name)
    return removed


def sqlite_uri(path, query: str) -> str:
    """An SQLite URI for a file path. SQLite decodes %XX escapes in the path,
    and '?' and '#' end it, so those three are escaped (SQLite's URI rules)."""
    escaped = os.fspath(path).replace("%", "%25").replace("?", "%3f").replace("#", "%23")
    return f"file:{escaped}?{query}"


# -- what lives there: `cptcli cache info` and `cptcli cache clear` ---------------------------

# The derived files cptcli writes into the cache directory, by name: (kind, name start, name end, what it holds).
# Every writer's names are among them (a test builds each and finds no file of the directory unclaimed); a name
# that matches none is not cptcli's, and `clear` leaves it.
CACHED = (
    ("index", "index-", ".sqlite", "knowledge-base indexes, one a set of --data files"),
    ("icd10cm", "icd10cm.sqlite3", "", "the ICD-10-CM code set, read from the installed package"),
    ("invalid", "invalid-", ".json", "verdicts on invalid knowledge-base files"),
    ("temporary", "", ".tmp", "writes under way, or left by a killed run"),
)


def kind_of(name: str) -> str | None:
    """The CACHED kind a file name of the cache directory is, or None (not cptcli's). A temporary's name starts
    as the name of the file it becomes (index-….sqlite.PID-RANDOM.tmp): ".tmp" is matched first."""
    if name.endswith(".tmp") and len(name) > 4:
        return "temporary"
    for kind, start, end, _ in CACHED:
        if name.startswith(start) and name.endswith(end) and len(name) > len(end):
            return kind
    return None


def pattern(start: str, end: str) -> str:
    """A CACHED kind's names as a shell pattern: index-*.sqlite, *.tmp, icd10cm.sqlite3."""
    return f"{start}*{end}" if end else start


def inventory(directory: str) -> tuple[dict[str, list[tuple[str, int]]], list[str]]:
    """({kind: [(file name, bytes)]} of the cptcli files in `directory`, names sorted; the names of other
    entries, left alone). Symlinks and directories are never cptcli's: it writes regular files only."""
    found: dict[str, list[tuple[str, int]]] = {kind: [] for kind, *_ in CACHED}
    others: list[str] = []
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return found, others
    for name in names:
        try:
            st = os.lstat(os.path.join(directory, name))
        except OSError:
            continue
        kind = kind_of(name) if stat.S_ISREG(st.st_mode) else None
        if kind is None:
            others.append(name)
        else:
            found[kind].append((name, st.st_size))
    return found, others


def clear(directory: str) -> tuple[list[tuple[str, str, int]], list[tuple[str, str]]]:
    """Remove cptcli's cached files from `directory`: ([(kind, name, bytes)] removed, [(name, why)] kept). Only
    regular files of the CACHED kinds, owned by the user, are removed; a temporary a live process is writing is
    kept (its rename would fail: see remove_stale). The index is rebuilt on the next look-up."""
    found, _ = inventory(directory)
    removed: list[tuple[str, str, int]] = []
    kept: list[tuple[str, str]] = []
    stale = set(remove_stale(directory, "", ".tmp"))
    uid = os.geteuid() if hasattr(os, "geteuid") else None
    for kind, files in found.items():
        for name, size in files:
            if kind == "temporary":
                if name in stale:
                    removed.append((kind, name, size))
                elif os.path.lexists(os.path.join(directory, name)):
                    kept.append((name, "may be being written by a running cptcli"))
                continue
            path = os.path.join(directory, name)
            try:
                if uid is not None and os.lstat(path).st_uid != uid:
                    kept.append((name, "not yours"))
                    continue
                os.unlink(path)
            except FileNotFoundError:
                continue  # another run removed or replaced it meanwhile
            except OSError as exc:
                kept.append((name, f"cannot be removed ({exc.strerror or exc})"))
                continue
            removed.append((kind, name, size))
    return removed, kept
