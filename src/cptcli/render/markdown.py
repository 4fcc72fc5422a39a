"""Markdown (GitHub pipe tables) for pasting into tickets and wikis: the same
flat tables as CSV, each under a `##` heading; a result of one table (search,
list, check) needs none. In a stream (`show -`), answers of one table stay one
table (its header once); answers of many are blocks, a blank line between."""

from __future__ import annotations

from collections.abc import Sequence

from cptcli.textsafe import markdown_cell


def _cell(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    # A pipe would end the cell and a newline the row; controls and bidi overrides show as escapes.
    return markdown_cell(" ".join(str(value).split()))


def _table(columns: Sequence[str], rows) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _one_table(result) -> bool:
    from cptcli.render.flat import tables

    return len(tables(result)) == 1


def render(result, options, env) -> str:
    from cptcli.render.flat import select, tables

    every = tables(result)
    found = select(every, options.sections)
    if len(every) == 1:  # search, list, check: one table needs no heading
        return _table(found[0].columns, found[0].rows)
    blocks = [
        f"## {t.title}\n\n" + (_table(t.columns, t.rows) if t.rows else "None in the knowledge base.\n") for t in found
    ]
    return "\n".join(blocks)


def frame(answers):
    """A stream's answers are of one kind: the first says whether they are
    rows of one table (their header written once) or blocks of tables."""
    one = None
    for result, text in answers:
        if one is None:
            one = _one_table(result)
            yield text
        else:
            yield text.split("\n", 2)[2] if one else "\n" + text
