"""The typed knowledge-base model and its field registry.

A record's fields are declared once, as the fields of `CodeRecord` below: each
carries a `Spec` (its kind, how layering treats it, its section, its search
weight, its table title and, for tables, the flat columns). Reading a record
(`from_dict`), layering files, JSON, `--section`, CSV/Markdown flattening,
search texts and table titles all read the registry (`FIELDS`), so adding a
field is one declaration here (render/table.py draws it by its kind).

Built from data the schema has already validated, so constructors trust their
input's shape and do no I/O.
"""

from __future__ import annotations

import re
from collections import namedtuple
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from cptcli import SCHEMA_VERSION  # noqa: F401  (re-exported: the renderers' single name for it)


def source_label(source: str) -> str:
    """'000_944fcdce29adbcd4.txt' -> '000', the short id tables and messages cite
    for a seed document; any other file (a user's 'my_payer_policy.pdf') keeps
    its whole name rather than being cut to 'my'."""
    m = re.fullmatch(r"(\d{3})_[0-9a-f]+\.txt", source)
    return m.group(1) if m else source


def source_labels(sources) -> str:
    return ", ".join(source_label(s) for s in sources)


_FIELD_NAMES: dict = {}


def _names_of(cls) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))
    return names


def plain(value: Any) -> Any:
    """A model object as JSON-ready data. Replaces dataclasses.asdict, which
    deep-copies every value: on a 100,000-code index build that copying was the
    largest single cost. Exact type tests, cheapest first: nearly every value
    is a string, None or a tuple."""
    t = type(value)
    if t is str or value is None or t is bool or t is int or t is float:
        return value
    if t is tuple or t is list:
        return [plain(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {n: plain(getattr(value, n)) for n in _names_of(t)}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


# -- the parts of a record ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Contested:
    """Where an item stands only on a source's reading that an official
    descriptor contradicts: the record and the subject of its conflict note."""

    code: str
    subject: str

    @classmethod
    def of(cls, d: dict | None) -> Contested | None:
        return cls(d["code"], d["subject"]) if d else None


@dataclass(frozen=True, slots=True)
class Fact:
    """A statement as a source document makes it; `quote` is the verbatim passage
    when `text` is a reading of it rather than the words themselves. `contested`
    names the subject of the record's conflict note when the statement stands
    only on a reading an official descriptor contradicts."""

    text: str
    sources: tuple[str, ...]
    quote: str | None = None
    copyright: str | None = None
    contested: Contested | None = None

    @classmethod
    def from_dict(cls, d: dict) -> Fact:
        return cls(d["text"], tuple(d["sources"]), d.get("quote"), d.get("copyright"), Contested.of(d.get("contested")))


@dataclass(frozen=True, slots=True)
class Descriptor:
    """A CPT descriptor as a source prints it; `official` when it is the AMA text, which keeps its copyright line."""

    text: str
    sources: tuple[str, ...]
    official: bool
    copyright: str | None = None
    quote: str | None = None

    @classmethod
    def from_dict(cls, d: dict) -> Descriptor:
        return cls(d["text"], tuple(d["sources"]), d["official"], d.get("copyright"), d.get("quote"))


@dataclass(frozen=True, slots=True)
class AddOn:
    """Whether the code is an add-on code (+), as the sources say."""

    value: bool
    sources: tuple[str, ...]
    quote: str | None = None

    @classmethod
    def from_dict(cls, d: dict) -> AddOn:
        return cls(d["value"], tuple(d["sources"]), d.get("quote"))


@dataclass(frozen=True, slots=True)
class CrossReference:
    """A passage of a source that names other codes (e.g. "for removal, use 20704")."""

    text: str
    sources: tuple[str, ...]
    codes: tuple[str, ...]
    quote: str | None = None
    contested: Contested | None = None

    @classmethod
    def from_dict(cls, d: dict) -> CrossReference:
        return cls(d["text"], tuple(d["sources"]), tuple(d["codes"]), d.get("quote"), Contested.of(d.get("contested")))


class _Row:
    """The table-row classes share one shape: a key column, two optional cells,
    sources, and the conflict a row may stand on."""

    __slots__ = ()
    # The flat (CSV) name of the key column: "code" is the record's own column.
    KEY_COLUMN: ClassVar[str] = "code"

    @classmethod
    def from_dict(cls, d: dict):
        key, first, second, _, _ = _names_of(cls)
        return cls(d[key], d.get(first), d.get(second), tuple(d["sources"]), Contested.of(d.get("contested")))  # type: ignore

    @property
    def key(self) -> str:
        return getattr(self, _names_of(type(self))[0])

    def cells(self) -> tuple:
        """The two cells after the key, in declaration order."""
        names = _names_of(type(self))
        return getattr(self, names[1]), getattr(self, names[2])


@dataclass(frozen=True, slots=True)
class ModifierRow(_Row):
    """A row of a code's modifier table, as the source gives it."""

    modifier: str
    description: str | None
    when_to_use: str | None
    sources: tuple[str, ...]
    contested: Contested | None = None
    KEY_COLUMN: ClassVar[str] = "modifier"


@dataclass(frozen=True, slots=True)
class TaxonomyRow(_Row):
    """A row of a code's provider-taxonomy table, as the source gives it."""

    code: str
    specialty: str | None
    notes: str | None
    sources: tuple[str, ...]
    contested: Contested | None = None
    KEY_COLUMN: ClassVar[str] = "taxonomy_code"


@dataclass(frozen=True, slots=True)
class DiagnosisRow(_Row):
    """A row of a code's ICD-10-CM table, as the source gives it."""

    code: str
    description: str | None
    relevance: str | None
    sources: tuple[str, ...]
    contested: Contested | None = None
    KEY_COLUMN: ClassVar[str] = "icd10_code"


@dataclass(frozen=True, slots=True)
class RelatedCode(_Row):
    """A row of a code's related-codes table, as the source gives it."""

    code: str
    description: str | None
    relationship: str | None
    sources: tuple[str, ...]
    contested: Contested | None = None
    KEY_COLUMN: ClassVar[str] = "related_code"


@dataclass(frozen=True, slots=True)
class OfficialDescriptor:
    """A descriptor from an official code-set file the user imported (CMS HCPCS,
    AMA CPT): its kind (long, medium, short, consumer, clinician) and the file
    and release it came from, as its source."""

    kind: str
    text: str
    sources: tuple[str, ...]
    contested: Contested | None = None

    @classmethod
    def from_dict(cls, d: dict) -> OfficialDescriptor:
        return cls(d["kind"], d["text"], tuple(d["sources"]))


# The official field that ends a code's life (CMS HCPCS TERM_DT): the last day it may be reported.
TERMINATION_DATE = "Termination date"
# The official field that starts a code's life (CMS HCPCS ADD_DT): it may not be reported for services before it.
ADDED_DATE = "Code added date"
# The codes an official file points to from one (CMS HCPCS XREF1-5): for a terminated code, its successors.
CROSS_REFERENCE = "Cross reference"


@dataclass(frozen=True, slots=True)
class OfficialAttribute(_Row):
    """A field of an official code-set file (coverage, pricing, action, dates...):
    the value as filed and its meaning in words where the publisher defines them."""

    label: str
    value: str | None
    meaning: str | None
    sources: tuple[str, ...]
    contested: Contested | None = None
    KEY_COLUMN: ClassVar[str] = "field"


@dataclass(frozen=True, slots=True)
class Note:
    """A data note: a conflict between sources, a truncation, or a correction
    by an official code set, shown beside what the source said."""

    kind: str
    subject: str
    text: str
    sources: tuple[str, ...]
    authority: str | None = None
    correction: str | None = None

    @classmethod
    def from_dict(cls, d: dict) -> Note:
        return cls(d["kind"], d["subject"], d["text"], tuple(d["sources"]), d.get("authority"), d.get("correction"))


# -- the field registry ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Spec:
    """How one record field is read, layered, printed and searched.

    kind: "key" (the code), "value" (a plain string), "scalar" (one object),
    "list" (facts) or "table" (rows). layering: "key", "keep-first" (a later
    file cannot replace it: an override note records the disagreement),
    "correctable" (keep-first, unless the later file's value names why it
    replaces the earlier one in its `override` field: it does, and the
    override note says so, with the reason) or "append". weight: its search weight, None when not searched."""

    kind: str
    item: Any = None
    section: str = "facts"
    layering: str = "append"
    weight: float | None = None
    title: str | None = None
    name: str = ""

    def load(self, raw):
        if self.kind in ("key", "value"):
            return raw
        if self.kind == "scalar":
            return self.item.from_dict(raw) if raw else None
        return tuple([self.item.from_dict(x) for x in raw]) if raw else ()


def _spec(default=None, **kw):
    return field(default=default, metadata={"spec": Spec(**kw)})


def _many(item, **kw):
    return field(default=(), metadata={"spec": Spec(item=item, **kw)})


@dataclass(frozen=True, slots=True)
class CodeRecord:
    """Everything the sources say about one code, each fact with its sources."""

    code: str = _spec(kind="key", layering="key", weight=1.0)
    completeness: str = _spec(kind="value", layering="keep-first")
    add_on: AddOn | None = _spec(kind="scalar", item=AddOn, layering="keep-first")
    title: Fact = _spec(kind="scalar", item=Fact, layering="correctable", weight=1.0)
    descriptor: Descriptor | None = _spec(kind="scalar", item=Descriptor, layering="correctable", weight=0.9)
    summary: tuple[Fact, ...] = _many(Fact, kind="list", weight=0.8, title="In simple words / summary")
    service_type: tuple[Fact, ...] = _many(Fact, kind="list", weight=0.7, title="Service type")
    sites_of_service: tuple[Fact, ...] = _many(Fact, kind="list", weight=0.4, title="Place of service")
    specialties: tuple[Fact, ...] = _many(Fact, kind="list", weight=0.5, title="Specialties")
    payers: tuple[Fact, ...] = _many(Fact, kind="list", title="Typical payers")
    clinical_context: tuple[Fact, ...] = _many(Fact, kind="list", weight=0.6, title="Clinical context")
    examples: tuple[Fact, ...] = _many(Fact, kind="list", weight=0.55, title="Example scenarios")
    documentation: tuple[Fact, ...] = _many(Fact, kind="list", weight=0.5, title="Documentation requirements")
    modifiers: tuple[ModifierRow, ...] = _many(
        ModifierRow, kind="table", section="modifiers", weight=0.4, title="Modifiers"
    )
    taxonomy: tuple[TaxonomyRow, ...] = _many(
        TaxonomyRow, kind="table", section="taxonomy", weight=0.35, title="Provider taxonomy"
    )
    diagnoses: tuple[DiagnosisRow, ...] = _many(
        DiagnosisRow, kind="table", section="diagnoses", weight=0.45, title="ICD-10-CM diagnoses"
    )
    related: tuple[RelatedCode, ...] = _many(
        RelatedCode, kind="table", section="related", weight=0.3, title="Related codes"
    )
    cross_references: tuple[CrossReference, ...] = _many(
        CrossReference, kind="list", section="cross_references", weight=0.35, title="Cross-references"
    )
    official_descriptors: tuple[OfficialDescriptor, ...] = _many(
        OfficialDescriptor, kind="list", section="official", weight=0.95, title="Official descriptors"
    )
    official: tuple[OfficialAttribute, ...] = _many(
        OfficialAttribute, kind="table", section="official", title="Official code set"
    )
    notes: tuple[Note, ...] = _many(
        Note, kind="list", section="notes", title="Data notes (conflicts, truncations, corrections)"
    )
    # Which knowledge-base file the record came from; set by the loader, not the data.
    origin: str = field(default="", metadata={"spec": None})

    @classmethod
    def from_dict(cls, d: dict, origin: str = "") -> CodeRecord:
        return cls(**{s.name: s.load(d.get(s.name)) for s in registry(cls)}, origin=origin)

    @property
    def is_add_on(self) -> bool | None:
        return self.add_on.value if self.add_on else None

    @property
    def termination(self) -> OfficialAttribute | None:
        """The official file's termination date, where it gives one."""
        return next((a for a in self.official if a.label == TERMINATION_DATE and a.value), None)

    @property
    def official_references(self) -> tuple[str, ...]:
        """The codes the official file cross-references from this one."""
        return tuple(a.value for a in self.official if a.label == CROSS_REFERENCE and a.value)

    def notes_about(self, subject: str) -> tuple[Note, ...]:
        """The data notes on one subject, e.g. 'modifiers/AS' or 'descriptor'."""
        return tuple(n for n in self.notes if n.subject == subject)

    def conflict(self, contested: Contested | None) -> Note | None:
        """The conflict or correction note a contested item stands on."""
        if contested is None:
            return None
        found = (n for n in self.notes if n.subject == contested.subject and n.kind in ("conflict", "correction"))
        return next(found, None)

    @property
    def display_code(self) -> str:
        # The CPT book marks add-on codes with a leading "+".
        return f"+{self.code}" if self.is_add_on else self.code

    def all_sources(self) -> tuple[str, ...]:
        """Every source file any fact, row or note in this record cites, in first-seen order."""
        return cited_sources(self)

    def to_dict(self) -> dict:
        return {s.name: plain(getattr(self, s.name)) for s in registry(type(self))}


_REGISTRIES: dict[type, tuple[Spec, ...]] = {}


def registry(cls) -> tuple[Spec, ...]:
    """The field specs of a record class, in declaration order (a subclass adds its own fields)."""
    found = _REGISTRIES.get(cls)
    if found is None:
        out = []
        for f in fields(cls):
            spec = f.metadata.get("spec")
            if spec is not None:
                object.__setattr__(spec, "name", f.name)
                out.append(spec)
        found = _REGISTRIES[cls] = tuple(out)
    return found


FIELDS: tuple[Spec, ...] = registry(CodeRecord)
TABLES = tuple(s.name for s in FIELDS if s.kind == "table")


def spec(name: str) -> Spec:
    return next(s for s in FIELDS if s.name == name)


@dataclass(frozen=True, slots=True)
class Source:
    """A source document every fact cites by its file name."""

    file: str
    title: str
    publisher: str | None = None
    kind: str | None = None
    notes: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, d: dict) -> Source:
        return cls(d["file"], d["title"], d.get("publisher"), d.get("kind"), tuple(d.get("notes", ())))


@dataclass(frozen=True, slots=True)
class CodeScope:
    """The codes a modifier belongs on (25 on E/M services), what they are, and how a line that puts it on any other
    code is judged, with who says so. `codes` holds single codes and ranges ("99202-99499")."""

    codes: tuple[str, ...]
    what: str
    severity: str
    authority: str
    url: str | None = None

    @classmethod
    def of(cls, d: dict | None) -> CodeScope | None:
        return cls(tuple(d["codes"]), d["what"], d["severity"], d["authority"], d.get("url")) if d else None

    def holds(self, code: str) -> bool:
        for item in self.codes:
            low, _, high = item.partition("-")
            # Codes of one shape (five digits, or a letter and four digits) order as strings.
            if len(code) == len(low) and code[0].isdigit() == low[0].isdigit() and low <= code <= (high or low):
                return True
        return False


@dataclass(frozen=True, slots=True)
class Modifier:
    """A registry entry: the modifier's official short name, the authority it
    was checked against, and the rules checks apply."""

    modifier: str
    name: str
    kind: str
    source: str
    summary: str | None = None
    conflicts_with: tuple[str, ...] = ()
    not_with_add_on: bool = False
    url: str | None = None
    # An imported CMS HCPCS file's long description of a curated modifier, beside the curated name (the file is
    # the better authority for Level II wording), and the file and release it comes from.
    official: str | None = None
    official_source: str | None = None
    # The release or edition of the list the name was checked against ("CMS HCPCS 2020 annual release ...").
    release: str | None = None
    # The codes the modifier belongs on, where a public authority limits it (25: E/M services).
    only_on: CodeScope | None = None
    # The dates an imported CMS HCPCS file gives the modifier: added, and terminated (YYYY-MM-DD), so that a line
    # is judged by the modifiers in force on its date of service.
    official_added: str | None = None
    official_ends: str | None = None

    @classmethod
    def from_dict(cls, d: dict) -> Modifier:
        return cls(
            d["modifier"],
            d["name"],
            d["kind"],
            d["source"],
            d.get("summary"),
            tuple(d.get("conflicts_with", ())),
            d.get("not_with_add_on", False),
            d.get("url"),
            d.get("official"),
            d.get("official_source"),
            d.get("release"),
            CodeScope.of(d.get("only_on")),
            d.get("official_added"),
            d.get("official_ends"),
        )

    @property
    def names(self) -> tuple[str, ...]:
        """The names a row's description may rightly give: the registry's, and an imported file's."""
        return (self.name, self.official) if self.official else (self.name,)


@dataclass(frozen=True, slots=True)
class TaxonomyCode:
    """A NUCC taxonomy code of the verified list, with its official name."""

    code: str
    name: str
    source: str

    @classmethod
    def from_dict(cls, d: dict) -> TaxonomyCode:
        return cls(d["code"], d["name"], d["source"])


@dataclass(frozen=True, slots=True)
class Synonym:
    """Terms search treats as one, and why."""

    terms: tuple[str, ...]
    reason: str
    # The readings the group stands on where an official descriptor contradicts them.
    contested: tuple[Contested, ...] = ()
    source: str | None = None  # where the equivalence is stated (a brand's FDA label)

    @classmethod
    def from_dict(cls, d: dict) -> Synonym:
        return cls(
            tuple(d["terms"]),
            d["reason"],
            tuple(Contested(c["code"], c["subject"]) for c in d.get("contested", ())),
            d.get("source"),
        )


@dataclass(frozen=True, slots=True)
class CodeSummary:
    """One line of `list`."""

    code: str
    display_code: str
    title: str
    add_on: bool | None
    completeness: str

    @classmethod
    def of(cls, rec: CodeRecord) -> CodeSummary:
        return cls(rec.code, rec.display_code, rec.title.text, rec.is_add_on, rec.completeness)

    def to_dict(self) -> dict:
        d: dict = {"schema_version": SCHEMA_VERSION}
        d.update(plain(self))
        return d


def cited_sources(value: Any) -> tuple[str, ...]:
    """Every source file any fact, row or note of `value` cites, in first-seen order."""
    seen: dict[str, None] = {}

    def walk(v: Any) -> None:
        if type(v) is tuple:
            for x in v:
                walk(x)
            return
        if not hasattr(v, "__dataclass_fields__"):
            return
        # The object's own sources first, then what it holds.
        for s in getattr(v, "sources", None) or ():
            seen.setdefault(s, None)
        for name in _names_of(type(v)):
            x = getattr(v, name)
            # Strings and flags are most values and never cite anything.
            if name != "sources" and x is not None and type(x) is not str and type(x) is not bool:
                walk(x)

    walk(value)
    return tuple(seen)


# -- results of the checks and reverse look-ups --------------------------------------

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def _counts(findings) -> dict:
    return {s: sum(1 for f in findings if f.severity == s) for s in ("error", "warning", "info")}


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One problem `audit` or `check` found, with who says so. Made with
    keywords only: ten fields, two pairs of which (stated / official, file /
    authority) are easily swapped by position.

    `sources` are the documents the finding is about; `file` the knowledge-base
    file the row came from; `authority` the code set or registry it was checked
    against; `stated` / `official` the two texts when they differ. `unverified`:
    the finding says that nothing could verify part of a claim line, so the
    line cannot pass (cptcli check's third verdict)."""

    severity: str  # error / warning / info
    kind: str
    subject: str
    message: str
    code: str | None = None
    sources: tuple[str, ...] = ()
    file: str | None = None
    authority: str | None = None
    stated: str | None = None
    official: str | None = None
    # Whether the record already carries a curated data note on this subject.
    noted: bool | None = None
    unverified: bool = False

    def to_dict(self) -> dict:
        return plain(self)


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
        return {
            "schema_version": SCHEMA_VERSION,
            "files": list(self.files),
            "authorities": self.authorities,
            "counts": _counts(self.findings),
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass(frozen=True, slots=True)
class CheckReport:
    """One claim line as `check` judged it. verdict: "fail" (an error), else
    "unverified" (nothing could verify a part of the line), else "pass"."""

    code: str
    display_code: str
    add_on: bool | None
    with_codes: tuple[str, ...]
    modifiers: tuple[str, ...]
    diagnoses: tuple[str, ...]
    issues: tuple[Finding, ...]
    authorities: dict = field(default_factory=dict)
    date: str = ""
    setting: str = "practitioner"
    units: int = 1

    @property
    def errors(self) -> int:
        return _counts(self.issues)["error"]

    @property
    def not_run(self) -> tuple[str, ...]:
        """The payer edits that could not be checked (not imported, or no release in force on the date)."""
        return tuple(f.message for f in self.issues if f.subject.startswith("edits/"))

    @property
    def verdict(self) -> str:
        if self.errors:
            return "fail"
        return "unverified" if any(f.unverified for f in self.issues) else "pass"

    def to_dict(self) -> dict:
        counts = _counts(self.issues)
        return {
            "schema_version": SCHEMA_VERSION,
            "code": self.code,
            "display_code": self.display_code,
            "add_on": self.add_on,
            "with": list(self.with_codes),
            "modifiers": list(self.modifiers),
            "diagnoses": list(self.diagnoses),
            "units": self.units,
            "date_of_service": self.date,
            "setting": self.setting,
            "verdict": self.verdict,
            "ok": self.verdict == "pass",
            "counts": counts,
            "issues": [f.to_dict() for f in self.issues],
            "authorities": self.authorities,
        }


@dataclass(frozen=True, slots=True)
class IcdChild:
    """An ICD-10-CM code directly below another, or billable under a header."""

    code: str
    description: str
    billable: bool


@dataclass(frozen=True, slots=True)
class IcdListing:
    """A record whose diagnosis table lists an ICD-10-CM code, with the row as the source gives it."""

    code: str
    display_code: str
    title: str
    description: str | None
    relevance: str | None
    sources: tuple[str, ...]
    description_matches: bool | None
    notes: tuple[Note, ...] = ()
    # Where the pairing stands only on a source's contested reading: the caution search's hit on the row carries.
    caution: str | None = None


@dataclass(frozen=True, slots=True)
class IcdResult:
    """`icd`: one ICD-10-CM code as the official release has it, and the codes that list it."""

    code: str
    description: str
    billable: bool
    children: tuple[IcdChild, ...]
    billable_children: tuple[IcdChild, ...]
    parent: IcdChild | None
    listed_by: tuple[IcdListing, ...]
    authority: str

    def to_dict(self) -> dict:
        d: dict = {"schema_version": SCHEMA_VERSION}
        d.update(plain(self))
        d["header"] = not self.billable
        return d


@dataclass(frozen=True, slots=True)
class ModifierListing:
    """A record whose modifier table lists a modifier, with the row as the source gives it."""

    code: str
    display_code: str
    description: str | None
    when_to_use: str | None
    sources: tuple[str, ...]
    # same / shorter / different from the registry name; None when the row has no description or no registry entry.
    name_check: str | None
    notes: tuple[Note, ...] = ()
    # Where the row stands only on a source's contested reading: the caution search's hit on the row carries.
    caution: str | None = None


@dataclass(frozen=True, slots=True)
class ModifierResult:
    """`modifier`: the registry entry (None when the modifier is not in it) and the rows that list it."""

    modifier: str
    entry: Modifier | None
    listed_by: tuple[ModifierListing, ...]
    # The registry's name against an imported file's wording (same / shorter / different); None without one.
    official_check: str | None = None

    def to_dict(self) -> dict:
        d = {"schema_version": SCHEMA_VERSION, "modifier": self.modifier, "in_registry": self.entry is not None}
        d["registry"] = plain(self.entry) if self.entry else None
        d["official_check"] = self.official_check
        d["listed_by"] = [plain(x) for x in self.listed_by]
        return d


@dataclass(frozen=True, slots=True)
class CodeList:
    """`list`: every code's line."""

    summaries: tuple[CodeSummary, ...]

    def to_dict(self) -> list:
        return [s.to_dict() for s in self.summaries]


@dataclass(frozen=True, slots=True)
class Validation:
    """`validate`: one file's findings (none when it is valid)."""

    path: str
    findings: tuple[str, ...]

    def text_lines(self) -> tuple[str, ...]:
        """The result as lines of text (cptcli.render.Format.by_line): one finding a line, or that it is valid."""
        return self.findings or (f"{self.path}: valid",)

    def to_dict(self) -> dict:
        return {
            "schema_version": SCHEMA_VERSION,
            "file": self.path,
            "valid": not self.findings,
            "findings": list(self.findings),
        }


class CacheInfo(namedtuple("CacheInfo", "cache_dir refused caches in_use other_files data_dir imported")):
    """`cache info`: where cptcli keeps derived files (cache_dir; None when none can be named, `refused` saying
    why, or why the engine would not use it), each kind's (file name, bytes) (`caches`, by cptcli.cache.CACHED
    kind), the name of the index the files in play use (`in_use`), the other entries there (not cptcli's); and
    the imported sets (data_dir: (set, file name, bytes)), which are not a cache: `cache clear` leaves them."""

    __slots__ = ()

    def kinds(self) -> list[tuple[str, str, str | None, list]]:
        """(kind, what it holds, where: a path pattern, its (name, bytes)) of each kind, in CACHED's order."""
        import os

        from cptcli.cache import CACHED, pattern

        return [
            (
                kind,
                holds,
                os.path.join(self.cache_dir, pattern(start, end)) if self.cache_dir else None,
                self.caches[kind],
            )
            for kind, start, end, holds in CACHED
        ]

    def to_dict(self) -> dict:
        caches = [
            {
                "kind": kind,
                "holds": holds,
                "location": where,
                "files": [{"name": n, "bytes": b, "in_use": n == self.in_use} for n, b in files],
                "bytes": sum(b for _, b in files),
            }
            for kind, holds, where, files in self.kinds()
        ]
        imported = [{"set": s, "name": n, "bytes": b} for s, n, b in self.imported]
        return {"schema_version": 1, **self._asdict(), "caches": caches, "imported": imported}


class CacheCleared:
    """`cache clear`: what was removed from the cache directory ((kind, name, bytes)) and what was kept, with why."""

    __slots__ = ("cache_dir", "removed", "kept")

    def __init__(self, cache_dir: str, removed: list, kept: list) -> None:
        self.cache_dir, self.removed, self.kept = cache_dir, removed, kept

    def to_dict(self) -> dict:
        return {
            "schema_version": 1,
            "cache_dir": self.cache_dir,
            "removed": [{"kind": k, "name": n, "bytes": b} for k, n, b in self.removed],
            "bytes": sum(b for *_, b in self.removed),
            "kept": [{"name": n, "reason": r} for n, r in self.kept],
        }
