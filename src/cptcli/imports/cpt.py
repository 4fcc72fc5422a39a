"""The AMA CPT data files a licensed user has, merged into one CPT set per release.

Layouts (as the AMA's data-file package ships them; checked against public loaders of the same files):

- ``LONGULT.txt``: long descriptors, upper and lower case, tab-separated ``code<TAB>descriptor``, after a
  copyright/header block of free text.
- ``MEDU.txt`` and ``SHORTU.txt``: medium and short descriptors, upper case, fixed width: the 5-character code in
  columns 1-5, one space, the descriptor from column 7 (short descriptors are at most 28 characters).
- ``ConsumerDescriptor.txt``: tab-separated with a header row ``Concept Id, CPT Code, Consumer Friendly
  Descriptor``: one consumer descriptor per code.
- ``ClinicianDescriptor.txt``: tab-separated with a header row ``Concept Id, CPT Code, Clinician Descriptor Id,
  Clinician Descriptor``: several clinician descriptors per code, each with its own id (the four-column shape and
  header names as a public C# loader of this file reads them).

Codes: five digits (Category I), four digits and F (Category II), T (Category III) or U (PLA). Text is UTF-8 (a
byte-order mark allowed) or, failing that, latin-1.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..errors import DataError
from ..limits import MiB
from . import kind, records
from .records import CPT_CODE, Attribute, ImportedCode, Member, Parsed

KIND = "cpt"
LABEL = "CPT"
A_LABEL = "a CPT"
READER = 1
# The kind's size limit, well beyond its largest real file (docs/limits.md):
# the biggest AMA data file, the clinician descriptors, is a few MB.
MAX_BYTES = 32 * MiB
TABLES: tuple = ()  # codes and registry entries only

ROLES = ("long", "medium", "short", "consumer", "clinician")
_ROLE_NAMES = (
    ("clinician", re.compile(r"clinician", re.I)),
    ("consumer", re.compile(r"consumer", re.I)),
    ("long", re.compile(r"^LONGU?L?T?\b|^LONGULT|^LONG", re.I)),
    ("medium", re.compile(r"^MEDU", re.I)),
    ("short", re.compile(r"^SHORTU", re.I)),
)
_TAB_LINE = re.compile(r"^([0-9A-Z]{5})\t(.*)$")
_FIXED_LINE = re.compile(r"^([0-9A-Z]{5}) (\S.*)$")
_ORDER = re.compile(r"\d{5} [0-9A-Z]{3}[0-9A-Z ]{4} [01] ")
_CPT_YEAR = re.compile(r"\bCPT\W{0,3}((?:19|20)\d{2})\b", re.I)
_YEAR = re.compile(r"\b((?:19|20)\d{2})\b")


def _header_cols(line: str) -> list[str]:
    return [c.strip().lower() for c in line.split("\t")]


def role_of(name: str, text: str) -> str | None:
    base = name.rsplit("/", 1)[-1]
    for role, pat in _ROLE_NAMES:
        if pat.search(base):
            return role
    lines = records.lines(text)[:200]
    for line in lines:
        cols = _header_cols(line)
        if "concept id" in cols and "cpt code" in cols:
            return "clinician" if any("clinician" in c for c in cols) else "consumer"
    tabbed = sum(1 for ln in lines if _TAB_LINE.match(ln))
    fixed = [ln for ln in lines if _FIXED_LINE.match(ln)]
    if tabbed >= 3 and tabbed >= len(fixed):
        return "long"
    if len(fixed) >= 3:
        return "short" if max(len(ln) - 6 for ln in fixed) <= 28 else "medium"
    return None


def sniff_content(name: str, head: bytes) -> bool:
    text = head.decode("latin-1")
    lines = records.lines(text)[:200]
    for line in lines:
        cols = _header_cols(line)
        if "concept id" in cols and "cpt code" in cols:
            return True
    # A row of another kind's table is no descriptor line: an NCCI PTP edit (seven tab-separated fields), an
    # ICD-10-CM or -PCS order file's line ("00001 A00     0 Cholera ...": five digits and a space too).
    codes = [
        m.group(1)
        for ln in lines
        if (m := _TAB_LINE.match(ln) or _FIXED_LINE.match(ln)) and "\t" not in m[2] and not _ORDER.match(ln)
    ]
    cpt = sum(1 for c in codes if CPT_CODE.fullmatch(c))
    # A few stray lines (a code of another set, a typo) must not hide a CPT file; a document quoting a few
    # descriptor lines among its prose (a README's examples) is not one: records are most of a data file's lines.
    written = sum(1 for ln in lines if ln.strip())
    return cpt >= 3 and cpt >= 0.8 * len(codes) and len(codes) >= 0.5 * written


def sniff_name(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    return bool(re.fullmatch(r"(LONGULT|LONGUL|MEDU|SHORTU|ConsumerDescriptor|ClinicianDescriptor)\.txt", base, re.I))


def sniff(name: str, head: bytes) -> float:
    if sniff_content(name, head):
        return kind.CONTENT
    return kind.NAME_ONLY if sniff_name(name) else 0.0


def choose(members: list[Member]) -> tuple[list[Member], list[tuple[Member, str]]]:
    return members, []


sets = kind.one_set(choose)


class _Merge:
    def __init__(self) -> None:
        self.desc: dict[str, list[tuple[str, str]]] = {}
        self.files: dict[str, dict[str, str]] = {}
        self.attrs: dict[str, list[Attribute]] = {}

    def add(self, code: str, role: str, text: str, file: str, attrs: Iterable[Attribute] = ()) -> None:
        self.desc.setdefault(code, []).append((role, text))
        self.files.setdefault(code, {}).setdefault(role, file)
        have = self.attrs.setdefault(code, [])
        have.extend(a for a in attrs if a not in have)


def _tabbed_rows(m: Member, text: str, ncols: int, names: tuple[str, ...], parsed: Parsed):
    started = False
    for i, line in enumerate(records.lines(text), 1):
        if not started:
            cols = _header_cols(line)
            if "concept id" in cols and "cpt code" in cols:
                started = True
            continue
        if not line.strip():
            continue
        cols = line.split("\t")
        if len(cols) < ncols:
            raise DataError(
                f"{m.name}: line {i}, field {names[-1]}: expected {ncols} tab-separated columns, found {len(cols)}"
            )
        cols = [*cols[: ncols - 1], "\t".join(cols[ncols - 1 :])]
        yield i, [c.strip() for c in cols]
    if not started:
        raise DataError(f"{m.name}: no header row ({', '.join(names)})")


def _number(m: Member, i: int, field: str, raw: str) -> str:
    if not raw.isdigit():
        raise DataError(f"{m.name}: line {i}, field {field}: expected a number, found {raw!r}")
    return raw


def _code_ok(m: Member, i: int, code: str, parsed: Parsed) -> bool:
    if CPT_CODE.fullmatch(code):
        return True
    parsed.skip(m.name, i, f"{code!r} is not a CPT code (5 digits, or 4 digits and F, T or U)")
    return False


def _check_whole(m: Member, text: str) -> None:
    """Every line of the AMA's files ends with a line end, the last one too: a file that stops inside a line was
    cut short (a download in progress, a copy still being written), and its last descriptor may stop mid-word."""
    tail = text.rstrip(" \t\x1a")
    if tail and not tail.endswith("\n"):
        line = tail.count("\n") + 1
        raise DataError(
            f"{m.name}: line {line}: the file is cut short: its last line has no line end; "
            "import the whole file (is it still being downloaded or written?)"
        )


def _read(m: Member, role: str, merge: _Merge, parsed: Parsed) -> list[str]:
    text = m.text()
    _check_whole(m, text)
    header: list[str] = []
    if role == "consumer":
        names = ("Concept Id", "CPT Code", "Consumer Friendly Descriptor")
        for i, (cid, code, desc) in _tabbed_rows(m, text, 3, names, parsed):
            _number(m, i, "Concept Id", cid)
            if _code_ok(m, i, code, parsed):
                if not desc:
                    raise DataError(f"{m.name}: line {i}, field Consumer Friendly Descriptor: empty")
                merge.add(code, role, desc, m.name, [Attribute("Concept ID", cid)])
        return header
    if role == "clinician":
        cnames = ("Concept Id", "CPT Code", "Clinician Descriptor Id", "Clinician Descriptor")
        for i, (cid, code, did, desc) in _tabbed_rows(m, text, 4, cnames, parsed):
            _number(m, i, "Concept Id", cid)
            _number(m, i, "Clinician Descriptor Id", did)
            if _code_ok(m, i, code, parsed):
                if not desc:
                    raise DataError(f"{m.name}: line {i}, field Clinician Descriptor: empty")
                merge.add(
                    code,
                    role,
                    desc,
                    m.name,
                    [Attribute("Concept ID", cid), Attribute("Clinician descriptor ID", did, desc)],
                )
        return header
    pat = _TAB_LINE if role == "long" else _FIXED_LINE
    started = False
    for i, line in enumerate(records.lines(text), 1):
        mt = pat.match(line)
        if not started:
            if mt is None or not CPT_CODE.fullmatch(mt.group(1)):
                header.append(line)
                continue
            started = True
        if mt is None:
            if line.strip():
                parsed.skip(m.name, i, "not a code and descriptor line")
            continue
        code, desc = mt.group(1), mt.group(2).strip()
        if not _code_ok(m, i, code, parsed):
            continue
        if not desc:
            raise DataError(f"{m.name}: line {i}, field descriptor: empty")
        if role == "short" and len(desc) > 28:
            parsed.skip(m.name, i, f"short descriptor of {code} is {len(desc)} characters (at most 28)")
            continue
        merge.add(code, role, desc, m.name)
    if not started:
        raise DataError(f"{m.name}: no code lines found")
    return header


def release_of(headers: list[str], *names: str) -> str:
    """``CPT <year>`` as the header block names it, else as a file or zip name does; a bare copyright year is
    not the release (CPT 2026 is published, and copyrighted, in 2025), so it is given as such."""
    named = [int(y) for line in headers for y in _CPT_YEAR.findall(line)]
    if named:
        return f"CPT {max(named)}"
    in_names = [int(y) for n in names for y in _YEAR.findall(n.rsplit("/", 1)[-1].replace("_", " "))]
    if in_names:
        return f"CPT {max(in_names)}"
    years = [int(y) for line in headers for y in _YEAR.findall(line)]
    return f"CPT, copyright {max(years)}" if years else "unknown release"


def parse(members: Iterable[Member], hint: str = "", progress=None) -> Parsed:
    members = list(members)
    merge = _Merge()
    parsed = Parsed(release="")
    headers: list[str] = []
    seen: dict[str, str] = {}
    for n, m in enumerate(members, 1):
        role = role_of(m.name, m.text()[:65536])
        if role is None:
            raise DataError(
                f"{m.name}: not one of the CPT data files (LONGULT, MEDU, SHORTU, Consumer-, ClinicianDescriptor)"
            )
        if role in seen:
            raise DataError(f"{m.name}: holds {role} descriptors, as {seen[role]} does: give one file of each")
        seen[role] = m.name
        headers += _read(m, role, merge, parsed)
        if progress is not None:
            progress("reading", n, len(members))
    parsed.release = release_of(headers, hint, *(m.name for m in members))
    order = {r: i for i, r in enumerate(ROLES)}
    file_label = ", ".join(m.name.rsplit("/", 1)[-1] for m in members)
    for code in sorted(merge.desc):
        desc = sorted(merge.desc[code], key=lambda d: order[d[0]])
        parsed.codes.append(
            ImportedCode(
                code=code,
                kind=KIND,
                release=parsed.release,
                file=file_label,
                descriptors=tuple(desc),
                attributes=tuple(merge.attrs[code]),
                descriptor_files=tuple(merge.files[code].items()),
            )
        )
    return parsed
