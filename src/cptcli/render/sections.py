"""The sections of a `show` result, shared by every output format.

One list of names serves `--section`, its completion and its error message;
one set of row builders serves CSV and Markdown, so the two flat formats
cannot drift apart. Cells stay Python values (None, bool, str) until a
renderer decides how to print them.
"""
from __future__ import annotations

from typing import Iterable, Optional, Sequence

from cptcli.errors import UsageError
from cptcli.model import ShowResult, Source, cited_sources

# Order is the order of the full output.
SECTIONS = ("facts", "modifiers", "taxonomy", "diagnoses", "related", "cross_references", "notes", "sources")

TITLES = {
    "facts": "Facts", "modifiers": "Modifiers", "taxonomy": "Provider taxonomy",
    "diagnoses": "ICD-10-CM diagnoses", "related": "Related CPT codes", "cross_references": "Cross-references",
    "notes": "Data notes", "sources": "Sources",
}

# The keys of ShowResult.to_dict() each section owns; "code" and "schema_version" go with every one.
JSON_KEYS = {
    "facts": ("display_code", "completeness", "add_on", "title", "descriptor", "summary", "service_type",
              "sites_of_service", "specialties", "payers", "clinical_context", "examples", "documentation"),
    "modifiers": ("modifiers",),
    "taxonomy": ("taxonomy",),
    "diagnoses": ("diagnoses",),
    "related": ("related", "named_by"),
    "cross_references": ("cross_references",),
    "notes": ("notes",),
    "sources": ("origin", "contributors"),
}
ALWAYS = ("schema_version", "code")

FACT_LISTS = ("summary", "service_type", "sites_of_service", "specialties", "payers", "clinical_context",
              "examples", "documentation")

COLUMNS = {
    "facts": ("code", "field", "value", "copyright", "sources"),
    "modifiers": ("code", "modifier", "description", "when_to_use", "data_note", "sources"),
    "taxonomy": ("code", "taxonomy_code", "specialty", "notes", "data_note", "sources"),
    "diagnoses": ("code", "icd10_code", "description", "relevance", "data_note", "sources"),
    "related": ("code", "related_code", "description", "relationship", "in_knowledge_base", "sources"),
    "cross_references": ("code", "text", "codes", "sources"),
    "notes": ("code", "kind", "subject", "text", "authority", "correction", "sources"),
    "sources": ("code", "source", "title", "publisher", "kind"),
}

HIT_COLUMNS = ("code", "title", "score", "matched_field", "snippet", "completeness", "add_on")
LIST_COLUMNS = ("code", "display_code", "title", "add_on", "completeness")


def parse(names: Optional[Iterable[str]]) -> tuple[str, ...]:
    """--section values (repeatable, or comma-separated) -> section names in output order; none = all."""
    wanted = [n.strip().lower() for raw in names or () for n in raw.split(",") if n.strip()]
    if not wanted:
        return SECTIONS
    unknown = [n for n in wanted if n not in SECTIONS]
    if unknown:
        raise UsageError(f"unknown section {unknown[0]!r}: choose from {', '.join(SECTIONS)}")
    return tuple(s for s in SECTIONS if s in wanted)


class Selected:
    """A show result cut down to some sections, for the JSON renderers."""

    __slots__ = ("result", "sections")

    def __init__(self, result: ShowResult, sections: Sequence[str]):
        self.result, self.sections = result, tuple(sections)

    def to_dict(self) -> dict:
        full = self.result.to_dict()
        if self.sections == SECTIONS:
            return full
        keys = set(ALWAYS).union(*(JSON_KEYS[s] for s in self.sections))
        return {k: v for k, v in full.items() if k in keys}


def _srcs(sources: Iterable[str]) -> str:
    return "; ".join(sources)


def _data_note(rec, subject: str) -> Optional[str]:
    found = [f"{n.kind}: {n.correction}" if n.correction else n.kind for n in rec.notes_about(subject)]
    return "; ".join(found) or None


def rows(section: str, result: ShowResult, sources: dict[str, Source]) -> list[tuple]:
    """One section of one result as flat rows, the code first, in COLUMNS order."""
    rec = result.record
    c = rec.code
    if section == "facts":
        out = [(c, "title", rec.title.text, rec.title.copyright, _srcs(rec.title.sources)),
               (c, "add_on", rec.is_add_on, None, _srcs(rec.add_on.sources) if rec.add_on else ""),
               (c, "completeness", rec.completeness, None, "")]
        d = rec.descriptor
        out.append((c, "descriptor", d.text if d else None, d.copyright if d else None, _srcs(d.sources) if d else ""))
        out.append((c, "descriptor_official", d.official if d else None, None, ""))
        for name in FACT_LISTS:
            out += [(c, name, f.text, f.copyright, _srcs(f.sources)) for f in getattr(rec, name)]
        contributors = getattr(result, "contributors", ()) or (rec.origin,)
        out += [(c, "knowledge_base_file", path, None, "") for path in contributors]
        return out
    if section == "modifiers":
        return [(c, r.modifier, r.description, r.when_to_use, _data_note(rec, f"modifiers/{r.modifier}"),
                 _srcs(r.sources)) for r in rec.modifiers]
    if section == "taxonomy":
        return [(c, r.code, r.specialty, r.notes, _data_note(rec, f"taxonomy/{r.code}"), _srcs(r.sources))
                for r in rec.taxonomy]
    if section == "diagnoses":
        return [(c, r.code, r.description, r.relevance, _data_note(rec, f"diagnoses/{r.code}"),
                 _srcs(r.sources)) for r in rec.diagnoses]
    if section == "related":
        return [(c, r.code, r.description, r.relationship, result.related_status.get(r.code), _srcs(r.sources))
                for r in rec.related]
    if section == "cross_references":
        return [(c, x.text, " ".join(x.codes), _srcs(x.sources)) for x in rec.cross_references]
    if section == "notes":
        return [(c, n.kind, n.subject, n.text, n.authority, n.correction, _srcs(n.sources)) for n in rec.notes]
    if section == "sources":
        out = []
        for s in cited_sources(rec):
            src = sources.get(s)
            out.append((c, s, src.title if src else None, src.publisher if src else None, src.kind if src else None))
        return out
    raise AssertionError(section)


def tables(results: Sequence[ShowResult], sources: dict[str, Source],
           sections: Sequence[str]) -> list[tuple[str, tuple[str, ...], list[tuple]]]:
    """(section, columns, rows of every result) for each selected section."""
    return [(s, COLUMNS[s], [row for r in results for row in rows(s, r, sources)]) for s in sections]


def hit_rows(hits) -> list[tuple]:
    return [(h.code, h.title, h.score, h.matched_field, h.snippet, h.completeness, h.add_on) for h in hits]


def list_rows(summaries) -> list[tuple]:
    return [(s.code, s.display_code, s.title, s.add_on, s.completeness) for s in summaries]


# Rich parts of render.table.show, by their titles: lets --section cut the
# terminal view without a second table layout that could drift from the first.
_TABLE_TITLES = {
    "In simple words / summary": "facts", "Clinical context": "facts", "Example scenarios": "facts",
    "Service": "facts", "Documentation requirements": "facts", "Modifiers": "modifiers",
    "Provider taxonomy": "taxonomy", "ICD-10-CM diagnoses": "diagnoses", "Related CPT codes": "related",
    "Cross-references": "cross_references", "Data notes (conflicts, truncations, corrections)": "notes",
    "Sources": "sources",
}


def table_section(part) -> str:
    """Which section a renderable from render.table.show belongs to."""
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    if isinstance(part, Panel):
        return "facts"
    if isinstance(part, Table) and str(part.title) in _TABLE_TITLES:
        return _TABLE_TITLES[str(part.title)]
    if isinstance(part, Text):
        text = part.plain
        if text.startswith("Documentation requirements"):
            return "facts"
        if text.startswith("Named by"):
            return "related"
        if text.startswith("Knowledge-base files"):
            return "sources"
    raise AssertionError(f"render.table.show drew a part --section cannot place: {part!r}")


def table_parts(result: ShowResult, sources: dict[str, Source], sections: Sequence[str]) -> list:
    """render.table.show, plus the files the record came from when more than
    one contributed, cut to the selected sections."""
    from rich.text import Text

    from cptcli.render import table

    parts = table.show(result, sources)
    contributors = getattr(result, "contributors", ())
    if len(contributors) > 1:
        parts.append(Text("Knowledge-base files: " + ", ".join(contributors)
                          + " (rows cite their own sources; 'override' notes list values an earlier file kept)"))
    if tuple(sections) == SECTIONS:
        return parts
    return [p for p in parts if table_section(p) in sections]


def render_tables(results: Sequence[ShowResult], sources: dict[str, Source],
                  sections: Optional[Sequence[str]] = None) -> str:
    """`show`'s table output, for the full CLI and the fast path alike."""
    from cptcli.render import table

    parts: list = []
    for r in results:
        parts += table_parts(r, sources, sections or SECTIONS)
    return table.render(parts)
