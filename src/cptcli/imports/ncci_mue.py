"""CMS NCCI Medically Unlikely Edits (MUEs): the practitioner, facility outpatient hospital and DME supplier tables
(https://www.cms.gov/medicare/coding-billing/national-correct-coding-initiative-ncci-edits/
medicare-ncci-medically-unlikely-edits), one table a slot: ``practitioner``, ``outpatient``, ``dme``.

Layout, as CMS ships each table (a zip per setting holding ``MCR_MUE_<Setting>Services_Eff_MM-DD-YYYY.csv`` and
the same table as ``.xlsx``): the CSV opens with the AMA copyright notice as one quoted cell spanning several
lines (padded with empty cells), then the header, whose first cell holds a line break inside its quotes::

    "HCPCS/
    CPT Code",Practitioner Services MUE Values,MUE Adjudication Indicator,MUE Rationale
    0001U,1,2 Date of Service Edit: Policy,Code Descriptor / CPT Instruction

The second column names the setting ("Practitioner Services MUE Values", "Outpatient Hospital Services MUE
Values", "DME Supplier Services MUE Values"); the indicator is its digit followed by CMS's words ("1 Line Edit",
"2 Date of Service Edit: Policy", "3 Date of Service Edit: Clinical"). The CSV is Windows-1252/latin-1 with CRLF
line ends. In the .xlsx the header is row 1 of some releases' tables and row 2 (under the notice) of others:
the header is the row holding the code and the MUE-values columns, wherever it is, and columns are found by
name. Layout read from public parsers of these files (an R reader of the 2024 Q2 .xlsx tables, JavaScript and
Python readers of the 2026 CSV tables) and CMS's MUE page for the column names.

The files carry no dates of their own: the release is the quarter its file name (or zip name, or preamble)
gives, and it covers that quarter from its effective date to the quarter's last day.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator

from ..edits import MUE_MEANINGS as MEANINGS  # noqa: F401  (words kept where the rules read them)
from ..errors import DataError
from ..limits import MiB
from . import kind, records
from .kind import Table
from .ncci_common import cell, header_key, is_xlsx, newest_text_first, quarter_of, xlsx_rows
from .records import Member, Parsed

KIND = "ncci-mue"
LABEL = "NCCI MUE"
A_LABEL = "an NCCI MUE"
READER = 1
# The kind's size limit, well beyond its largest real file (docs/limits.md):
# a setting's table is about 1 MB as CSV or .xlsx.
MAX_BYTES = 32 * MiB
TABLES = (
    Table(
        "mue",
        ("code TEXT NOT NULL", "value INTEGER NOT NULL", "mai INTEGER NOT NULL", "rationale TEXT NOT NULL"),
        (("code",),),
    ),
)
SLOTS = ("practitioner", "outpatient", "dme")

# The words CMS writes after each indicator's digit in the files.
MAI_WORDS = {1: "line edit", 2: "date of service edit: policy", 3: "date of service edit: clinical"}
SETTING_NAMES = {
    "practitioner": "Practitioner Services",
    "outpatient": "Outpatient Hospital Services",
    "dme": "DME Supplier Services",
}

_CODE = re.compile(r"[0-9A-Z]{5}")
_NAME = re.compile(r"MCR_MUE_(Practitioner|OutpatientHospital|FacilityOutpatientHospital|DMESupplier)", re.I)
_NAME_SLOT = {"practitioner": "practitioner", "outpatienthospital": "outpatient", "dmesupplier": "dme"}


def _column(key: str) -> str | None:
    """Which field a header cell (its ``header_key``) is."""
    if key in ("hcpcscptcode", "hcpcscode", "cptcode", "cpthcpcscode", "hcpcs", "code"):
        return "code"
    if key.endswith(("muevalues", "muevalue")):
        return "value"
    if "adjudicationindicator" in key or key == "mai":
        return "mai"
    if "rationale" in key:
        return "rationale"
    return None


def _slot_of_column(key: str) -> str | None:
    for prefix, slot in (
        ("practitioner", "practitioner"),
        ("outpatient", "outpatient"),
        ("facilityoutpatient", "outpatient"),
        ("dme", "dme"),
    ):
        if key.startswith(prefix):
            return slot
    return None


def _is_header(keys: list[str]) -> bool:
    found = {_column(k) for k in keys}
    return {"code", "value", "mai"} <= found


def _columns(m: Member, where: str, keys: list[str]) -> tuple[dict[str, int], str]:
    """Field -> column index of a header row, and the slot its MUE-values column names."""
    idx: dict[str, int] = {}
    for i, k in enumerate(keys):
        f = _column(k)
        if f is not None and f not in idx:
            idx[f] = i
    missing = [f for f in ("code", "value", "mai", "rationale") if f not in idx]
    if missing:
        raise DataError(f"{m.name}: {where}, header: no {', '.join(missing)} column")
    slot = _slot_of_column(keys[idx["value"]])
    if slot is None:
        raise DataError(f"{m.name}: {where}, header: the MUE values column names no setting ({keys[idx['value']]})")
    return idx, slot


def _csv_rows(m: Member) -> Iterator[tuple[int, list[str]]]:
    """(line the record starts on, cells) for every CSV record; a quoted cell may span lines."""
    reader = csv.reader(io.StringIO(m.text(), newline=""))
    start = 1
    try:
        for row in reader:
            yield start, row
            start = reader.line_num + 1
    except csv.Error as e:
        raise DataError(f"{m.name}: line {reader.line_num}: not CSV ({e})") from None


def _rows(m: Member) -> Iterator[tuple[int, list[str]]]:
    if is_xlsx(m):
        return xlsx_rows(m, _is_header, max_col=8)
    return _csv_rows(m)


def _head_rows(name: str, head: bytes) -> list[list[str]]:
    text = head.decode("latin-1")
    if "\0" in text:
        return []
    # A head cut inside a quoted cell is still read: csv treats the rest as the cell.
    try:
        return list(csv.reader(io.StringIO("\n".join(records.lines(text)[:60]))))
    except csv.Error:
        return []


def sniff_content(name: str, head: bytes) -> bool:
    return any(_is_header([header_key(c) for c in row]) for row in _head_rows(name, head)[:40])


def sniff_name(name: str) -> bool:
    return bool(_NAME.search(name.rsplit("/", 1)[-1]))


def sniff(name: str, head: bytes) -> float:
    """The header decides; an .xlsx (a zip: its head shows no sheet) is known by the name CMS gives it."""
    if sniff_content(name, head):
        return kind.CONTENT
    if sniff_name(name):
        return kind.NAME_OF_CONTAINER if name.lower().endswith((".xlsx", ".xlsm")) else kind.NAME_ONLY
    return 0.0


def _slot_from_name(name: str) -> str | None:
    m = _NAME.search(name)
    if not m:
        return None
    key = m.group(1).lower().removeprefix("facility")
    return _NAME_SLOT.get(key)


def slot_of(m: Member) -> str | None:
    """The setting a table is for, from its header (the name where the header cannot be read)."""
    try:
        for where, row in _rows(m):
            keys = [header_key(c) for c in row]
            if _is_header(keys):
                return _columns(m, f"line {where}", keys)[1]
            if where > 40:
                break
    except DataError:
        pass
    return _slot_from_name(m.name)


def sets(members: list[Member]) -> tuple[list[list[Member]], list[tuple[Member, str]]]:
    """One table a setting: the CSV when both forms of a release are given (it is what CMS names first), the
    newest release when several are."""
    by_slot: dict[str, list[Member]] = {}
    skipped: list[tuple[Member, str]] = []
    for m in members:
        slot = slot_of(m)
        if slot is None:
            skipped.append((m, "no MUE table header naming its setting"))
            continue
        by_slot.setdefault(slot, []).append(m)
    out: list[list[Member]] = []
    for slot in SLOTS:
        ms = by_slot.get(slot)
        if not ms:
            continue
        ordered = newest_text_first(ms)
        keep = ordered[0]
        out.append([keep])
        skipped.extend((m, f"one {slot} MUE table per import; {keep.name} was imported") for m in ordered[1:])
    return out, skipped


def _mai(m: Member, where: str, raw: str) -> int:
    """The indicator's digit; the words after it must be CMS's for that digit (a file saying otherwise is not
    trusted with either)."""
    mt = re.fullmatch(r"([123])(?:\s*[-.:]?\s*(.*))?", raw, re.S)
    if not mt:
        raise DataError(f"{m.name}: {where}, field MUE Adjudication Indicator: {raw!r} is not 1, 2 or 3")
    mai = int(mt.group(1))
    words = re.sub(r"\s+", " ", (mt.group(2) or "").strip().lower())
    if words and words != MAI_WORDS[mai] and words.replace("claim line", "line") != MAI_WORDS[mai]:
        raise DataError(
            f"{m.name}: {where}, field MUE Adjudication Indicator: {raw!r} (indicator {mai} is {MAI_WORDS[mai]!r})"
        )
    return mai


def parse(members: Iterable[Member], hint: str = "", progress=None) -> Parsed:
    m = list(members)[0]
    rows = _rows(m)
    preamble: list[str] = []
    idx: dict[str, int] | None = None
    slot = ""
    line_word = "row" if is_xlsx(m) else "line"
    out: list[tuple[str, int, int, str]] = []
    seen: dict[str, int] = {}
    parsed = Parsed(release="unknown release")
    for where_n, row in rows:
        where = f"{line_word} {where_n}"
        if idx is None:
            keys = [header_key(c) for c in row]
            if _is_header(keys):
                idx, slot = _columns(m, where, keys)
            else:
                preamble.extend(c for c in row if c)
                if where_n > 200:
                    break
            continue
        if not any(c.strip() for c in row):
            continue
        vals = {f: (cell(row[i]) if i < len(row) else "") for f, i in idx.items()}
        code = vals["code"].upper()
        if not _CODE.fullmatch(code):
            if not vals["value"] and not vals["mai"]:
                # A note under the table (no value, no indicator) is not an edit.
                parsed.skip(m.name, where_n, f"not an MUE row: {vals['code'][:60]!r}")
                continue
            raise DataError(f"{m.name}: {where}, field HCPCS/CPT Code: {vals['code']!r} is not a 5-character code")
        if not vals["value"].isdigit():
            raise DataError(f"{m.name}: {where}, field MUE Values: {vals['value']!r} is not a whole number of units")
        mai = _mai(m, where, vals["mai"])
        if code in seen:
            raise DataError(
                f"{m.name}: {where}, field HCPCS/CPT Code: {code} was already given at {line_word} {seen[code]}"
            )
        seen[code] = where_n
        out.append((code, int(vals["value"]), mai, re.sub(r"\s+", " ", vals["rationale"])))
    if idx is None:
        raise DataError(f"{m.name}: no MUE header (HCPCS/CPT Code, MUE Values, MUE Adjudication Indicator)")
    if not out:
        raise DataError(f"{m.name}: no MUE rows under the header")
    q = quarter_of(m.name, hint, " ".join(preamble))
    parsed.release = q.release if q else "unknown release"
    parsed.covers = q.covers if q else None
    parsed.slot = slot
    parsed.rows = {"mue": out}
    if progress is not None:
        progress("reading", len(out), len(out))
    return parsed
