"""Rich tables for people at a terminal. Imported only when a table is drawn:
importing Rich costs more than a `--json` call spends in all."""

from __future__ import annotations

import io
from collections.abc import Iterable
from functools import singledispatch

from rich import box
from rich.console import Console
from rich.panel import Panel
from rich.table import Table as _RichTable
from rich.text import Text as _RichText

from cptcli.codes import ended
from cptcli.model import (
    AuditReport,
    CheckReport,
    CodeList,
    CodeRecord,
    Fact,
    IcdResult,
    ModifierResult,
    Note,
    Validation,
    source_label,
    source_labels,
    spec,
)
from cptcli.results import Imports, ShowResult, ShowResults, Sources
from cptcli.search import Hits
from cptcli.textsafe import visible


class Text(_RichText):
    """Rich's Text with every string from the data made visible first
    (cptcli.textsafe): an escape sequence or a bidi override in a knowledge-base
    file is shown, never acted on by the terminal."""

    def __init__(self, text: str = "", *args, **kwargs):
        super().__init__(visible(text, keep="\n"), *args, **kwargs)

    def append(self, text, style=None):
        return super().append(visible(text, keep="\n") if isinstance(text, str) else text, style)


class Table(_RichTable):
    """Rich's Table whose string cells are made visible, as Text's are."""

    def add_row(self, *cells, **kwargs) -> None:
        super().add_row(*(visible(c, keep="\n") if isinstance(c, str) else c for c in cells), **kwargs)


def draw(renderables: Iterable, env) -> str:
    """Draw everything into a string first, so nothing half-drawn reaches stdout,
    at the width and colour of `env` (cptcli.output.Env)."""
    buffer = io.StringIO()
    # A fixed colour system: the tables use attributes (bold, italic), no
    # colours, so nothing is lost, and the drawing depends on width and colour alone.
    console = Console(
        file=buffer,
        width=env.width,
        force_terminal=env.colour,
        color_system="standard" if env.colour else None,
        no_color=not env.colour,
        highlight=False,
        emoji=False,
        markup=False,
        safe_box=True,
    )
    for r in renderables:
        console.print(r)
    return buffer.getvalue()


def render(result, options, env) -> str:
    return draw(parts(result, options.sections), env)


@singledispatch
def parts(result, sections=()) -> list:
    """The renderables of a result."""
    raise TypeError(f"no table drawing for {type(result).__name__}")


def _table(title: str, columns: list[str]) -> Table:
    t = Table(
        title=visible(title),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_lines=False,
        expand=False,
        title_style="bold",
    )
    for i, c in enumerate(columns):
        # The first column holds codes: never folded, so a narrow terminal still shows every code whole.
        t.add_column(c, overflow="fold", no_wrap=i == 0, min_width=5 if i == 0 else None)
    return t


def _facts_block(title: str, facts: tuple[Fact, ...]) -> Table | None:
    if not facts:
        return None
    t = _table(title, ["Text", "Source"])
    for f in facts:
        text = f.text + (f"\n{f.copyright}" if f.copyright else "")
        t.add_row(text, source_labels(f.sources))
    return t


def _notes_for(notes: tuple[Note, ...], prefix: str) -> dict[str, list[Note]]:
    """Index notes by the row key of one table ('modifiers/11' -> '11')."""
    out: dict[str, list[Note]] = {}
    for n in notes:
        if n.subject.startswith(prefix + "/"):
            out.setdefault(n.subject.split("/", 1)[1], []).append(n)
    return out


def _check_cell(notes: list[Note], rec: CodeRecord | None = None, row=None) -> str:
    cells = [f"⚠ {n.correction}" if n.correction else f"⚠ {n.kind}" for n in notes]
    if rec is not None and row is not None:
        mark = _contested_mark(rec, row).strip()
        if mark:
            cells.append(mark)
    return "; ".join(cells)


def _contested_mark(rec: CodeRecord, item) -> str:
    """' ⚠ contested: see the <subject> note' for an item that stands only on a conflicting reading."""
    contested = getattr(item, "contested", None)
    return f" ⚠ contested: stands on the {contested.subject} conflict (see Data notes)" if contested else ""


def _title(name: str) -> str:
    """A field's table title, from the field registry."""
    return spec(name).title or name


def header(rec: CodeRecord) -> Panel:
    flags = []
    if rec.is_add_on:
        flags.append("add-on (+): report with a primary procedure code")
    elif rec.is_add_on is None:
        flags.append("add-on status: not stated by the sources")
    flags.append(f"{rec.completeness} record")
    body = Text()
    body.append(rec.title.text, style="bold")
    body.append(f"  [{source_labels(rec.title.sources)}]\n")
    for n in rec.notes_about("title"):
        if n.kind == "correction" and n.correction:
            body.append("⚠ The source's title is wrong by the official code set. Officially: ", style="bold")
            body.append(f"{n.correction}  [{n.authority or 'see Data notes'}]\n")
    body.append(" · ".join(flags) + "\n")
    end = rec.termination
    if end is not None and end.value is not None:
        said = ended(end.value, rec.official_references)
        body.append(f"⚠ {said[0].upper()}{said[1:]}  [{source_labels(end.sources)}]\n", style="bold")
    if rec.descriptor and rec.completeness == "official" and rec.descriptor.text == rec.title.text:
        pass  # a record built from an official file alone: its title is that descriptor, shown once
    elif rec.descriptor:
        label = (
            "Official descriptor" if rec.descriptor.official else "Descriptor as the source gives it (not the AMA text)"
        )
        body.append(f"\n{label}: ", style="bold")
        body.append(f"{rec.descriptor.text}  [{source_labels(rec.descriptor.sources)}]")
        if rec.descriptor.copyright:
            body.append(f"\n{rec.descriptor.copyright}")
    else:
        body.append("\nNo descriptor in the sources.")
    body.rstrip()
    system = "HCPCS" if rec.code[0].isalpha() else "CPT"
    return Panel(body, title=f"{system} {rec.display_code}", title_align="left", box=box.ROUNDED)


def show(result: ShowResult, sources: dict) -> list[tuple[str, object]]:
    """One record's parts, each with the section (cptcli.render.flat.SECTIONS) --section picks it by."""
    rec = result.record
    parts: list[tuple[str, object]] = [("facts", header(rec))]
    for name in ("summary", "clinical_context", "examples"):
        block = _facts_block(_title(name), getattr(rec, name))
        if block is not None:
            parts.append(("facts", block))

    facts = _table("Service", ["Item", "Value", "Source"])
    for name in ("service_type", "sites_of_service", "specialties", "payers"):
        for f in getattr(rec, name):
            facts.add_row(_title(name), f.text, source_labels(f.sources))
    if facts.row_count:
        parts.append(("facts", facts))

    if rec.modifiers:
        notes = _notes_for(rec.notes, "modifiers")
        t = _table(_title("modifiers"), ["Modifier", "Description", "When to use", "Data note", "Source"])
        for r in rec.modifiers:
            t.add_row(
                r.modifier,
                r.description or "—",
                r.when_to_use or "—",
                _check_cell(notes.get(r.modifier, []), rec, r),
                source_labels(r.sources),
            )
        parts.append(("modifiers", t))
    if rec.taxonomy:
        notes = _notes_for(rec.notes, "taxonomy")
        t = _table(_title("taxonomy"), ["Code", "Specialty (as the source says)", "Notes", "Data note", "Source"])
        for tx in rec.taxonomy:
            t.add_row(
                tx.code,
                tx.specialty or "—",
                tx.notes or "—",
                _check_cell(notes.get(tx.code, []), rec, tx),
                source_labels(tx.sources),
            )
        parts.append(("taxonomy", t))
    if rec.diagnoses:
        notes = _notes_for(rec.notes, "diagnoses")
        t = _table(
            _title("diagnoses"),
            ["Code", "Description (as the source says)", "Clinical relevance", "Data note", "Source"],
        )
        for dx in rec.diagnoses:
            t.add_row(
                dx.code,
                dx.description or "—",
                dx.relevance or "—",
                _check_cell(notes.get(dx.code, []), rec, dx),
                source_labels(dx.sources),
            )
        parts.append(("diagnoses", t))
    if rec.related:
        t = _table(_title("related"), ["Code", "Description", "Relationship", "In knowledge base", "Source"])
        status = result.related_status
        for rel in rec.related:
            relationship = (rel.relationship or "—") + _contested_mark(rec, rel)
            t.add_row(
                rel.code, rel.description or "—", relationship, status.get(rel.code) or "no", source_labels(rel.sources)
            )
        parts.append(("related", t))
    if rec.official_descriptors or rec.official:
        rows = [(f"Descriptor ({d.kind})", d.text, "—", d.sources) for d in rec.official_descriptors]
        rows += [(a.label, a.value or "—", a.meaning or "—", a.sources) for a in rec.official]
        # One file answers for every row when one set is imported: named once in the title, the columns keep
        # their width for the values.
        one = {r[3] for r in rows}
        if len(one) == 1:
            t = _table(f"{_title('official')}: {source_labels(rows[0][3])}", ["Field", "Value", "Meaning"])
            for label, value, meaning, _ in rows:
                t.add_row(label, value, meaning)
        else:
            t = _table(_title("official"), ["Field", "Value", "Meaning", "Source"])
            for label, value, meaning, srcs in rows:
                t.add_row(label, value, meaning, source_labels(srcs))
        parts.append(("official", t))
    block = _facts_block("Documentation requirements", rec.documentation)
    parts.append(
        (
            "facts",
            block if block is not None else Text("Documentation requirements: none in the sources.", style="italic"),
        )
    )
    if rec.cross_references:
        t = _table(_title("cross_references"), ["Text", "Codes", "Source"])
        for x in rec.cross_references:
            t.add_row(x.text, ", ".join(x.codes), source_labels(x.sources))
        parts.append(("cross_references", t))
    if result.named_by:
        parts.append(("related", Text(f"Named by: {', '.join(result.named_by)}")))
    if rec.notes:
        t = _table(_title("notes"), ["Kind", "About", "Note", "Authority", "Source"])
        for n in rec.notes:
            t.add_row(
                n.kind,
                n.subject,
                n.text + (f"\nCorrection: {n.correction}" if n.correction else ""),
                n.authority or "—",
                source_labels(n.sources),
            )
        parts.append(("notes", t))
    t = _table("Sources", ["Id", "File", "Title"])
    for s in rec.all_sources():
        src = sources.get(s)
        t.add_row(source_label(s), s, src.title if src else "—")
    parts.append(("sources", t))
    if len(result.contributors) > 1:
        parts.append(
            (
                "sources",
                Text(
                    "Knowledge-base files: "
                    + ", ".join(result.contributors)
                    + " (rows cite their own sources; 'override' notes list values an earlier "
                    "file kept)"
                ),
            )
        )
    return parts


@parts.register
def _(result: ShowResults, sections=()) -> list:
    from cptcli.render.flat import SECTIONS

    unknown = [s for s in sections if s not in SECTIONS]
    if unknown:
        from cptcli.errors import UsageError

        raise UsageError(f"unknown section {unknown[0]!r}: choose from {', '.join(SECTIONS)}")
    return [part for r in result for name, part in show(r, result.sources) if not sections or name in sections]


@parts.register
def hits(results: Hits, sections=()) -> list:
    """A caption says how many matching codes the limit left out."""
    from cptcli.codes import printable

    t = _table(f"Search: {printable(results.query, 60)}", ["Code", "Title", "Score", "Matched", "Snippet"])
    total = getattr(results, "total", len(results))
    if total > len(results):
        more = "--limit N shows more"
        rows = {(h.matched_field, h.matched_row) for h in results}
        [(field, row)] = rows if len(rows) == 1 else [(None, None)]
        if row is not None:  # every hit is the same ICD-10-CM or modifier row: the reverse look-up lists them all
            more += f"; cptcli {'icd' if field == 'diagnoses' else 'modifier'} {row} lists every code with that row"
        t.caption, t.caption_justify = f"{len(results)} of {total:,} matching codes shown: {more}.", "left"
    for h in results:
        snippet = Text(h.snippet)
        for start, end in h.highlights:
            snippet.stylize("bold", start, end)
        if h.data_note:
            snippet.append(f"\n⚠ {h.data_note}")
        if h.caution:
            snippet.append(f"\n⚠ caution: {h.caution}", style="bold")
        t.add_row(f"+{h.code}" if h.add_on else h.code, h.title, f"{h.score:.1f}", h.matched_field, snippet)
    return [t]


@parts.register
def code_list(result: CodeList, sections=()) -> list:
    summaries = result.summaries
    t = _table("Codes in the knowledge base", ["Code", "Title", "Add-on", "Record"])
    for r in summaries:
        addon = {True: "yes", False: "no", None: "—"}[r.add_on]
        t.add_row(r.code, r.title, addon, r.completeness)
    return [t]


# -- checks against official code sets (audit, check, icd, modifier) -------------

_SEVERITY = {"error": "ERROR", "warning": "warning", "info": "info"}


def _authority_legend(findings) -> tuple[dict, Table | None]:
    """Number each authority once: the full names are long and repeat on every row."""
    numbers: dict[str, int] = {}
    for f in findings:
        if f.authority and f.authority not in numbers:
            numbers[f.authority] = len(numbers) + 1
    if not numbers:
        return numbers, None
    t = _table("Checked against", ["#", "Authority"])
    for name, n in numbers.items():
        t.add_row(f"[{n}]", name)
    return numbers, t


def _findings_table(title: str, findings, with_code: bool) -> list:
    numbers, legend = _authority_legend(findings)
    columns = ["Severity"] + (["Code"] if with_code else []) + ["About", "Finding", "Auth.", "Source"]
    t = _table(title, columns)
    for f in findings:
        row = [_SEVERITY.get(f.severity, f.severity)] + ([f.code or "—"] if with_code else [])
        text = f.message
        if f.stated and f.official and f.stated not in f.message:
            text += f"\n  row says: {f.stated}\n  official: {f.official}"
        row += [f.subject, text, f"[{numbers[f.authority]}]" if f.authority else "—", source_labels(f.sources) or "—"]
        t.add_row(*row)
    return [t] + ([legend] if legend is not None else [])


def _counts_line(findings) -> Text:
    n = {s: sum(1 for f in findings if f.severity == s) for s in ("error", "warning", "info")}

    def plural(k: int, w: str) -> str:
        return f"{k} {w}" + ("" if k == 1 else "s")

    return Text(f"{plural(n['error'], 'error')}, {plural(n['warning'], 'warning')}, {n['info']} info")


@parts.register
def audit_report(report: AuditReport, sections=()) -> list:
    if not report.findings:
        return [Text("No findings: every row agrees with the registry, the taxonomy list and ICD-10-CM.")]
    return _findings_table("Audit of the knowledge base", report.findings, with_code=True) + [
        _counts_line(report.findings)
    ]


@parts.register
def check_report(report: CheckReport, sections=()) -> list:
    line = report.display_code + "".join(f"-{m}" for m in report.modifiers)
    if report.with_codes:
        line += " with " + ", ".join(report.with_codes)
    if report.diagnoses:
        line += "; dx " + ", ".join(report.diagnoses)
    verdict = Text(f"Verdict: {_VERDICTS[report.verdict]}", style="bold")
    if not report.issues:
        return [Text(f"Check {line}: no errors or warnings."), verdict]
    return _findings_table(f"Check {line}", report.issues, with_code=False) + [_counts_line(report.issues), verdict]


_VERDICTS = {
    "pass": "pass (checked: no errors or warnings)",
    "fail": "FAIL (at least one error)",
    "unverified": "NOT VERIFIED (nothing could verify part of this line: see the rows above)",
}


@parts.register
def icd_result(result: IcdResult, sections=()) -> list:
    body = Text()
    body.append(result.description, style="bold")
    body.append("\n")
    if result.billable:
        body.append("Billable: yes (a valid code at this level)")
    else:
        body.append("Billable: no. This is a header: report one of the billable codes below it.")
    if result.parent:
        body.append(f"\nUnder: {result.parent.code} {result.parent.description}")
    body.append(f"\n{result.authority}")
    parts: list = [Panel(body, title=f"ICD-10-CM {result.code}", title_align="left", box=box.ROUNDED)]
    if result.children:
        t = _table("Codes directly below", ["Code", "Description", "Billable"])
        for c in result.children:
            t.add_row(c.code, c.description, "yes" if c.billable else "no (header)")
        parts.append(t)
    if not result.billable and len(result.billable_children) > len(result.children):
        t = _table(f"Billable codes under {result.code} ({len(result.billable_children)})", ["Code", "Description"])
        for c in result.billable_children:
            t.add_row(c.code, c.description)
        parts.append(t)
    if result.listed_by:
        t = _table(
            f"CPT codes in the knowledge base that list {result.code}",
            [
                "CPT",
                "Description (as the source says)",
                "Official description",
                "Clinical relevance",
                "Data note",
                "Source",
            ],
        )
        for x in result.listed_by:
            official = "same" if x.description_matches else result.description
            t.add_row(
                x.display_code,
                x.description or "—",
                official,
                x.relevance or "—",
                _check_cell(list(x.notes)),
                source_labels(x.sources),
            )
        parts.append(t)
    else:
        parts.append(Text(f"No code in the knowledge base lists {result.code}.", style="italic"))
    return parts


_NAME_CHECK = {"same": "yes", "shorter": "shorter", "different": "NO", None: "—"}


@parts.register
def modifier_result(result: ModifierResult, sections=()) -> list:
    e = result.entry
    body = Text()
    if e is None:
        body.append("Not in cptcli's modifier registry: unverified.", style="bold")
        body.append("\nThe rows below are shown as the documents give them; read their data notes.")
        title = f"Modifier {result.modifier} (not in the registry)"
    else:
        body.append(e.name, style="bold")
        body.append(f"\nKind: {e.kind}")
        if e.summary:
            body.append(f"\n{e.summary}")
        if e.conflicts_with:
            body.append(f"\nNot reported together with: {', '.join(e.conflicts_with)}")
        if e.not_with_add_on:
            body.append("\nNot appended to add-on codes.")
        body.append(f"\nSource: {e.source}")
        if e.official:
            body.append(f"\nOfficial wording: {e.official}  [{e.official_source}]")
            if result.official_check == "different":
                body.append("\n⚠ The registry's name is not the imported file's wording: the file is CMS's own text.")
        title = f"Modifier {result.modifier} ({e.kind})"
    parts: list = [Panel(body, title=title, title_align="left", box=box.ROUNDED)]
    if result.listed_by:
        t = _table(
            f"Codes whose tables list {result.modifier}",
            ["CPT", "Description (as the source says)", "When to use", "Registry name?", "Data note", "Source"],
        )
        for x in result.listed_by:
            t.add_row(
                x.display_code,
                x.description or "—",
                x.when_to_use or "—",
                _NAME_CHECK[x.name_check],
                _check_cell(list(x.notes)),
                source_labels(x.sources),
            )
        parts.append(t)
    else:
        parts.append(Text(f"No document lists {result.modifier} for a code in the knowledge base.", style="italic"))
    return parts


@parts.register
def validation(result: Validation, sections=()) -> list:
    if not result.findings:
        return [Text(f"{result.path}: valid")]
    t = _table(f"Validation of {result.path}", ["Finding"])
    for f in result.findings:
        t.add_row(f)
    return [t, Text(f"{len(result.findings)} finding{'s' if len(result.findings) != 1 else ''}")]


@parts.register
def imports(result: Imports, sections=()) -> list:
    t = _table("Imported", ["Kind", "Release", "File", "Records", "Modifiers", "Skipped lines", "Seconds"])
    for r in result:
        t.add_row(
            r.kind,
            r.release,
            r.file,
            f"{r.records:,}",
            f"{r.modifiers:,}",
            f"{r.skipped_count:,}",
            f"{r.seconds:.1f}",
        )
    out: list = [t]
    # Said below the table: in a cell it would squeeze the file names into two lines.
    out.extend(Text(f"{r.file}: unchanged, already the active {r.kind} release") for r in result if r.unchanged)
    skipped = [(x, r) for r in result for x in r.skipped]
    if skipped:
        s = _table("Lines skipped (the first of each file)", ["File", "Line", "Why"])
        for x, _ in skipped:
            s.add_row(x.file, str(x.line), x.reason)
        out.append(s)
    for r in result:
        for f in r.skipped_files:
            out.append(Text(f"Skipped {f.name}: {f.reason}"))
    return out


@parts.register
def sources_list(result: Sources, sections=()) -> list:
    t = _table("Code sets in use", ["Kind", "Release", "Files", "Records", "Imported at", "SHA-256"])
    for r in result:
        t.add_row(
            r.kind, r.release, "\n".join(r.files), f"{r.records:,}", r.imported_at or "—", "\n".join(r.sha256.values())
        )
    return [t]
