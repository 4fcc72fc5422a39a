"""Zips and workbooks opened within the limits of cptcli.limits: the only readers of an archive's structure.

A zip's central directory is the attacker's to write: it may declare small sizes for huge members, point many
entries at one compressed stream (overlapping entries: a few kilobytes read as gigabytes), nest zips a thousand
deep, or hold a hundred thousand members. Every declared size and ratio is checked before a member is read, the
bytes are counted while it is read (zipfile stops at the declared size, so a lying header yields a CRC error, not
more data), entries may not overlap, and nesting is followed with a stack of open archives, never by recursion.

A workbook is a zip too: its parts are checked the same way before openpyxl sees it, and its sheets are read
without the dimension they declare (``A1:XFD1048576`` would make openpyxl pad every row to 16,384 cells and yield
a million empty rows), only as many columns as the kind's layout has, and no more rows than a sheet can hold.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Iterator
from typing import Any

from .. import limits
from ..errors import DataError, UsageError
from ..limits import size, too_big

# What zipfile raises for a damaged or unsupported archive (an encrypted member: RuntimeError; deflate64:
# NotImplementedError).
_DAMAGE = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, RuntimeError, NotImplementedError, zlib.error)
_CHUNK = 4 * limits.MiB


class Budget:
    """The bytes one import call has read so far, against TOTAL_BYTES."""

    def __init__(self) -> None:
        self.total = 0

    def take(self, what: str, n: int) -> None:
        self.total += n
        if self.total > limits.TOTAL_BYTES:
            raise too_big(what, f"{size(self.total)} read in all by this import", f"{size(limits.TOTAL_BYTES)} a call")


def _local_name_len(i: zipfile.ZipInfo) -> int:
    return len(i.orig_filename.encode("utf-8" if i.flag_bits & 0x800 else "cp437", "replace"))


def check(name: str, z: zipfile.ZipFile, part_limit=None) -> list[zipfile.ZipInfo]:
    """The archive's file entries, once its structure is within the limits: the member count, entries that do not
    overlap one another or the central directory, and each member's declared size and ratio. ``part_limit(info)``
    is a member's size limit (MEMBER_BYTES by default)."""
    infos = z.infolist()
    if len(infos) > limits.MEMBERS:
        raise too_big(name, f"{len(infos):,} members", f"{limits.MEMBERS:,} members an archive")
    # Each entry's local header (30 bytes and its name) and data must end before the next entry starts: entries
    # that share bytes are a bomb (one stream read as many members), never an archive a publisher writes.
    spans = sorted(infos, key=lambda i: i.header_offset)
    ends = [*(i.header_offset for i in spans[1:]), getattr(z, "start_dir", None)]
    for i, nxt in zip(spans, ends, strict=True):
        end = i.header_offset + 30 + _local_name_len(i) + i.compress_size
        if nxt is not None and end > nxt:
            raise UsageError(
                f"{name}: entries that overlap ({i.filename!r} runs into the next): one compressed stream read as "
                "many members, a zip bomb's layout, not an archive cptcli reads (docs/limits.md)"
            )
    out = []
    for i in infos:
        if i.is_dir():
            continue
        cap = part_limit(i) if part_limit else limits.MEMBER_BYTES
        where = f"{name}: {i.filename}"
        if i.file_size > cap:
            raise too_big(where, f"{size(i.file_size)} uncompressed", f"{size(cap)} a member")
        if i.file_size > limits.RATIO_FROM and i.file_size > limits.RATIO * max(i.compress_size, 1):
            ratio = i.file_size // max(i.compress_size, 1)
            raise too_big(where, f"compressed {ratio:,} to 1", f"ratio of {limits.RATIO} to 1")
        out.append(i)
    return out


def _read(name: str, z: zipfile.ZipFile, i: zipfile.ZipInfo) -> bytes:
    """A member's bytes, counted as they come: never more than it declared, nor than MEMBER_BYTES."""
    cap = min(i.file_size, limits.MEMBER_BYTES)
    chunks, n = [], 0
    with z.open(i) as f:
        while chunk := f.read(_CHUNK):
            n += len(chunk)
            if n > cap:
                raise too_big(
                    f"{name}: {i.filename}",
                    f"more bytes than its header declares ({size(i.file_size)})",
                    f"{size(cap)} it declared",
                )
            chunks.append(chunk)
    return b"".join(chunks)


def _base(name: str) -> str:
    return name.replace("\\", "/").rsplit("/", 1)[-1]


def _entries(name: str, data: bytes, budget: Budget) -> Iterator[tuple[str, bytes]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            for i in check(name, z):
                got = _read(name, z, i)
                budget.take(f"{name}: {i.filename}", len(got))
                yield _base(i.filename), got
    except _DAMAGE as e:
        raise DataError(f"{name}: not a readable zip archive ({e})") from None


def members(name: str, data: bytes, budget: Budget) -> list[tuple[str, bytes]]:
    """(name, bytes) of every file in the zip ``data`` and in the zips inside it (a release zip in a bundle zip),
    in archive order; nesting deeper than DEPTH is refused."""
    out: list[tuple[str, bytes]] = []
    stack: list[tuple[str, Iterator[tuple[str, bytes]]]] = [(name, _entries(name, data, budget))]
    while stack:
        item = next(stack[-1][1], None)
        if item is None:
            stack.pop()
            continue
        member, got = item
        if not member.lower().endswith(".zip"):
            out.append((member, got))
            continue
        if len(stack) >= limits.DEPTH:
            chain = " in ".join([member, *(n for n, _ in reversed(stack))])
            raise too_big(chain, f"zips nested more than {limits.DEPTH} deep", f"{limits.DEPTH} levels")
        stack.append((member, _entries(member, got, budget)))
    return out


def _xlsx_part_limit(i: zipfile.ZipInfo) -> int:
    return limits.SHEET_XML_BYTES if i.filename.startswith("xl/worksheets/") else limits.PART_BYTES


def workbook(name: str, data: bytes) -> Any:
    """An openpyxl workbook in read-only mode, once its parts are within the limits."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            check(name, z, _xlsx_part_limit)
    except _DAMAGE as e:
        raise DataError(f"{name}: not a readable .xlsx workbook ({e})") from None
    import warnings

    import openpyxl

    # openpyxl's warnings about a workbook's styles or extensions ("Workbook contains no default style", which
    # CMS's files give) say nothing a coder can act on: they are not printed.
    warnings.filterwarnings("ignore", category=UserWarning, module=r"openpyxl(\.|$)")
    try:
        return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many types for a damaged workbook
        raise DataError(f"{name}: not a readable .xlsx workbook ({type(e).__name__})") from None


def rows(
    name: str, ws: Any, max_col: int, min_row: int = 1, max_row: int | None = None, blanks: bool = False
) -> Iterator[tuple[int, tuple]]:
    """(row number, values) of a read-only sheet, from ``min_row``: the declared dimension ignored (rows end at the
    last one the sheet holds, each cut to ``max_col`` values), and no row past SHEET_ROWS. Rows without a value are
    passed over unless ``blanks`` (a reader that numbers rows itself): a sheet whose second row is numbered two
    million yields as many empty rows, each costly to the kinds' per-cell checks."""
    ws.reset_dimensions()
    for n, row in enumerate(ws.iter_rows(min_row=min_row, max_row=max_row, max_col=max_col, values_only=True), min_row):
        if n > limits.SHEET_ROWS:
            raise too_big(
                f"{name}: sheet {ws.title!r}",
                f"a row numbered beyond {limits.SHEET_ROWS:,}",
                f"{limits.SHEET_ROWS:,} rows a sheet",
            )
        if blanks or row.count(None) != len(row):
            yield n, row


def sheet_rows(name: str, data: bytes, max_col: int) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells as text, "" for an empty one) of a workbook's first sheet, within the limits (rows)."""
    wb = workbook(name, data)
    try:
        for n, row in rows(name, wb.worksheets[0], max_col):
            yield n, ["" if v is None else str(v) for v in row]
    finally:
        wb.close()
