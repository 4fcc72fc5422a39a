"""NUCC Health Care Provider Taxonomy code set, CSV (https://www.nucc.org/index.php/code-sets-mainmenu-41/
provider-taxonomy-mainmenu-40/csv-mainmenu-57).

Current releases: header ``Code, Grouping, Classification, Specialization, Definition, Notes, Display Name,
Section``. Older releases have no Display Name or Section column, name some columns differently (``Provider
Taxonomy Code``, ``Type``) and may open with a copyright row before the header: the header is the first row with a
code column, and columns are found by name. Taxonomy codes are 10 characters ending in X.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable

from ..errors import DataError
from ..limits import MiB
from . import kind
from .records import Member, Parsed, TaxonomyEntry

KIND = "nucc"
LABEL = "NUCC taxonomy"
A_LABEL = "a NUCC taxonomy"
READER = 1
# The kind's size limit, well beyond its largest real file (docs/limits.md):
# the taxonomy CSV is under 1 MB.
MAX_BYTES = 16 * MiB
TABLES: tuple = ()  # codes and registry entries only

TAXONOMY_CODE = re.compile(r"[0-9A-Z]{9}X")
_COLUMNS = {
    "code": ("code", "provider taxonomy code", "taxonomy code", "taxonomy"),
    "grouping": ("grouping", "type", "provider type"),
    "classification": ("classification",),
    "specialization": ("specialization", "area of specialization"),
    "definition": ("definition",),
    "notes": ("notes", "note"),
    "display_name": ("display name",),
    "section": ("section",),
}


def _find_header(rows: list[list[str]]) -> int | None:
    for i, row in enumerate(rows[:20]):
        keys = [c.strip().lower() for c in row]
        if any(k in _COLUMNS["code"] for k in keys) and "classification" in keys:
            return i
    return None


def sniff_content(name: str, head: bytes) -> bool:
    text = head.decode("latin-1")
    if "\0" in text:
        return False
    try:
        rows = list(csv.reader(io.StringIO("\n".join(text.split("\n")[:40]))))
    except csv.Error:
        return False
    return _find_header(rows) is not None


def sniff_name(name: str) -> bool:
    return bool(re.search(r"nucc_taxonomy.*\.csv$", name.rsplit("/", 1)[-1], re.I))


def sniff(name: str, head: bytes) -> float:
    if sniff_content(name, head):
        return kind.CONTENT
    return kind.NAME_ONLY if sniff_name(name) else 0.0


def choose(members: list[Member]) -> tuple[list[Member], list[tuple[Member, str]]]:
    return members[:1], [(m, f"one taxonomy per import; {members[0].name} was imported") for m in members[1:]]


sets = kind.one_set(choose)


def release_of(name: str) -> str:
    # The digits are the version without its point: nucc_taxonomy_90 is 9.0, nucc_taxonomy_251 is 25.1.
    m = re.search(r"nucc_taxonomy_(\d{1,2})(\d)(?!\d)", name, re.I)
    return f"Version {m.group(1)}.{m.group(2)}" if m else "unknown release"


def parse(members: Iterable[Member], hint: str = "", progress=None) -> Parsed:
    m = list(members)[0]
    rows = list(csv.reader(io.StringIO(m.text())))
    h = _find_header(rows)
    if h is None:
        raise DataError(f"{m.name}: no header row with a Code and a Classification column")
    keys = [c.strip().lower() for c in rows[h]]
    idx: dict[str, int] = {}
    for field, names in _COLUMNS.items():
        for i, k in enumerate(keys):
            if k in names:
                idx[field] = i
                break
    parsed = Parsed(release=release_of(m.name) if release_of(m.name) != "unknown release" else release_of(hint))
    seen: dict[str, int] = {}
    for n, row in enumerate(rows[h + 1 :], h + 2):
        if not any(c.strip() for c in row):
            continue
        vals = {f: (row[i].strip() if i < len(row) else "") for f, i in idx.items()}
        code = vals.get("code", "").upper()
        if code.startswith("COPYRIGHT"):
            # Older releases put their licence notice in the first row under the header: not a taxonomy row.
            continue
        if not TAXONOMY_CODE.fullmatch(code):
            parsed.skip(m.name, n, f"Code {code!r} is not a taxonomy code (9 letters or digits and X)")
            continue
        if code in seen:
            raise DataError(f"{m.name}: row {n}, field Code: {code} was already given at row {seen[code]}")
        seen[code] = n
        if not vals.get("classification"):
            raise DataError(f"{m.name}: row {n}, field Classification: empty for {code}")
        parsed.taxonomy.append(
            TaxonomyEntry(
                code=code,
                grouping=vals.get("grouping", ""),
                classification=vals["classification"],
                specialization=vals.get("specialization", ""),
                definition=vals.get("definition", ""),
                notes=vals.get("notes", ""),
                display_name=vals.get("display_name", ""),
                section=vals.get("section", ""),
                release=parsed.release,
                file=m.name,
            )
        )
    if not parsed.taxonomy:
        raise DataError(f"{m.name}: no taxonomy rows found")
    if progress is not None:
        progress("reading", len(parsed.taxonomy), len(parsed.taxonomy))
    return parsed
