"""The check rules: one list (RULES), shared by `audit` (the knowledge base's
own rows) and `check` (a user's claim line). A rule is one function taking a
Case and returning findings, and one line in RULES.

Rules take their facts from the data, never from here: modifier names,
combinations and the add-on rule from the registry in codes.json (or an
imported HCPCS release), provider taxonomy names from the verified NUCC list,
ICD-10-CM from the official release (cptcli.codesets.icd10), opened only when
a rule asks for it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from itertools import combinations
from typing import Any, Protocol

from cptcli import codes
from cptcli.edits import Edits
from cptcli.model import (
    ADDED_DATE,
    SEVERITY_ORDER,
    AuditReport,
    CheckReport,
    CodeRecord,
    Finding,
    Modifier,
    TaxonomyCode,
    source_labels,
)
from cptcli.rules import payer

REGISTRY = 'cptcli modifier registry (codes.json "modifiers")'
TAXONOMY = 'cptcli verified NUCC taxonomy list (codes.json "taxonomy_codes")'
# Header codes can have hundreds of billable codes below them (S32 has 500+).
MAX_LISTED = 12


class Knowledge(Protocol):
    """What rules and reverse look-ups read (cptcli.engine.Engine)."""

    @property
    def modifiers(self) -> dict[str, Modifier]: ...
    @property
    def taxonomy_codes(self) -> dict[str, TaxonomyCode]: ...
    @property
    def files(self) -> tuple[str, ...]: ...

    def find(self, code: str) -> CodeRecord | None: ...
    def get(self, code: str) -> CodeRecord: ...
    def records(self) -> list[CodeRecord]: ...
    def rows_listing(self, table: str, key: str) -> list: ...
    def registry(self, name: str) -> list: ...


@dataclass(frozen=True)
class ClaimLine:
    """A claim line as typed, normalised: the code, the other codes on the claim for the same date (primary
    procedures, pairs), modifiers, diagnoses, units, the date of service (YYYY-MM-DD) and the setting
    (practitioner, outpatient or dme: which NCCI edits apply). `with_modifiers` holds the modifiers typed on the
    other codes (`--with 11043-59`), as (code, modifiers) pairs."""

    code: str
    with_codes: tuple[str, ...] = ()
    modifiers: tuple[str, ...] = ()
    diagnoses: tuple[str, ...] = ()
    units: int = 1
    date: str = ""
    setting: str = "practitioner"
    with_modifiers: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # The code's units over every line of the claim on the date (claim files): what a date-of-service MUE counts.
    day_units: int = 0

    def with_modifiers_of(self, code: str) -> tuple[str, ...]:
        return next((mods for c, mods in self.with_modifiers if c == code), ())

    @property
    def on(self) -> str:
        """The date of service the line is judged on: today when none was given."""
        return self.date or codes.today()


@dataclass(frozen=True)
class Case:
    """What every rule judges: one record, the knowledge it is checked against,
    the ICD-10-CM code set (a callable: opened only when asked), and for
    `check` the claim line reported with the record (None for `audit`) and the
    imported payer edits it is judged by (rules.payer.Edits)."""

    record: CodeRecord
    kb: Knowledge
    icd: Callable
    line: ClaimLine | None = None
    edits: Any = None


# -- comparing names -----------------------------------------------------------


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def compare_names(stated: str, official: str) -> str:
    """'same' (equal but for case, spacing, punctuation), 'shorter' (the stated
    name leaves words out but adds none), or 'different'."""
    s, o = _words(stated), _words(official)
    if s == o or "".join(s) == "".join(o):  # "Non-excepted" is "Nonexcepted"
        return "same"
    if set(s) < set(o):
        return "shorter"
    return "different"


_VERDICT_ORDER = {"same": 0, "shorter": 1, "different": 2}


def name_verdict(stated: str, entry: Modifier) -> str:
    """compare_names against each name the modifier rightly has (the registry's, an imported file's): the best."""
    return min((compare_names(stated, n) for n in entry.names), key=_VERDICT_ORDER.__getitem__)


# Words that say who, not which specialty: "Pain Medicine Specialist".
_ROLE_WORDS = {"specialist", "specialists", "physician", "physicians", "provider", "providers", "doctor", "doctors"}


def taxonomy_matches(stated: str, nucc_name: str) -> bool:
    """Whether a row's stated specialty names the NUCC code's specialization
    (the last part of 'Grouping, Specialization'); 'Neurology' does not match
    'Radiology, Diagnostic Radiology'. Deliberately strict: a false mismatch
    sends a coder to look, a false match lets a wrong code through."""
    stated_words = set(_words(stated)) - _ROLE_WORDS
    wanted = set(_words(nucc_name.split(",")[-1]))
    return bool(wanted) and wanted <= stated_words


def _srcs(sources: Iterable[str]) -> str:
    return source_labels(sources) or "a document"


def _list_codes(found, limit: int = MAX_LISTED) -> str:
    shown = ", ".join(f"{c.code} ({c.description})" for c in found[:limit])
    more = len(found) - limit
    return shown + (f" and {more} more" if more > 0 else "")


def _contested(rec: CodeRecord, item) -> str:
    """'; it stands only on ... (the note's correction)' for an item marked contested, else ''."""
    note = rec.conflict(getattr(item, "contested", None))
    if note is None:
        return ""
    return (
        f"; it stands only on a source's reading that conflicts with the official descriptor "
        f"(see the {note.subject} note): {note.correction or note.text}"
    )


# -- rules over the knowledge base's own rows (audit) -------------------------------


def modifier_rows(case: Case) -> Iterable[Finding]:
    if case.line is not None:
        return
    rec, kb = case.record, case.kb
    for row in rec.modifiers:
        subject = f"modifiers/{row.modifier}"
        entry = kb.modifiers.get(row.modifier)
        if entry is None:
            yield Finding(
                severity="error",
                kind="modifier-unknown",
                subject=subject,
                message=f"{row.modifier} is not in cptcli's modifier registry; the row calls it "
                f"{row.description or 'nothing'!r}",
                code=rec.code,
                sources=row.sources,
                file=rec.origin,
                authority=REGISTRY,
                stated=row.description,
            )
            continue
        if not row.description:
            continue  # a truncated row has no name to compare; the truncation is noted
        verdict = name_verdict(row.description, entry)
        if verdict == "shorter":
            yield Finding(
                severity="warning",
                kind="modifier-name",
                subject=subject,
                message=f"{row.modifier} is {entry.name!r} in the registry; "
                f"the row's {row.description!r} leaves words out",
                code=rec.code,
                sources=row.sources,
                file=rec.origin,
                authority=entry.source,
                stated=row.description,
                official=entry.name,
            )
        elif verdict == "different":
            yield Finding(
                severity="error",
                kind="modifier-name",
                subject=subject,
                message=f"{row.modifier} is {entry.name!r} in the registry, not {row.description!r} as the row says",
                code=rec.code,
                sources=row.sources,
                file=rec.origin,
                authority=entry.source,
                stated=row.description,
                official=entry.name,
            )


def taxonomy_rows(case: Case) -> Iterable[Finding]:
    if case.line is not None:
        return
    rec, kb = case.record, case.kb
    for row in rec.taxonomy:
        subject = f"taxonomy/{row.code}"
        entry = kb.taxonomy_codes.get(row.code)
        if entry is None:
            yield Finding(
                severity="info",
                kind="taxonomy-unverified",
                subject=subject,
                message=f"{row.code} is not in the verified NUCC list: unverified, not checked",
                code=rec.code,
                sources=row.sources,
                file=rec.origin,
                authority=None,
                stated=row.specialty,
            )
        elif row.specialty and not taxonomy_matches(row.specialty, entry.name):
            yield Finding(
                severity="error",
                kind="taxonomy-mismatch",
                subject=subject,
                message=f"NUCC names {row.code} {entry.name!r}, not {row.specialty!r} as the row says",
                code=rec.code,
                sources=row.sources,
                file=rec.origin,
                authority=entry.source,
                stated=row.specialty,
                official=entry.name,
            )


def diagnosis_rows(case: Case) -> Iterable[Finding]:
    if case.line is not None or not case.record.diagnoses:
        return
    rec, codeset = case.record, case.icd()
    for row in rec.diagnoses:
        subject = f"diagnoses/{row.code}"
        official = codeset.get(row.code)
        if official is None:
            yield Finding(
                severity="error",
                kind="icd-unknown",
                subject=subject,
                message=f"{row.code} is not an ICD-10-CM code",
                code=rec.code,
                sources=row.sources,
                file=rec.origin,
                authority=codeset.authority,
                stated=row.description,
            )
            continue
        if not official.billable:
            billable = codeset.billable_under(row.code)
            yield Finding(
                severity="error",
                kind="icd-header",
                subject=subject,
                message=f"{row.code} is a header, not billable; report one of: {_list_codes(billable)}",
                code=rec.code,
                sources=row.sources,
                file=rec.origin,
                authority=codeset.authority,
                stated=row.description,
                official=", ".join(c.code for c in billable),
            )
        if row.description:
            verdict = compare_names(row.description, official.description)
            if verdict != "same":
                yield Finding(
                    severity="warning" if verdict == "shorter" else "error",
                    kind="icd-description",
                    subject=subject,
                    message=f"{row.code} is officially {official.description!r}; the row says {row.description!r}",
                    code=rec.code,
                    sources=row.sources,
                    file=rec.origin,
                    authority=codeset.authority,
                    stated=row.description,
                    official=official.description,
                )


def curated_notes(case: Case) -> Iterable[Finding]:
    """The conflicts and truncations the curators recorded."""
    if case.line is not None:
        return
    rec = case.record
    for n in rec.notes:
        if n.kind in ("conflict", "truncation"):
            yield Finding(
                severity="warning",
                kind=n.kind,
                subject=n.subject,
                message=n.text,
                code=rec.code,
                sources=n.sources,
                file=rec.origin,
                authority=n.authority,
                noted=True,
            )


# -- rules over a claim line (check) ---------------------------------------------------


def terminated_code(case: Case) -> Iterable[Finding]:
    """A code its official file ends before the date of service cannot be reported on it; nor can one the file adds
    after that date."""
    if case.line is None:
        return
    rec, end, on = case.record, case.record.termination, case.line.on
    added = next((a for a in rec.official if a.label == ADDED_DATE and a.value), None)
    if added is not None and added.value is not None and on < added.value:
        yield Finding(
            severity="error",
            kind="not-yet-effective",
            subject="code",
            message=f"{rec.display_code} was added on {added.value}: not valid for services on {on}",
            code=rec.code,
            sources=added.sources,
            file=rec.origin,
            authority=source_labels(added.sources),
        )
    if end is None or end.value is None:
        return
    past = end.value < on
    yield Finding(
        severity="error" if past else "warning",
        kind="terminated" if past else "terminating",
        subject="code",
        message=f"{rec.display_code} {codes.ended(end.value, rec.official_references, on=on)}",
        code=rec.code,
        sources=end.sources,
        file=rec.origin,
        authority=source_labels(end.sources),
    )


def modifier_dates(case: Case) -> Iterable[Finding]:
    """A modifier the imported HCPCS file ends before the date of service, or adds after it, is not valid on the
    line, as a code is not (terminated_code)."""
    line = case.line
    if line is None:
        return
    for m in dict.fromkeys(line.modifiers):
        entry = case.kb.modifiers.get(m)
        if entry is None or not (entry.official_added or entry.official_ends):
            continue
        authority = entry.official_source or entry.source
        if entry.official_added and line.on < entry.official_added:
            yield Finding(
                severity="error",
                kind="modifier-not-yet-effective",
                subject=f"modifiers/{m}",
                message=f"modifier {m} was added on {entry.official_added}: not valid for services on {line.on}",
                code=case.record.code,
                authority=authority,
            )
        if entry.official_ends:
            # Valid on the date of service, a modifier ending later is said, not held against the line.
            past = entry.official_ends < line.on
            said = codes.ended(entry.official_ends, otherwise=f"see cptcli modifier {m}", on=line.on)
            yield Finding(
                severity="error" if past else "info",
                kind="modifier-terminated" if past else "modifier-terminating",
                subject=f"modifiers/{m}",
                message=f"modifier {m} {said}",
                code=case.record.code,
                authority=authority,
            )


def add_on_and_primaries(case: Case) -> Iterable[Finding]:
    line = case.line
    if line is None:
        return
    rec, kb = case.record, case.kb
    add_on_sources = rec.add_on.sources if rec.add_on else ()
    if rec.add_on is not None and rec.add_on.value and not line.with_codes:
        hints = rec.notes_about("primary_procedure")
        hint = (" " + " ".join(n.text for n in hints)) if hints else " The documents name no primary procedure for it."
        quote = f' ({_srcs(add_on_sources)}: "{rec.add_on.quote}")' if rec.add_on.quote else ""
        yield Finding(
            severity="error",
            kind="add-on-without-primary",
            subject="add_on",
            message=f"{rec.display_code} is an add-on code{quote}: "
            f"report it with the primary procedure (--with CODE).{hint}",
            code=rec.code,
            sources=tuple(dict.fromkeys(add_on_sources + tuple(s for n in hints for s in n.sources))),
            file=rec.origin,
        )
    elif rec.is_add_on is None and not line.with_codes:
        yield Finding(
            severity="info",
            kind="add-on-unknown",
            subject="add_on",
            message=f"the documents do not say whether {rec.code} is an add-on code",
            code=rec.code,
            sources=(),
            file=rec.origin,
            unverified=True,
        )
    related = {r.code: r for r in rec.related}
    for primary in line.with_codes:
        subject = f"with/{primary}"
        other = kb.find(primary)
        row = related.get(primary)
        if primary == rec.code:
            yield Finding(
                severity="error",
                kind="primary-is-self",
                subject=subject,
                message=f"{primary} cannot be its own primary procedure",
                code=rec.code,
                sources=(),
                file=rec.origin,
            )
        elif other is not None and other.is_add_on:
            yield Finding(
                severity="error",
                kind="primary-is-add-on",
                subject=subject,
                message=f"{other.display_code} is itself an add-on code, not a primary procedure",
                code=rec.code,
                sources=other.add_on.sources if other.add_on else (),
                file=other.origin,
            )
        elif row is not None and row.contested:
            yield Finding(
                severity="warning",
                kind="primary-contested",
                subject=subject,
                message=f"{_srcs(row.sources)} relates {primary} to {rec.display_code} "
                f"({row.relationship or row.description or 'no relationship given'})"
                f"{_contested(rec, row)}: reporting {rec.code} with {primary} may be unbundling",
                code=rec.code,
                sources=row.sources,
                file=rec.origin,
                authority=_authority(rec, row),
                unverified=True,
            )
        elif other is None:
            yield Finding(
                severity="info",
                kind="primary-not-in-knowledge-base",
                subject=subject,
                message=f"{primary} is not in the knowledge base: whether it is a valid primary procedure "
                f"for {rec.display_code} is not verified",
                code=rec.code,
                sources=(),
                file=rec.origin,
                unverified=True,
            )
        elif row is None:
            yield Finding(
                severity="info",
                kind="primary-pairing-unverified",
                subject=subject,
                message=f"no source pairs {primary} with {rec.display_code}: the pairing is not verified",
                code=rec.code,
                sources=(),
                file=rec.origin,
                unverified=True,
            )


def _authority(rec: CodeRecord, item) -> str | None:
    note = rec.conflict(getattr(item, "contested", None))
    return note.authority if note is not None else None


def modifiers_on_line(case: Case) -> Iterable[Finding]:
    line = case.line
    if line is None:
        return
    rec, kb = case.record, case.kb
    rows = {r.modifier: r for r in rec.modifiers}
    invalid = {m["modifier"]: m for m in kb.registry("invalid_modifiers")}
    seen: set[str] = set()
    for m in line.modifiers:
        subject = f"modifiers/{m}"
        if m in seen:
            yield Finding(
                severity="warning",
                kind="modifier-repeated",
                subject=subject,
                message=f"modifier {m} is given twice",
                code=rec.code,
            )
            continue
        seen.add(m)
        entry = kb.modifiers.get(m)
        row = rows.get(m)
        listed = f"; {_srcs(row.sources)} lists it for {rec.code} as {row.description!r}" if row else ""
        curated = "".join(f" Data note: {n.text}" for n in rec.notes_about(subject) if n.kind == "correction")
        if m in invalid:
            bad = invalid[m]
            yield Finding(
                severity="error",
                kind="modifier-invalid",
                subject=subject,
                message=f"{m} is not a valid modifier: "
                f"{bad.get('reason', 'no public modifier list has it')}{listed}.{curated}",
                code=rec.code,
                sources=row.sources if row else (),
                file=rec.origin,
                authority=bad.get("authority", REGISTRY),
            )
            continue
        if entry is None:
            yield Finding(
                severity="warning",
                kind="modifier-cannot-verify",
                subject=subject,
                message=f"{m} is not in cptcli's modifier registry, so it cannot be verified{listed}.{curated}",
                code=rec.code,
                sources=row.sources if row else (),
                file=rec.origin,
                authority=REGISTRY,
                unverified=True,
            )
            continue
        if entry.not_with_add_on and rec.is_add_on:
            yield Finding(
                severity="error",
                kind="modifier-on-add-on",
                subject=subject,
                message=f"{m} ({entry.name}) is not appended to add-on codes, and {rec.display_code} is one",
                code=rec.code,
                sources=rec.add_on.sources if rec.add_on else (),
                file=rec.origin,
                authority=entry.source,
            )
        scope = entry.only_on
        if scope is not None and not scope.holds(rec.code):
            where = f"{scope.what} ({', '.join(scope.codes)})"
            said = f"{m} ({entry.name}) belongs on {where}; {rec.display_code} is not one"
            yield Finding(
                severity=scope.severity,
                kind="modifier-wrong-code",
                subject=subject,
                message=said,
                code=rec.code,
                file=rec.origin,
                authority=scope.authority,
            )
        if row is None:
            yield Finding(
                severity="info",
                kind="modifier-not-listed",
                subject=subject,
                message=f"no document lists {m} ({entry.name}) for {rec.code}",
                code=rec.code,
                sources=(),
                file=rec.origin,
            )
        elif row.description and name_verdict(row.description, entry) == "different":
            yield Finding(
                severity="warning",
                kind="modifier-misdescribed",
                subject=subject,
                message=f"{_srcs(row.sources)} lists {m} for {rec.code} as {row.description!r}, but {m} is "
                f"{entry.name!r}: check the modifier says what you mean",
                code=rec.code,
                sources=row.sources,
                file=rec.origin,
                authority=entry.source,
                stated=row.description,
                official=entry.name,
            )


def modifier_combinations(case: Case) -> Iterable[Finding]:
    """Modifiers not reported together on one line: the registry's
    combinations (each with its authority) and each entry's conflicts_with."""
    line = case.line
    if line is None:
        return
    rec, kb = case.record, case.kb
    given = set(line.modifiers)
    reported: set[frozenset] = set()
    order = {m: i for i, m in reversed(list(enumerate(line.modifiers)))}
    for combo in kb.registry("modifier_combinations"):
        mods = combo["modifiers"]
        if all(m in given for m in mods):
            named = sorted(mods, key=order.__getitem__)  # as the line gives them
            reported.update(frozenset(p) for p in combinations(mods, 2))
            yield Finding(
                severity=combo.get("severity", "error"),
                kind="modifier-conflict",
                subject="modifiers/" + "+".join(named),
                message=combo["message"],
                code=rec.code,
                sources=(),
                file=rec.origin,
                authority=combo.get("authority"),
            )
    for m in dict.fromkeys(line.modifiers):
        entry = kb.modifiers.get(m)
        if entry is None:
            continue
        for other in entry.conflicts_with:
            pair = frozenset((m, other))
            if other in given and pair not in reported:
                reported.add(pair)
                yield Finding(
                    severity="error",
                    kind="modifier-conflict",
                    subject=f"modifiers/{m}+{other}",
                    message=f"{m} ({entry.name}) and {other} ({_name_of(kb, other)}) are not reported together",
                    code=rec.code,
                    sources=(),
                    file=rec.origin,
                    authority=entry.source,
                )


def _name_of(kb: Knowledge, modifier: str) -> str:
    entry = kb.modifiers.get(modifier)
    return entry.name if entry is not None else modifier


def diagnoses_on_line(case: Case) -> Iterable[Finding]:
    line = case.line
    if line is None or not line.diagnoses:
        return
    rec, codeset = case.record, case.icd()
    covers = getattr(codeset, "covers", None)
    if covers is not None and not covers[0] <= line.on <= covers[1]:
        yield Finding(
            severity="info",
            kind="icd-release-not-in-force",
            subject="diagnoses",
            message=f"the {codeset.authority} applies to dates of service {covers[0]} to {covers[1]}, "
            f"not {line.on}: the diagnoses below are judged by it but not verified for that date "
            f"(cptcli import the ICD-10-CM order file of fiscal year {int(line.on[:4]) + (line.on[5:7] >= '10')})",
            code=rec.code,
            sources=(),
            file=rec.origin,
            authority=codeset.authority,
            unverified=True,
        )
    paired = {r.code: r for r in rec.diagnoses}
    for dx in dict.fromkeys(line.diagnoses):
        subject = f"diagnoses/{dx}"
        official = codeset.get(dx)
        if official is None:
            yield Finding(
                severity="error",
                kind="icd-unknown",
                subject=subject,
                message=f"{dx} is not an ICD-10-CM code",
                code=rec.code,
                sources=(),
                file=rec.origin,
                authority=codeset.authority,
            )
            continue
        if not official.billable:
            yield Finding(
                severity="error",
                kind="icd-header",
                subject=subject,
                message=f"{dx} ({official.description}) is a header, not billable; report one of: "
                f"{_list_codes(codeset.billable_under(dx))}",
                code=rec.code,
                sources=(),
                file=rec.origin,
                authority=codeset.authority,
            )
        row = paired.get(dx)
        header = codeset.parent_in(dx, paired) if row is None else None
        via = row or (paired[header] if header else None)
        if via is not None and via.contested:
            yield Finding(
                severity="warning",
                kind="dx-contested",
                subject=subject,
                message=f"{_srcs(via.sources)} pairs {via.code} with {rec.code}{_contested(rec, via)}",
                code=rec.code,
                sources=via.sources,
                file=rec.origin,
                authority=_authority(rec, via),
                unverified=True,
            )
        if row is None and header:
            yield Finding(
                severity="info",
                kind="dx-under-paired-header",
                subject=subject,
                message=f"{dx} ({official.description}) descends from {header}, which "
                f"{_srcs(paired[header].sources)} pairs with {rec.code}",
                code=rec.code,
                sources=paired[header].sources,
                file=rec.origin,
                authority=codeset.authority,
            )
        elif row is None:
            msg = (
                f"the knowledge base does not pair {dx} ({official.description}) with {rec.code}"
                if paired
                else f"the knowledge base lists no diagnoses for {rec.code}, so {dx} is not verified against any"
            )
            yield Finding(
                severity="warning",
                kind="dx-not-paired",
                subject=subject,
                message=msg,
                code=rec.code,
                sources=(),
                file=rec.origin,
                unverified=True,
            )
        elif row.description and compare_names(row.description, official.description) != "same":
            yield Finding(
                severity="info",
                kind="dx-source-description",
                subject=subject,
                message=f"{_srcs(row.sources)} pairs {dx} with {rec.code} but describes it as "
                f"{row.description!r}; officially it is {official.description!r}",
                code=rec.code,
                sources=row.sources,
                file=rec.origin,
                authority=codeset.authority,
                stated=row.description,
                official=official.description,
            )


# The one list: audit and check both run every rule; each looks at what it judges.
RULES: tuple[Callable[[Case], Iterable[Finding]], ...] = (
    terminated_code,
    *payer.PAYER_RULES,
    add_on_and_primaries,
    modifiers_on_line,
    modifier_dates,
    modifier_combinations,
    diagnoses_on_line,
    modifier_rows,
    taxonomy_rows,
    diagnosis_rows,
    curated_notes,
)


def judge(case: Case) -> list[Finding]:
    return [f for rule in RULES for f in rule(case)]


def audit(kb: Knowledge, icd: Callable) -> AuditReport:
    """Every finding about the knowledge base's own records."""
    findings: list[Finding] = []
    used_icd: list = []

    def codeset():
        if not used_icd:
            used_icd.append(icd())
        return used_icd[0]

    for rec in kb.records():
        for f in judge(Case(rec, kb, codeset)):
            findings.append(f if f.noted else replace(f, noted=bool(rec.notes_about(f.subject))))
    findings.sort(key=lambda f: (SEVERITY_ORDER[f.severity], f.code or "", f.kind, f.subject))
    authorities = {"icd10cm": codeset().authority, "modifiers": REGISTRY, "taxonomy": TAXONOMY}
    return AuditReport(tuple(findings), authorities, kb.files)


def check(kb: Knowledge, icd: Callable, line: ClaimLine, edits: Edits | None = None) -> CheckReport:
    """Judge one claim line (all codes normalised) on its date of service, against the imported payer edits
    (`edits`: a reader shared by the lines of a claims file; one of its own otherwise)."""
    own = edits is None
    reader = Edits() if edits is None else edits
    rec, unknown = _record_or_edits(kb, reader, line.code)
    authorities = {"modifiers": REGISTRY}
    if not line.date:
        line = replace(line, date=codes.today())

    def codeset():
        found = icd(line.date, reader.lookup)
        authorities["icd10cm"] = found.authority
        return found

    try:
        found = unknown + judge(Case(rec, kb, codeset, line, reader))
    finally:
        if own:
            reader.close()
    issues = sorted(
        payer.one_not_imported(settle(found, rec.is_add_on is False)), key=lambda f: SEVERITY_ORDER[f.severity]
    )
    return CheckReport(
        rec.code,
        rec.display_code,
        rec.is_add_on,
        line.with_codes,
        line.modifiers,
        line.diagnoses,
        tuple(issues),
        authorities,
        date=line.date,
        setting=line.setting,
        units=line.units,
    )


def _record_or_edits(kb: Knowledge, edits: Edits, code: str) -> tuple[CodeRecord, list[Finding]]:
    """The code's record; for a code no descriptor set holds but an imported payer set edits (a CPT code without the
    AMA's files), a bare record and a finding that the code itself is not verified, so that its edits are judged."""
    from cptcli.model import Fact

    found = kb.find(code)
    if found is not None:
        return found, []
    release = edits.mentions(code)
    if release is None:
        return kb.get(code), []  # raises the error that names the nearest codes
    note = Finding(
        severity="info",
        kind="code-not-in-descriptor-sets",
        subject="code",
        message=f"code {code} is not in the knowledge base: the code itself is not verified (import the CMS "
        f"HCPCS or the AMA CPT files); the payer edits below were checked ({release.cite()} has it)",
        code=code,
        authority=release.cite(),
        unverified=True,
    )
    return CodeRecord(code=code, completeness="official", add_on=None, title=Fact(code, ())), [note]


def settle(findings: list[Finding], not_add_on: bool = False) -> list[Finding]:
    """An official edit that verifies a subject (an add-on's listed primary) settles it: a source's contested or
    missing pairing of that subject is kept, as information, but no longer leaves the line unverified. A code the
    sources or CMS's add-on edits say is no add-on has no primaries: its other codes need no pairing."""
    settled = {f.subject for f in findings if f.kind in payer.SETTLES}
    if not_add_on or any(f.kind == payer.NOT_AN_ADD_ON for f in findings):
        settled |= {f.subject for f in findings if f.kind in payer.PRIMARY_UNVERIFIED}
    return [
        replace(f, unverified=False, severity="info" if f.severity == "warning" else f.severity)
        if f.subject in settled and f.unverified
        else f
        for f in findings
    ]
