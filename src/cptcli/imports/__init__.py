"""Whole code sets from the files users download: CMS HCPCS Level II, the AMA CPT data files, the NUCC taxonomy,
and the payer edits CMS publishes beside them.

Each kind is one module implementing ``cptcli.imports.kind.Kind``, listed once in ``KINDS``; this host knows the
protocol, never a kind by name. Modules are imported only when a file is read, so the engine's read path
(``store``) stays cheap.
"""

from __future__ import annotations

import errno
import importlib
import os
import sqlite3
import stat
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from .. import limits
from ..datafiles import shown
from ..errors import CptcliError, DataError, UsageError
from ..limits import size, too_big
from ..places import KINDS
from . import store
from .kind import Kind, Verdict, decide
from .records import Member, SkippedLine
from .store import ImportedSource

HEAD_BYTES = 65536

Progress = Callable[[str, int, "int | None"], None]


def parser(kind: str) -> Kind:
    if kind not in KINDS:
        raise UsageError(f"unknown kind {kind!r}: choose from {', '.join(KINDS)}")
    return cast(Kind, importlib.import_module(KINDS[kind]))


def verdict(name: str, head: bytes) -> Verdict:
    """How every kind scores a file, and which one (if any) it is."""
    return decide(name, head, ((k, parser(k)) for k in KINDS))


def detect(name: str, head: bytes) -> str | None:
    """The kind of a file when one kind claims it with confidence and more surely than any other; else None."""
    return verdict(name, head).kind


def _undecided(name: str, found: Verdict) -> str:
    """Why a file's kind is not decided, naming the candidates, for a refusal or a skipped line."""
    if not found.candidates:
        return f"{name}: not a file cptcli can import (kinds: {', '.join(KINDS)}); --kind forces one"
    named = " or ".join(f"{parser(k).A_LABEL} file ({k})" for k, _ in found.candidates[:3])
    if len(found.candidates) > 1 and found.candidates[0][1] == found.candidates[1][1]:
        return f"{name}: could be {named}: --kind says which"
    return f"{name}: looks like {named} by its name only, not its content; --kind {found.candidates[0][0]} forces it"


@dataclass(frozen=True, slots=True)
class SkippedFile:
    name: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class ImportReport:
    kind: str
    release: str
    files: tuple[str, ...]
    sha256: tuple[tuple[str, str], ...]
    records: int
    modifiers: int
    skipped: tuple[SkippedLine, ...]
    skipped_count: int
    seconds: float
    unchanged: bool
    skipped_files: tuple[SkippedFile, ...] = field(default=())
    slot: str = ""
    covers: tuple[str, str] | None = None

    @property
    def file(self) -> str:
        return ", ".join(self.files)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": 1,
            "kind": self.kind,
            "slot": self.slot or None,
            "release": self.release,
            "covers": list(self.covers) if self.covers else None,
            "file": self.file,
            "files": list(self.files),
            "sha256": dict(self.sha256),
            "records": self.records,
            "modifiers": self.modifiers,
            "skipped_count": self.skipped_count,
            "skipped": [s.to_dict() for s in self.skipped],
            "skipped_files": [s.to_dict() for s in self.skipped_files],
            "seconds": round(self.seconds, 3),
            "unchanged": self.unchanged,
        }


def _member(name: str, data: bytes) -> Member:
    """A file or zip member; its name made visible once, here, as data is (datafiles.shown): the name reaches
    errors, tables, `show`'s source labels and the store, and an escape sequence in it must act nowhere."""
    import hashlib

    return Member(name=shown(name), data=data, sha256=hashlib.sha256(data).hexdigest())


def _expand(paths: Iterable[str | os.PathLike[str]]) -> list[tuple[Member, str]]:
    """Every input file as (member, zip name or ""), directories listed and zips opened, within the limits of
    cptcli.limits (each file's size, the bytes of the whole call, each zip's structure)."""
    from . import archive  # zipfile: not on the engine's read path, which imports this package for its store

    out: list[tuple[Member, str]] = []
    budget = archive.Budget()
    for raw in paths:
        p = Path(raw)
        origin = ""  # files inside a directory are skipped, not refused, when unrecognised, as in a zip
        if _given(p) == "directory":
            files = sorted(q for q in p.rglob("*") if q.is_file() and not q.name.startswith("."))
            origin = f"{shown(p.name)}/"
        else:
            files = [p]
        for f in files:
            data = _read_whole(f)
            budget.take(shown(f.name), len(data))
            if f.suffix.lower() == ".zip":
                out.extend((_member(n, d), shown(f.name)) for n, d in archive.members(shown(f.name), data, budget))
            else:
                out.append((_member(f.name, data), origin))
    return out


# What a path that is not a regular file or a directory is, in words: `import` reads files, not streams.
_NOT_A_FILE = (
    (stat.S_ISFIFO, "a pipe (FIFO), not a file"),
    (stat.S_ISCHR, "a character device, not a file"),
    (stat.S_ISBLK, "a block device, not a file"),
    (stat.S_ISSOCK, "a socket, not a file"),
)


def _given(p: Path) -> str:
    """ "file" or "directory" for a path given to import; anything else is refused saying what it is (a pipe such
    as /dev/stdin, a device such as /dev/zero, a name too long), never as a file that does not exist."""
    try:
        st = os.stat(p)
    except OSError as e:
        if e.errno == errno.ENOENT:
            raise UsageError(f"{shown(p)}: no such file or directory") from None
        if e.errno == errno.ENAMETOOLONG:
            raise UsageError(f"{shown(p)}: the name is too long for this system ({e.strerror})") from None
        raise DataError(f"{shown(p)}: cannot be read ({e.strerror})") from None
    if stat.S_ISDIR(st.st_mode):
        return "directory"
    if stat.S_ISREG(st.st_mode):
        return "file"
    what = next((words for test, words in _NOT_A_FILE if test(st.st_mode)), "not a regular file")
    raise UsageError(f"{shown(p)}: {what}: import reads files, directories and .zip files (save it to a file first)")


def _read(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read(limits.FILE_BYTES + 1)


def _read_whole(path: Path) -> bytes:
    """The file's bytes, refused unless it held still while read: a download in progress or a file still being
    written shows as a size, time or inode that moved, or as fewer bytes than its size."""
    try:
        before = os.stat(path)
        if before.st_size > limits.FILE_BYTES:
            raise too_big(shown(path), f"{size(before.st_size)}", f"{size(limits.FILE_BYTES)} a file")
        data = _read(path)
        after = os.stat(path)
    except OSError as e:
        raise DataError(f"{shown(path)}: cannot be read ({e.strerror})") from None
    if (before.st_size, before.st_mtime_ns, before.st_ino) != (after.st_size, after.st_mtime_ns, after.st_ino) or len(
        data
    ) != after.st_size:
        raise DataError(
            f"{shown(path)}: changed while it was read (is it still being downloaded or written?); "
            "import it once it is complete"
        )
    return data


def _what(name: str) -> str:
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return f"not a code-set file cptcli reads (.{ext})" if ext else "not a code-set file cptcli reads"


def import_files(
    paths: Iterable[str | os.PathLike[str]],
    kind: str | None = None,
    progress: Progress | None = None,
    force: bool = False,
) -> list[ImportReport]:
    """Import every recognised file (or zip member) in ``paths``; one report per set imported.

    A file given directly whose kind is not decided (no kind sure of it, or two equally sure) is refused naming
    the candidates; inside a zip or a directory it is skipped with the same words. ``--kind`` forces a kind."""
    if kind is not None:
        parser(kind)
    inputs = _expand(paths)
    groups: dict[str, list[tuple[Member, str]]] = {}
    skipped: dict[str, list[SkippedFile]] = {}  # by origin (zip name, or "" for direct files)
    for m, origin in inputs:
        found = verdict(m.name, m.data[:HEAD_BYTES])
        chosen = found.kind
        if kind is not None and chosen is not None and chosen != kind:
            msg = f"{m.name} is {parser(chosen).A_LABEL} file, not {parser(kind).A_LABEL} file"
            if not origin:
                raise UsageError(msg)
            skipped.setdefault(origin, []).append(SkippedFile(m.name, msg))
            continue
        if chosen is None:
            if kind is not None and not origin:
                chosen = kind  # forced: its parser says precisely what is wrong
            elif not origin:
                raise UsageError(_undecided(m.name, found))
            else:
                why = _what(m.name) if not found.candidates else _undecided(m.name, found).split(": ", 1)[1]
                skipped.setdefault(origin, []).append(SkippedFile(m.name, why))
                continue
        groups.setdefault(chosen, []).append((m, origin))
    if not groups:
        detail = "; ".join(f"{s.name}: {s.reason}" for v in skipped.values() for s in v)
        raise DataError(f"nothing to import: {detail}" if detail else "nothing to import")
    reports: list[ImportReport] = []
    attached: set[str] = set()
    for k, items in groups.items():
        mod = parser(k)
        for m, _ in items:
            _within(mod, m)
        origin_of = {id(m): o for m, o in items}
        sets, rest = mod.sets([m for m, _ in items])
        extra = [SkippedFile(m.name, why) for m, why in rest]
        for o in dict.fromkeys(o for _, o in items if o):
            if o not in attached:
                extra[:0] = skipped.get(o, [])
                attached.add(o)
        for i, members in enumerate(sets):
            hint = next((origin_of[id(m)] for m in members if origin_of[id(m)]), "")
            reports.append(_import_set(mod, members, hint, tuple(extra) if i == 0 else (), progress, force))
    return reports


def _within(mod: Kind, m: Member) -> None:
    """Refuse a file beyond its kind's size (``MAX_BYTES``, set from the largest real file of the kind) or with a
    line longer than any layout has, before the kind reads it (a kind's ``sets`` may read it already)."""
    cap = mod.MAX_BYTES
    if len(m.data) > cap:
        raise too_big(m.name, size(len(m.data)), f"{size(cap)} {mod.A_LABEL} file")
    if m.data[:2] != b"PK":  # a workbook's limits are its parts' (imports.archive)
        line = limits.long_line(m.data)
        if line is not None:
            raise too_big(
                f"{m.name}: line {line}", f"longer than {size(limits.LINE_BYTES)}", f"{size(limits.LINE_BYTES)} a line"
            )


def _unchanged(mod: Kind, members: list[Member], skipped_files: tuple[SkippedFile, ...], t0: float):
    """The report of a set whose files and reader are those of an active set of the kind, or None."""
    shas = sorted(m.sha256 for m in members)
    for cur in store.sources(lenient=True):  # a set that cannot be read is replaced, not compared
        if cur.kind == mod.KIND and store.active_identity(cur.kind, cur.slot) == (shas, mod.READER):
            return ImportReport(
                kind=cur.kind,
                release=cur.release,
                files=cur.files,
                sha256=cur.sha256,
                records=cur.records,
                modifiers=cur.modifiers,
                skipped=(),
                skipped_count=0,
                seconds=time.perf_counter() - t0,
                unchanged=True,
                skipped_files=skipped_files,
                slot=cur.slot,
                covers=cur.covers,
            )
    return None


def _plausible(mod: Kind, slot: str, names: str, force: bool) -> Callable[[int], None]:
    """A check that a new release is whole: one with fewer than half the records of the active release of its
    set is more likely a file cut short (a download in progress) than a release, and is refused unless forced."""
    cur = store.active(mod.KIND, slot, lenient=True)

    def accept(records: int) -> None:
        if force or cur is None or records * 2 >= cur.records:
            return
        raise DataError(
            f"{names}: {records:,} records, fewer than half of the active {mod.LABEL} release's {cur.records:,} "
            f"({cur.release}): a file cut short? The active release stays; --force imports it anyway"
        )

    return accept


def _import_set(
    mod: Kind,
    members: list[Member],
    hint: str,
    skipped_files: tuple[SkippedFile, ...],
    progress: Progress | None,
    force: bool = False,
) -> ImportReport:
    t0 = time.perf_counter()
    same = _unchanged(mod, members, skipped_files, t0)
    if same is not None:
        return same
    kind = mod.KIND
    shas = tuple((m.name, m.sha256) for m in members)
    names = ", ".join(m.name for m in members)
    try:
        parsed = mod.parse(members, hint=hint, progress=progress)
    except CptcliError:
        raise
    except Exception as e:  # a damaged file can fail deep inside a library (zip, XML, csv): one line, no traceback
        raise DataError(f"{names}: cannot be read as {mod.A_LABEL} file ({type(e).__name__}: {e})") from None
    total = len(parsed.codes) + len(parsed.modifiers) + len(parsed.taxonomy) or None
    try:
        written = store.write(
            kind,
            parsed.release,
            list(shas),
            codes=parsed.codes,
            mods=parsed.modifiers,
            tax=parsed.taxonomy,
            total=total,
            progress=progress,
            reader=mod.READER,
            slot=parsed.slot,
            covers=parsed.covers,
            tables=mod.TABLES,
            rows=parsed.rows,
            accept=_plausible(mod, parsed.slot, names, force),
        )
    except CptcliError:
        raise
    except (OSError, sqlite3.Error) as e:
        raise DataError(
            f"{shown(store.kind_path(kind, parsed.slot))}: cannot write the imported {mod.LABEL} set ({e})"
        ) from None
    except Exception as e:  # rows are read while they are written: a parser's failure surfaces here
        raise DataError(f"{names}: cannot be read as {mod.A_LABEL} file ({type(e).__name__}: {e})") from None
    return ImportReport(
        kind=kind,
        release=parsed.release,
        files=written.files,
        sha256=shas,
        records=written.records,
        modifiers=written.modifiers,
        skipped=tuple(parsed.skipped),
        skipped_count=parsed.skipped_count,
        seconds=time.perf_counter() - t0,
        unchanged=False,
        skipped_files=skipped_files,
        slot=parsed.slot,
        covers=parsed.covers,
    )


def remove(kind: str, slot: str | None = None) -> bool:
    """Remove the imported sets of ``kind`` (only ``slot``'s, if given); False if none was imported."""
    parser(kind)
    return store.remove(kind, slot)


def sources() -> list[ImportedSource]:
    return store.sources()


__all__ = [
    "KINDS",
    "ImportReport",
    "ImportedSource",
    "SkippedFile",
    "detect",
    "import_files",
    "verdict",
    "parser",
    "remove",
    "sources",
]
