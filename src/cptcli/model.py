"""The typed knowledge-base model. Built once, from data the schema has already
validated, so constructors trust their input's shape and do no I/O."""
from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from typing import Any, Optional

from cptcli import SCHEMA_VERSION  # noqa: F401  (re-exported: the renderers' single name for it)


def source_label(source: str) -> str:
    """'000_944fcdce29adbcd4.txt' -> '000', the short id tables and messages cite
    for a seed document; any other file (a user's 'my_payer_policy.pdf') keeps
    its whole name rather than being cut to 'my'."""
    m = re.fullmatch(r"(\d{3})_[0-9a-f]+\.txt", source)
    return m.group(1) if m else source


def source_labels(sources) -> str:
    return ", ".join(source_label(s) for s in sources)


def plain(value: Any) -> Any:
    """A model object as JSON-ready data. Replaces dataclasses.asdict, which
    deep-copies every value: on a 100,000-code index build that copying was the
    largest single cost (~6 s of ~18 s). Exact type tests, cheapest first:
    nearly every value is a string, None or a tuple."""
    t = type(value)
    if t is str or value is None or t is bool or t is int or t is float:
        return value
    if t is tuple or t is list:
        return [plain(v) for v in value]
    names = _FIELD_NAMES.get(t)
    if names is None and hasattr(value, "__dataclass_fields__"):
        names = _FIELD_NAMES[t] = tuple(f.name for f in fields(value))
    if names is not None:
        return {n: plain(getattr(value, n)) for n in names}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


_FIELD_NAMES: dict = {}


def _attributes(obj) -> dict:
    """A model object's fields as a dict of its own values (not copied)."""
    names = _FIELD_NAMES.get(type(obj))
    if names is None:
        if not hasattr(obj, "__dataclass_fields__"):
            raise TypeError(f"{type(obj).__name__} is not JSON serialisable")
        names = _FIELD_NAMES[type(obj)] = tuple(f.name for f in fields(obj))
    return {n: getattr(obj, n) for n in names}


def _row_from_dict(cls, d: dict):
    """The table-row classes share one shape: a key column, two optional cells, sources."""
    names = _FIELD_NAMES.get(cls)
    if names is None:  # once a class: a 100,000-code base has ~500,000 rows
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))
    key, first, second, _ = names
    return cls(d[key], d.get(first), d.get(second), tuple(d["sources"]))


def _tuple(items, cls):
    return tuple([cls.from_dict(i) for i in items]) if items else ()


@dataclass(frozen=True, slots=True)
class Fact:
    """A statement as a source document makes it; `quote` is the verbatim passage
    when `text` is a reading of it rather than the words themselves."""

    text: str
    sources: tuple[str, ...]
    quote: Optional[str] = None
    copyright: Optional[str] = None

    @classmethod
    def from_dict(cls, d: dict) -> "Fact":
        return cls(d["text"], tuple(d["sources"]), d.get("quote"), d.get("copyright"))


@dataclass(frozen=True, slots=True)
class Descriptor:
    """A CPT descriptor as a source prints it; `official` when it is the AMA text, which keeps its copyright line."""

    text: str
    sources: tuple[str, ...]
    official: bool
    copyright: Optional[str] = None
    quote: Optional[str] = None

    @classmethod
    def from_dict(cls, d: dict) -> "Descriptor":
        return cls(d["text"], tuple(d["sources"]), d["official"], d.get("copyright"), d.get("quote"))


@dataclass(frozen=True, slots=True)
class AddOn:
    """Whether the code is an add-on code (+), as the sources say."""

    value: bool
    sources: tuple[str, ...]
    quote: Optional[str] = None

    @classmethod
    def from_dict(cls, d: dict) -> "AddOn":
        return cls(d["value"], tuple(d["sources"]), d.get("quote"))


@dataclass(frozen=True, slots=True)
class CrossReference:
    """A passage of a source that names other codes (e.g. "for removal, use 20704")."""

    text: str
    sources: tuple[str, ...]
    codes: tuple[str, ...]
    quote: Optional[str] = None

    @classmethod
    def from_dict(cls, d: dict) -> "CrossReference":
        return cls(d["text"], tuple(d["sources"]), tuple(d["codes"]), d.get("quote"))


@dataclass(frozen=True, slots=True)
class ModifierRow:
    """A row of a code's modifier table, as the source gives it."""

    modifier: str
    description: Optional[str]
    when_to_use: Optional[str]
    sources: tuple[str, ...]

    from_dict = classmethod(_row_from_dict)

    @property
    def key(self) -> str:
        return self.modifier


@dataclass(frozen=True, slots=True)
class TaxonomyRow:
    """A row of a code's provider-taxonomy table, as the source gives it."""

    code: str
    specialty: Optional[str]
    notes: Optional[str]
    sources: tuple[str, ...]

    from_dict = classmethod(_row_from_dict)

    @property
    def key(self) -> str:
        return self.code


@dataclass(frozen=True, slots=True)
class DiagnosisRow:
    """A row of a code's ICD-10-CM table, as the source gives it."""

    code: str
    description: Optional[str]
    relevance: Optional[str]
    sources: tuple[str, ...]

    from_dict = classmethod(_row_from_dict)

    @property
    def key(self) -> str:
        return self.code


@dataclass(frozen=True, slots=True)
class RelatedCode:
    """A row of a code's related-codes table, as the source gives it."""

    code: str
    description: Optional[str]
    relationship: Optional[str]
    sources: tuple[str, ...]

    from_dict = classmethod(_row_from_dict)

    @property
    def key(self) -> str:
        return self.code


@dataclass(frozen=True, slots=True)
class Note:
    """A data note: a conflict between sources, a truncation, or a correction
    by an official code set, shown beside what the source said."""

    kind: str
    subject: str
    text: str
    sources: tuple[str, ...]
    authority: Optional[str] = None
    correction: Optional[str] = None

    @classmethod
    def from_dict(cls, d: dict) -> "Note":
        return cls(d["kind"], d["subject"], d["text"], tuple(d["sources"]), d.get("authority"), d.get("correction"))


@dataclass(frozen=True, slots=True)
class Source:
    """A source document every fact cites by its file name."""

    file: str
    title: str
    publisher: Optional[str] = None
    kind: Optional[str] = None
    notes: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, d: dict) -> "Source":
        return cls(d["file"], d["title"], d.get("publisher"), d.get("kind"), tuple(d.get("notes", ())))


@dataclass(frozen=True, slots=True)
class Modifier:
    """A registry entry: the modifier's official short name and the rules checks apply."""

    modifier: str
    name: str
    kind: str
    source: str
    summary: Optional[str] = None
    conflicts_with: tuple[str, ...] = ()
    not_with_add_on: bool = False

    @classmethod
    def from_dict(cls, d: dict) -> "Modifier":
        return cls(d["modifier"], d["name"], d["kind"], d["source"], d.get("summary"),
                   tuple(d.get("conflicts_with", ())), d.get("not_with_add_on", False))


@dataclass(frozen=True, slots=True)
class TaxonomyCode:
    """A NUCC taxonomy code of the verified list, with its official name."""

    code: str
    name: str
    source: str

    @classmethod
    def from_dict(cls, d: dict) -> "TaxonomyCode":
        return cls(d["code"], d["name"], d["source"])


@dataclass(frozen=True, slots=True)
class Synonym:
    """Terms search treats as one, and why."""

    terms: tuple[str, ...]
    reason: str

    @classmethod
    def from_dict(cls, d: dict) -> "Synonym":
        return cls(tuple(d["terms"]), d["reason"])


@dataclass(frozen=True, slots=True)
class CodeRecord:
    """Everything the sources say about one CPT code, each fact with its sources."""

    code: str
    completeness: str
    add_on: Optional[AddOn]
    title: Fact
    descriptor: Optional[Descriptor] = None
    summary: tuple[Fact, ...] = ()
    service_type: tuple[Fact, ...] = ()
    sites_of_service: tuple[Fact, ...] = ()
    specialties: tuple[Fact, ...] = ()
    payers: tuple[Fact, ...] = ()
    clinical_context: tuple[Fact, ...] = ()
    examples: tuple[Fact, ...] = ()
    documentation: tuple[Fact, ...] = ()
    cross_references: tuple[CrossReference, ...] = ()
    modifiers: tuple[ModifierRow, ...] = ()
    taxonomy: tuple[TaxonomyRow, ...] = ()
    diagnoses: tuple[DiagnosisRow, ...] = ()
    related: tuple[RelatedCode, ...] = ()
    notes: tuple[Note, ...] = ()
    # Which knowledge-base file the record came from; set by the loader, not the data.
    origin: str = ""

    @classmethod
    def from_dict(cls, d: dict, origin: str = "") -> "CodeRecord":
        facts = {k: _tuple(d.get(k), Fact) for k in (
            "summary", "service_type", "sites_of_service", "specialties", "payers",
            "clinical_context", "examples", "documentation")}
        return cls(
            code=d["code"],
            completeness=d["completeness"],
            add_on=AddOn.from_dict(d["add_on"]) if d.get("add_on") else None,
            title=Fact.from_dict(d["title"]),
            descriptor=Descriptor.from_dict(d["descriptor"]) if d.get("descriptor") else None,
            cross_references=_tuple(d.get("cross_references"), CrossReference),
            modifiers=_tuple(d.get("modifiers"), ModifierRow),
            taxonomy=_tuple(d.get("taxonomy"), TaxonomyRow),
            diagnoses=_tuple(d.get("diagnoses"), DiagnosisRow),
            related=_tuple(d.get("related"), RelatedCode),
            notes=_tuple(d.get("notes"), Note),
            origin=origin,
            **facts,
        )

    @property
    def is_add_on(self) -> Optional[bool]:
        return self.add_on.value if self.add_on else None

    def notes_about(self, subject: str) -> tuple["Note", ...]:
        """The data notes on one subject, e.g. 'modifiers/AS' or 'descriptor'."""
        return tuple(n for n in self.notes if n.subject == subject)

    @property
    def display_code(self) -> str:
        # The CPT book marks add-on codes with a leading "+".
        return f"+{self.code}" if self.is_add_on else self.code

    def all_sources(self) -> tuple[str, ...]:
        """Every source file any fact, row or note in this record cites, in first-seen order."""
        return cited_sources(self)

    def to_dict(self) -> dict:
        d = plain(self)
        d.pop("origin")
        return d


TABLES = ("modifiers", "taxonomy", "diagnoses", "related")


@dataclass(frozen=True, slots=True)
class ShowResult:
    """One record as `show` prints it: the record, the notes that concern it
    (curated in the data plus any the loader found), and who names it."""

    record: CodeRecord
    named_by: tuple[str, ...] = ()
    related_status: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = {"schema_version": SCHEMA_VERSION}
        d.update(self.record.to_dict())
        d["display_code"] = self.record.display_code
        d["origin"] = self.record.origin
        d["named_by"] = list(self.named_by)
        for row in d["related"]:
            row["in_knowledge_base"] = self.related_status.get(row["code"])
        return d

    def json_text(self) -> str:
        """json.dumps(self.to_dict(), ensure_ascii=False), the same text, made
        by json's C encoder from the objects themselves: the index build writes
        100,000 of these, and to_dict's copying doubled that cost. A test pins
        the two equal."""
        import json

        rec = self.record
        d = {"schema_version": SCHEMA_VERSION}
        d.update(_attributes(rec))
        del d["origin"]
        d["related"] = [dict(_attributes(row), in_knowledge_base=self.related_status.get(row.code))
                        for row in rec.related]
        d["display_code"] = rec.display_code
        d["origin"] = rec.origin
        d["named_by"] = self.named_by
        d.update(self._extra())
        return json.dumps(d, default=_attributes, ensure_ascii=False)

    def _extra(self) -> dict:
        return {}


@dataclass(frozen=True, slots=True)
class CodeSummary:
    """One line of `list`."""

    code: str
    display_code: str
    title: str
    add_on: Optional[bool]
    completeness: str

    @classmethod
    def of(cls, rec: CodeRecord) -> "CodeSummary":
        return cls(rec.code, rec.display_code, rec.title.text, rec.is_add_on, rec.completeness)

    def to_dict(self) -> dict:
        d = {"schema_version": SCHEMA_VERSION}
        d.update(plain(self))
        return d


@dataclass(frozen=True, slots=True)
class LayeredShowResult(ShowResult):
    """A ShowResult that also names every knowledge-base file that contributed
    to the record, bundled file first, so a user's additions are never read
    as bundled facts."""

    contributors: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        d = ShowResult.to_dict(self)
        d["contributors"] = list(self.contributors)
        return d

    def _extra(self) -> dict:
        return {"contributors": self.contributors}


def cited_sources(rec: CodeRecord) -> tuple[str, ...]:
    """Every source file any fact, row or note of `rec` cites, in first-seen order."""
    seen: dict[str, None] = {}

    def walk(value: Any) -> None:
        if type(value) is tuple:
            for v in value:
                walk(v)
            return
        names = _FIELD_NAMES.get(type(value))
        if names is None:
            if not hasattr(value, "__dataclass_fields__"):
                return
            names = _FIELD_NAMES[type(value)] = tuple(f.name for f in fields(value))
        # The object's own sources first, then what it holds.
        for s in getattr(value, "sources", None) or ():
            seen.setdefault(s, None)
        for name in names:
            v = getattr(value, name)
            # Strings and flags are most values and never cite anything.
            if name != "sources" and v is not None and type(v) is not str and type(v) is not bool:
                walk(v)

    walk(rec)
    return tuple(seen)
