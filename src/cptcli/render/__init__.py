"""Renderers: one module per output format, each a `render(result, options,
env) -> str` over result objects (never raw dicts or the index), picked from
one registry of declared formats (FORMATS). A format module may also frame a
stream of results (`frame`: `show -` answers one result a line of input);
without one, a stream is its results' texts one after another. A new format
is one module and one entry in FORMATS; the CLI names none of them.
"""

from __future__ import annotations

from collections import namedtuple

from cptcli.errors import UsageError


def _table():
    from cptcli.render import table

    return table


def _json():
    from cptcli.render import json

    return json


def _jsonl():
    from cptcli.render import jsonl

    return jsonl


def _csv():
    from cptcli.render import csv

    return csv


def _tsv():
    from cptcli.render import tsv

    return tsv


def _markdown():
    from cptcli.render import markdown

    return markdown


# collections.namedtuple, not typing.NamedTuple: typing costs a share of `show --json`'s budget.
class Format(namedtuple("Format", "load one_table by_line in_pieces")):
    """One output format, declared: `load` imports its module when it is first
    used (a format costs nothing until asked for); `one_table`: it holds one
    table (the main one, or the one --section names), so the CLI says on stderr
    which others there are; `by_line`: a result that is lines of text
    (validate's findings) is written one a line, undrawn, as a script or an
    editor's error list reads them; `in_pieces`: a long report (check --claims)
    may be written a piece at a time, its pieces framed as the format frames a
    stream (rows under one header), where a JSON document or Markdown's
    headed blocks must be written whole."""

    __slots__ = ()


FORMATS = {
    "table": Format(_table, one_table=False, by_line=True, in_pieces=True),
    "json": Format(_json, one_table=False, by_line=False, in_pieces=False),
    "jsonl": Format(_jsonl, one_table=False, by_line=False, in_pieces=True),
    "csv": Format(_csv, one_table=True, by_line=False, in_pieces=True),
    "tsv": Format(_tsv, one_table=True, by_line=False, in_pieces=True),
    "markdown": Format(_markdown, one_table=False, by_line=False, in_pieces=False),
}


def in_pieces(options: Options) -> bool:
    return FORMATS[options.format].in_pieces


DEFAULT = "table"


class Options(namedtuple("Options", "format sections brief wide", defaults=(DEFAULT, (), False, False))):
    """What every printing command takes (cli's shared output options): the
    format and the sections asked for; `brief`: show's one-screen table view;
    `wide`: show's csv and tsv as one row a code (render.flat.wide)."""

    __slots__ = ()

    @classmethod
    def parse(cls, fmt: str | None, json_: bool, sections) -> Options:
        name = (fmt or ("json" if json_ else DEFAULT)).strip().lower()
        if name not in FORMATS:
            raise UsageError(f"unknown format {fmt!r}: choose from {', '.join(FORMATS)}")
        if json_ and name != "json":
            raise UsageError(f"--json and --format {name} ask for different formats: give one")
        return cls(
            name, tuple(dict.fromkeys(n.strip().lower() for raw in sections or () for n in raw.split(",") if n.strip()))
        )


def render(result, options: Options, env) -> str:
    """The whole text of `result` in the asked format (nothing is written here).
    The sections asked for are checked here, once for every format: an unknown
    one is a usage error (exit 2) whatever the format."""
    if options.sections:
        from cptcli.render.flat import check_sections

        check_sections(result, options.sections)
    fmt = FORMATS[options.format]
    lines = getattr(result, "text_lines", None) if fmt.by_line else None
    if lines is not None:
        from cptcli.textsafe import visible

        return "".join(f"{visible(line)}\n" for line in lines())
    return fmt.load().render(result, options, env)


def nothing(options: Options) -> str:
    """What a command that answers with a list prints when the list is empty (no search hit, no code with the
    prefix): JSON's one document is the empty array; the other formats have no row to write (JSON Lines: no line;
    a table, CSV: nothing drawn, the error on stderr says why)."""
    return "[]\n" if options.format == "json" else ""


def frame(answers, options: Options):
    """The pieces of text of a stream, each to be written as it comes:
    `answers` are (result, its rendered text) pairs, framed as the format
    frames a stream (its module's `frame`), or one after another."""
    own = getattr(FORMATS[options.format].load(), "frame", None)
    if own is not None:
        return own(answers)
    return (text for _, text in answers)


def others(result, options: Options) -> list[str]:
    """The names of the tables a one-table format left out of `result`
    (none when the format holds every table or --section chose)."""
    if not FORMATS[options.format].one_table or options.sections or options.wide:
        return []
    from cptcli.render.flat import tables

    return [t.name for t in tables(result)[1:] if t.rows]
