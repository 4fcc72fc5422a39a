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

from ..errors import DataError
from . import kind
from .kind import Table
from .records import Member, Parsed

KIND = "pfs-rvu"
LABEL = "PFS relative value"
A_LABEL = "a PFS relative value"
READER = 1
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

_DOC = "RVUPUF26 (National Physician Fee Schedule Relative Value File, CY 2026), RVU26A.zip"
SOURCES = {
    "status": f"{_DOC}: STATUS CODE; Medicare Claims Processing Manual, Pub. 100-04, ch. 23, §30.2.2",
    "pctc": f"{_DOC}: PCTC IND; Pub. 100-04, ch. 12, §20.4.2-§20.4.3",
    "global_days": f"{_DOC}: GLOB DAYS; Pub. 100-04, ch. 12, §40.1",
    "mult_proc": f"{_DOC}: MULT PROC (modifier 51); Pub. 100-04, ch. 12, §40.6",
    "bilateral": f"{_DOC}: BILAT SURG (modifier 50); Pub. 100-04, ch. 12, §40.7",
    "assistant": f"{_DOC}: ASST SURG (modifiers 80, 81, 82, AS); Pub. 100-04, ch. 12, §20.4.3",
    "co_surgeons": f"{_DOC}: CO-SURG (modifier 62); Pub. 100-04, ch. 12, §40.8",
    "team": f"{_DOC}: TEAM SURG (modifier 66); Pub. 100-04, ch. 12, §40.8",
}

MEANINGS: dict[str, dict[str, str]] = {
    "status": {
        "A": "Active code: separately paid under the physician fee schedule if covered (RVUs and payment amounts "
        "are shown; A is not a national coverage determination)",
        "B": "Bundled code: payment is always bundled into payment for other services; no RVUs, no separate "
        "payment is ever made",
        "C": "Contractor-priced code: the Medicare contractor establishes RVUs and payment, generally case by case "
        "after reviewing documentation such as an operative report",
        "D": "Deleted code: deleted effective the beginning of the year (no longer on the file since 2006: the "
        "grace period for deleted codes no longer applies)",
        "E": "Excluded from the physician fee schedule by regulation: no RVUs or payment under the fee schedule; "
        "when covered, paid under reasonable charge procedures",
        "F": "Deleted/discontinued code, not subject to a 90-day grace period (no longer on the file since 2006)",
        "G": "Not valid for Medicare purposes: Medicare uses another code for it; subject to a 90-day grace period "
        "(no longer on the file since 2006)",
        "H": "Deleted modifier: the code's TC or 26 component was deleted this year (no longer on the file since 2006)",
        "I": "Not valid for Medicare purposes: Medicare uses another code for reporting and payment; not subject "
        "to a 90-day grace period",
        "J": "Anesthesia service: no RVUs or payment amounts on the file; the value identifies anesthesia services",
        "M": "Measurement code: used for reporting purposes only",
        "N": "Non-covered service: not covered by Medicare",
        "P": "Bundled/excluded code: no RVUs and no separate fee schedule payment; paid with the physician "
        "service it is incident to, or outside the fee schedule when covered otherwise",
        "R": "Restricted coverage: special coverage instructions apply; if covered, the service is contractor priced",
        "T": "Paid only if no other service payable under the fee schedule is billed on the same date by the same "
        "provider; otherwise bundled into those services",
        "X": "Statutory exclusion: not in the statutory definition of physician services; no RVUs and no payment "
        "under the fee schedule (e.g. ambulance, clinical laboratory services)",
    },
    "pctc": {
        "0": "Physician service: the PC/TC split does not apply; modifiers 26 and TC cannot be used",
        "1": "Diagnostic test with professional and technical components: modifiers 26 and TC can be used",
        "2": "Professional component only: the code itself is the physician's part; modifiers 26 and TC cannot be used",
        "3": "Technical component only: modifiers 26 and TC cannot be used",
        "4": "Global test only: separate codes describe the professional and technical components; modifiers 26 "
        "and TC cannot be used",
        "5": "Incident-to code: services provided by personnel working under a physician's supervision; "
        "modifiers 26 and TC cannot be used",
        "6": "Laboratory physician interpretation: the clinical lab service is paid under the lab fee schedule; "
        "modifier TC cannot be used",
        "7": "Physical therapy service for which payment may not be made to a physician's office when provided "
        "by an independent therapist (no RVUs)",
        "8": "Physician interpretation code: only the professional component is paid under the fee schedule; "
        "modifier TC cannot be used",
        "9": "Not applicable: the PC/TC concept does not apply",
    },
    "global_days": {
        "000": "Endoscopic or minor procedure: related pre- and postoperative work on the day of the procedure "
        "only; evaluation and management on that day generally not payable",
        "010": "Minor procedure: preoperative work on the day and a 10-day postoperative period included; "
        "evaluation and management in that period generally not payable",
        "090": "Major surgery: a 1-day preoperative period and a 90-day postoperative period included",
        "MMM": "Maternity code: the usual global period does not apply",
        "XXX": "The global concept does not apply",
        "YYY": "The contractor decides whether the global concept applies and sets the postoperative period",
        "ZZZ": "Related to another service and always included in that service's global period",
    },
    "mult_proc": {
        "0": "No payment adjustment for multiple procedures applies",
        "1": "Standard payment adjustment rules in effect before 1 January 1996 apply (codes with status D only)",
        "2": "Standard multiple procedure rules apply: 100% for the highest valued procedure, 50% for the next "
        "four, the rest by documentation",
        "3": "Special rules for multiple endoscopic procedures apply (related endoscopies by family)",
        "4": "Multiple procedure reduction of diagnostic imaging applies (technical and professional components)",
        "5": "Multiple procedure reduction of the practice expense of 'always therapy' services applies",
        "6": "Multiple procedure reduction of the technical component of diagnostic cardiovascular services applies",
        "7": "Multiple procedure reduction of the technical component of diagnostic ophthalmology services applies",
        "9": "The multiple procedure concept does not apply",
    },
    "bilateral": {
        "0": "150% bilateral adjustment does not apply: with modifier 50 or RT and LT, both sides are paid as "
        "one (the lower of the total charge or 100% of the fee schedule amount)",
        "1": "150% bilateral adjustment applies: with modifier 50, RT and LT, or 2 units, payment is the lower "
        "of the total charge or 150% of the single-code amount",
        "2": "150% bilateral adjustment does not apply: the RVUs already describe a bilateral procedure; with "
        "modifier 50 both sides are paid at 100% of one",
        "3": "The usual bilateral adjustment does not apply: each side is paid at 100% (radiology and other "
        "diagnostic tests)",
        "9": "The bilateral concept does not apply",
    },
    "assistant": {
        "0": "Payment restriction for an assistant at surgery applies unless supporting documentation "
        "establishes medical necessity",
        "1": "Statutory payment restriction: an assistant at surgery may not be paid",
        "2": "No payment restriction: an assistant at surgery may be paid",
        "9": "The assistant at surgery concept does not apply",
    },
    "co_surgeons": {
        "0": "Co-surgeons not permitted for this procedure",
        "1": "Co-surgeons could be paid; supporting documentation must establish medical necessity",
        "2": "Co-surgeons permitted; no documentation required if the two-specialty requirement is met",
        "9": "The co-surgeon concept does not apply",
    },
    "team": {
        "0": "Team surgeons not permitted for this procedure",
        "1": "Team surgeons could be paid; supporting documentation must establish medical necessity; paid by report",
        "2": "Team surgeons permitted; paid by report",
        "9": "The team surgeon concept does not apply",
    },
}

# Status codes whose services are paid under the fee schedule (on its RVUs, or priced by the contractor). NOT_PAYABLE:
# never paid under it: B (bundled), E (excluded by regulation), I (not valid for Medicare), M (measurement only),
# N (non-covered), P (bundled/excluded), X (statutory exclusion), and the deleted codes D, F, G, H. Neither set: J,
# anesthesia, paid on base units and time with the anesthesia conversion factor, not on this file's RVUs (a rule
# names it, it does not fail it). T is payable only alone (no other payable service that day by the same provider):
# a rule must say so, not pass it silently.
PAYABLE = frozenset({"A", "C", "R", "T"})
NOT_PAYABLE = frozenset({"B", "D", "E", "F", "G", "H", "I", "M", "N", "P", "X"})

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
    lines = text.splitlines()
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


def _workbook_rows(m: Member) -> Iterator[tuple[int, list[str]]]:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(m.data), read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many types for a damaged workbook
        raise DataError(f"{m.name}: not a readable .xlsx workbook ({type(e).__name__})") from None
    try:
        for n, row in enumerate(wb.worksheets[0].iter_rows(values_only=True), 1):
            yield n, ["" if v is None else str(v) for v in row]
    finally:
        wb.close()


def _rows(m: Member) -> Iterator[tuple[int, list[str]]]:
    """(line, cells) of every row; a CSV line is the physical line a row ends on (a quoted cell may hold a break)."""
    if m.data[:2] == b"PK":
        yield from _workbook_rows(m)
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
