"""The limits of what cptcli reads, in one place (docs/limits.md gives each one and the real files it was set from).

Each limit sits well above the largest real file of its kind and far below what a hostile small file can make a
reader hold: a zip of a few kilobytes that declares gigabytes, zips nested a thousand deep, members that overlap
so that one compressed stream is read a hundred times, a line with no end, a workbook that declares a million rows
of sixteen thousand columns. Beyond one, the input is refused in one line (exit 2, a usage error: the file is not
one cptcli reads), before the memory or the time is spent; never a MemoryError.

Imported by the fast path (``show -`` reads standard input through ``bounded_lines``): only ``re`` at import time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

from .errors import UsageError

KiB = 1 << 10
MiB = 1 << 20

# A file given to `import`, a zip included (zips are read whole). The largest real one is an NCCI PTP release zip:
# four parts of some 45 MB each, deflated to about a quarter of that.
FILE_BYTES = 256 * MiB
# One zip member, uncompressed: as its header declares it, and as counted while it is read. The largest real member
# is an NCCI PTP part (about 45 MB of text); the ICD-10-CM order file is some 30 MB.
MEMBER_BYTES = 128 * MiB
# Everything one `import` call holds at once (every file and member is read whole before it is parsed): both PTP
# settings of a quarter given together are about 340 MB.
TOTAL_BYTES = 512 * MiB
# Uncompressed size over compressed size, judged for members of more than RATIO_FROM bytes. Real code-set files
# deflate 4x to 15x (fixed-width text padded with spaces is the most compressible; a worksheet's XML up to some
# 30x); a zip bomb's members are 1,000x and more.
RATIO = 100
RATIO_FROM = 4 * MiB
# Members of one archive (a zip, or the parts of an .xlsx). CMS's RVU zip, the most crowded real one, holds about
# twenty; a workbook some ten to thirty parts.
MEMBERS = 10_000
# Zips inside zips: a bundle of release zips is two deep; anything deeper is refused at the fourth level, never
# followed down (a zip nested 1,200 deep is one line, not a RecursionError).
DEPTH = 3
# A line of a text file a kind parses. The longest real lines are the NUCC taxonomy's definitions and the AMA's
# long CPT descriptors, a few thousand characters; an HCPCS record is 320, a PTP edit some 60.
LINE_BYTES = 64 * KiB
# An .xlsx: rows read from a sheet (Excel's own limit: a sheet cannot hold more), the parts inside the workbook a
# worksheet's XML may decompress to (openpyxl streams it; a PTP part as a workbook is some 200 MB of XML), and any
# other part (shared strings, styles: read whole; real ones are a few MB). Columns are read only as far as the
# kind's layout reaches: each kind passes its own (SHEET_COLUMNS where columns are found by name).
SHEET_ROWS = 1_048_576
SHEET_XML_BYTES = 512 * MiB
PART_BYTES = 32 * MiB
SHEET_COLUMNS = 64
# `show -`: a line of standard input (a code, perhaps a comment), and the lines read in all (a large practice's
# year of claim lines is a few million).
STDIN_LINE_BYTES = 4 * KiB
STDIN_LINES = 10_000_000
# `check --claims FILE`: the claims file, read whole. A claims export of 100,000 service lines is about 10 MB;
# this allows some ten times the lines a large practice bills in a year.
CLAIMS_BYTES = 128 * MiB


def size(n: int) -> str:
    """A byte count as the docs and refusals give it: 128 MiB, 64 KiB, 900 bytes."""
    for unit, name in ((MiB, "MiB"), (KiB, "KiB")):
        if n >= unit:
            v = n / unit
            return f"{v:.0f} {name}" if v >= 10 or v == int(v) else f"{v:.1f} {name}"
    return f"{n:,} bytes"


def too_big(what: str, found: str, limit: str) -> UsageError:
    """The one refusal of an input beyond a limit (docs/limits.md names them all)."""
    return UsageError(f"{what}: {found}, beyond the {limit} cptcli reads (docs/limits.md)")


def long_line(data: bytes, limit: int = LINE_BYTES) -> int | None:
    """The number (1-based) of the first line of ``data`` longer than ``limit`` bytes, or None. One scan in C: the
    pattern starts only at a line end, so each byte is looked at about once."""
    first = data.find(b"\n")
    if (first if first >= 0 else len(data)) > limit:
        return 1
    m = re.compile(rb"\n[^\n]{%d}" % (limit + 1)).search(data)
    return None if m is None else data.count(b"\n", 0, m.start()) + 2


def bounded_lines(stream: BinaryIO, line_bytes: int = STDIN_LINE_BYTES, lines: int = STDIN_LINES) -> Iterator[bytes]:
    """The lines of a stream, each read no further than ``line_bytes`` (a stream without line ends, /dev/zero, is
    refused at its first line, not held whole), and no more than ``lines`` of them."""
    for number in range(1, lines + 1):
        line = stream.readline(line_bytes + 1)
        if not line:
            return
        if len(line) > line_bytes and not line.endswith(b"\n"):
            raise too_big(
                f"standard input, line {number}",
                f"more than {size(line_bytes)} without a line end",
                f"{size(line_bytes)} a line",
            )
        yield line
    if stream.readline(1):
        raise too_big("standard input", f"more than {lines:,} lines", f"{lines:,} lines")
