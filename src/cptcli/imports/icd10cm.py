"""The CDC/CMS ICD-10-CM order file of a fiscal year, so a user can add the releases their dates of service need
beside the bundled one.

Layout (CDC's "ICD-10-CM Order File" description, icd10OrderFiles.pdf, shipped with every release at
https://ftp.cdc.gov/pub/Health_Statistics/NCHS/Publications/ICD10CM/ and on cms.gov's ICD-10 pages), checked
against independent public readers of icd10cm_order_2026.txt (they slice the same columns):

    1-5    order number, right-justified, zero-filled
    6      blank
    7-13   code, without its dot, left-justified
    14     blank
    15     0 = a header (not valid for HIPAA-covered transactions), 1 = valid for submission
    16     blank
    17-76  short description (60 characters)
    77     blank
    78-    long description (to the end of the line)

One line per code, category and subcategory, no header line; plain ASCII text, CRLF. The code is stored with its
dot after the third character (M5416 -> M54.16; a three-character category has none). ICD-10-CM is a US
government work (CDC's National Center for Health Statistics): its text is public domain.

Fiscal years: a release applies to dates of service 1 October to 30 September (FY2026: 1 October 2025 -
30 September 2026). The fiscal year comes from the file's name, as CDC and CMS name it (icd10cm_order_2026.txt,
icd10cm-order-2026.txt, in "icd10cm-Code Descriptions-2026.zip"), or its zip's; the file itself carries none.
Every fiscal year is its own slot (``FY2026``), so several sit side by side and a new file of one year replaces
only that year.

April updates (icd10cm-order-April-2025.txt; CDC has published one most years since 2020) are complete code sets
that apply from 1 April to the end of their fiscal year, and add codes that were not valid before 1 April. One does
not overwrite its fiscal year's October release, which dates from 1 October to 31 March still need: it is its own
slot (``FY2025-April``, covering 1 April - 30 September), and on a date both cover the release that starts later
is in force (``in_force``). With only the October release of a year whose April update exists, a date after
1 April is judged by the October set: its findings name that release, so the reader can see which it was.

The PCS order file (icd10pcs_order_2026.txt) has the same layout but procedure codes: it is not this kind.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

from ..errors import DataError
from ..limits import MiB
from . import kind, records
from .kind import Table
from .records import Member, Parsed

KIND = "icd10cm"
LABEL = "ICD-10-CM"
A_LABEL = "an ICD-10-CM"
READER = 1
# The kind's size limit, well beyond its largest real file (docs/limits.md):
# a fiscal year's order file is some 30 MB.
MAX_BYTES = 128 * MiB
TABLES = (
    Table(
        "icd",
        ("code TEXT NOT NULL", "billable INTEGER NOT NULL", "short TEXT NOT NULL", "long TEXT NOT NULL"),
        (("code",),),
    ),
)

# A CM code: a letter, two letters or digits (mostly a digit then either; the April 2026 release added QA0, genetic
# disorders), then up to four more (no dot in the file).
_CODE = re.compile(r"[A-Z][0-9A-Z]{2}(?:[0-9A-Z]{1,4})?")
_LINE = re.compile(r"\d{5} [A-Z][0-9A-Z]{2}[0-9A-Z ]{4} [01] ")
_MIN_LEN = 78  # the long description starts at column 78
_NAME = re.compile(r"icd[-_ ]?10[-_ ]?cm", re.I)
_YEAR = re.compile(r"(?<!\d)(20\d{2})(?!\d)")
_APRIL = re.compile(r"april", re.I)
_HEAD_LINES = 200


def dotted(code: str) -> str:
    """The code as coders write it: M5416 -> M54.16; a three-character category is unchanged."""
    return f"{code[:3]}.{code[3:]}" if len(code) > 3 else code


def sniff_content(name: str, head: bytes) -> bool:
    """Most of the head's lines are order-file lines of CM codes (a PCS order file's codes start with a digit)."""
    if b"\0" in head or head[:2] == b"PK":
        return False
    lines = [ln for ln in records.lines(head.decode("latin-1"))[:_HEAD_LINES] if ln.strip()]
    if len(lines) > 1 and not head.endswith((b"\n", b"\r")):
        lines = lines[:-1]  # the head may end inside a line
    good = sum(1 for ln in lines if len(ln) >= _MIN_LEN and _LINE.match(ln))
    return good >= 3 and good >= 0.8 * len(lines)


def sniff_name(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    return bool(_NAME.search(base) and re.search(r"order", base, re.I) and base.lower().endswith(".txt"))


def sniff(name: str, head: bytes) -> float:
    if sniff_content(name, head):
        return kind.CONTENT
    return kind.NAME_ONLY if sniff_name(name) else 0.0


def slot_of(name: str, hint: str = "") -> tuple[str, str, tuple[str, str]] | None:
    """(slot, release, covers) from the file's name, else its zip's: FY2026 from icd10cm_order_2026.txt."""
    for source in (name.rsplit("/", 1)[-1], hint):
        m = _YEAR.search(source or "")
        if not m:
            continue
        fy = int(m.group(1))
        if _APRIL.search(source):
            return (
                f"FY{fy}-April",
                f"FY{fy} April update (April 1, {fy} – September 30, {fy})",
                (f"{fy}-04-01", f"{fy}-09-30"),
            )
        return (
            f"FY{fy}",
            f"FY{fy} (October 1, {fy - 1} – September 30, {fy})",
            (f"{fy - 1}-10-01", f"{fy}-09-30"),
        )
    return None


def _choose(members: list[Member]) -> tuple[list[list[Member]], list[tuple[Member, str]]]:
    """One set a fiscal-year slot: two files of the same slot keep the first given."""
    by_slot: dict[str, Member] = {}
    rest: list[tuple[Member, str]] = []
    for m in members:
        s = slot_of(m.name)
        key = s[0] if s else ""
        if key in by_slot:
            rest.append((m, f"one order file a fiscal year; {by_slot[key].name} was imported"))
        else:
            by_slot[key] = m
    return [[m] for m in by_slot.values()], rest


def sets(members: list[Member]) -> tuple[list[list[Member]], list[tuple[Member, str]]]:
    return _choose(members)


def _records(m: Member, progress) -> Iterator[tuple[str, int, str, str]]:
    seen: dict[str, int] = {}
    n = 0
    for i, raw in enumerate(records.lines(m.text()), 1):
        line = raw.rstrip()
        if not line.strip():
            continue
        if len(line) < _MIN_LEN:
            raise DataError(
                f"{m.name}: line {i}, field long description: the line ends at column {len(line)}, before "
                f"column {_MIN_LEN} where the long description starts"
            )
        order, code, flag = line[0:5], line[6:13].rstrip(), line[14]
        if not order.isdigit() or line[5] != " ":
            raise DataError(f"{m.name}: line {i}, field order number: expected 5 digits, found {order!r}")
        if not _CODE.fullmatch(code) or line[13] != " ":
            raise DataError(f"{m.name}: line {i}, field code: expected an ICD-10-CM code, found {line[6:13]!r}")
        if flag not in "01" or line[15] != " ":
            raise DataError(f"{m.name}: line {i}, field header/valid flag: expected 0 or 1, found {flag!r}")
        short, long = line[16:76].strip(), line[77:].strip()
        if not short:
            raise DataError(f"{m.name}: line {i}, field short description: empty for {code}")
        if not long or line[76] != " ":
            raise DataError(f"{m.name}: line {i}, field long description: empty or not at column 78 for {code}")
        if code in seen:
            raise DataError(f"{m.name}: line {i}, field code: {dotted(code)} was already given at line {seen[code]}")
        seen[code] = i
        n += 1
        if progress is not None and n % 10000 == 0:
            progress("reading", n, None)
        yield dotted(code), int(flag), short, long
    if n == 0:
        raise DataError(f"{m.name}: no order-file lines")


def parse(members: Iterable[Member], hint: str = "", progress=None) -> Parsed:
    m = list(members)[0]
    found = slot_of(m.name, hint)
    if found is None:
        raise DataError(
            f"{m.name}: which fiscal year? The order file carries none, and neither does its name "
            "(icd10cm_order_2026.txt is FY2026): rename it as CDC names it"
        )
    slot, release, covers = found
    return Parsed(release=release, slot=slot, covers=covers, rows={"icd": _records(m, progress)})


def in_force(sources: Sequence, date: str):
    """The release in force on a date of service (YYYY-MM-DD) among the active ICD-10-CM sets (``ImportedSource``):
    of those whose dates cover it, the one that starts latest (an April update over its October release); None
    when no imported release covers the date."""
    covering = [s for s in sources if s.covers is not None and s.covers[0] <= date <= s.covers[1]]
    return max(covering, key=lambda s: s.covers[0], default=None)
