"""Whole code sets from the files users download: CMS HCPCS Level II, the AMA CPT data files, the NUCC taxonomy.

Each kind is one parser module named in ``KINDS``; a module provides ``KIND``, ``LABEL``, ``A_LABEL``,
``READER`` (bumped whenever the same file would now be read differently, so importing it again re-reads it rather
than reporting it unchanged), ``MULTI_FILE``, ``sniff_content(name, head) -> bool``, ``sniff_name(name) -> bool``,
``choose(members)`` (which of several files of the kind to read, and why the rest are skipped) and
``parse(members, hint, progress) -> Parsed``.
Modules are imported only when a file of their kind is read, so the engine's read path (``store``) stays cheap.
"""

from __future__ import annotations

import importlib
import os
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from ..datafiles import shown
from ..errors import CptcliError, DataError, UsageError
from . import store
from .records import Member, SkippedLine
from .store import ImportedSource

# One line per kind; later kinds (ncci-ptp, ncci-aoc, ncci-mue, pfs-rvu) add a module and a line here.
KINDS: dict[str, str] = {
    "hcpcs": "cptcli.imports.hcpcs",
    "cpt": "cptcli.imports.cpt",
    "nucc": "cptcli.imports.nucc",
}
HEAD_BYTES = 65536

Progress = Callable[[str, int, "int | None"], None]


def parser(kind: str) -> ModuleType:
    if kind not in KINDS:
        raise UsageError(f"unknown kind {kind!r}: choose from {', '.join(KINDS)}")
    return importlib.import_module(KINDS[kind])


def detect(name: str, head: bytes) -> str | None:
    """The kind of a file from its first bytes, else from its name; None if neither tells."""
    for kind in KINDS:
        if parser(kind).sniff_content(name, head):
            return kind
    for kind in KINDS:
        if parser(kind).sniff_name(name):
            return kind
    return None


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

    @property
    def file(self) -> str:
        return ", ".join(self.files)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": 1,
            "kind": self.kind,
            "release": self.release,
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


def _base(name: str) -> str:
    return name.replace("\\", "/").rsplit("/", 1)[-1]


def _member(name: str, data: bytes) -> Member:
    import hashlib

    return Member(name=name, data=data, sha256=hashlib.sha256(data).hexdigest())


def _expand(paths: Iterable[str | os.PathLike[str]]) -> list[tuple[Member, str]]:
    """Every input file as (member, zip name or ""), directories listed and zips opened."""
    out: list[tuple[Member, str]] = []
    for raw in paths:
        p = Path(raw)
        origin = ""  # files inside a directory are skipped, not refused, when unrecognised, as in a zip
        if p.is_dir():
            files = sorted(q for q in p.rglob("*") if q.is_file() and not q.name.startswith("."))
            origin = f"{p.name}/"
        elif p.is_file():
            files = [p]
        else:
            raise UsageError(f"{p}: no such file or directory")
        for f in files:
            data = _read_whole(f)
            if f.suffix.lower() == ".zip":
                out.extend((m, f.name) for m in _zip_members(f.name, data))
            else:
                out.append((_member(f.name, data), origin))
    return out


def _read(path: Path) -> bytes:
    return path.read_bytes()


def _read_whole(path: Path) -> bytes:
    """The file's bytes, refused unless it held still while read: a download in progress or a file still being
    written shows as a size, time or inode that moved, or as fewer bytes than its size."""
    try:
        before = os.stat(path)
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


def _zip_members(name: str, data: bytes) -> list[Member]:
    import io
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            out: list[Member] = []
            for i in z.infolist():
                if i.is_dir():
                    continue
                data = z.read(i)
                if i.filename.lower().endswith(".zip"):  # a release zip inside a bundle zip
                    out.extend(_zip_members(_base(i.filename), data))
                else:
                    out.append(_member(_base(i.filename), data))
            return out
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as e:
        raise DataError(f"{name}: not a readable zip archive ({e})") from None


def _what(name: str) -> str:
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return f"not a code-set file cptcli reads (.{ext})" if ext else "not a code-set file cptcli reads"


def import_files(
    paths: Iterable[str | os.PathLike[str]], kind: str | None = None, progress: Progress | None = None
) -> list[ImportReport]:
    """Import every recognised file (or zip member) in ``paths``; one report per kind imported."""
    if kind is not None:
        parser(kind)
    inputs = _expand(paths)
    groups: dict[str, list[tuple[Member, str]]] = {}
    skipped: dict[str, list[SkippedFile]] = {}  # by origin (zip name, or "" for direct files)
    for m, origin in inputs:
        found = detect(m.name, m.data[:HEAD_BYTES])
        if kind is not None and found is not None and found != kind:
            msg = f"{m.name} is {parser(found).A_LABEL} file, not {parser(kind).A_LABEL} file"
            if not origin:
                raise UsageError(msg)
            skipped.setdefault(origin, []).append(SkippedFile(m.name, msg))
            continue
        if found is None:
            if kind is not None and not origin:
                found = kind  # forced: its parser says precisely what is wrong
            elif not origin:
                raise UsageError(
                    f"{m.name}: not a file cptcli can import (HCPCS ANWEB .txt or .xlsx, CPT data files, "
                    "NUCC taxonomy .csv); --kind forces one"
                )
            else:
                skipped.setdefault(origin, []).append(SkippedFile(m.name, _what(m.name)))
                continue
        groups.setdefault(found, []).append((m, origin))
    if not groups:
        detail = "; ".join(f"{s.name}: {s.reason}" for v in skipped.values() for s in v)
        raise DataError(f"nothing to import: {detail}" if detail else "nothing to import")
    reports: list[ImportReport] = []
    attached: set[str] = set()
    for k, items in groups.items():
        mod = parser(k)
        members = [m for m, _ in items]
        origins = [o for _, o in items if o]
        keep, rest = mod.choose(members)
        extra = [SkippedFile(m.name, why) for m, why in rest]
        for o in dict.fromkeys(origins):
            if o not in attached:
                extra[:0] = skipped.get(o, [])
                attached.add(o)
        reports.append(_import_kind(mod, keep, origins[0] if origins else "", tuple(extra), progress))
    return reports


def _import_kind(
    mod: ModuleType, members: list[Member], hint: str, skipped_files: tuple[SkippedFile, ...], progress
) -> ImportReport:
    t0 = time.perf_counter()
    kind = mod.KIND
    shas = tuple((m.name, m.sha256) for m in members)
    if store.active_identity(kind) == (sorted(s for _, s in shas), mod.READER):
        cur = next(s for s in store.sources() if s.kind == kind)
        return ImportReport(
            kind=kind,
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
        )
    names = ", ".join(m.name for m in members)
    try:
        parsed = mod.parse(members, hint=hint, progress=progress)
    except CptcliError:
        raise
    except Exception as e:  # a damaged file can fail deep inside a library (zip, XML, csv): one line, no traceback
        raise DataError(f"{names}: cannot be read as {mod.A_LABEL} file ({type(e).__name__}: {e})") from None
    total = len(parsed.codes) + len(parsed.modifiers) + len(parsed.taxonomy)
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
        )
    except (OSError, sqlite3.Error) as e:
        raise DataError(f"{store.kind_path(kind)}: cannot write the imported {mod.LABEL} set ({e})") from None
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
    )


def remove(kind: str) -> bool:
    """Remove the imported set of ``kind``; False if none was imported."""
    parser(kind)
    return store.remove(kind)


def sources() -> list[ImportedSource]:
    return store.sources()


__all__ = [
    "KINDS",
    "ImportReport",
    "ImportedSource",
    "SkippedFile",
    "detect",
    "import_files",
    "parser",
    "remove",
    "sources",
]
