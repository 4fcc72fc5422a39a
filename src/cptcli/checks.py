"""Checks against official code sets: the knowledge base's own rows (`audit`),
a user's claim line (`check`), and the reverse look-ups (`icd`, `modifier`).

Rules come from the data, never from here: modifier names, conflicts and the
add-on rule from the registry in codes.json, provider taxonomy names from its
verified NUCC list, ICD-10-CM from the official release (cptcli.codesets.icd10).
The ICD-10-CM code set is passed in as a callable so that it is opened only
when a check needs it.
"""
from __future__ import annotations

import re
from typing import Callable, Iterable, Optional

from dataclasses import dataclass, field, replace

from cptcli.errors import NotFoundError
from cptcli.knowledge import KnowledgeBase
from cptcli.model import SCHEMA_VERSION, CodeRecord, Modifier, Note, plain, source_labels

REGISTRY = "cptcli modifier registry (codes.json \"modifiers\")"
TAXONOMY = "cptcli verified NUCC taxonomy list (codes.json \"taxonomy_codes\")"
# Header codes can have hundreds of billable codes below them (S32 has 500+).
MAX_LISTED = 12
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


# -- results ---------------------------------------------------------------------
# Here rather than in model.py: only these commands use them, and each frozen
# dataclass costs ~0.5 ms to create, which show/search/list would pay at import.

@dataclass(frozen=True, slots=True)
class Finding:
    """One problem `audit` or `check` found, with who says so.

    `sources` are the documents the finding is about; `file` the knowledge-base
    file the row came from; `authority` the code set or registry it was checked
    against; `stated` / `official` the two texts when they differ."""

    severity: str  # error / warning / info
    kind: str
    subject: str
    message: str
    code: Optional[str] = None
    sources: tuple[str, ...] = ()
    file: Optional[str] = None
    authority: Optional[str] = None
    stated: Optional[str] = None
    official: Optional[str] = None
    # Whether the record already carries a curated data note on this subject.
    noted: Optional[bool] = None

    def to_dict(self) -> dict:
        return plain(self)


def _counts(findings) -> dict:
    return {s: sum(1 for f in findings if f.severity == s) for s in ("error", "warning", "info")}


@dataclass(frozen=True, slots=True)
class AuditReport:
    """Everything `audit` found in the knowledge base, and what it was checked against."""

    findings: tuple[Finding, ...]
    authorities: dict
    files: tuple[str, ...] = ()

    @property
    def errors(self) -> int:
        return _counts(self.findings)["error"]

    def to_dict(self) -> dict:
        return {"schema_version": SCHEMA_VERSION, "files": list(self.files), "authorities": self.authorities,
                "counts": _counts(self.findings), "findings": [f.to_dict() for f in self.findings]}


@dataclass(frozen=True, slots=True)
class CheckReport:
    """One claim line as `check` judged it."""

    code: str
    display_code: str
    add_on: Optional[bool]
    with_codes: tuple[str, ...]
    modifiers: tuple[str, ...]
    diagnoses: tuple[str, ...]
    issues: tuple[Finding, ...]
    authorities: dict = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return _counts(self.issues)["error"]

    def to_dict(self) -> dict:
        counts = _counts(self.issues)
        return {"schema_version": SCHEMA_VERSION, "code": self.code, "display_code": self.display_code,
                "add_on": self.add_on, "with": list(self.with_codes), "modifiers": list(self.modifiers),
                "diagnoses": list(self.diagnoses), "ok": counts["error"] == 0, "counts": counts,
                "issues": [f.to_dict() for f in self.issues], "authorities": self.authorities}


@dataclass(frozen=True, slots=True)
class IcdChild:
    """An ICD-10-CM code directly below another, or billable under a header."""

    code: str
    description: str
    billable: bool


@dataclass(frozen=True, slots=True)
class IcdListing:
    """A CPT record whose diagnosis table lists an ICD-10-CM code, with the row as the source gives it."""

    code: str
    display_code: str
    title: str
    description: Optional[str]
    relevance: Optional[str]
    sources: tuple[str, ...]
    description_matches: Optional[bool]
    notes: tuple[Note, ...] = ()


@dataclass(frozen=True, slots=True)
class IcdResult:
    """`icd`: one ICD-10-CM code as the official release has it, and the CPT codes that list it."""

    code: str
    description: str
    billable: bool
    children: tuple[IcdChild, ...]
    billable_children: tuple[IcdChild, ...]
    parent: Optional[IcdChild]
    listed_by: tuple[IcdListing, ...]
    authority: str

    def to_dict(self) -> dict:
        d = {"schema_version": SCHEMA_VERSION}
        d.update(plain(self))
        d["header"] = not self.billable
        return d


@dataclass(frozen=True, slots=True)
class ModifierListing:
    """A CPT record whose modifier table lists a modifier, with the row as the source gives it."""

    code: str
    display_code: str
    description: Optional[str]
    when_to_use: Optional[str]
    sources: tuple[str, ...]
    # same / shorter / different from the registry name; None when the row has no description or no registry entry.
    name_check: Optional[str]
    notes: tuple[Note, ...] = ()


@dataclass(frozen=True, slots=True)
class ModifierResult:
    """`modifier`: the registry entry (None when the modifier is not in it) and the rows that list it."""

    modifier: str
    entry: Optional[Modifier]
    listed_by: tuple[ModifierListing, ...]

    def to_dict(self) -> dict:
        d = {"schema_version": SCHEMA_VERSION, "modifier": self.modifier, "in_registry": self.entry is not None}
        d["registry"] = plain(self.entry) if self.entry else None
        d["listed_by"] = [plain(x) for x in self.listed_by]
        return d


# -- comparing names -----------------------------------------------------------

def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def compare_names(stated: str, official: str) -> str:
    """'same' (equal but for case, spacing, punctuation), 'shorter' (the stated
    name leaves words out but adds none), or 'different'."""
    s, o = _words(stated), _words(official)
    if s == o:
        return "same"
    if set(s) < set(o):
        return "shorter"
    return "different"


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


# -- audit ---------------------------------------------------------------------

def audit(kb: KnowledgeBase, icd: Callable) -> AuditReport:
    """Every finding about the knowledge base: its rows checked against the
    registry, the taxonomy list and ICD-10-CM, plus the conflicts and
    truncations the curators recorded."""
    codeset = icd()
    findings: list[Finding] = []
    for rec in kb.records.values():
        found: list[Finding] = []
        found += _audit_modifiers(kb, rec)
        found += _audit_taxonomy(kb, rec)
        found += _audit_diagnoses(rec, codeset)
        for f in found:
            findings.append(replace(f, noted=bool(rec.notes_about(f.subject))))
        for n in rec.notes:
            if n.kind in ("conflict", "truncation"):
                findings.append(Finding("warning", n.kind, n.subject, n.text, rec.code, n.sources, rec.origin,
                                        n.authority, noted=True))
    findings.sort(key=lambda f: (SEVERITY_ORDER[f.severity], f.code or "", f.kind, f.subject))
    authorities = {"icd10cm": codeset.authority, "modifiers": REGISTRY, "taxonomy": TAXONOMY}
    return AuditReport(tuple(findings), authorities, tuple(str(p) for p in kb.files))


def _audit_modifiers(kb: KnowledgeBase, rec: CodeRecord) -> list[Finding]:
    out = []
    for row in rec.modifiers:
        subject = f"modifiers/{row.modifier}"
        entry = kb.modifiers.get(row.modifier)
        if entry is None:
            out.append(Finding("error", "modifier-unknown", subject,
                               f"{row.modifier} is not in cptcli's modifier registry; the row calls it "
                               f"{row.description or 'nothing'!r}",
                               rec.code, row.sources, rec.origin, REGISTRY, row.description))
            continue
        if not row.description:
            continue  # a truncated row has no name to compare; the truncation is noted
        verdict = compare_names(row.description, entry.name)
        if verdict == "shorter":
            out.append(Finding("warning", "modifier-name", subject,
                               f"{row.modifier} is {entry.name!r} in the registry; the row's "
                               f"{row.description!r} leaves words out",
                               rec.code, row.sources, rec.origin, entry.source, row.description, entry.name))
        elif verdict == "different":
            out.append(Finding("error", "modifier-name", subject,
                               f"{row.modifier} is {entry.name!r} in the registry, not {row.description!r} "
                               f"as the row says",
                               rec.code, row.sources, rec.origin, entry.source, row.description, entry.name))
    return out


def _audit_taxonomy(kb: KnowledgeBase, rec: CodeRecord) -> list[Finding]:
    out = []
    for row in rec.taxonomy:
        subject = f"taxonomy/{row.code}"
        entry = kb.taxonomy_codes.get(row.code)
        if entry is None:
            out.append(Finding("info", "taxonomy-unverified", subject,
                               f"{row.code} is not in the verified NUCC list: unverified, not checked",
                               rec.code, row.sources, rec.origin, None, row.specialty))
        elif row.specialty and not taxonomy_matches(row.specialty, entry.name):
            out.append(Finding("error", "taxonomy-mismatch", subject,
                               f"NUCC names {row.code} {entry.name!r}, not {row.specialty!r} as the row says",
                               rec.code, row.sources, rec.origin, entry.source, row.specialty, entry.name))
    return out


def _audit_diagnoses(rec: CodeRecord, codeset) -> list[Finding]:
    out = []
    for row in rec.diagnoses:
        subject = f"diagnoses/{row.code}"
        official = codeset.get(row.code)
        if official is None:
            out.append(Finding("error", "icd-unknown", subject, f"{row.code} is not an ICD-10-CM code",
                               rec.code, row.sources, rec.origin, codeset.authority, row.description))
            continue
        if not official.billable:
            billable = codeset.billable_under(row.code)
            out.append(Finding("error", "icd-header", subject,
                               f"{row.code} is a header, not billable; report one of: {_list_codes(billable)}",
                               rec.code, row.sources, rec.origin, codeset.authority, row.description,
                               ", ".join(c.code for c in billable)))
        if row.description:
            verdict = compare_names(row.description, official.description)
            if verdict != "same":
                out.append(Finding("warning" if verdict == "shorter" else "error", "icd-description", subject,
                                   f"{row.code} is officially {official.description!r}; the row says "
                                   f"{row.description!r}",
                                   rec.code, row.sources, rec.origin, codeset.authority, row.description,
                                   official.description))
    return out


def _list_codes(codes, limit: int = MAX_LISTED) -> str:
    shown = ", ".join(f"{c.code} ({c.description})" for c in codes[:limit])
    more = len(codes) - limit
    return shown + (f" and {more} more" if more > 0 else "")


# -- check ---------------------------------------------------------------------

def check(kb: KnowledgeBase, icd: Callable, code: str, with_codes: Iterable[str] = (),
          modifiers: Iterable[str] = (), diagnoses: Iterable[str] = ()) -> CheckReport:
    """Judge one claim line: CPT `code` (normalised) reported with primary
    codes, modifiers and ICD-10-CM codes (all normalised)."""
    rec = kb.get(code)
    with_codes, modifiers, diagnoses = tuple(with_codes), tuple(modifiers), tuple(diagnoses)
    issues: list[Finding] = []
    issues += _check_add_on(kb, rec, with_codes)
    issues += _check_modifiers(kb, rec, modifiers)
    authorities = {"modifiers": REGISTRY}
    if diagnoses:
        codeset = icd()
        authorities["icd10cm"] = codeset.authority
        issues += _check_diagnoses(rec, codeset, diagnoses)
    issues.sort(key=lambda f: SEVERITY_ORDER[f.severity])
    return CheckReport(rec.code, rec.display_code, rec.is_add_on, with_codes, modifiers, diagnoses,
                       tuple(issues), authorities)


def _check_add_on(kb: KnowledgeBase, rec: CodeRecord, with_codes: tuple[str, ...]) -> list[Finding]:
    out = []
    add_on_sources = rec.add_on.sources if rec.add_on else ()
    if rec.is_add_on and not with_codes:
        hints = rec.notes_about("primary_procedure")
        hint = (" " + " ".join(n.text for n in hints)) if hints else \
            " The documents name no primary procedure for it."
        quote = f" ({_srcs(add_on_sources)}: \"{rec.add_on.quote}\")" if rec.add_on.quote else ""
        out.append(Finding("error", "add-on-without-primary", "add_on",
                           f"{rec.display_code} is an add-on code{quote}: report it with the primary procedure "
                           f"(--with CODE).{hint}",
                           rec.code, tuple(dict.fromkeys(add_on_sources + tuple(s for n in hints for s in n.sources))),
                           rec.origin))
    elif rec.is_add_on is None and not with_codes:
        out.append(Finding("info", "add-on-unknown", "add_on",
                           f"the documents do not say whether {rec.code} is an add-on code", rec.code,
                           (), rec.origin))
    for primary in with_codes:
        other = kb.find(primary)
        if primary == rec.code:
            out.append(Finding("error", "primary-is-self", f"with/{primary}",
                               f"{primary} cannot be its own primary procedure", rec.code, (), rec.origin))
        elif other is None:
            out.append(Finding("info", "primary-not-in-knowledge-base", f"with/{primary}",
                               f"{primary} is not in the knowledge base: whether it is a valid primary procedure "
                               f"for {rec.display_code} is not checked", rec.code, (), rec.origin))
        elif other.is_add_on:
            out.append(Finding("error", "primary-is-add-on", f"with/{primary}",
                               f"{other.display_code} is itself an add-on code, not a primary procedure",
                               rec.code, other.add_on.sources, other.origin))
    return out


def _check_modifiers(kb: KnowledgeBase, rec: CodeRecord, modifiers: tuple[str, ...]) -> list[Finding]:
    out = []
    rows = {r.modifier: r for r in rec.modifiers}
    seen: set[str] = set()
    for m in modifiers:
        subject = f"modifiers/{m}"
        if m in seen:
            out.append(Finding("warning", "modifier-repeated", subject, f"modifier {m} is given twice", rec.code))
            continue
        seen.add(m)
        entry = kb.modifiers.get(m)
        row = rows.get(m)
        if entry is None:
            listed = f"; {_srcs(row.sources)} lists it for {rec.code} as {row.description!r}" if row else ""
            curated = "".join(f" Data note: {n.text}" for n in rec.notes_about(subject) if n.kind == "correction")
            out.append(Finding("error", "modifier-unknown", subject,
                               f"{m} is not in cptcli's modifier registry, so it cannot be checked{listed}.{curated}",
                               rec.code, row.sources if row else (), rec.origin, REGISTRY))
            continue
        if entry.not_with_add_on and rec.is_add_on:
            out.append(Finding("error", "modifier-on-add-on", subject,
                               f"{m} ({entry.name}) is not appended to add-on codes, and {rec.display_code} is one",
                               rec.code, rec.add_on.sources, rec.origin, entry.source))
        if row is None:
            out.append(Finding("info", "modifier-not-listed", subject,
                               f"no document lists {m} ({entry.name}) for {rec.code}", rec.code, (), rec.origin))
        elif row.description and compare_names(row.description, entry.name) == "different":
            out.append(Finding("warning", "modifier-misdescribed", subject,
                               f"{_srcs(row.sources)} lists {m} for {rec.code} as {row.description!r}, but {m} is "
                               f"{entry.name!r}: check the modifier says what you mean",
                               rec.code, row.sources, rec.origin, entry.source, row.description, entry.name))
    reported: set[frozenset] = set()
    for m in dict.fromkeys(modifiers):
        entry = kb.modifiers.get(m)
        if entry is None:
            continue
        for other in entry.conflicts_with:
            pair = frozenset((m, other))
            if other in seen and pair not in reported:
                reported.add(pair)
                out.append(Finding("error", "modifier-conflict", f"modifiers/{m}+{other}",
                                   f"{m} ({entry.name}) and {other} ({kb.modifiers[other].name if other in kb.modifiers else other}) "
                                   f"are not reported together", rec.code, (), rec.origin, entry.source))
    return out


def _check_diagnoses(rec: CodeRecord, codeset, diagnoses: tuple[str, ...]) -> list[Finding]:
    out = []
    paired = {r.code: r for r in rec.diagnoses}
    for dx in dict.fromkeys(diagnoses):
        subject = f"diagnoses/{dx}"
        official = codeset.get(dx)
        if official is None:
            out.append(Finding("error", "icd-unknown", subject, f"{dx} is not an ICD-10-CM code",
                               rec.code, (), rec.origin, codeset.authority))
            continue
        if not official.billable:
            out.append(Finding("error", "icd-header", subject,
                               f"{dx} ({official.description}) is a header, not billable; report one of: "
                               f"{_list_codes(codeset.billable_under(dx))}",
                               rec.code, (), rec.origin, codeset.authority))
        row = paired.get(dx)
        if row is None:
            parent = codeset.parent_in(dx, paired)
            if parent:
                msg = (f"the knowledge base does not pair {dx} with {rec.code}; it pairs {parent} "
                       f"({paired[parent].description or 'no description'}), a code above it")
                srcs = paired[parent].sources
            elif paired:
                msg = f"the knowledge base does not pair {dx} ({official.description}) with {rec.code}"
                srcs = ()
            else:
                msg = f"the knowledge base lists no diagnoses for {rec.code}, so {dx} is not checked against any"
                srcs = ()
            out.append(Finding("warning", "dx-not-paired", subject, msg, rec.code, srcs, rec.origin))
        elif row.description and compare_names(row.description, official.description) != "same":
            out.append(Finding("info", "dx-source-description", subject,
                               f"{_srcs(row.sources)} pairs {dx} with {rec.code} but describes it as "
                               f"{row.description!r}; officially it is {official.description!r}",
                               rec.code, row.sources, rec.origin, codeset.authority, row.description,
                               official.description))
    return out


def _srcs(sources: Iterable[str]) -> str:
    return source_labels(sources) or "a document"


# -- reverse look-ups ----------------------------------------------------------

def icd_lookup(kb: KnowledgeBase, codeset, code: str) -> IcdResult:
    official = codeset.get(code)
    if official is None:
        near = _ancestor(codeset, code)
        hint = f"; the nearest code above it is {near} ({codeset.get(near).description})" if near else ""
        raise NotFoundError(f"{code} is not an ICD-10-CM code in the {codeset.authority}{hint}")

    def child(c: str) -> IcdChild:
        got = codeset.get(c)
        return IcdChild(c, got.description if got else "", bool(got and got.billable))

    children = tuple(child(c) for c in official.children)
    billable = () if official.billable else tuple(
        IcdChild(c.code, c.description, True) for c in codeset.billable_under(code))
    parent_code = _ancestor(codeset, code)
    parent = child(parent_code) if parent_code else None
    listings = []
    for rec, row in kb.rows_listing("diagnoses", code):
        same = compare_names(row.description, official.description) == "same" if row.description else None
        listings.append(IcdListing(rec.code, rec.display_code, rec.title.text, row.description, row.relevance,
                                   row.sources, same, rec.notes_about(f"diagnoses/{code}")))
    return IcdResult(code, official.description, official.billable, children, billable, parent,
                     tuple(listings), codeset.authority)


def _ancestor(codeset, code: str) -> Optional[str]:
    """The nearest code above `code` in the release (S32.9XXA -> S32.9)."""
    for i in range(len(code) - 1, 2, -1):
        prefix = code[:i].rstrip(".")
        if prefix != code and codeset.exists(prefix):
            return prefix
    return None


def modifier_lookup(kb: KnowledgeBase, modifier: str) -> ModifierResult:
    entry = kb.modifiers.get(modifier)
    listings = []
    for rec, row in kb.rows_listing("modifiers", modifier):
        verdict = compare_names(row.description, entry.name) if entry and row.description else None
        listings.append(ModifierListing(rec.code, rec.display_code, row.description, row.when_to_use, row.sources,
                                        verdict, rec.notes_about(f"modifiers/{modifier}")))
    if entry is None and not listings:
        raise NotFoundError(f"modifier {modifier} is not in the registry and no document lists it")
    return ModifierResult(modifier, entry, tuple(listings))
