"""Flat tables: every result as named tables of rows, for the flat formats
(CSV, TSV, Markdown). Cells stay Python values (None, bool, str, float) until
a format decides how to print them.

A `show` result's tables are its sections, derived from the field registry
(cptcli.model.FIELDS): a field's section and, for tables, its row class's
fields decide the columns, so a new field is flattened without code here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from functools import singledispatch
from typing import NamedTuple

from cptcli.codesets.icd_search import IcdHits, SearchHits
from cptcli.errors import UsageError
from cptcli.model import (
    FIELDS,
    AuditReport,
    CacheCleared,
    CacheInfo,
    CheckReport,
    CodeList,
    IcdResult,
    ModifierResult,
    Validation,
    cited_sources,
    registry,
)
from cptcli.results import ClaimsReport, Imports, ShowResults, Sources
from cptcli.search import Hits

# `show`'s sections, in the order of the full output: the registry's, plus the sources list.
SECTIONS: tuple[str, ...] = tuple(dict.fromkeys([s.section for s in FIELDS] + ["sources", "payer", "ptp"]))
ALWAYS = ("schema_version", "code")
# The keys of a show document each section owns, beyond its fields.
_EXTRA_KEYS = {
    "facts": ("display_code",),
    "related": ("named_by",),
    "sources": ("origin", "contributors"),
    # The imported payer edits' facts (cptcli.edits): `ptp` lists the code's PTP edits too.
    "payer": ("payer",),
    "ptp": ("payer",),
}
JSON_KEYS = {
    name: tuple(s.name for s in FIELDS if s.section == name and s.name != "code") + _EXTRA_KEYS.get(name, ())
    for name in SECTIONS
}
TITLES = {
    "facts": "Facts",
    "sources": "Sources",
    "payer": "Payer edits (imported CMS files)",
    "ptp": "NCCI PTP edits",
    **{s.section: s.title for s in FIELDS if s.section != "facts" and s.title},
}


class Table(NamedTuple):
    name: str
    title: str
    columns: tuple[str, ...]
    rows: list[tuple]


def check_sections(result, sections: Sequence[str]) -> None:
    """A usage error naming the valid names when a section asked for is not one
    of `result`'s: the one check of --section (cptcli.render.render), in every format."""
    if isinstance(result, ShowResults):
        names = SECTIONS
    else:
        # search declares its ICD-10-CM section whether or not this query has one
        names = getattr(result, "SECTIONS", None) or tuple(t.name for t in tables(result))
    check_names(names, sections)


def check_names(names: Sequence[str], sections: Sequence[str]) -> None:
    """The usage error of a section that is none of `names`. The CLI asks it first of the names a command
    declares, so a name no result of the command has is refused before any look-up, even one that finds
    nothing; render asks it again of the result's own names (`check 20700` has no claims' tables)."""
    unknown = [s for s in sections if s not in names]
    if unknown:
        raise UsageError(f"unknown section {unknown[0]!r}: choose from {', '.join(names)}")


def select(found: list[Table], sections: Sequence[str]) -> list[Table]:
    """The tables named by `sections` (all for none); the names were checked (check_sections)."""
    return [t for t in found if t.name in sections] if sections else found


def _srcs(sources) -> str:
    return "; ".join(sources)


def _data_note(rec, subject: str) -> str | None:
    found = [f"{n.kind}: {n.correction}" if n.correction else n.kind for n in rec.notes_about(subject)]
    return "; ".join(found) or None


def _fact_rows(result) -> list[tuple]:
    rec, c, out = result.record, result.code, []
    for spec in registry(type(rec)):
        if spec.section != "facts" or spec.kind == "key":
            continue
        value = getattr(rec, spec.name)
        if spec.kind == "value":
            out.append((c, spec.name, value, None, ""))
        elif spec.name == "add_on":
            out.append((c, "add_on", rec.is_add_on, None, _srcs(value.sources) if value else ""))
        elif spec.kind == "scalar":
            out.append(
                (
                    c,
                    spec.name,
                    value.text if value else None,
                    getattr(value, "copyright", None),
                    _srcs(value.sources) if value else "",
                )
            )
            if spec.name == "descriptor":
                out.append((c, "descriptor_official", value.official if value else None, None, ""))
        else:
            out += [(c, spec.name, f.text, f.copyright, _srcs(f.sources)) for f in value]
    out += [(c, "knowledge_base_file", path, None, "") for path in result.contributors]
    return out


def _payer_rows(results: ShowResults) -> list[tuple]:
    """(code, edit, setting, value, meaning, source) of each imported payer fact of each code."""
    rows: list[tuple] = []
    for r in results:
        p, c = r.doc.get("payer") or {}, r.code
        fs = p.get("fee_schedule")
        if fs and fs.get("listed"):
            rows.append((c, "pfs status", "", fs["status"], fs["status_meaning"], fs["source"]))
            rows.append((c, "pfs global days", "", fs["global_days"], fs["global_days_meaning"], fs["source"]))
            for name, ind in fs["indicators"].items():
                rows.append((c, f"pfs {name.replace('_', ' ')}", "", ind["value"], ind["meaning"], fs["source"]))
        elif fs:
            rows.append((c, "pfs", "", None, "not in the fee schedule file", fs["source"]))
        for m in p.get("mue", ()):
            rows.append((c, "mue", m["setting"], m["value"], f"MAI {m['mai']}: {m['meaning']}", m["source"]))
        aoc = p.get("add_on_edits")
        if aoc:
            what = f"add-on of {', '.join(aoc['primaries'][:12])}" if aoc["is_add_on"] else "not an add-on code"
            rows.append((c, "aoc", "", "; ".join(aoc["edit_types"]) or None, what, aoc["source"]))
        for t in p.get("ptp", ()):
            meaning = f"column 1 of {t['as_column1']:,} edits, column 2 of {t['as_column2']:,} in force on {p['date']}"
            rows.append((c, "ptp", t["setting"], t["as_column1"] + t["as_column2"], meaning, t["source"]))
        for n in p.get("ndc", ()):
            rows.append((c, "ndc", "", n["ndc_as_filed"], _ndc_words(n), n["source"]))
    return rows


def _ndc_words(n: dict) -> str:
    """An NDC's crosswalk row in words: what it is and how many of the code's billing units a package holds."""
    what = ", ".join(x for x in (n["drug"], n["labeler"]) if x) or "no drug name given"
    package = " × ".join(x for x in (n["pkg_size"], n["pkg_qty"]) if x)
    units = f"{n['bill_units_pkg']} billing units" if n["bill_units_pkg"] else "billing units not given"
    said = f"{what}: {units} of {n['code']} ({n['dosage'] or 'dosage not given'}) a package ({package or '?'})"
    return said if n["in_force_on_date"] else f"{said}; the crosswalk's quarter does not cover today"


def _ptp_rows(results: ShowResults) -> list[tuple]:
    return [
        (
            r.code,
            t["setting"],
            e["column1"],
            e["column2"],
            e["effective"],
            e["ends"],
            e["modifier_indicator"],
            e["meaning"],
            e["rationale"],
            e["in_force_on_date"],
            e["source"],
        )
        for r in results
        for t in (r.doc.get("payer") or {}).get("ptp", ())
        for e in t.get("edits", ())
    ]


def _section_table(name: str, results: ShowResults) -> Table:
    if name == "payer":
        return Table(
            name, TITLES[name], ("code", "edit", "setting", "value", "meaning", "source"), _payer_rows(results)
        )
    if name == "ptp":
        columns = (
            "code",
            "setting",
            "column1",
            "column2",
            "effective",
            "ends",
            "modifier_indicator",
            "meaning",
            "rationale",
            "in_force_on_date",
            "source",
        )
        return Table(name, TITLES[name], columns, _ptp_rows(results))
    if name == "facts":
        return Table(
            name,
            TITLES[name],
            ("code", "field", "value", "copyright", "sources"),
            [row for r in results for row in _fact_rows(r)],
        )
    if name == "sources":
        rows = []
        for r in results:
            for s in cited_sources(r.record):
                src = results.sources.get(s)
                rows.append(
                    (r.code, s, src.title if src else None, src.publisher if src else None, src.kind if src else None)
                )
        return Table(name, TITLES[name], ("code", "source", "title", "publisher", "kind"), rows)
    if name == "cross_references":
        return Table(
            name,
            TITLES[name],
            ("code", "text", "codes", "sources"),
            [(r.code, x.text, " ".join(x.codes), _srcs(x.sources)) for r in results for x in r.record.cross_references],
        )
    if name == "official":
        rows = []
        for r in results:
            rec = r.record
            rows += [
                (r.code, f"descriptor ({d.kind})", d.text, None, _srcs(d.sources)) for d in rec.official_descriptors
            ]
            rows += [(r.code, a.label, a.value, a.meaning, _srcs(a.sources)) for a in rec.official]
        return Table(name, TITLES[name], ("code", "field", "value", "meaning", "sources"), rows)
    if name == "notes":
        return Table(
            name,
            TITLES[name],
            ("code", "kind", "subject", "text", "authority", "correction", "sources"),
            [
                (r.code, n.kind, n.subject, n.text, n.authority, n.correction, _srcs(n.sources))
                for r in results
                for n in r.record.notes
            ],
        )
    spec = next(s for s in FIELDS if s.section == name and s.kind == "table")
    row_cls = spec.item
    names = [f.name for f in fields(row_cls) if f.name not in ("sources", "contested")]
    columns = ("code", row_cls.KEY_COLUMN, *names[1:])
    rows = []
    for r in results:
        rec, status = r.record, r.related_status
        for row in getattr(rec, spec.name):
            cells = (r.code, row.key, *row.cells())
            if spec.name == "related":
                rows.append((*cells, status.get(row.key), _srcs(row.sources)))
            else:
                rows.append((*cells, _data_note(rec, f"{spec.name}/{row.key}"), _srcs(row.sources)))
    extra = ("in_knowledge_base",) if spec.name == "related" else ("data_note",)
    return Table(name, TITLES[name], (*columns, *extra, "sources"), rows)


def _wide_columns() -> tuple[str, ...]:
    """The columns of show's one-row-a-code table, from the registry: the facts fields in the order of the long
    form (_fact_rows), the descriptor's copyright beside it, then each table section's keys, the official
    descriptors, the notes and the sources."""
    columns = ["code", "display_code"]
    for spec in FIELDS:
        if spec.section == "facts" and spec.kind != "key":
            columns.append(spec.name)
            if spec.name == "descriptor":
                columns += ["descriptor_official", "descriptor_copyright"]
    columns.append("knowledge_base_file")
    columns += [s.name for s in FIELDS if s.kind == "table" and s.section != "official"]
    return (*columns, "official_descriptors", "data_notes", "sources")


WIDE_COLUMNS = _wide_columns()


def wide(results: ShowResults) -> Table:
    """`show --wide`: one row a code, its fields as columns (a spreadsheet's layout). A field of several values
    (payers, summaries) holds them a line each; a table section (modifiers, diagnoses) its keys, apart by
    spaces: the rows themselves, with their descriptions and sources, are the sections' own tables."""
    rows = []
    for r in results:
        rec = r.record
        cells: dict[str, list] = {}
        for _, field, value, copyright, _sources in _fact_rows(r):
            cells.setdefault(field, []).append(value)
            if field == "descriptor" and copyright:
                cells["descriptor_copyright"] = [copyright]
        for spec in FIELDS:
            if spec.kind == "table" and spec.section != "official":
                cells[spec.name] = [" ".join(row.key for row in getattr(rec, spec.name))]
        cells["display_code"] = [r.doc["display_code"]]
        cells["official_descriptors"] = [f"{d.kind}: {d.text}" for d in rec.official_descriptors]
        cells["data_notes"] = [f"{n.kind} ({n.subject}): {n.text}" for n in rec.notes]
        cells["sources"] = [" ".join(cited_sources(rec))]
        row = [r.code]
        for column in WIDE_COLUMNS[1:]:
            values = [v for v in cells.get(column, ()) if v is not None and v != ""]
            row.append(values[0] if len(values) == 1 else "\n".join(str(v) for v in values) if values else None)
        rows.append(tuple(row))
    return Table("codes", "Codes", WIDE_COLUMNS, rows)


@singledispatch
def tables(result) -> list[Table]:
    """The flat tables of a result, its main table first."""
    raise TypeError(f"no flat tables for {type(result).__name__}")


@tables.register
def _(result: ShowResults) -> list[Table]:
    return [_section_table(name, result) for name in SECTIONS]


# The caution and the data note travel with every hit, in every format: a contested reading read in a spreadsheet is
# as contested as on a terminal. New columns go at the end, so that scripts reading by position keep working.
HIT_COLUMNS = (
    "code",
    "title",
    "score",
    "matched_field",
    "snippet",
    "completeness",
    "add_on",
    "matched_row",
    "data_note",
    "caution",
    "family",
    "missing",
)


def _cell(value):
    """A hit's value as one cell: its missing words joined ("pain; ankle"), every other value as it is."""
    return "; ".join(value) if isinstance(value, tuple) else value


@tables.register
def _(result: Hits) -> list[Table]:
    """The hits; then, for `search` (a SearchHits) whose query reads as a diagnosis or asked for the section, the
    ICD-10-CM codes as `icd search` lists them."""
    found = [
        Table(
            "hits",
            f"Search: {result.query}",
            HIT_COLUMNS,
            [tuple(_cell(getattr(h, column)) for column in HIT_COLUMNS) for h in result],
        )
    ]
    icd = getattr(result, "icd", None)
    if icd is not None:
        found.append(Table("icd", f"ICD-10-CM diagnoses: {result.query}", ICD_HIT_COLUMNS, _icd_rows(icd)))
    return found


ICD_HIT_COLUMNS = ("code", "description", "billable", "header", "score", "matched_field", "matched_text")


def _icd_rows(result: IcdHits) -> list[tuple]:
    return [(h.code, h.description, h.billable, not h.billable, *h[3:6]) for h in result]


@tables.register
def _(result: IcdHits) -> list[Table]:
    return [Table("hits", f"ICD-10-CM search: {result.query}", ICD_HIT_COLUMNS, _icd_rows(result))]


LIST_COLUMNS = ("code", "display_code", "title", "add_on", "completeness")


@tables.register
def _(result: CodeList) -> list[Table]:
    return [
        Table(
            "codes",
            "Codes in the knowledge base",
            LIST_COLUMNS,
            [(s.code, s.display_code, s.title, s.add_on, s.completeness) for s in result.summaries],
        )
    ]


_FINDING_COLUMNS = ("severity", "kind", "code", "subject", "message", "authority", "sources")


def _finding_rows(findings) -> list[tuple]:
    return [(f.severity, f.kind, f.code, f.subject, f.message, f.authority, _srcs(f.sources)) for f in findings]


@tables.register
def _(result: CheckReport) -> list[Table]:
    return [
        Table(
            "issues",
            "Check",
            ("verdict", *_FINDING_COLUMNS),
            [(result.verdict, *row) for row in _finding_rows(result.issues)],
        )
    ]


@tables.register
def _(result: AuditReport) -> list[Table]:
    return [Table("findings", "Audit of the knowledge base", _FINDING_COLUMNS, _finding_rows(result.findings))]


@tables.register
def _(result: IcdResult) -> list[Table]:
    return [
        Table(
            "code",
            f"ICD-10-CM {result.code}",
            ("code", "description", "billable", "parent", "authority"),
            [
                (
                    result.code,
                    result.description,
                    result.billable,
                    result.parent.code if result.parent else None,
                    result.authority,
                )
            ],
        ),
        Table(
            "children",
            "Codes directly below",
            ("code", "description", "billable"),
            [(c.code, c.description, c.billable) for c in result.children],
        ),
        Table(
            "billable",
            "Billable codes under it",
            ("code", "description"),
            [(c.code, c.description) for c in result.billable_children],
        ),
        Table(
            "listed_by",
            "Codes that list it",
            ("code", "description", "relevance", "description_matches", "caution", "sources"),
            [
                (x.code, x.description, x.relevance, x.description_matches, x.caution, _srcs(x.sources))
                for x in result.listed_by
            ],
        ),
    ]


@tables.register
def _(result: ModifierResult) -> list[Table]:
    e = result.entry
    return [
        Table(
            "modifier",
            f"Modifier {result.modifier}",
            ("modifier", "in_registry", "name", "kind", "source", "release", "official", "official_source"),
            [
                (
                    result.modifier,
                    e is not None,
                    e.name if e else None,
                    e.kind if e else None,
                    e.source if e else None,
                    e.release if e else None,
                    e.official if e else None,
                    e.official_source if e else None,
                )
            ],
        ),
        Table(
            "listed_by",
            "Codes whose tables list it",
            ("code", "description", "when_to_use", "name_check", "caution", "sources"),
            [
                (x.code, x.description, x.when_to_use, x.name_check, x.caution, _srcs(x.sources))
                for x in result.listed_by
            ],
        ),
    ]


@tables.register
def _(result: Validation) -> list[Table]:
    return [
        Table(
            "findings", f"Validation of {result.path}", ("file", "finding"), [(result.path, f) for f in result.findings]
        )
    ]


def cut(result, d, sections: Sequence[str]):
    """A JSON document cut to the asked sections: a show document keeps the
    keys its sections own (and the code); search's one section is its list (the
    procedure hits, or the ICD-10-CM codes), both an object of the two lists;
    other results have no parts to cut (their section names were checked,
    cptcli.render.render)."""
    if isinstance(result, SearchHits):
        lists = {"hits": d, "icd": result.icd.to_dict() if result.icd is not None else []}
        return lists[sections[0]] if len(sections) == 1 else {name: lists[name] for name in sections}
    if not isinstance(result, ShowResults):
        return d
    keys = set(ALWAYS).union(*(JSON_KEYS[s] for s in sections))

    def one(doc: dict) -> dict:
        return {k: v for k, v in doc.items() if k in keys}

    return [one(x) for x in d] if isinstance(d, list) else one(d)


@tables.register
def _(result: Imports) -> list[Table]:
    return [
        Table(
            "imports",
            "Imported",
            ("kind", "release", "file", "records", "modifiers", "skipped", "seconds", "unchanged"),
            [
                (r.kind, r.release, r.file, r.records, r.modifiers, r.skipped_count, round(r.seconds, 2), r.unchanged)
                for r in result
            ],
        ),
        Table(
            "skipped",
            "Lines skipped",
            ("file", "line", "reason"),
            [(x.file, x.line, x.reason) for r in result for x in r.skipped],
        ),
    ]


@tables.register
def _(result: Sources) -> list[Table]:
    return [
        Table(
            "sources",
            "Code sets in use",
            ("kind", "release", "files", "records", "imported_at", "sha256"),
            [
                (r.kind, r.release, "; ".join(r.files), r.records, r.imported_at, "; ".join(r.sha256.values()))
                for r in result
            ],
        )
    ]


@tables.register
def _(result: ClaimsReport) -> list[Table]:
    # A piece before the last (a report written as judged) has rows only: the counts and the malformed rows follow.
    return [
        Table("findings", "Claim line findings", result.COLUMNS, list(result.rows)),
        Table("malformed", "Rows not read", ("row", "claim", "line", "reason"), [tuple(m) for m in result.malformed]),
        Table("summary", "Summary", tuple(result.summary), [tuple(result.summary.values())] if result.last else []),
    ]


@tables.register
def _(result: CacheInfo) -> list[Table]:
    columns = ("kind", "holds", "location", "files", "bytes", "in_use")
    kinds = [
        (
            kind,
            holds,
            where,
            len(files),
            sum(b for _, b in files),
            result.in_use if result.in_use in dict(files) else None,
        )
        for kind, holds, where, files in result.kinds()
    ]
    where = f"Imported code sets in {result.data_dir} (not a cache)"
    return [
        Table("caches", f"Caches in {result.cache_dir}", columns, kinds),
        Table("imported", where, ("set", "file", "bytes"), list(result.imported)),
    ]


@tables.register
def _(result: CacheCleared) -> list[Table]:
    return [
        Table("removed", f"Removed from {result.cache_dir}", ("kind", "file", "bytes"), list(result.removed)),
        Table("kept", "Kept", ("file", "reason"), list(result.kept)),
    ]
