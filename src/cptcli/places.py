"""Which files cptcli may read back, and the stamp of the imported official code sets (in the user data
directory, cptcli.cache.data_dir).

One rule for every file cptcli reads back (the index and the ICD-10-CM extract in the cache directory, the
imported sets in the data directory) and for both directories (`untrusted`): it is owned by the current user or
by root, and neither its group nor others can write it. Whoever else can write a directory can plant files in it
or rename one over another; whoever else can write a file can change what it says; and what cptcli reads back is
shown as official text or judges a claim. Root is trusted because it can change anything anyway (and owns a
system-wide data directory an administrator set up). Where ownership and mode bits do not say who can write
(Windows), the rule does not apply.

What a refusal does depends on what the file is: a cache directory that fails the rule is not used (the index
and the extract are built in memory), a derived file that fails it is rebuilt over; a data directory or an
imported set that fails it is refused with exit 3 (DataError): it is the user's own data, which cptcli cannot
build again.

The stamp is computed on every call's path to the index key, so this module uses the standard library only.
"""

from __future__ import annotations

import os
import stat

from cptcli.errors import DataError

# The store's file name ending (cptcli.imports.store): one active set a kind.
SUFFIX = ".sqlite"
# The one list of import kinds, each the module that reads its files: adding a kind is a module and a line here.
# Kept here, names only, so that listing the sets (imported_sets) loads no parser: a file whose name is no kind's
# (a stray "notes.sqlite", a later version's kind) is not a set, and neither stops nor joins a look-up.
KINDS: dict[str, str] = {
    "hcpcs": "cptcli.imports.hcpcs",
    "cpt": "cptcli.imports.cpt",
    "nucc": "cptcli.imports.nucc",
    "ncci-ptp": "cptcli.imports.ncci_ptp",
    "ncci-mue": "cptcli.imports.ncci_mue",
    "ncci-aoc": "cptcli.imports.ncci_aoc",
    "pfs-rvu": "cptcli.imports.pfs_rvu",
    "icd10cm": "cptcli.imports.icd10cm",
    "asp-ndc": "cptcli.imports.asp_ndc",
}


def is_set_name(name: str) -> bool:
    """Whether a file name in the data directory is an active set's: KIND.sqlite or KIND.SLOT.sqlite of a known
    kind, never a temporary (dot-named) file."""
    return name.endswith(SUFFIX) and not name.startswith(".") and name.partition(".")[0] in KINDS


# Where ownership and mode bits do not say who can write a file.
_NO_MODES = os.name == "nt"


def untrusted(st: os.stat_result) -> str | None:
    """Why a file or directory with the status `st` may not be trusted ("is owned by uid N, not by you (uid M)",
    "is writable by others (mode 0777)", "is writable by its group (mode 0770)"), or None when it may."""
    if _NO_MODES:
        return None
    uid = os.geteuid()
    if st.st_uid not in (uid, 0):
        return f"is owned by uid {st.st_uid}, not by you (uid {uid})"
    mode = stat.S_IMODE(st.st_mode)
    if mode & stat.S_IWOTH:
        return f"is writable by others (mode {mode:04o})"
    if mode & stat.S_IWGRP:
        return f"is writable by its group (mode {mode:04o})"
    return None


def _shown(path: str) -> str:
    from cptcli.datafiles import shown

    return shown(path)


def damaged_set(path: str, why: str) -> DataError:
    """The one error of an imported set that cannot be read or trusted (exit 3): its file, why, and the fix. The
    fix is the removal first: importing the same file over a set whose rows are damaged finds its files unchanged,
    and no file can be renamed over a directory."""
    name = os.path.basename(path)
    name = name[: -len(SUFFIX)] if name.endswith(SUFFIX) else name
    return DataError(
        f"imported set {_shown(path)} {why}; remove it with 'cptcli import --remove {_shown(name)}', "
        "then import its file again"
    )


def check_data_dir(directory: str) -> os.stat_result | None:
    """The data directory's status when it exists and may be trusted, None when it does not exist; raises
    DataError (exit 3) naming it, why and the fix otherwise: never a silent fall-back to no imported sets."""
    try:
        st = os.stat(directory)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _unreadable_dir(directory, exc) from None
    if not stat.S_ISDIR(st.st_mode):
        raise _refused_dir(directory, "is not a directory, so no code set imported there can be read", "move it away")
    why = untrusted(st)
    if why is not None:
        fix = f"chmod go-w {_shown(directory)}" if "writable" in why else ""
        raise _refused_dir(directory, f"{why}, so the code sets imported there are not trusted", fix)
    return st


def _refused_dir(directory: str, why: str, fix: str) -> DataError:
    """`fix`: what to do to the directory itself, if anything; using another one always does."""
    return DataError(
        f"data directory {_shown(directory)} {why}; {fix + ', or ' if fix else ''}"
        "set CPTCLI_DATA_DIR to a directory of your own"
    )


def _unreadable_dir(directory: str, exc: OSError) -> DataError:
    why = f"cannot be read ({exc.strerror or exc}), so no code set imported there can be read"
    return _refused_dir(directory, why, "fix its permissions")


def imported_sets() -> tuple[str, list[tuple[str, os.stat_result]]]:
    """The data directory and its active sets (file name, status), sorted by name; temporary files (dot-named)
    are never among them. Every reader of imported sets comes through here, so the trust rule and the damage a
    status shows (a directory, a named pipe in a set's place) are judged once, before any set is opened: raises
    DataError (exit 3) naming the directory or the set and the fix. No directory known (no home) or none made
    yet: no sets."""
    from cptcli.cache import data_dir

    try:
        directory = data_dir()
    except OSError:
        return "", []
    if check_data_dir(directory) is None:
        return directory, []
    try:
        names = sorted(n for n in os.listdir(directory) if is_set_name(n))
    except OSError as exc:
        raise _unreadable_dir(directory, exc) from None
    found = []
    for name in names:
        st = check_set(os.path.join(directory, name))
        if st is not None:  # else removed since the listing (an import --remove): not a set any more
            found.append((name, st))
    return directory, found


def check_set(path: str) -> os.stat_result | None:
    """The status of the imported set at `path` when it is a regular file that may be trusted, None when there
    is none; raises DataError (exit 3, damaged_set) for anything else in its place (a directory, a named pipe:
    judged by its status, so never opened) and for a file that fails the trust rule."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if not os.path.islink(path):
            return None
        raise damaged_set(path, "is a symlink to a file that does not exist") from None
    except OSError as exc:
        raise damaged_set(path, f"cannot be read ({exc.strerror or exc})") from None
    if not stat.S_ISREG(st.st_mode):
        from cptcli.datafiles import kind_of

        raise damaged_set(path, f"is {kind_of(st.st_mode) or 'not a regular file'}, not a file")
    why = untrusted(st)
    if why is not None:
        raise damaged_set(path, f"{why}, so it is not trusted")
    return st


def imported_stamp() -> str:
    """Every active set's name, inode, size, modification and change times: a new release replaces its file,
    so any import or removal changes the stamp, and so does an edit in place whose modification time was put
    back (the kernel still sets the change time)."""
    return _stamp(imported_sets()[1])


def _stamp(sets: list[tuple[str, os.stat_result]]) -> str:
    return ";".join(f"{name}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}" for name, st in sets)


def index_lines() -> str:
    """The lines of the index key that say which imported sets it joins: the data directory (part of the
    configuration the index is named by, cptcli.datafiles.name_for) and the stamp of its sets (not part of it:
    a new import replaces the index of its configuration instead of adding one)."""
    directory, sets = imported_sets()
    return f"data {directory}\nimported {_stamp(sets)}"
