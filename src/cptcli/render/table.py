"""Rich tables for people at a terminal. Imported only when a table is drawn:
importing Rich costs more than a `--json` call spends in all."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from functools import singledispatch

from rich import box
from rich.console import Console
from rich.panel import Panel
from rich.table import Table as _RichTable
from rich.text import Text as _RichText

from cptcli.codes import ended
from cptcli.codesets.icd_search import IcdHits, SearchHits
from cptcli.model import (
    AuditReport,
    CacheCleared,
    CacheInfo,
    CheckReport,
    CodeList,
    CodeRecord,
    Fact,
    IcdResult,
    ModifierResult,
    Note,
    Spec,
    Validation,
    registry,
    source_label,
    source_labels,
    spec,
)
from cptcli.results import ClaimsReport, Imports, ShowResult, ShowResults, Sources
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


class Unfolded(Text):
    """A line that names a directory: never folded nor cut (the terminal wraps it), so the path copies whole."""


# A word longer than this may be cut in a narrow table rather than widen its column further.
WORD_MAX = 24


class Table(_RichTable):
    """Rich's Table whose string cells are made visible, as Text's are. A word wider than its column is cut
    with "…" rather than folded mid-word without a mark (Rich's default)."""

    def add_row(self, *cells, **kwargs) -> None:
        super().add_row(*(visible(c, keep="\n") if isinstance(c, str) else c for c in cells), **kwargs)

    def add_column(self, *args, **kwargs) -> None:
        kwargs.setdefault("overflow", "ellipsis")
        super().add_column(*args, **kwargs)

    def __rich_console__(self, console, options):
        self._fit(options.max_width)
        yield from super().__rich_console__(console, options)

    def _fit(self, max_width: int) -> None:
        """Widths that keep every column's longest word whole when the words fit side by side: Rich's own
        squeeze narrows the widest columns first, below their words, and folds a code or a path mid-word.
        Each column gets its longest word (at most WORD_MAX), and the room left is shared out evenly, a column
        that wants less than its share drawn whole."""
        from rich.cells import cell_len

        columns = self.columns
        room = max_width - self._extra_width - sum(self._get_padding_width(c._index) for c in columns)
        wants, words = [], []
        for c in columns:
            texts = [str(c.header)] + [x.plain if isinstance(x, _RichText) else str(x) for x in c.cells]
            lines = [line for t in texts for line in t.split("\n")]
            wants.append(max((cell_len(line) for line in lines), default=1))
            longest = max((cell_len(w) for line in lines for w in line.split()), default=1)
            words.append(min(longest, WORD_MAX) if not c.no_wrap else wants[-1])
        if sum(wants) <= room:
            return
        cap = WORD_MAX
        while sum(words) > room and cap > 4:
            # Not even the words fit: the longest are cut (with "…") to a common length, the short stay whole.
            cap -= 1
            words = [m if c.no_wrap else min(m, cap) for c, m in zip(columns, words, strict=True)]
        if sum(words) > room:
            return  # too narrow for any layout of ours: Rich's squeeze
        spare, extra = room - sum(words), [w - m for w, m in zip(wants, words, strict=True)]
        widths = list(words)
        # An even share of the room left to each column, the columns that want least first: a column that wants
        # less than its share is drawn whole (a title is not folded to give a long snippet a little more) and
        # what it leaves goes to the others.
        order = sorted(range(len(columns)), key=lambda i: extra[i])
        for n, i in enumerate(order):
            share = min(extra[i], spare // (len(order) - n))
            widths[i] += share
            spare -= share
        for c, w in zip(columns, widths, strict=True):
            c.width = w


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
        console.print(r, soft_wrap=isinstance(r, Unfolded))
    return _TRAILING.sub(r"\1", buffer.getvalue())


# The padding Rich puts at the end of a table's lines (before any closing style codes): a terminal shows
# nothing there, a copied line carries it, and `diff` and editors flag it.
_TRAILING = re.compile(r" +((?:\x1b\[[0-9;]*m)*)$", re.M)


def render(result, options, env) -> str:
    if getattr(options, "brief", False) and isinstance(result, ShowResults):
        return "".join(_brief(r, env) for r in result)
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
        t.add_column(c, no_wrap=i == 0, min_width=5 if i == 0 else None)
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


def _caution_cell(notes: list[Note], caution: str | None) -> str:
    """A reverse look-up's data note, and a pointer to the caution a row on a contested reading carries: a caution
    runs to a paragraph, which a table column would cut into a word a line."""
    cell = _check_cell(notes)
    return f"{cell}\n⚠ cautioned" if cell and caution else ("⚠ cautioned" if caution else cell)


def _cautions_below(listings) -> list[Text]:
    """The cautions of a reverse look-up's rows, in full below its table, each once, in the words search uses."""
    by: dict[str, list[str]] = {}
    for x in listings:
        if x.caution:
            by.setdefault(x.caution, []).append(x.display_code)
    return [Text(f"⚠ caution ({', '.join(codes)}): {caution}", style="bold") for caution, codes in by.items()]


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
    elif rec.is_add_on is False:
        flags.append("not an add-on code")
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
    body.rstrip()
    system = "HCPCS" if rec.code[0].isalpha() else "CPT"
    return Panel(body, title=f"{system} {rec.display_code}", title_align="left", box=box.ROUNDED)


# -- show: one drawing a record field, found through the field registry ------------------
#
# Each field of cptcli.model.CodeRecord is drawn by the function DRAWINGS names for it (several fields may share
# one drawing: the header draws the code, title and descriptor). A field the map does not name is drawn by its
# registry kind (a list of facts as a facts block, a table of rows as a row table), and a field no drawing fits
# raises, so a new field never vanishes from the table view unnoticed (tests/test_fields.py).


def _facts_of(s: Spec):
    def draw(result: ShowResult, sources: dict) -> list:
        block = _facts_block(s.title or s.name, getattr(result.record, s.name))
        return [block] if block is not None else []

    return draw


def _service(result: ShowResult, sources: dict) -> list:
    rec = result.record
    t = _table("Service", ["Item", "Value", "Source"])
    for name in SERVICE_FIELDS:
        for f in getattr(rec, name):
            t.add_row(_title(name), f.text, source_labels(f.sources))
    return [t] if t.row_count else []


# The fields of the Service table: short facts, one row each, under one title.
SERVICE_FIELDS = ("service_type", "sites_of_service", "specialties", "payers")

# Column heads of the row tables, after the key: the registry names the fields, these say whose words they are.
_ROW_COLUMNS = {
    "modifiers": ["Modifier", "Description", "When to use"],
    "taxonomy": ["Code", "Specialty (as the source says)", "Notes"],
    "diagnoses": ["Code", "Description (as the source says)", "Clinical relevance"],
}


def _rows_of(s: Spec):
    """A table of rows (model._Row): the key, its two cells, the data notes on the row, its sources."""

    def draw(result: ShowResult, sources: dict) -> list:
        rec = result.record
        rows = getattr(rec, s.name)
        if not rows:
            return []
        notes = _notes_for(rec.notes, s.name)
        heads = _ROW_COLUMNS.get(s.name) or [n.replace("_", " ").capitalize() for n in _field_names(s.item)[:3]]
        t = _table(s.title or s.name, [*heads, "Data note", "Source"])
        for r in rows:
            first, second = r.cells()
            t.add_row(
                r.key, first or "—", second or "—", _check_cell(notes.get(r.key, []), rec, r), source_labels(r.sources)
            )
        return [t]

    return draw


def _field_names(cls) -> list[str]:
    from dataclasses import fields

    return [f.name for f in fields(cls)]


def _related(result: ShowResult, sources: dict) -> list:
    rec = result.record
    out: list = []
    if rec.related:
        t = _table(_title("related"), ["Code", "Description", "Relationship", "In knowledge base", "Source"])
        status = result.related_status
        for rel in rec.related:
            relationship = (rel.relationship or "—") + _contested_mark(rec, rel)
            t.add_row(
                rel.code, rel.description or "—", relationship, status.get(rel.code) or "no", source_labels(rel.sources)
            )
        out.append(t)
    if result.named_by:
        out.append(Text(f"Named by: {', '.join(result.named_by)}"))
    return out


def _official(result: ShowResult, sources: dict) -> list:
    """The imported code sets' descriptors and fields in one table: they come from the same files."""
    rec = result.record
    rows = [(f"Descriptor ({d.kind})", d.text, "—", d.sources) for d in rec.official_descriptors]
    rows += [(a.label, a.value or "—", a.meaning or "—", a.sources) for a in rec.official]
    if not rows:
        return []
    # One file answers for every row when one set is imported: named once in the title, the columns keep
    # their width for the values.
    if len({r[3] for r in rows}) == 1:
        t = _table(f"{_title('official')}: {source_labels(rows[0][3])}", ["Field", "Value", "Meaning"])
        for label, value, meaning, _ in rows:
            t.add_row(label, value, meaning)
    else:
        t = _table(_title("official"), ["Field", "Value", "Meaning", "Source"])
        for label, value, meaning, srcs in rows:
            t.add_row(label, value, meaning, source_labels(srcs))
    return [t]


def silent(rec: CodeRecord) -> list[str]:
    """What the sources say nothing about, among what a coder looks for first."""
    out = []
    if rec.is_add_on is None:
        out.append("add-on status")
    if rec.descriptor is None:
        out.append("descriptor")
    if not rec.documentation:
        out.append("documentation requirements")
    return out


def _documentation(result: ShowResult, sources: dict) -> list:
    """The documentation block, and the one line that names what the sources are silent on (only the full view
    says that: it is no caution)."""
    rec = result.record
    block = _facts_block(_title("documentation"), rec.documentation)
    out: list = [block] if block is not None else []
    quiet = silent(rec)
    if quiet:
        out.append(Text(f"Not stated by the sources: {', '.join(quiet)}.", style="italic"))
    return out


def _cross_references(result: ShowResult, sources: dict) -> list:
    rec = result.record
    if not rec.cross_references:
        return []
    t = _table(_title("cross_references"), ["Text", "Codes", "Source"])
    for x in rec.cross_references:
        t.add_row(x.text, ", ".join(x.codes), source_labels(x.sources))
    return [t]


def _notes(result: ShowResult, sources: dict) -> list:
    rec = result.record
    if not rec.notes:
        return []
    t = _table(_title("notes"), ["Kind", "About", "Note", "Authority", "Source"])
    for n in rec.notes:
        t.add_row(
            n.kind,
            n.subject,
            n.text + (f"\nCorrection: {n.correction}" if n.correction else ""),
            n.authority or "—",
            source_labels(n.sources),
        )
    return [t]


def _sources(result: ShowResult, sources: dict) -> list:
    rec = result.record
    t = _table("Sources", ["Id", "File", "Title"])
    for s in rec.all_sources():
        src = sources.get(s)
        t.add_row(source_label(s), s, src.title if src else "—")
    out: list = [t]
    if len(result.contributors) > 1:
        out.append(
            Text(
                "Knowledge-base files: "
                + ", ".join(result.contributors)
                + " (rows cite their own sources; 'override' notes list the values a later file gave: kept, or "
                "replacing the earlier where that file says why)"
            )
        )
    return out


def _header(result: ShowResult, sources: dict) -> list:
    return [header(result.record)]


def _scalar_fact(s: Spec):
    def draw(result: ShowResult, sources: dict) -> list:
        f = getattr(result.record, s.name)
        if f is None:
            return []
        t = _table(s.title or s.name, ["Text", "Source"])
        t.add_row(f.text, source_labels(f.sources))
        return [t]

    return draw


# field -> its drawing; the header draws what identifies the code.
DRAWINGS = {
    "code": _header,
    "completeness": _header,
    "add_on": _header,
    "title": _header,
    "descriptor": _header,
    **dict.fromkeys(SERVICE_FIELDS, _service),
    "documentation": _documentation,
    "related": _related,
    "cross_references": _cross_references,
    "official_descriptors": _official,
    "official": _official,
    "notes": _notes,
}


def drawing(s: Spec):
    """The drawing of one registry field: its own, else the one its kind and item have."""
    if s.name in DRAWINGS:
        return DRAWINGS[s.name]
    if s.kind == "list" and s.item is Fact:
        return _facts_of(s)
    if s.kind == "scalar" and s.item is Fact:
        return _scalar_fact(s)
    if s.kind == "table" and hasattr(s.item, "cells"):
        return _rows_of(s)
    raise LookupError(f"no table drawing for the record field {s.name!r} ({s.kind} of {s.item!r}): add one to DRAWINGS")


def show(result: ShowResult, sources: dict) -> list[tuple[str, object]]:
    """One record's parts in the registry's order, each with the section (cptcli.render.flat.SECTIONS) --section
    picks it by."""
    parts: list[tuple[str, object]] = []
    done = set()
    for s in registry(type(result.record)):
        draw = drawing(s)
        if draw in done:
            continue
        done.add(draw)
        parts += [(s.section, p) for p in draw(result, sources)]
    parts += [("sources", p) for p in _sources(result, sources)]
    return parts


# -- show --brief: the essentials of a code on one screen -------------------------------------

# At most this many lines a code: what a terminal shows without scrolling.
BRIEF_LINES = 25
# The kinds of data note a coder must see before using the code; the rest (clarifications, unverified wording)
# stay in the full view.
_CAUTIONS = ("correction", "conflict", "override")


def _line(text: str, width: int) -> Text:
    """One line: cut with "…" at the terminal's width, never wrapped."""
    line = Text(" ".join(text.split()), no_wrap=True, overflow="ellipsis")
    line.truncate(width, overflow="ellipsis")
    return line


def _cautions(rec: CodeRecord, width: int) -> list[Text]:
    """A line a data note that matters and is about the code itself (a row's corrections are counted on its
    table's line; the title's correction is in the header)."""
    out = []
    for n in rec.notes:
        if n.kind in _CAUTIONS and "/" not in n.subject and n.subject != "title":
            out.append(_line(f"⚠ {n.kind} ({n.subject}): {n.text}", width))
    return out


def _table_lines(rec: CodeRecord, width: int) -> list[Text]:
    """A line a table of the full view (its section) with its row count, and how many rows a data note corrects
    or a contested reading carries."""
    from cptcli.render.flat import TITLES

    counts: dict[str, list[int]] = {}
    facts: list[str] = []
    for s in registry(type(rec)):
        value = getattr(rec, s.name)
        if s.kind not in ("list", "table") or not value:
            continue
        if s.section == "facts":
            facts.append(f"{(s.title or s.name).split(' / ')[0].lower()} {len(value)}")
            continue
        n = counts.setdefault(s.section, [0, 0, 0])
        n[0] += len(value)
        if s.kind == "table":
            n[1] += sum(1 for r in value if _corrected(rec, f"{s.name}/{r.key}"))
        n[2] += sum(1 for r in value if getattr(r, "contested", None))
    out = []
    for section, (rows, corrected, contested) in counts.items():
        said = [f"{corrected} corrected"] if corrected else []
        said += [f"{contested} on a contested reading"] if contested else []
        more = f" ({', '.join(said)})" if said else ""
        out.append(_line(f"{TITLES.get(section, section)}: {rows} row{'s' if rows != 1 else ''}{more}", width))
    if facts:
        out.append(_line(f"Facts: {', '.join(facts)}", width))
    return out


def _corrected(rec: CodeRecord, subject: str) -> bool:
    return any(n.kind == "correction" for n in rec.notes_about(subject))


def _brief(result: ShowResult, env) -> str:
    """One code in at most BRIEF_LINES lines: the header, the cautions that fit, a line a table."""
    rec = result.record
    head = draw([header(rec)], env)
    width = env.width
    tail = [
        *_table_lines(rec, width),
        _line(f"Everything: cptcli show {rec.code} --full; one part: --section NAME", width),
    ]
    cautions = _cautions(rec, width)
    room = BRIEF_LINES - head.count("\n") - len(tail)
    if len(cautions) > room:
        left = len(cautions) - room + 1
        cautions = cautions[: room - 1] + [_line(f"⚠ {left} more: cptcli show {rec.code} --section notes", width)]
    return head + draw([*cautions, *tail], env)


@parts.register
def _(result: ShowResults, sections=()) -> list:
    out = [part for r in result for name, part in show(r, result.sources) if not sections or name in sections]
    return out + payer_parts(result, sections)


def payer_parts(result: ShowResults, sections=()) -> list:
    """The imported payer edits' facts of the codes (cptcli.edits), as flat.py words them: a table each."""
    from cptcli.render.flat import TITLES, _section_table

    out = []
    for name in ("payer", "ptp"):
        if (sections and name not in sections) or (not sections and name == "ptp"):
            continue
        table = _section_table(name, result)
        if not table.rows:
            continue
        t = _table(TITLES[name], [c.replace("_", " ").capitalize() for c in table.columns])
        for row in table.rows:
            t.add_row(*("—" if v is None else str(v) for v in row))
        out.append(t)
    return out


@parts.register
def icd_hits(results: IcdHits, sections=(), title: str = "ICD-10-CM search") -> list:
    """ICD-10-CM codes by words: a header is marked, the corrections of typos and the release are said."""
    from cptcli.codes import printable

    t = _table(f"{title}: {printable(results.query, 60)}", ["Code", "Description", "Score", "Matched"])
    if results.total > len(results):
        shown = f"{len(results)} of {results.total:,} matching codes shown: --limit N shows more."
        t.caption, t.caption_justify = shown, "left"
    for h in results:
        code = h.code if h.billable else f"{h.code} (header)"
        matched = Text(h.matched_field if h.matched_field == "description" else f"{h.matched_field}: {h.matched_text}")
        t.add_row(code, h.description, f"{h.score:.1f}", matched)
    said = [f"Read as: {', '.join(f'{a} → {b}' for a, b in results.corrected.items())}"] if results.corrected else []
    also = getattr(results, "also", None)
    if also:
        read = ", ".join(f"{a} → {b}" for a, b in also.items())
        said.append(f"Also read as, as the Alphabetic Index reads it: {read}")
    return [t, *(Text(line, style="italic") for line in [*said, results.authority])]


@parts.register
def search_hits(results: SearchHits, sections=()) -> list:
    """The procedure hits (or a line saying there are none), then the ICD-10-CM section of a query that reads as a
    diagnosis; --section picks one."""
    from cptcli.codes import printable

    out: list = []
    if not sections or "hits" in sections:
        out += hits(results) if results else [Text(f"No procedure code matches {printable(results.query, 60)!r}.")]
    if results.icd is not None and (not sections or "icd" in sections):
        if out:
            out.append(Text(""))
        if results.icd:
            out += icd_hits(results.icd, title="ICD-10-CM diagnoses")
        else:
            out.append(Text(f"No ICD-10-CM code matches {printable(results.query, 60)!r}."))
    return out


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
            snippet.append(f"\n⚠ caution: {_without_authorities(h.caution, h.code)}", style="bold")
        if h.missing:
            snippet.append(f"\nmissing: {', '.join(h.missing)}", style="dim")
        t.add_row(f"+{h.code}" if h.add_on else h.code, h.title, _score(h.score), h.matched_field, snippet)
    # A query that names a category: the family its hits belong to, once.
    families = dict.fromkeys(h.family for h in results if getattr(h, "family", None))
    return [t, *(Text(f"Family of {f}", style="italic") for f in families)]


def _score(score: float) -> str:
    """A search score with the decimals it carries (they order hits of one family: 86.878 above 86.871), at
    least one."""
    from cptcli.search.scoring import SCORE_DECIMALS

    text = f"{score:.{SCORE_DECIMALS}f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def _without_authorities(caution: str, code: str) -> str:
    """A long caution in a table cell keeps its correction (the code that does cover the service) and points at its
    authorities, which `show` lists in full; JSON keeps every word."""
    said, bracket, _ = caution.partition(" [")
    if not bracket or len(caution) <= LONG_FINDING:
        return caution
    return f"{said} [authorities: cptcli show {code} --section notes]"


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


# A finding longer than this is listed in full below its table: in a cell it would run to dozens of lines.
LONG_FINDING = 200


def _findings_table(title: str, findings, with_code: bool) -> list:
    numbers, legend = _authority_legend(findings)
    columns = ["Severity"] + (["Code"] if with_code else []) + ["About", "Finding", "Auth.", "Source"]
    t = _table(title, columns)
    below: list[Text] = []
    for f in findings:
        row = [_SEVERITY.get(f.severity, f.severity)] + ([f.code or "—"] if with_code else [])
        text = f.message
        if f.stated and f.official and f.stated not in f.message:
            text += f"\n  row says: {f.stated}\n  official: {f.official}"
        if len(text) > LONG_FINDING:
            below.append(Text(f"({len(below) + 1}) {f.subject}: {text}"))
            text = f"{_cut_words(f.message, 60)} see ({len(below)}) below"
        row += [f.subject, text, f"[{numbers[f.authority]}]" if f.authority else "—", source_labels(f.sources) or "—"]
        t.add_row(*row)
    if below:
        below.insert(0, Text("In full:", style="bold"))
    return [t, *below] + ([legend] if legend is not None else [])


def _cut_words(text: str, limit: int) -> str:
    """The words of `text` that fit in `limit` characters, and "…" when some were left out."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


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
    if report.units != 1:
        line += f"; {report.units} units"
    if report.date:
        line += f"; on {report.date}, {report.setting}"
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
                _caution_cell(list(x.notes), x.caution),
                source_labels(x.sources),
            )
        parts += [t, *_cautions_below(result.listed_by)]
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
        if e.only_on:
            body.append(f"\nOnly on {e.only_on.what} ({', '.join(e.only_on.codes)})  [{e.only_on.authority}]")
        body.append(f"\nSource: {e.source}")
        if e.release:
            body.append(f"\nRelease: {e.release}")
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
                _caution_cell(list(x.notes), x.caution),
                source_labels(x.sources),
            )
        parts += [t, *_cautions_below(result.listed_by)]
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
    # A zip of thousands of other files would bury the table under as many lines: the first few, then a count.
    files = [f for r in result for f in r.skipped_files]
    out.extend(Text(f"Skipped {f.name}: {f.reason}") for f in files[:SKIPPED_SHOWN])
    if len(files) > SKIPPED_SHOWN:
        more = len(files) - SKIPPED_SHOWN
        out.append(Text(f"… and {more:,} more file{'s' if more != 1 else ''} skipped (--json lists every one)"))
    return out


SKIPPED_SHOWN = 5


@parts.register
def sources_list(result: Sources, sections=()) -> list:
    """The sets, then their files: a file name and its SHA-256 are what a user compares with a download, so each
    is printed whole on a line of its own rather than cut to fit a column."""
    t = _table("Code sets in use", ["Kind", "Release", "Records", "Imported"])
    files = [Text("\nFiles and their SHA-256", style="bold")]
    for r in result:
        when = (r.imported_at or "").replace("T", " ")[:16]
        t.add_row(r.kind, r.release, f"{r.records:,}", f"{when} UTC" if when else "—")
        for name in r.files:
            digest = r.sha256.get(name.rsplit("/", 1)[-1]) or r.sha256.get(name)
            files.append(Text(f"  {r.kind}: {name}" + (f"\n      {digest}" if digest else "")))
    return [t, *files]


@parts.register
def claims_report(result: ClaimsReport, sections=()) -> list:
    t = _table(f"Claim lines of {result.file}", ["Claim", "Line", "Code", "Verdict", "Severity", "Finding"])
    for claim, line, _, code, verdict, severity, _, subject, message, _ in result.rows:
        t.add_row(
            claim, line, code, verdict, severity.upper() if severity == "error" else severity, f"{subject}: {message}"
        )
    out: list = [t] if result.rows else []
    if not result.last:
        return out
    if result.malformed:
        m = _table("Rows not read (skipped)", ["Row", "Claim", "Line", "Why"])
        for bad in result.malformed:
            m.add_row(str(bad.row), bad.claim, bad.line, bad.reason)
        out.append(m)
    s = result.summary
    out.append(
        Text(
            f"{s['claims']:,} claims, {s['lines']:,} lines checked: {s['passing']:,} pass, {s['failing']:,} fail, "
            f"{s['not_verified']:,} not verified; {s['malformed']:,} rows malformed"
        )
    )
    out.append(Text(f"Verdict: {_VERDICTS[result.verdict].split(' (')[0]}", style="bold"))
    return out


def _bytes(n: int) -> str:
    """A size as people read it (1,024-based, as du -h and ls -lh)."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1024
    return f"{n} B"


@parts.register
def cache_info(result: CacheInfo, sections=()) -> list:
    import os

    from cptcli.render.flat import select, tables

    wanted = {t.name for t in select(tables(result), sections)}
    out: list = []
    if "caches" in wanted:
        if result.cache_dir is None:
            out.append(Unfolded(f"No cache directory: {result.refused}"))
        else:
            out.append(Unfolded(f"Caches in {result.cache_dir}"))
            t = _table("", ["Kind", "Files", "Count", "Size", "Holds"])
            for kind, holds, where, files in result.kinds():
                t.add_row(
                    kind, os.path.basename(where or ""), f"{len(files):,}", _bytes(sum(b for _, b in files)), holds
                )
            out.append(t)
            total = sum(b for files in result.caches.values() for _, b in files)
            out.append(Text(f"{_bytes(total)} in all; cptcli cache clear removes them (rebuilt when needed)"))
            if result.refused:
                out.append(Unfolded(f"Not used: {result.refused}"))
            elif result.in_use in dict(result.caches["index"]):
                out.append(Text(f"The knowledge-base files in play use {result.in_use}"))
            else:
                out.append(Text("The knowledge-base files in play have no index yet: the next look-up builds it"))
            if result.other_files:
                out.append(Text(f"Not cptcli's, left alone: {', '.join(result.other_files)}"))
    if "imported" in wanted:
        if result.imported:
            where = f"Imported code sets in {result.data_dir} (not a cache: cptcli import --remove KIND)"
            out.append(Unfolded(where))
            t = _table("", ["Set", "File", "Size"])
            for name, file, size in result.imported:
                t.add_row(name, file, _bytes(size))
            out.append(t)
        else:
            out.append(Unfolded(f"No imported code sets (they would live in {result.data_dir})"))
    return out


@parts.register
def cache_cleared(result: CacheCleared, sections=()) -> list:
    out: list = []
    if result.removed:
        out.append(Unfolded(f"Removed from {result.cache_dir}"))
        t = _table("", ["Kind", "File", "Size"])
        for kind, name, size in result.removed:
            t.add_row(kind, name, _bytes(size))
        out.append(t)
        total = sum(b for *_, b in result.removed)
        out.append(Text(f"{len(result.removed):,} files, {_bytes(total)}; rebuilt when needed"))
    else:
        out.append(Unfolded(f"Nothing to remove: no cptcli cache in {result.cache_dir}"))
    for name, why in result.kept:
        out.append(Text(f"Kept {name}: {why}"))
    return out
