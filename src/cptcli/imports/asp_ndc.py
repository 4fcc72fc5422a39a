"""CMS ASP NDC-HCPCS crosswalk: which HCPCS code each drug package (NDC) is billed under, and in how many units.

CMS publishes it every quarter with the Medicare Part B average sales price files
(https://www.cms.gov/medicare/payment/all-fee-service-providers/medicare-part-b-drug-average-sales-price/asp-pricing-files),
as a zip ("January 2026 ASP NDC-HCPCS Crosswalk") holding the crosswalk as .xls and as a "Section 508" .csv, often
beside the AWP, OPPS and PrEP crosswalks, which share the layout but answer other payment questions. Public domain,
except the short descriptors of CPT codes (AMA text), which are never read.

Layout of the CSV (latin-1), as CMS's ASP FAQ names the columns and public readers of the real files see them: a
title preamble of a few rows ("January 2026 ASP NDC-HCPCS Crosswalk", an update date, notices), then the header::

    _2026_CODE,Short Description,LABELER NAME,NDC2,Drug Name,HCPCS dosage,PKG SIZE,PKG QTY,BILLUNITS,BILLUNITSPKG

The first column is named after the year (``_2025_CODE``, ``_2026_CODE``) and the NDC column has been ``NDC`` as
well as ``NDC2``, so columns are found by name. ``NDC2`` is the 11-digit NDC in its 5-4-2 hyphenated form; a row
whose product number is not one (a device billed under a drug code may carry another identifier) is skipped and
named, never guessed into an NDC. ``Drug Name`` is the name on the package, often the brand: it is what makes a
brand name find its HCPCS code. ``BILLUNITS`` is the number of the code's billing units in one item of the
package, ``BILLUNITSPKG`` in the whole package (PKG SIZE × PKG QTY).

Dates of service a release covers: the quarter it is named after (January: 1 January - 31 March, and so on).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator

from ..codes import ndc_digits
from ..errors import DataError
from ..limits import SHEET_COLUMNS, MiB
from . import archive, kind
from .kind import Table
from .records import Attribute, ImportedCode, Member, Parsed

KIND = "asp-ndc"
LABEL = "ASP NDC-HCPCS crosswalk"
A_LABEL = "an ASP NDC-HCPCS crosswalk"
READER = 1
# The real crosswalk is some ten thousand rows, a few MiB as CSV (docs/limits.md).
MAX_BYTES = 16 * MiB
TABLES = (
    Table(
        "ndc",
        (
            "ndc TEXT NOT NULL",  # 11 digits, no hyphens
            "ndc_as_filed TEXT NOT NULL",
            "code TEXT NOT NULL",
            "labeler TEXT",
            "drug TEXT",
            "dosage TEXT",
            "pkg_size TEXT",
            "pkg_qty TEXT",
            "bill_units TEXT",
            "bill_units_pkg TEXT",
        ),
        (("ndc",), ("code",)),
    ),
)
# The descriptor kind the crosswalk adds to a code it lists: the drug names its packages carry (searched).
DRUG_NAMES = "drug names"
# How many of a code's NDCs `show` names before it counts the rest, and a drug name's NDCs a search hit names.
LISTED = 5
PER_NAME = 3

_HEAD_ROWS = 40
# Header names, letters and digits only, by what is read; the code column is named after the year.
_COLUMNS = {
    "labeler": ("LABELERNAME",),
    "ndc": ("NDC2", "NDC"),
    "drug": ("DRUGNAME",),
    "dosage": ("HCPCSDOSAGE",),
    "pkg_size": ("PKGSIZE",),
    "pkg_qty": ("PKGQTY",),
    "bill_units": ("BILLUNITS",),
    "bill_units_pkg": ("BILLUNITSPKG",),
}
_CODE_HEADER = re.compile(r"_?(?:19|20)\d{2}_?CODE|HCPCS(?:LEVELII)?CODE.*")
_CODE = re.compile(r"[A-Z0-9][0-9]{3}[A-Z0-9]")
_MONTHS = {"JANUARY": (1, "01-01", "03-31"), "APRIL": (2, "04-01", "06-30"), "JULY": (3, "07-01", "09-30")}
_MONTHS["OCTOBER"] = (4, "10-01", "12-31")
_RELEASE = re.compile(r"\b(January|April|July|October)[\s_-]*((?:19|20)\d{2})\b", re.I)
_OTHER_CROSSWALK = re.compile(r"\b(AWP|OPPS|PrEP|NOC)\b", re.I)
_NAME = re.compile(r"NDC[\s_-]*(?:to[\s_-]*)?HCPCS", re.I)


def _key(cell: object) -> str:
    return re.sub(r"[^0-9A-Z_]", "", str(cell if cell is not None else "").upper())


def _find_header(row: list[str]) -> dict[str, int] | None:
    """The column of each field read, when `row` is the crosswalk's header."""
    keys = [_key(c).replace("_", "") if i else _key(c) for i, c in enumerate(row)]
    if not keys or not _CODE_HEADER.fullmatch(keys[0]):
        return None
    cols = {"code": 0}
    for field, names in _COLUMNS.items():
        found = next((keys.index(n) for n in names if n in keys), None)
        if found is not None:
            cols[field] = found
    return cols if "ndc" in cols and "bill_units_pkg" in cols else None


def _csv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error as e:
        raise DataError(f"line {reader.line_num}: not CSV ({e})") from None


def sniff_content(head: bytes) -> bool:
    if head[:2] == b"PK" or b"\0" in head:
        return False
    text = head.decode("latin-1")
    try:
        for n, row in _csv_rows(text):
            if n > _HEAD_ROWS:
                break
            if _find_header(row) is not None:
                return True
    except DataError:
        return False
    return False


def sniff(name: str, head: bytes) -> float:
    """The header decides; an .xlsx (a zip: its head shows no sheet) is known by the name CMS gives it."""
    if sniff_content(head):
        return kind.CONTENT
    base = name.rsplit("/", 1)[-1]
    if _NAME.search(base) and re.search(r"\.(csv|xlsx)$", base, re.I):
        return kind.NAME_OF_CONTAINER if head[:2] == b"PK" else kind.NAME_ONLY
    return 0.0


def release_of(m: Member, hint: str = "") -> tuple[str, tuple[str, str] | None]:
    """("2026 Q1 (January 2026)", its first and last day of service), from the title, the name or the zip's name."""
    texts = [m.name, hint]
    if m.data[:2] != b"PK":
        texts.insert(0, m.data[:4096].decode("latin-1"))
    for text in texts:
        found = _RELEASE.search(text or "")
        if found:
            month, year = found.group(1).upper(), found.group(2)
            q, first, last = _MONTHS[month]
            return f"{year} Q{q} ({month.title()} {year})", (f"{year}-{first}", f"{year}-{last}")
    return "unknown release", None


def _rank(m: Member) -> tuple:
    """Lower is preferred: the newest release, then the CSV before the workbook."""
    _, covers = release_of(m)
    return (
        -(int(covers[0][:4]) * 10 + int(covers[0][5:7])) if covers else 0,
        0 if m.name.lower().endswith(".csv") else 1,
    )


def choose(members: list[Member]) -> tuple[list[Member], list[tuple[Member, str]]]:
    skipped: list[tuple[Member, str]] = []
    asp = []
    for m in members:
        other = _OTHER_CROSSWALK.search(m.name.rsplit("/", 1)[-1])
        if other:
            skipped.append((m, f"the {other.group(1).upper()} crosswalk: cptcli reads the ASP crosswalk"))
        else:
            asp.append(m)
    if not asp:
        return [], skipped
    ranked = sorted(asp, key=_rank)
    keep = ranked[0]
    skipped += [(m, f"one crosswalk per import; {keep.name} was imported") for m in ranked[1:]]
    return [keep], skipped


sets = kind.one_set(choose)


def _rows(m: Member) -> Iterator[tuple[int, list[str]]]:
    if m.data[:2] == b"PK":
        return archive.sheet_rows(m.name, m.data, SHEET_COLUMNS)
    return _csv_rows(m.data.decode("latin-1"))


def _read(m: Member, parsed: Parsed, progress) -> tuple[list[tuple], dict[str, list[tuple]]]:
    """The rows of the ndc table, and each code's rows, in file order."""
    rows = _rows(m)
    cols = None
    for line, row in rows:
        cols = _find_header(row)
        if cols is not None or line >= _HEAD_ROWS:
            break
    if cols is None:
        raise DataError(
            f"{m.name}: no header with a _YYYY_CODE, NDC2 and BILLUNITSPKG column in its first {_HEAD_ROWS} rows"
        )
    out: list[tuple] = []
    by_code: dict[str, list[tuple]] = {}
    for line, row in rows:
        if not any(c.strip() for c in row):
            continue
        vals = {f: (row[i].strip() if i < len(row) else "") for f, i in cols.items()}
        code = vals["code"].upper()
        if not _CODE.fullmatch(code):
            raise DataError(f"{m.name}: line {line}, field HCPCS code: expected a 5-character code, found {code!r}")
        digits = ndc_digits(vals["ndc"])
        if digits is None or len(digits) != 1:
            parsed.skip(m.name, line, f"{code}: {vals['ndc']!r} is not an 11-digit NDC in 5-4-2 form")
            continue
        r = (
            digits[0],
            vals["ndc"],
            code,
            *(vals.get(f) or None for f in ("labeler", "drug", "dosage", "pkg_size", "pkg_qty", "bill_units")),
            vals.get("bill_units_pkg") or None,
        )
        out.append(r)
        by_code.setdefault(code, []).append(r)
        if progress is not None and len(out) % 5000 == 0:
            progress("reading", len(out), None)
    if not out:
        raise DataError(f"{m.name}: no rows under the header")
    return out, by_code


def _code_facts(code: str, rows: list[tuple], release: str, file: str) -> ImportedCode:
    """What the crosswalk adds to a code it lists: its drug names (searched) and its NDCs (shown)."""
    by_name: dict[str, list[str]] = {}
    for r in rows:
        if r[4]:
            by_name.setdefault(r[4], []).append(r[1])

    def carried(ndcs: list[str]) -> str:
        more = len(ndcs) - PER_NAME
        return ", ".join(ndcs[:PER_NAME]) + (f" and {more} more" if more > 0 else "")

    # Each name with the NDCs that carry it: a search hit on a brand shows which packages it names.
    names = [f"{name}: NDC {carried(ndcs)}" for name, ndcs in by_name.items()]
    listed = "; ".join(f"{r[1]} {r[4] or ''} ({r[9] or '?'} units a package)".replace("  ", " ") for r in rows[:LISTED])
    more = len(rows) - LISTED
    ndcs = listed + (f"; and {more} more (cptcli show NDC)" if more > 0 else "")
    return ImportedCode(
        code=code,
        kind=KIND,
        release=release,
        file=file,
        descriptors=((DRUG_NAMES, "; ".join(names)),) if names else (),
        attributes=(Attribute(f"NDCs billed under it ({len(rows)})", ndcs),),
    )


def parse(members: Iterable[Member], hint: str = "", progress=None) -> Parsed:
    m = list(members)[0]
    release, covers = release_of(m, hint)
    if covers is None:
        raise DataError(
            f"{m.name}: which release is this? Neither its title row nor its name (January 2026 ASP NDC-HCPCS "
            "Crosswalk) says; rename it as CMS names it"
        )
    parsed = Parsed(release=release, covers=covers)
    rows, by_code = _read(m, parsed, progress)
    file = m.name.rsplit("/", 1)[-1]
    parsed.codes = [_code_facts(code, rs, release, file) for code, rs in sorted(by_code.items())]
    parsed.rows = {"ndc": rows}
    return parsed
