"""What the NCCI file kinds share: a release named by its quarter, the dates CMS writes, and header cells read by name.

CMS names every quarterly NCCI file with its quarter or its effective date (``MCR_MUE_PractitionerServices_Eff_
10-01-2026.csv``, ``AOC_V2026Q2-MCR.xlsx``, the zip ``medicare-ncci-2026-q4-practitioner-services-mue-table.zip``);
a release is then named "2026 Q4 (October 1, 2026)" and applies from its effective date to its quarter's last day.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable, Iterator

from . import archive
from .records import Member

_MONTHS = "January February March April May June July August September October November December".split()
# MM-DD-YYYY as CMS writes it in file names (Eff_10-01-2026, effective-10-01-2026, effective-10012026).
_MDY = re.compile(r"(?:eff|effective)[\s_-]*(\d{2})[-_]?(\d{2})[-_]?(\d{4})", re.I)
# A year and a quarter: V2026Q2, 2026-q4, 2026 Q1.
_YQ = re.compile(r"(?<!\d)((?:19|20)\d{2})[\s_-]*q([1-4])(?!\d)", re.I)
# "effective October 1, 2026" in a preamble.
_WORDS = re.compile(r"effective\s+(" + "|".join(_MONTHS) + r")\s+(\d{1,2}),\s*((?:19|20)\d{2})", re.I)


class Quarter:
    """The quarter a release belongs to and the date it takes effect (a quarter's first day, or later for a
    release CMS reissues mid-quarter)."""

    __slots__ = ("effective", "quarter", "year")

    def __init__(self, effective: _dt.date) -> None:
        self.effective = effective
        self.year = effective.year
        self.quarter = (effective.month - 1) // 3 + 1

    @property
    def release(self) -> str:
        e = self.effective
        return f"{self.year} Q{self.quarter} ({_MONTHS[e.month - 1]} {e.day}, {e.year})"

    @property
    def last_day(self) -> _dt.date:
        first_of_next = _dt.date(self.year + (self.quarter == 4), (self.quarter % 4) * 3 + 1, 1)
        return first_of_next - _dt.timedelta(days=1)

    @property
    def covers(self) -> tuple[str, str]:
        return self.effective.isoformat(), self.last_day.isoformat()


def quarter_of(*texts: str) -> Quarter | None:
    """The quarter the first of ``texts`` (file names, then a zip's name, then a preamble) that names one says."""
    for text in texts:
        if not text:
            continue
        m = _MDY.search(text)
        if m:
            try:
                return Quarter(_dt.date(int(m.group(3)), int(m.group(1)), int(m.group(2))))
            except ValueError:
                pass
        m = _YQ.search(text)
        if m:
            return Quarter(_dt.date(int(m.group(1)), (int(m.group(2)) - 1) * 3 + 1, 1))
        m = _WORDS.search(text)
        if m:
            try:
                month = [x.lower() for x in _MONTHS].index(m.group(1).lower()) + 1
                return Quarter(_dt.date(int(m.group(3)), month, int(m.group(2))))
            except ValueError:
                pass
    return None


def julian(raw: str) -> _dt.date | None:
    """A CMS Julian date (YYYYDDD: the year and the day of the year, 2026091 = 1 April 2026), or None if the
    text is not one."""
    if len(raw) != 7 or not raw.isdigit():
        return None
    year, day = int(raw[:4]), int(raw[4:])
    if not 1900 <= year <= 2199 or not 1 <= day <= (366 if _leap(year) else 365):
        return None
    return _dt.date(year, 1, 1) + _dt.timedelta(days=day - 1)


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def header_key(v: object) -> str:
    """A header cell as letters and digits only, lower case: "HCPCS/\\nCPT Code" -> "hcpcscptcode", "AOC_DelDT"
    -> "aocdeldt" (CMS's header cells hold line breaks, and their spelling changed between releases)."""
    return re.sub(r"[^a-z0-9]+", "", str(v or "").lower())


def cell(v: object) -> str:
    """A cell as text: whole numbers without a decimal point (an .xlsx stores 2013091 as a number), text
    stripped, non-breaking spaces read as spaces."""
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).replace("\xa0", " ").strip()


def is_xlsx(m: Member) -> bool:
    return m.name.lower().endswith((".xlsx", ".xlsm")) or m.data[:2] == b"PK"


def newest_text_first(members: list[Member]) -> list[Member]:
    """The files of one set in the order to choose from: the newest release first (by the quarter its name
    gives; a file whose name gives none counts as the newest, since the zip it came in names it), and of one
    release the text or CSV before the .xlsx (the form CMS documents first)."""
    when = {id(m): q.effective.toordinal() for m in members if (q := quarter_of(m.name))}
    newest = max(when.values(), default=0)
    return sorted(members, key=lambda m: (-when.get(id(m), newest), int(is_xlsx(m)), m.name))


def xlsx_rows(m: Member, is_header: Callable[[list[str]], bool], max_col: int = 12) -> Iterator[tuple[int, list[str]]]:
    """The rows (1-based number, cells as text) of the first sheet whose first 30 rows hold a row ``is_header``
    accepts (given header keys), from that row on; openpyxl in read-only mode, only the first ``max_col``
    columns."""
    wb = archive.workbook(m.name, m.data)
    try:
        for ws in wb.worksheets:
            start = None
            for r, row in archive.rows(m.name, ws, max_col, max_row=30):
                if is_header([header_key(v) for v in row]):
                    start = r
                    break
            if start is None:
                continue
            for r, row in archive.rows(m.name, ws, max_col, min_row=start):
                yield r, [cell(v) for v in row]
            return
    finally:
        wb.close()
