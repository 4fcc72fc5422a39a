"""CMS NCCI procedure-to-procedure (PTP) edits: the practitioner (``ccipra``) and hospital outpatient (``ccioph``)
files, imported as one set per setting and quarterly release, for the check rules' indexed look-ups.

Layout (CMS's "Medicare NCCI Procedure to Procedure (PTP) Edits" downloads; checked against several public
loaders of the same files): each release of a setting ships as parts ``-f1`` to ``-f4`` (one zip each, named
``ccipra-v322r0-f1.zip`` and so on), each a tab-delimited latin-1 text file with CRLF line ends, also as .xlsx.
A part opens with the AMA's CPT notice, a ``Column1/Column2 Edits`` line, and a header wrapped over four lines::

    Column 1 | Column 2 | *=in existence | Effective | Deletion  | Modifier         | PTP Edit Rationale
             |          | prior to 1996  | Date      | Date      | 0=not allowed    |
             |          |                |           | *=no data | 1=allowed        |
             |          |                |           |           | 9=not applicable |

then one edit a line: column 1 and column 2 codes, ``*`` or nothing for an edit in existence before 1996, the
effective date (YYYYMMDD), the deletion date (YYYYMMDD, ``*`` for none), the modifier indicator (0, 1 or 9) and
the rationale. The header is found by its ``Column 1``/``Column 2`` line and checked column by column; every
non-blank line after it must be an edit, or the import is refused naming the file, line and field.

What the dates mean. The effective date is the first date of service the edit applies to. The deletion date is
the first date of service it no longer applies to: "the edit does not apply to claims you submit for dates of
service on or after the deletion date", and an edit CMS deletes retroactively has a deletion date equal to its
effective date and modifier indicator 9, never having applied (AAPC, "Know When to Unbundle With NCCI Modifier
Indicators", reading CMS's files; a Q1 2018 practitioner file quoted with the pair 93653/93623 dated 20130101 and
20130101, indicator 9, agrees). So ``ptp.ends``, the LAST day in force, is the deletion date minus one day (NULL
for ``*``); an edit whose ``ends`` falls before its ``effective`` never applied. (CMS's own page defining the
column was not at hand; the file's header says only "Deletion Date *=no data".)

Whether a release keeps deleted edits: it does. Since April 2012 CMS publishes one Column One/Column Two table a
setting holding "all active and deleted edits", each release including "all previous versions and updates from
January 1, 1996, to the present" (CMS's announcement of version 21.1, effective April 1, 2015). One pair can so
appear more than once (deleted, then added again with other dates or another indicator): every row is kept, and
the row in force on the date of service decides. A release therefore covers dates of service from 1 January 1996
(NCCI's start) to the last day of its quarter: ``Parsed.covers``.

Release and quarter come from the file name: ``v322r0`` is NCCI version 32.2, revision 0. The major number is the
year less 1994 and the minor one the quarter less one (version 16.1 took effect 1 April 2010, 16.3 on 1 October
2010, 21.1 on 1 April 2015), so 32.2 is 2026 Q3, in force from 1 July 2026. The setting comes from the name too
(``ccipra``: practitioner, ``ccioph``: outpatient hospital): the AMA notice names neither.

The four parts of a release are imported together, as one set: a release given with a part missing (or a part
twice) is refused whole, naming the part, because a set short of a part would pass the pairs it lacks; that holds
for every file given at once (a lone part of another release in the same directory refuses the import too). A zip or a
directory holding both settings gives two sets. Where a part comes as both .txt and .xlsx, the .txt is read.
"""

from __future__ import annotations

import datetime as _dt
import io
import itertools
import re
from collections.abc import Iterable, Iterator

from ..edits import BYPASS_MODIFIERS  # noqa: F401  (the PTP rule's; words kept with the others)
from ..edits import PTP_MEANINGS as MEANINGS  # noqa: F401
from ..errors import DataError
from ..limits import MiB
from . import archive, kind
from .kind import Table
from .records import Member, Parsed

KIND = "ncci-ptp"
LABEL = "NCCI PTP"
A_LABEL = "an NCCI PTP"
READER = 1
# The kind's size limit, well beyond its largest real file (docs/limits.md):
# each of a release's four text parts is some 45 MB.
MAX_BYTES = 128 * MiB
TABLES = (
    Table(
        "ptp",
        (
            "column1 TEXT NOT NULL",
            "column2 TEXT NOT NULL",
            "prior_1996 INTEGER NOT NULL",
            "effective TEXT NOT NULL",
            "ends TEXT",
            "modifier INTEGER NOT NULL",
            "rationale TEXT NOT NULL",
            "part INTEGER NOT NULL",
        ),
        (("column1", "column2"), ("column2",)),
    ),
)


SETTINGS = {"ccipra": "practitioner", "ccioph": "outpatient"}
# CMS's names: ccipra-v322r0-f1.TXT (setting, version 32.2, revision 0, part 1), the same with .xlsx or .zip.
_NAME = re.compile(r"(ccipra|ccioph)(?:[-_ ]?v(\d{2})(\d)r(\d+))?(?:[-_ ]?f(\d+))?", re.I)
# NCCI began with dates of service on 1 January 1996; every release carries its edits since then.
NCCI_START = "1996-01-01"
# CMS ships a release of each setting in four parts; fewer is a release cut short.
PARTS = 4
HEADER_LINES = 40
# The columns in CMS's order, with a word each header column (unwrapped) must hold.
FIELDS = (
    ("Column 1", "column 1"),
    ("Column 2", "column 2"),
    ("*=in existence prior to 1996", "1996"),
    ("Effective Date", "effective"),
    ("Deletion Date", "deletion"),
    ("Modifier", "modifier"),
    ("PTP Edit Rationale", "rationale"),
)
_CODE = r"[0-9A-Z]{5}"
_FIELD_RULES = (
    (re.compile(_CODE), "a 5-character HCPCS/CPT code"),
    (re.compile(_CODE), "a 5-character HCPCS/CPT code"),
    (re.compile(r"\*?"), "'*' or empty"),
    (re.compile(r"\d{8}"), "a date YYYYMMDD"),
    (re.compile(r"\d{8}|\*"), "a date YYYYMMDD or '*'"),
    (re.compile(r"[019]"), "0, 1 or 9"),
)
_HEADER_RE = re.compile(r"column\s*1\s*\t\s*column\s*2", re.I)
_ROW_START = re.compile(rf"{_CODE}\t{_CODE}\t\*?\t\d{{8}}\t")


def _base(name: str) -> str:
    return name.replace("\\", "/").rsplit("/", 1)[-1]


def _named(name: str) -> re.Match[str] | None:
    return _NAME.search(_base(name))


def sniff_content(head: bytes) -> bool:
    """A header line opening ``Column 1<TAB>Column 2`` with the layout's words, or edit rows in the layout."""
    if b"\0" in head:
        return False
    lines = head.decode("latin-1").split("\n")[:HEADER_LINES]
    for i, line in enumerate(lines):
        if _HEADER_RE.match(line.lstrip()):
            text = " ".join(lines[i : i + 4]).lower()
            if "effective" in text and "deletion" in text and "modifier" in text:
                return True
    rows = sum(1 for ln in lines if _ROW_START.match(ln))
    led = sum(1 for ln in lines if re.match(rf"{_CODE}\t", ln))
    return rows >= 3 and rows >= 0.8 * led


def sniff(name: str, head: bytes) -> float:
    """The layout decides; an .xlsx (a zip, whose head shows no sheet) is known by the name CMS gives it."""
    if sniff_content(head):
        return kind.CONTENT
    if _named(name):
        return kind.NAME_OF_CONTAINER if head[:2] == b"PK" else kind.NAME_ONLY
    return 0.0


class _Name:
    """What a part's file name says: setting, version, revision and part number (None where it says nothing)."""

    def __init__(self, name: str) -> None:
        m = _named(name)
        self.setting = SETTINGS[m.group(1).lower()] if m else None
        self.version = (int(m.group(2)), int(m.group(3)), int(m.group(4))) if m and m.group(2) else None
        self.part = int(m.group(5)) if m and m.group(5) else None
        # The release as CMS names it, for refusals: ccipra-v322r0.
        self.prefix = (m.group(1) + (f"-v{m.group(2)}{m.group(3)}r{m.group(4)}" if m.group(2) else "")) if m else ""


def sets(members: list[Member]) -> tuple[list[list[Member]], list[tuple[Member, str]]]:
    """One set per setting and release, its parts in order (f1 first); a part missing is refused."""
    groups: dict[tuple[str, tuple[int, int, int] | None], list[tuple[_Name, Member]]] = {}
    for m in members:
        n = _Name(m.name)
        if n.setting is None:
            raise DataError(
                f"{m.name}: an NCCI PTP file, but its name does not say which setting: CMS names practitioner "
                "edits ccipra-… and outpatient hospital edits ccioph-…; rename it so"
            )
        groups.setdefault((n.setting, n.version), []).append((n, m))
    out: list[list[Member]] = []
    skipped: list[tuple[Member, str]] = []
    for named in groups.values():
        by_part: dict[int | None, Member] = {}
        for n, m in sorted(named, key=lambda nm: (nm[0].part or 0, not nm[1].name.lower().endswith(".txt"))):
            if n.part in by_part:
                if _stem(by_part[n.part].name) == _stem(m.name):  # the same part as .txt and .xlsx
                    skipped.append((m, f"the same part as {by_part[n.part].name}, which was read"))
                    continue
                raise DataError(f"{m.name}: part {n.part} of {n.prefix} given twice (also {by_part[n.part].name})")
            by_part[n.part] = m
        numbered = sorted(p for p in by_part if p is not None)
        if None in by_part and numbered:
            raise DataError(
                f"{by_part[None].name}: a file without a part number (-f1 to -f4) beside the parts of the same release"
            )
        if numbered:
            want = range(1, max(PARTS, numbered[-1]) + 1)
            missing = [p for p in want if p not in by_part]
            if missing:
                prefix = next(n.prefix for n, _ in named)
                parts = f"part{'s' if len(missing) > 1 else ''} {', '.join(f'f{p}' for p in missing)}"
                raise DataError(
                    f"{prefix}: {parts} missing (given: "
                    f"{', '.join(f'f{p}' for p in numbered)}): CMS ships each release in {PARTS} parts, imported "
                    "together; nothing was imported"
                )
        out.append([by_part[p] for p in numbered] if numbered else [by_part[None]])
    return out, skipped


def _stem(name: str) -> str:
    return _base(name).rsplit(".", 1)[0].lower()


_QUARTER_STARTS = ((1, "January"), (4, "April"), (7, "July"), (10, "October"))


def release_of(version: tuple[int, int, int] | None) -> tuple[str, tuple[str, str] | None]:
    """How the release is named, and the dates of service it covers, from its NCCI version (major, minor, rev)."""
    if version is None:
        return "unknown release (the file names carry no NCCI version)", None
    major, minor, rev = version
    if minor > 3:
        raise DataError(f"version {major}.{minor}: NCCI versions run .0 to .3, one a quarter")
    year = 1994 + major
    month, month_name = _QUARTER_STARTS[minor]
    end = _dt.date(year + (minor == 3), 1 if minor == 3 else month + 3, 1) - _dt.timedelta(days=1)
    name = f"{year} Q{minor + 1} ({month_name} 1, {year})"
    if rev:
        name += f", revision {rev}"
    return name, (NCCI_START, end.isoformat())


def parse(members: Iterable[Member], hint: str = "", progress=None) -> Parsed:
    members = list(members)
    if not members:
        raise DataError("no NCCI PTP file given")
    first = _Name(members[0].name)
    if first.setting is None or first.version is None:
        from_hint = _Name(hint)
        first.setting = first.setting or from_hint.setting
        first.version = first.version or from_hint.version
    if first.setting is None:
        raise DataError(
            f"{members[0].name}: its name does not say practitioner (ccipra-…) or outpatient hospital (ccioph-…)"
        )
    for m in members[1:]:
        n = _Name(m.name)
        if (n.setting, n.version) != (first.setting, first.version):
            raise DataError(f"{m.name}: not a part of the same release as {members[0].name}")
    release, covers = release_of(first.version)
    parsed = Parsed(release=release, slot=first.setting, covers=covers)
    parsed.rows = {"ptp": _rows(members)}
    return parsed


def _rows(members: list[Member]) -> Iterator[tuple]:
    known = _Known()
    for part, m in enumerate(members):
        # A text part is read line by line from the member's bytes (some 45 MB), never decoded whole.
        if m.data[:2] == b"PK":
            yield from _part_rows(m.name, _xlsx_lines(m), part, known, "utf-8")
        else:
            yield from _part_rows(m.name, io.BytesIO(m.data), part, known, "latin-1")


def _cell(i: int, v: object) -> str:
    """A workbook cell as the text file has it: dates as YYYYMMDD, whole numbers without a point, codes the
    workbook holds as numbers with the leading zeros they lost."""
    if isinstance(v, _dt.date):  # a datetime is a date too
        return f"{v:%Y%m%d}"
    if isinstance(v, int | float) and v == int(v):
        return str(int(v)).zfill(5 if i < 2 else 0)
    return "" if v is None else str(v).replace("\t", " ").strip()


def _xlsx_lines(m: Member) -> Iterator[bytes]:
    """The first sheet's rows as the text layout's lines, so both forms are read by one parser."""
    wb = archive.workbook(m.name, m.data)
    try:
        # Every row, the blank ones too: the parser numbers the lines it is given.
        for _, row in archive.rows(m.name, wb.worksheets[0], len(FIELDS), blanks=True):
            yield "\t".join(_cell(i, v) for i, v in enumerate(row)).encode("utf-8")
    finally:
        wb.close()


def _date(raw: str) -> str | None:
    try:
        return _dt.date(int(raw[:4]), int(raw[4:6]), int(raw[6:8])).isoformat()
    except ValueError:
        return None


def _header(
    name: str, lines: Iterator[tuple[int, bytes]], encoding: str
) -> tuple[list[list[str]], tuple[int, bytes] | None]:
    """Read through the notice and the wrapped header: the header's cells by column, and the first edit line
    (number, line) or None for a part with no edits."""
    head: list[list[str]] | None = None
    for n, line in lines:
        text = line.decode(encoding).rstrip("\r\n")
        if head is None:
            if _HEADER_RE.match(text.lstrip()):
                head = [[c] for c in text.split("\t")]
            elif n >= HEADER_LINES:
                break
            continue
        if text.startswith("\t"):  # a wrapped header line: its first cell is empty
            for i, c in enumerate(text.split("\t")[: len(head)]):
                head[i].append(c)
        elif text.strip():
            return head, (n, line)
    if head is None:
        raise DataError(
            f"{name}: no 'Column 1<TAB>Column 2' header line in its first {HEADER_LINES} lines: not an NCCI PTP file "
            "as CMS ships it"
        )
    return head, None


def _check_header(name: str, head: list[list[str]]) -> None:
    cols = [" ".join(" ".join(c).split()).lower() for c in head]
    for i, (label, word) in enumerate(FIELDS):
        got = cols[i] if i < len(cols) else ""
        if word not in got.replace("column1", "column 1").replace("column2", "column 2"):
            raise DataError(f"{name}: header, column {i + 1}: {got!r} where CMS's PTP layout has {label!r}")


class _Known:
    """The field values already checked, shared by a set's parts: a release has some 25,000 codes and a few hundred
    dates among its 2.5 million edits, so each value is checked (and a date converted) once, on first sight."""

    def __init__(self) -> None:
        self.codes: set[str] = set()
        self.prior = {"": 0, "*": 1}
        self.dates: dict[str, str] = {}
        # CMS's deletion date is the first day the edit no longer applies; the table keeps the last day it does.
        self.ends: dict[str, str | None] = {"*": None}
        self.indicators = {"0": 0, "1": 1, "9": 9}

    def learn(self, name: str, n: int, cells: list[str]) -> None:
        """Check a line's fields that are not yet known, remembering them; refuse the first one that is wrong."""
        for (label, _), (rule, what), cell in zip(FIELDS, _FIELD_RULES, cells, strict=False):
            if not rule.fullmatch(cell):
                raise DataError(f"{name}: line {n}, field {label}: {cell!r} is not {what}")
        c1, c2, _, eff, dele = cells[:5]
        self.codes.update((c1, c2))
        if eff not in self.dates:
            d = _date(eff)
            if d is None:
                raise DataError(f"{name}: line {n}, field Effective Date: {eff!r} is not a date (YYYYMMDD)")
            self.dates[eff] = d
        if dele not in self.ends:
            d = _date(dele)
            if d is None:
                raise DataError(f"{name}: line {n}, field Deletion Date: {dele!r} is not a date (YYYYMMDD)")
            self.ends[dele] = (_dt.date.fromisoformat(d) - _dt.timedelta(days=1)).isoformat()


def _part_rows(name: str, lines: Iterable[bytes], part: int, known: _Known, encoding: str) -> Iterator[tuple]:
    numbered = enumerate(lines, 1)
    head, first = _header(name, numbered, encoding)
    _check_header(name, head)
    if first is None:
        return
    width = len(FIELDS)
    codes, prior, dates, ends, indicators = known.codes, known.prior, known.dates, known.ends, known.indicators
    for n, line in itertools.chain((first,), numbered):
        cells = line.decode(encoding).rstrip("\r\n").split("\t")
        if len(cells) != width:
            while len(cells) > width and not cells[-1].strip():
                cells.pop()  # trailing empty cells
            if len(cells) != width:
                if not "".join(cells).strip():
                    continue  # a blank line
                raise DataError(_damage(name, n, cells))
        c1, c2, star, eff, dele, mod, why = cells
        # Known values are looked up; a value not seen before is checked once, then looked up.
        if (
            c1 not in codes
            or c2 not in codes
            or star not in prior
            or eff not in dates
            or dele not in ends
            or mod not in indicators
        ):
            if not "".join(cells).strip():
                continue  # a blank row of a workbook
            known.learn(name, n, cells)
        yield (c1, c2, prior[star], dates[eff], ends[dele], indicators[mod], why.strip(), part)


def _damage(name: str, n: int, cells: list[str]) -> str:
    """Why a line that has not an edit's seven fields is refused, naming the field where it falls short."""
    field = FIELDS[min(len(cells), len(FIELDS)) - 1][0]
    return f"{name}: line {n}, field {field}: {len(cells)} tab-separated fields where an edit has {len(FIELDS)}"
