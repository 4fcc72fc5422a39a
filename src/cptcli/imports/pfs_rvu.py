"""CMS Physician Fee Schedule relative value file (PPRRVU), the payment policy indicators of every code.

The file ships in CMS's quarterly RVU zips (``RVU26A.zip`` = the 2026 January release; B = April, C = July,
D = October; https://www.cms.gov/medicare/payment/fee-schedules/physician/pfs-relative-value-files) as
``PPRRVU26_JAN.csv``/``.xlsx``/``.txt``, since 2026 as ``PPRRVU2026_Jan_nonQPP`` and ``..._QPP`` (the two
conversion factors; the indicators read here are the same in both). Layout of the CSV and the workbook, as
public readers of the real files see it: a preamble of about eight rows (the release's title, "2026 National
Physician Fee Schedule Relative Value File January Release", and the AMA and ADA copyright notices), then a header
split over two rows, whose cells read together name each column::

    ,,,STATUS,MEDICARE,WORK,NON-FAC,NA,FACILITY,NA,MP,...,PCTC,GLOB,PRE,INTRA,POST,MULT,BILAT,ASST,CO-,TEAM,...
    HCPCS,MOD,DESCRIPTION,CODE,PAYMENT,RVU,PE RVU,INDICATOR,PE RVU,INDICATOR,RVU,...,IND,DAYS,OP,OP,OP,PROC,
    SURG,SURG,SURG,SURG,...

Columns are found by those joined names (``STATUS CODE``, ``PCTC IND``, ``GLOB DAYS``, ``MULT PROC``, ``BILAT
SURG``, ``ASST SURG``, ``CO- SURG``, ``TEAM SURG``), never by position, since CMS has added columns between
releases. The DESCRIPTION column is AMA CPT text: it is never read into a row, stored, shown or quoted in an error.
The fixed-width ``.txt`` form carries no header to find columns by and is not read (the ``.csv`` or ``.xlsx`` of the
same zip is); inside a zip it is skipped saying so.

Rows: one per code and modifier (blank, 26, TC, 53, ...), the indicators kept as filed; a value CMS documents
gets its words from ``MEANINGS``. A value of the right shape that no document below defines (an indicator CMS adds
later) is kept and has no words; a value of the wrong shape (a two-letter status, a global period that is not
three characters) is a damaged row and refuses the file.

Dates of service a release covers: each quarterly release is what CMS publishes for the quarter it is named after
(A: 1 January - 31 March, B: 1 April - 30 June, C: 1 July - 30 September, D: 1 October - 31 December); the next
quarter's release replaces it, with the corrections CMS made. A check on a date outside the active release's
quarter is therefore not verified by it.

Sources of the words in ``MEANINGS``: the field descriptions of the relative value file's documentation shipped in
every RVU zip ("National Physician Fee Schedule Relative Value File Calendar Year 2026", RVUPUF26), which repeat
the Medicare Claims Processing Manual (Pub. 100-04), chapter 12, section 40 (global surgery), 40.6-40.8 (multiple,
bilateral, co- and team surgery), 20.4.2-20.4.3 (assistant at surgery) and chapter 23, section 30.2.2 (status).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator

from ..edits import PFS_MEANINGS as MEANINGS
from ..edits import PFS_NOT_PAYABLE as NOT_PAYABLE  # noqa: F401  (words kept where the rules read them)
from ..edits import PFS_PAYABLE as PAYABLE  # noqa: F401
from ..edits import PFS_SOURCES as SOURCES  # noqa: F401
from ..errors import DataError
from ..limits import SHEET_COLUMNS, MiB
from . import archive, kind, records
from .kind import Table
from .records import Member, Parsed

KIND = "pfs-rvu"
LABEL = "PFS relative value"
A_LABEL = "a PFS relative value"
READER = 1
# The kind's size limit, well beyond its largest real file (docs/limits.md):
# PPRRVU as CSV, .xlsx or text is a few MB.
MAX_BYTES = 64 * MiB
TABLES = (
    Table(
        "pfs",
        (
            "code TEXT NOT NULL",
            "modifier TEXT NOT NULL",
            "status TEXT NOT NULL",
            "pctc TEXT",
            "global_days TEXT",
            "mult_proc TEXT",
            "bilateral TEXT",
            "assistant TEXT",
            "co_surgeons TEXT",
            "team TEXT",
        ),
        (("code",),),
    ),
)


# The joined header names (letters and digits only) of the columns read, by table column.
_COLUMNS = {
    "code": "HCPCS",
    "modifier": "MOD",
    "status": "STATUSCODE",
    "pctc": "PCTCIND",
    "global_days": "GLOBDAYS",
    "mult_proc": "MULTPROC",
    "bilateral": "BILATSURG",
    "assistant": "ASSTSURG",
    "co_surgeons": "COSURG",
    "team": "TEAMSURG",
}
_FIELD = {
    "code": "HCPCS",
    "modifier": "MOD",
    "status": "STATUS CODE",
    "pctc": "PCTC IND",
    "global_days": "GLOB DAYS",
    "mult_proc": "MULT PROC",
    "bilateral": "BILAT SURG",
    "assistant": "ASST SURG",
    "co_surgeons": "CO-SURG",
    "team": "TEAM SURG",
}
_SHAPE = {
    "code": re.compile(r"[0-9A-Z]{5}"),
    "modifier": re.compile(r"(?:[0-9A-Z]{2})?"),
    "status": re.compile(r"[A-Z]"),
    "pctc": re.compile(r"[0-9]?"),
    "global_days": re.compile(r"(?:[0-9A-Z]{3})?"),
    "mult_proc": re.compile(r"[0-9]?"),
    "bilateral": re.compile(r"[0-9]?"),
    "assistant": re.compile(r"[0-9]?"),
    "co_surgeons": re.compile(r"[0-9]?"),
    "team": re.compile(r"[0-9]?"),
}
_SHAPE_WORDS = {
    "code": "a 5-character HCPCS or CPT code",
    "modifier": "blank or a 2-character modifier",
    "status": "one letter",
    "global_days": "blank or 3 characters (000, 010, 090, MMM, XXX, YYY, ZZZ)",
}
_QUARTER = {"A": ("01-01", "03-31", "January"), "B": ("04-01", "06-30", "April"), "C": ("07-01", "09-30", "July")}
_QUARTER["D"] = ("10-01", "12-31", "October")
_MONTH_LETTER = {"JAN": "A", "APR": "B", "JUL": "C", "OCT": "D"}
_TITLE = re.compile(r"\b(20\d{2})\s+National\s+Physician\s+Fee\s+Schedule.*?\b(January|April|July|October)\b", re.I)
_NAME = re.compile(r"PPRRVU(\d{2}|20\d{2})_?(JAN|APR|JUL|OCT)", re.I)
_ZIP = re.compile(r"RVU(\d{2})([A-D])(?![A-Z])", re.I)
_HEAD_ROWS = 40


def _key(cell: object) -> str:
    return re.sub(r"[^0-9A-Z]", "", str(cell if cell is not None else "").upper())


def _find_header(rows: list[list[str]]) -> tuple[int, dict[str, int]] | None:
    """The index of the header's second row and the column of each table field, from the two rows read together."""
    for i, row in enumerate(rows[:_HEAD_ROWS]):
        keys = [_key(c) for c in row]
        if "HCPCS" not in keys or "MOD" not in keys:
            continue
        above = rows[i - 1] if i > 0 else []
        joined = [_key((above[j] if j < len(above) else "") or "") + k for j, k in enumerate(keys)]
        cols: dict[str, int] = {}
        for field, name in _COLUMNS.items():
            where = keys if field in ("code", "modifier") else joined
            if name in where:
                cols[field] = where.index(name)
        if "GLOBDAYS" in joined and "BILATSURG" in joined:
            return i, cols
    return None


def _csv_rows(text: str, limit: int | None = None) -> list[list[str]]:
    lines = records.lines(text)
    if limit is not None:
        lines = lines[:limit]
    return list(csv.reader(lines))


def sniff_content(name: str, head: bytes) -> bool:
    if head[:2] == b"PK" or b"\0" in head:
        return False
    try:
        rows = _csv_rows(head.decode("latin-1"), _HEAD_ROWS)
    except csv.Error:
        return False
    return _find_header(rows) is not None


def sniff_name(name: str) -> bool:
    return bool(re.search(r"PPRRVU\d{2,4}.*\.(csv|xlsx|txt)$", name.rsplit("/", 1)[-1], re.I))


def sniff(name: str, head: bytes) -> float:
    """The two-row header decides; an .xlsx (a zip: its head shows no sheet) is known by the name CMS gives it."""
    if sniff_content(name, head):
        return kind.CONTENT
    if sniff_name(name):
        return kind.NAME_OF_CONTAINER if head[:2] == b"PK" and name.lower().endswith(".xlsx") else kind.NAME_ONLY
    return 0.0


def _letter_of(name: str) -> tuple[str, str] | None:
    """(two-digit year, quarter letter) from a file name PPRRVU26_JAN / PPRRVU2026_Jan_nonQPP or a zip RVU26A."""
    base = name.rsplit("/", 1)[-1]
    m = _NAME.search(base)
    if m:
        return m.group(1)[-2:], _MONTH_LETTER[m.group(2).upper()]
    m = _ZIP.search(base)
    if m:
        return m.group(1), m.group(2).upper()
    return None


def _release_parts(m: Member, hint: str) -> tuple[str, str] | None:
    """The release as (year YY, letter): the file's own title first, then its name, then its zip's name."""
    if m.data[:2] != b"PK":
        t = _TITLE.search(m.data[:4096].decode("latin-1"))
        if t:
            return t.group(1)[-2:], _MONTH_LETTER[t.group(2)[:3].upper()]
    return _letter_of(m.name) or (_letter_of(hint) if hint else None)


def release_of(m: Member, hint: str = "") -> tuple[str, tuple[str, str] | None]:
    """The release name ("RVU26A (January 2026)") and the dates of service it covers."""
    parts = _release_parts(m, hint)
    if parts is None:
        return "unknown release", None
    yy, letter = parts
    first, last, month = _QUARTER[letter]
    return f"RVU{yy}{letter} ({month} 20{yy})", (f"20{yy}-{first}", f"20{yy}-{last}")


def _preference(m: Member) -> tuple[int, int]:
    """Lower is preferred: the CSV, then the workbook, then the fixed-width text; the non-QP file before the QP one
    (their indicators are the same; only the conversion factor differs)."""
    n = m.name.lower()
    form = 0 if n.endswith(".csv") else 1 if n.endswith(".xlsx") else 2
    return form, 1 if re.search(r"(?<!non)qpp", n) else 0


def _rank(m: Member) -> tuple:
    """Sort key: the latest release first, then the preferred form."""
    yy, letter = _release_parts(m, "") or ("00", "")
    return (-int(yy), -ord(letter or "@"), *_preference(m))


def choose(members: list[Member]) -> tuple[list[Member], list[tuple[Member, str]]]:
    ranked = sorted(members, key=_rank)
    keep = ranked[0]
    rest = [
        (m, f"one relative value file per import; {keep.name} was imported (the same indicators)")
        for m in ranked
        if m is not keep
    ]
    return [keep], rest


sets = kind.one_set(choose)


def _rows(m: Member) -> Iterator[tuple[int, list[str]]]:
    """(line, cells) of every row; a CSV line is the physical line a row ends on (a quoted cell may hold a break)."""
    if m.data[:2] == b"PK":
        yield from archive.sheet_rows(m.name, m.data, SHEET_COLUMNS)
        return
    reader = csv.reader(io.StringIO(m.text(), newline=""))
    for row in reader:
        yield reader.line_num, row


def _records(m: Member, progress) -> Iterator[tuple]:
    rows = _rows(m)
    head: list[list[str]] = []
    found = None
    header_line = 0
    while found is None and len(head) < _HEAD_ROWS:
        step = next(rows, None)
        if step is None:
            break
        header_line, row = step
        head.append(row)
        found = _find_header(head[-2:])
    if found is None:
        raise DataError(
            f"{m.name}: no header with HCPCS, MOD, GLOB DAYS and BILAT SURG columns in its first {_HEAD_ROWS} rows"
        )
    _, cols = found
    missing = [_FIELD[f] for f in _COLUMNS if f not in cols]
    if missing:
        raise DataError(f"{m.name}: line {header_line}, header: no column {', '.join(missing)}")
    seen: dict[tuple[str, str], int] = {}
    n = 0
    for line, row in rows:
        if not any(c.strip() for c in row):
            continue
        vals = {f: (row[i].strip().upper() if i < len(row) else "") for f, i in cols.items()}
        for f, v in vals.items():
            if not _SHAPE[f].fullmatch(v):
                want = _SHAPE_WORDS.get(f, "blank or one digit")
                raise DataError(f"{m.name}: line {line}, field {_FIELD[f]}: expected {want}, found {v!r}")
        key = (vals["code"], vals["modifier"])
        if key in seen:
            both = f"{key[0]} {key[1]}" if key[1] else key[0]
            raise DataError(f"{m.name}: line {line}, field HCPCS: {both} was already given at line {seen[key]}")
        seen[key] = line
        n += 1
        if progress is not None and n % 5000 == 0:
            progress("reading", n, None)
        yield (
            vals["code"],
            vals["modifier"],
            vals["status"],
            *(vals[f] or None for f in ("pctc", "global_days", "mult_proc", "bilateral", "assistant", "co_surgeons")),
            vals["team"] or None,
        )
    if n == 0:
        raise DataError(f"{m.name}: no rows under the header")


def parse(members: Iterable[Member], hint: str = "", progress=None) -> Parsed:
    m = list(members)[0]
    if m.data[:2] != b"PK" and m.name.lower().endswith(".txt") and not sniff_content(m.name, m.data[:65536]):
        raise DataError(
            f"{m.name}: the fixed-width .txt form has no header to find columns by; import the .csv or .xlsx of "
            "the same RVU zip"
        )
    release, covers = release_of(m, hint)
    if covers is None:
        raise DataError(
            f"{m.name}: which release is this? Neither its title row nor its name (PPRRVU26_JAN, in RVU26A.zip) "
            "says; rename it as CMS names it"
        )
    return Parsed(release=release, covers=covers, rows={"pfs": _records(m, progress)})


def meaning(indicator: str, value: str | None) -> str | None:
    """Words for one indicator's value, or None where the documents define none."""
    return MEANINGS.get(indicator, {}).get(value or "")
