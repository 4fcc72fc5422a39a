"""Claim files as coders export them: CSV, TSV or JSON Lines, one service line a row, read into claim lines
(cptcli.rules.ClaimLine) grouped by claim and date of service.

Columns are found by their header names, case and punctuation aside (``Claim ID``, ``claim_id`` and ``CLAIMID`` are
one column); the names each column answers to are in ``COLUMNS``. Only ``code`` is required. A row that cannot be
read (a malformed code, date, unit count or modifier) is reported with its row number and skipped; it never stops
the file. A claim's lines with the same date of service are judged together: each line's other codes count as its
``--with`` codes, with their own modifiers, and a code's units on that date are summed for the MUE date-of-service
edits.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from cptcli.errors import CptcliError, UsageError
from cptcli.rules import ClaimLine

# column -> the header names it answers to (compared lower-case, with spaces, '_', '-', '/' and '.' dropped).
COLUMNS = {
    "claim": ("claim", "claimid", "claimnumber", "claimno", "icn", "encounter", "encounterid"),
    "line": ("line", "lineno", "linenumber", "lineitem", "seq", "sequence"),
    "code": ("code", "cpt", "hcpcs", "cpthcpcs", "hcpcscpt", "procedure", "procedurecode", "proccode", "cptcode"),
    "modifiers": ("modifiers", "modifier", "mods", "mod", "modifier1"),
    "units": ("units", "unit", "qty", "quantity", "serviceunits", "daysorunits"),
    "diagnoses": ("diagnoses", "diagnosis", "dx", "dxcodes", "icd", "icd10", "icd10cm", "diagnosiscodes"),
    "date": ("date", "dos", "dateofservice", "servicedate", "fromdate", "dosfrom"),
    "setting": ("setting", "claimtype", "placeofservicesetting"),
}
_LISTS = re.compile(r"[,;\s|]+")
MAX_ROWS_SKIPPED_SHOWN = 50


class Malformed(NamedTuple):
    """A row that could not be read, and why."""

    row: int
    claim: str
    line: str
    reason: str


class Row(NamedTuple):
    """One service line as read, normalised."""

    row: int
    claim: str
    line: str
    code: str
    modifiers: tuple[str, ...]
    units: int
    diagnoses: tuple[str, ...]
    date: str
    setting: str


def _key(name: str) -> str:
    return re.sub(r"[\s_\-/.#]+", "", name.strip().lstrip("\ufeff").lower())


def columns(header: Iterable[str]) -> dict[str, int]:
    """Column -> index of the header cell naming it; raises UsageError without a code column."""
    keys = [_key(h) for h in header]
    found: dict[str, int] = {}
    for column, names in COLUMNS.items():
        for i, k in enumerate(keys):
            if k in names:
                found[column] = i
                break
    if "code" not in found:
        raise UsageError(
            "the claims file has no code column: name one of " + ", ".join(repr(n) for n in COLUMNS["code"][:4])
        )
    return found


def records(text_lines: Iterable[str], name: str) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number, column -> cell) of every row, for CSV, TSV (by the header's tabs) or JSON Lines (by a first
    '{'); row numbers count the header as row 1, as a spreadsheet shows them."""
    lines = iter(text_lines)
    first = ""
    for first in lines:
        if first.strip():
            break
    else:
        raise UsageError(f"{name}: the claims file is empty")
    first = first.lstrip("\ufeff")
    if first.lstrip().startswith("{"):
        yield from _json_lines(first, lines)
        return
    dialect = "excel-tab" if "\t" in first else "excel"
    reader = csv.reader(_chain(first, lines), dialect)
    header = next(reader)
    index = columns(header)
    for n, cells in enumerate(reader, 2):
        if not any(c.strip() for c in cells):
            continue
        yield n, {col: (cells[i].strip() if i < len(cells) else "") for col, i in index.items()}


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


def _json_lines(first: str, rest: Iterator[str]) -> Iterator[tuple[int, dict[str, str]]]:
    index: dict[str, int] | None = None
    for n, text in enumerate(_chain(first, rest), 1):
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            yield n, {"__error__": f"not a JSON object ({exc.msg})"}
            continue
        if not isinstance(obj, dict):
            yield n, {"__error__": "not a JSON object"}
            continue
        keys = list(obj)
        index = columns(keys)
        yield n, {col: _cell(obj[keys[i]]) for col, i in index.items()}


def _cell(value) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return "" if value is None else str(value)


def read(text_lines: Iterable[str], name: str, default_date: str, default_setting: str = "practitioner"):
    """(rows, malformed) of a claims file: every row read, normalised, or the reason it could not be."""
    from cptcli import codes
    from cptcli.rules.payer import SETTINGS

    rows: list[Row] = []
    bad: list[Malformed] = []
    for n, cells in records(text_lines, name):
        claim, line = cells.get("claim", ""), cells.get("line", "")
        try:
            if "__error__" in cells:
                raise UsageError(cells["__error__"])
            parsed = codes.parse_code(cells.get("code", ""))
            mods = list(parsed.modifiers)
            mods += [codes.parse_modifier(m) for m in _LISTS.split(cells.get("modifiers", "")) if m.strip("-")]
            units_text = cells.get("units", "").strip() or "1"
            if not re.fullmatch(r"\d{1,6}(\.0+)?", units_text) or float(units_text) < 1:
                raise UsageError(f"units {codes.printable(units_text)!r} is not a whole number of 1 or more")
            dxs = tuple(codes.parse_icd10(d) for d in _LISTS.split(cells.get("diagnoses", "")) if d.strip())
            date = codes.parse_date(cells["date"]) if cells.get("date", "").strip() else default_date
            setting = cells.get("setting", "").strip().lower() or default_setting
            if setting not in SETTINGS:
                raise UsageError(f"unknown setting {codes.printable(setting)!r}: choose from {', '.join(SETTINGS)}")
        except CptcliError as exc:
            bad.append(Malformed(n, claim, line, exc.message))
            continue
        rows.append(
            Row(
                n,
                claim,
                line or str(n),
                parsed.code,
                tuple(dict.fromkeys(mods)),
                int(float(units_text)),
                dxs,
                date,
                setting,
            )
        )
    return rows, bad


def lines_of(rows: list[Row]) -> Iterator[tuple[Row, ClaimLine]]:
    """Each row with its claim line (cptcli.rules.ClaimLine): the claim's other codes on the same date as its
    --with codes, and its code's units summed over that date, in the order of the file."""
    by_day: dict[tuple[str, str, str], list[Row]] = {}
    for r in rows:
        by_day.setdefault((r.claim or f"row {r.row}", r.date, r.setting), []).append(r)
    for r in rows:
        day = by_day[(r.claim or f"row {r.row}", r.date, r.setting)]
        others = [o for o in day if o is not r]
        yield (
            r,
            ClaimLine(
                r.code,
                tuple(dict.fromkeys(o.code for o in others if o.code != r.code)),
                r.modifiers,
                r.diagnoses,
                units=r.units,
                date=r.date,
                setting=r.setting,
                with_modifiers=tuple((o.code, o.modifiers) for o in others if o.modifiers and o.code != r.code),
                day_units=sum(o.units for o in day if o.code == r.code),
            ),
        )


def decode(data: bytes) -> io.StringIO:
    """A claims file's text: UTF-8 (a byte-order mark allowed), else Windows-1252, as spreadsheets export."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return io.StringIO(data.decode(encoding), newline="")
        except UnicodeDecodeError:
            continue
    return io.StringIO(data.decode("latin-1"), newline="")
