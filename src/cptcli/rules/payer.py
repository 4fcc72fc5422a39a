"""The payer edits a claim line is judged by, on its date of service and in its setting: NCCI procedure-to-procedure
pairs (PTP), medically unlikely edits (MUE), add-on code primaries (AOC) and the Physician Fee Schedule's payment
indicators (PFS), each read from the set the user imported (cptcli.imports) through indexed look-ups.

Every finding names its edit, the file and release it comes from, and the date rule it applied. Where an edit's
set is not imported, or its release does not apply to the date of service, the finding says so and the line is not
verified: today's rules are never applied to another day silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from itertools import combinations

from cptcli import edits
from cptcli.edits import GLOBAL_DAYS, MAI, PFS_INDICATORS, PFS_PAYABLE, PFS_STATUS, Release, in_force
from cptcli.model import Finding

# The NCCI-associated modifiers that may bypass a PTP edit whose modifier indicator is 1 (edits.py cites the list).
BYPASS_MODIFIERS = frozenset(edits.BYPASS_MODIFIERS)
SETTINGS = edits.SETTINGS
# What each edit is called in findings, and in the list of checks that ran.
PTP, MUE, AOC, PFS = "NCCI PTP", "NCCI MUE", "NCCI AOC", "PFS"


def _span(effective: str | None, ends: str | None) -> str:
    return f"in force {effective or 'always'} to {ends or 'no end date'}"


def _finding(case, severity: str, kind: str, subject: str, message: str, authority: str | None, **kw) -> Finding:
    rec = case.record
    return Finding(
        severity=severity,
        kind=kind,
        subject=subject,
        message=message,
        code=rec.code,
        sources=(),
        file=rec.origin,
        authority=authority,
        **kw,
    )


def _release(case, name: str, kind: str, slot: str) -> tuple[Release | None, list[Finding]]:
    """The set an edit reads on the line's date, or why the edit could not run (a finding that leaves the line
    unverified)."""
    line = case.line
    found = case.edits.release(kind, slot)
    where = f" ({slot})" if slot else ""
    if found is None:
        return None, [
            _finding(
                case,
                "info",
                NOT_IMPORTED,
                f"edits/{kind}",
                f"{name}{where}{_NONE_IMPORTED}",
                None,
                unverified=True,
            )
        ]
    if found.covers is not None and not (found.covers[0] <= line.date <= found.covers[1]):
        return None, [
            _finding(
                case,
                "info",
                "edit-release-not-in-force",
                f"edits/{kind}",
                f"{name}{where} {found.release} applies to dates of service {found.covers[0]} to {found.covers[1]}, "
                f"not {line.date}: not checked (import the release in force on that date)",
                found.cite(),
                unverified=True,
            )
        ]
    return found, []


NOT_IMPORTED = "edit-not-imported"
# The end of a NOT_IMPORTED finding's message, after the edit's name: one_not_imported takes the names back by it.
_NONE_IMPORTED = ": none imported, so this edit was not checked (cptcli import the CMS file)"


def one_not_imported(findings: list[Finding]) -> list[Finding]:
    """The edits that could not run for want of an imported set, said once (in the place of the first) rather than
    a row each: what to import is the same for all of them."""
    missing = [f for f in findings if f.kind == NOT_IMPORTED]
    if len(missing) < 2:
        return findings
    names = [f.message.removesuffix(_NONE_IMPORTED) for f in missing]
    merged = replace(
        missing[0],
        subject="edits",
        message=f"{', '.join(names)}: none imported, so these edits were not checked (cptcli import the CMS files)",
    )
    return [merged if f is missing[0] else f for f in findings if f.kind != NOT_IMPORTED or f is missing[0]]


def _modifiers_on(line, code: str) -> tuple[str, ...]:
    return line.modifiers if code == line.code else line.with_modifiers_of(code)


# -- NCCI procedure-to-procedure edits -------------------------------------------------------------------


def ptp_pairs(case) -> Iterable[Finding]:
    """Every pair of the line's codes (the code and its --with codes) against the PTP edits of the setting in force
    on the date of service: indicator 0 never pays both; 1 pays both only with an NCCI-associated modifier on the
    column-2 code; 9 is no edit."""
    line = case.line
    if line is None or not line.with_codes or line.setting == "dme":
        return
    found, why = _release(case, PTP, "ncci-ptp", line.setting)
    yield from why
    if found is None:
        return
    codes = list(dict.fromkeys((line.code, *line.with_codes)))
    for a, b in combinations(codes, 2):
        if line.code not in (a, b):
            continue  # pairs among the other lines are theirs to report
        rows = case.edits.rows(
            found,
            "SELECT column1, column2, effective, ends, modifier, rationale, part FROM ptp "
            "WHERE (column1 = ? AND column2 = ?) OR (column1 = ? AND column2 = ?) ORDER BY effective",
            (a, b, b, a),
        )
        live = _deciding([r for r in rows if in_force(r[2], r[3], line.date)])
        for col1, col2, effective, ends, indicator, rationale, part in live:
            yield from _ptp_finding(case, found, col1, col2, effective, ends, indicator, rationale, part)
        if rows and not live:
            col1, col2, effective, ends, *_ = rows[-1]
            yield _finding(
                case,
                "info",
                "ptp-not-in-force",
                f"ptp/{col1}+{col2}",
                f"{PTP} edit {col1} / {col2} ({line.setting}) is {_span(effective, ends)}: not applied on {line.date}",
                found.cite(rows[-1][6]),
            )


def _deciding(live: list[tuple]) -> list[tuple]:
    """Of the rows of one pair in force on a date, the one that took effect last decides (a release that changes an
    edit's indicator adds a row dated from the change and may leave the old one open)."""
    latest: dict[tuple[str, str], tuple] = {}
    for r in live:
        if (r[0], r[1]) not in latest or r[2] > latest[(r[0], r[1])][2]:
            latest[(r[0], r[1])] = r
    return list(latest.values())


def _ptp_finding(case, found: Release, col1, col2, effective, ends, indicator, rationale, part) -> Iterator[Finding]:
    line = case.line
    subject = f"ptp/{col1}+{col2}"
    head = (
        f"{PTP} edit ({line.setting}, {_span(effective, ends)}, applied on {line.date}): {col2} is column 2 to "
        f"{col1}" + (f" ({rationale})" if rationale else "")
    )
    if indicator == 0:
        yield _finding(
            case,
            "error",
            "ptp-edit",
            subject,
            f"{head}; modifier indicator 0: no modifier allows it, {col2} is not paid with {col1}",
            found.cite(part),
        )
    elif indicator == 1:
        bypass = [m for m in _modifiers_on(line, col2) if m in BYPASS_MODIFIERS]
        if bypass:
            yield _finding(
                case,
                "info",
                "ptp-bypassed",
                subject,
                f"{head}; modifier indicator 1, bypassed by {', '.join(bypass)} on {col2} (the record must support a "
                "distinct service)",
                found.cite(part),
            )
        else:
            yield _finding(
                case,
                "error",
                "ptp-edit",
                subject,
                f"{head}; modifier indicator 1: {col2} is paid with {col1} only with an NCCI-associated modifier on "
                f"{col2} (59, XE, XP, XS, XU, an anatomic or a global-surgery modifier) where the service is distinct; "
                f"none is given",
                found.cite(part),
            )


# -- medically unlikely edits ---------------------------------------------------------------------------------


def mue_units(case) -> Iterable[Finding]:
    """The line's units against the code's MUE in the setting: units above it are denied whatever the adjudication
    indicator, which says what follows."""
    line = case.line
    if line is None:
        return
    found, why = _release(case, MUE, "ncci-mue", line.setting)
    yield from why
    if found is None:
        return
    rows = case.edits.rows(found, "SELECT value, mai, rationale FROM mue WHERE code = ?", (line.code,))
    subject = f"mue/{line.code}"
    if not rows:
        yield _finding(
            case,
            "info",
            "mue-none",
            subject,
            f"{MUE} ({line.setting}): no MUE is published for {line.code}",
            found.cite(),
        )
        return
    value, mai, rationale = rows[0]
    words = MAI.get(int(mai), f"adjudication indicator {mai}")
    why_text = f"; rationale: {rationale}" if rationale else ""
    # A line edit counts the line's units; a date-of-service edit the code's units on every line of that date.
    units = line.units if int(mai) == 1 else max(line.units, line.day_units)
    counted = f"{units} units of {line.code}" + (" on the date of service" if units != line.units else "")
    if units > value:
        yield _finding(
            case,
            "error",
            "mue-exceeded",
            subject,
            f"{MUE} ({line.setting}, {found.release}, for dates of service {_covers(found)}): {counted} exceed its "
            f"MUE of {value}; MAI {mai}, {words}{why_text}",
            found.cite(),
        )
    else:
        yield _finding(
            case,
            "info",
            "mue-within",
            subject,
            f"{MUE} ({line.setting}): {line.units} unit{'s' if line.units != 1 else ''} within the MUE of {value} "
            f"(MAI {mai})",
            found.cite(),
        )


def _covers(found: Release) -> str:
    return f"{found.covers[0]} to {found.covers[1]}" if found.covers else "as released"


# -- add-on code edits ----------------------------------------------------------------------------------------


def aoc_primaries(case) -> Iterable[Finding]:
    """An add-on code's primaries from CMS's AOC edits in force on the date: type 1, only the listed primaries; type
    2, the contractor decides; type 3, the listed ones and any the contractor allows."""
    line = case.line
    if line is None:
        return
    found, why = _release(case, AOC, "ncci-aoc", "")
    yield from why
    if found is None:
        return
    rows = case.edits.rows(
        found,
        "SELECT primary_code, primary_ends, effective, ends, edit_type, notes, addon_ends FROM aoc WHERE addon = ?",
        (line.code,),
    )
    if not rows:
        yield _finding(
            case,
            "info",
            "aoc-not-add-on",
            "add_on",
            f"{AOC} ({found.release}): {line.code} is not an add-on code in CMS's add-on code edits",
            found.cite(),
        )
        return
    live = [r for r in rows if in_force(r[2], r[3], line.date) and (not r[1] or line.date <= r[1])]
    if not live:
        yield _finding(
            case,
            "info",
            "aoc-not-in-force",
            f"aoc/{line.code}",
            f"{AOC}: no add-on edit of {line.code} is in force on {line.date}",
            found.cite(),
        )
        return
    types = sorted({int(r[4]) for r in live})
    listed = {r[0] for r in live if r[0] != "CCCCC"}
    rule = f"{AOC} ({found.release}, applied on {line.date})"
    if not line.with_codes:
        yield _finding(
            case,
            "error",
            "aoc-without-primary",
            "add_on",
            f"{rule}: {line.code} is an add-on code (edit type {'/'.join(map(str, types))}); report it with its "
            "primary procedure (--with CODE)"
            + (f"; listed primaries include {', '.join(sorted(listed)[:12])}" if listed else ""),
            found.cite(),
        )
        return
    for primary in line.with_codes:
        subject = f"with/{primary}"
        if primary in listed:
            yield _finding(
                case,
                "info",
                "aoc-primary-listed",
                subject,
                f"{rule}: {primary} is a listed primary of the add-on {line.code}",
                found.cite(),
            )
        elif 1 in types and types == [1]:
            yield _finding(
                case,
                "error",
                "aoc-primary-not-listed",
                subject,
                f"{rule}: {primary} is not among the primaries CMS lists for {line.code} (edit type 1: only the "
                f"listed ones); they include {', '.join(sorted(listed)[:12])}",
                found.cite(),
            )
        elif 2 in types:
            yield _finding(
                case,
                "warning",
                "aoc-contractor-primaries",
                subject,
                f"{rule}: CMS lists no primaries for {line.code} (edit type 2): the contractor decides whether "
                f"{primary} is one",
                found.cite(),
                unverified=True,
            )
        else:
            yield _finding(
                case,
                "warning",
                "aoc-primary-unlisted",
                subject,
                f"{rule}: {primary} is not among the primaries CMS lists for {line.code} (edit type 3): the contractor "
                "may allow others",
                found.cite(),
                unverified=True,
            )


# An official finding of these kinds settles its subject: a source's contested or missing pairing no longer leaves
# the line unverified there.
SETTLES = frozenset({"aoc-primary-listed", "aoc-not-add-on"})
# A code that is no add-on has no primaries to verify: its other codes are pairs for the PTP edits, nothing more.
NOT_AN_ADD_ON = "aoc-not-add-on"
PRIMARY_UNVERIFIED = frozenset({"primary-not-in-knowledge-base", "primary-pairing-unverified"})


# -- Physician Fee Schedule indicators --------------------------------------------------------------------------

# modifier -> (PFS column, indicator values that forbid it, values that need documentation, what the modifier is)
_PFS_MODIFIERS = {
    "50": ("bilateral", {"0", "2", "9"}, set(), "bilateral surgery (50)"),
    "80": ("assistant", {"1", "9"}, {"0"}, "an assistant at surgery (80)"),
    "81": ("assistant", {"1", "9"}, {"0"}, "a minimum assistant at surgery (81)"),
    "82": ("assistant", {"1", "9"}, {"0"}, "an assistant at surgery when no resident is available (82)"),
    "AS": ("assistant", {"1", "9"}, {"0"}, "a non-physician assistant at surgery (AS)"),
    "62": ("co_surgeons", {"0", "9"}, {"1"}, "co-surgeons (62)"),
    "66": ("team", {"0", "9"}, {"1"}, "a surgical team (66)"),
}


def pfs_row(case, found: Release, code: str, modifiers: Iterable[str]) -> dict | None:
    """The code's PFS row: the one for a PC/TC or reduced-service modifier on the line if the file has it, else the
    global one (no modifier)."""
    by_mod = case.edits.pfs(found, code)
    return next((by_mod[m] for m in modifiers if m in by_mod), by_mod.get(""))


def pfs_indicators(case) -> Iterable[Finding]:
    """The Physician Fee Schedule's payment indicators of the code, in the practitioner setting it applies to."""
    line = case.line
    if line is None or line.setting != "practitioner":
        return
    found, why = _release(case, PFS, "pfs-rvu", "")
    yield from why
    if found is None:
        return
    row = pfs_row(case, found, line.code, line.modifiers)
    if row is None:
        yield _finding(
            case,
            "info",
            "pfs-not-listed",
            f"pfs/{line.code}",
            f"{PFS} {found.release}: {line.code} is not in the fee schedule file, so its payment under it is not "
            "verified",
            found.cite(),
            unverified=True,
        )
        return
    status = row["status"]
    words = PFS_STATUS.get(status, "a status the file's documentation does not define")
    if status == "J":
        # Anesthesia: paid on base units and time, not on the file's RVUs; neither payable here nor excluded.
        yield _finding(
            case,
            "info",
            "pfs-anesthesia",
            f"pfs/{line.code}",
            f"{PFS} {found.release}: {line.code} has status J ({words}): paid on anesthesia base units and time",
            found.cite(),
        )
    elif status == "T" and line.with_codes:
        yield _finding(
            case,
            "warning",
            "pfs-paid-alone",
            f"pfs/{line.code}",
            f"{PFS} {found.release}: {line.code} has status T ({words}); the claim has "
            f"{', '.join(line.with_codes)} on the same date",
            found.cite(),
        )
    elif status not in PFS_PAYABLE:
        yield _finding(
            case,
            "error",
            "pfs-not-payable",
            f"pfs/{line.code}",
            f"{PFS} {found.release}: {line.code} has status {status} ({words}): not paid under the fee schedule",
            found.cite(),
        )
    days = row["global_days"]
    if days:
        yield _finding(
            case,
            "info",
            "pfs-global-days",
            f"pfs/{line.code}",
            f"{PFS} {found.release}: global days {days} ({GLOBAL_DAYS.get(days, 'as the file gives it')})",
            found.cite(),
        )
    for m in dict.fromkeys(line.modifiers):
        if m not in _PFS_MODIFIERS:
            continue
        column, forbidden, documented, what = _PFS_MODIFIERS[m]
        value = (row[column] or "").strip()
        words = PFS_INDICATORS[column].get(value, f"indicator {value!r}")
        if value in forbidden or value in documented:
            yield _finding(
                case,
                "error" if value in forbidden else "warning",
                "pfs-modifier",
                f"modifiers/{m}",
                f"{PFS} {found.release}: {m} reports {what}, but {line.code}'s {column.replace('_', '-')} indicator "
                f"is {value}: {words}",
                found.cite(),
            )


PAYER_RULES = (ptp_pairs, mue_units, aoc_primaries, pfs_indicators)
