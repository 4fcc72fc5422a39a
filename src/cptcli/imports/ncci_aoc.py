"""CMS NCCI add-on code (AOC) edits (https://www.cms.gov/ncci-medicare/medicare-ncci-add-code-edits): which primary
codes each add-on code is paid with. One set (slot ``""``).

What CMS publishes: since 1 January 2022 a fixed-width text file (``AOC_V2026Q2-MCR.txt``), and since 5 June
2023 the same edits as an .xlsx (``AOC_V2026Q2-MCR.xlsx``) beside it in the quarter's zip (CMS's AOC page, whose
announcements say so); no CSV. Eight fields, in this order in the 2026 files:

    AOC edit type (1) | add-on code (5) | add-on code deletion date (7) | primary code (5) |
    primary code deletion date (7) | AOC edit effective date (7) | AOC edit deletion date (7) | notes (the rest)

Dates are Julian, YYYYDDD (the year and the day of the year: 2026091 is 1 April 2026); a date that does not apply is
blank or ``*``. A primary code of ``CCCCC`` means the contractor defines the primaries (type 2), and is kept as is.
The text record runs the fields together at those widths, an absent date as blanks (a public reader of the file
quotes a record as ``20054T CCCCC 2013091 Contractor Defined Primary Codes``, which shows the order of the fields,
not their widths: type 2, add-on 0054T, primary CCCCC, effective 1 April 2013); lines before the first record (the
AMA notice, a header) are preamble. The .xlsx has the notice in row 1 and the header in row 2 (a reader of 2024 Q2's
took its header from row 1), and its column names changed between releases ("AOC Del Dt", "AOC Del Dt (Julian)",
"AOC_DelDT"; the edit type moved from the seventh column to the first), so columns are found by name. Layout read
from public readers of the 2024 and 2026 files (R and Python) and CMS's page for the forms; CMS's file structure
document was not at hand, so the fixed-width positions follow the field order and widths above, and a record that
does not fit them is refused, not guessed.

Deletion dates. NCCI gives the first date of service an edit no longer applies to: CMS defines an NCCI edit's
deletion date so ("the edit does not apply to claims for dates of service on or after the deletion date", for the
PTP edits), and readers of the AOC file apply an edit while the date of service is before its deletion date. The
tables keep the LAST day in force, inclusive, so every deletion date here (the edit's, the add-on code's, the
primary code's) is stored as the day before it (``2026001`` -> 2025-12-31); an edit deleted the day it took effect
never applied (its last day is before its first). The quarterly file keeps deleted edits with their deletion dates
(the column exists for them, and readers of the 2024 files filter them out), so a release covers dates of service
from its earliest effective date to its quarter's last day.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable, Iterable, Iterator

from ..edits import AOC_MEANINGS as MEANINGS  # noqa: F401  (words kept where the rules read them)
from ..errors import DataError
from ..limits import MiB
from . import kind, records
from .kind import Table
from .ncci_common import cell, header_key, is_xlsx, julian, newest_text_first, quarter_of, xlsx_rows
from .records import Member, Parsed

KIND = "ncci-aoc"
LABEL = "NCCI AOC"
A_LABEL = "an NCCI AOC"
READER = 1
# The kind's size limit, well beyond its largest real file (docs/limits.md):
# the AOC table is under 1 MB.
MAX_BYTES = 32 * MiB
TABLES = (
    Table(
        "aoc",
        (
            "addon TEXT NOT NULL",
            "addon_ends TEXT",
            "primary_code TEXT NOT NULL",
            "primary_ends TEXT",
            "effective TEXT NOT NULL",
            "ends TEXT",
            "edit_type INTEGER NOT NULL",
            "notes TEXT NOT NULL",
        ),
        (("addon",), ("primary_code",)),
    ),
)
CONTRACTOR_DEFINED = "CCCCC"


FIELDS = ("edit_type", "addon", "addon_ends", "primary_code", "primary_ends", "effective", "ends", "notes")
LABELS = {
    "edit_type": "AOC Edit Type",
    "addon": "Add-on Code",
    "addon_ends": "AOC Deletion Date",
    "primary_code": "Primary Code",
    "primary_ends": "Primary Code Deletion Date",
    "effective": "AOC Edit Effective Date",
    "ends": "AOC Edit Deletion Date",
    "notes": "Special Instruction Notes",
}
# (field, start, end) of the fixed-width record, 0-based, end exclusive; notes run to the end of the line.
LAYOUT = (
    ("edit_type", 0, 1),
    ("addon", 1, 6),
    ("addon_ends", 6, 13),
    ("primary_code", 13, 18),
    ("primary_ends", 18, 25),
    ("effective", 25, 32),
    ("ends", 32, 39),
)
_NOTES_AT = 39
DELETIONS = ("addon_ends", "primary_ends", "ends")
_CODE = re.compile(r"[0-9A-Z]{5}")
_DATE = r"(?:\d{7}|\*[ ]{6}|[ ]{7})"
_RECORD = re.compile(r"[123][0-9A-Z]{5}" + _DATE + r"[0-9A-Z]{5}" + _DATE + r"\d{7}" + _DATE)
_TYPES = {"1": 1, "2": 2, "3": 3, "I": 1, "II": 2, "III": 3}
_NAME = re.compile(r"AOC_V\d{4}Q[1-4]", re.I)


def _is_record(line: str) -> bool:
    # A record may end at its last non-blank field: its absent dates are then not written out.
    return bool(_RECORD.match(line.ljust(_NOTES_AT)))


def _field(key: str) -> str | None:
    """Which field a header cell (its ``header_key``) is, under every spelling CMS has used."""
    if key in ("addoncode", "addon", "aoc", "aoccode"):
        return "addon"
    if key in ("primarycode", "primary", "primaryprocedurecode"):
        return "primary_code"
    if key.startswith(("aocdel", "addoncodedel", "aocdeletion", "addondel")):
        return "addon_ends"
    if key.startswith(("primarycodedel", "primarydel")):
        return "primary_ends"
    if key.startswith(("aocediteff", "editeff", "aoceffective")):
        return "effective"
    if key.startswith(("aoceditdel", "editdel")):
        return "ends"
    if key.startswith(("aocedittype", "edittype", "aoctype")) or key == "type":
        return "edit_type"
    if key.startswith(("specialinstruction", "notes", "note")):
        return "notes"
    return None


def _is_header(keys: list[str]) -> bool:
    found = {_field(k) for k in keys}
    return {"addon", "primary_code", "edit_type"} <= found


def sniff_content(name: str, head: bytes) -> bool:
    text = head.decode("latin-1")
    if "\0" in text:
        return False
    lines = records.lines(text)[:200]
    return sum(1 for ln in lines if _is_record(ln)) >= 3


def sniff(name: str, head: bytes) -> float:
    """Records decide; an .xlsx (a zip: its head shows no sheet) is known by the name CMS gives it."""
    if sniff_content(name, head):
        return kind.CONTENT
    if _NAME.search(name.rsplit("/", 1)[-1]):
        return kind.NAME_OF_CONTAINER if name.lower().endswith((".xlsx", ".xlsm")) else kind.NAME_ONLY
    return 0.0


def choose(members: list[Member]) -> tuple[list[Member], list[tuple[Member, str]]]:
    """One file a release: the text when both forms are given (the form CMS documents), the newest release
    when several are."""
    ordered = newest_text_first(members)
    keep = ordered[0]
    return [keep], [(m, f"one AOC file per import; {keep.name} was imported") for m in ordered[1:]]


sets = kind.one_set(choose)


def _by_name(rows: Iterable[tuple[int, list[str]]]) -> Iterator[tuple[int, dict[str, str] | None]]:
    """Rows under a header found by name as field -> text; (number, None) for the header itself."""
    idx: dict[str, int] | None = None
    for n, row in rows:
        if idx is None:
            keys = [header_key(c) for c in row]
            if _is_header(keys):
                idx = {}
                for i, k in enumerate(keys):
                    f = _field(k)
                    if f is not None and f not in idx:
                        idx[f] = i
                yield n, None
            continue
        if not any(c.strip() for c in row):
            continue
        yield n, {f: (row[i].strip() if i < len(row) else "") for f, i in idx.items()}


def _fixed(lines: list[str]) -> Iterator[tuple[int, dict[str, str] | None]]:
    """Records of the fixed-width text; lines before the first record are preamble."""
    started = False
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if not started:
            if not _is_record(line):
                continue
            started = True
        line = line.ljust(_NOTES_AT)
        f = {name: line[a:z].strip() for name, a, z in LAYOUT}
        f["notes"] = line[_NOTES_AT:].strip()
        yield n, f


def _records(m: Member) -> tuple[str, Iterator[tuple[int, dict[str, str] | None]], str]:
    """("row" or "line", the records, the preamble's text)."""
    if is_xlsx(m):
        return "row", _by_name(xlsx_rows(m, _is_header, max_col=12)), ""
    lines = records.lines(m.text())
    first = next((i for i, ln in enumerate(lines) if _is_record(ln)), len(lines))
    return "line", _fixed(lines), " ".join(lines[:first])


def _date(m: Member, where: str, field: str, raw: str, required: bool = False) -> str | None:
    """A Julian date as ISO; a deletion date as the last day in force (the day before it)."""
    if raw in ("", "*"):
        if required:
            raise DataError(f"{m.name}: {where}, field {LABELS[field]}: empty (a Julian date YYYYDDD is required)")
        return None
    d = julian(raw)
    if d is None:
        raise DataError(f"{m.name}: {where}, field {LABELS[field]}: {raw!r} is not a Julian date (YYYYDDD)")
    if field in DELETIONS:
        d -= _dt.timedelta(days=1)
    return d.isoformat()


def _code(m: Member, where: str, field: str, raw: str) -> str:
    code = raw.upper()
    if not _CODE.fullmatch(code):
        raise DataError(f"{m.name}: {where}, field {LABELS[field]}: {raw!r} is not a 5-character code")
    return code


def _row(m: Member, where: str, f: dict[str, str]) -> tuple:
    edit_type = _TYPES.get(cell(f.get("edit_type", "")).upper().removeprefix("TYPE").strip())
    if edit_type is None:
        raise DataError(f"{m.name}: {where}, field {LABELS['edit_type']}: {f.get('edit_type', '')!r} is not 1, 2 or 3")
    return (
        _code(m, where, "addon", f.get("addon", "")),
        _date(m, where, "addon_ends", f.get("addon_ends", "")),
        _code(m, where, "primary_code", f.get("primary_code", "")),
        _date(m, where, "primary_ends", f.get("primary_ends", "")),
        _date(m, where, "effective", f.get("effective", ""), required=True),
        _date(m, where, "ends", f.get("ends", "")),
        edit_type,
        re.sub(r"\s+", " ", f.get("notes", "")),
    )


def parse(members: Iterable[Member], hint: str = "", progress: Callable | None = None) -> Parsed:
    m = list(members)[0]
    word, records, preamble = _records(m)
    out: list[tuple] = []
    header = False
    for n, f in records:
        if f is None:
            header = True
            continue
        out.append(_row(m, f"{word} {n}", f))
    if not out:
        missing = "" if header or not is_xlsx(m) else " (no header with Add-on Code, Primary Code, AOC Edit Type)"
        raise DataError(f"{m.name}: no AOC edits found{missing}")
    q = quarter_of(m.name, hint, preamble)
    parsed = Parsed(release=q.release if q else "unknown release")
    if q is not None:
        parsed.covers = (min(min(r[4] for r in out), q.covers[0]), q.covers[1])
    parsed.rows = {"aoc": out}
    if progress is not None:
        progress("reading", len(out), len(out))
    return parsed
