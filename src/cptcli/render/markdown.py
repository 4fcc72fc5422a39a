"""Markdown (GitHub pipe tables) for pasting into tickets and wikis: the same
flat rows as CSV, one `##` heading and table per section of `show`."""
from __future__ import annotations

from typing import Iterable, Sequence

from cptcli.model import ShowResult, Source
from cptcli.render import sections as sec


def _cell(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    # A pipe would end the cell and a newline the row.
    return " ".join(str(value).split()).replace("\\", "\\\\").replace("|", "\\|")


def _table(columns: Sequence[str], rows: Iterable[tuple]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def show(results: Sequence[ShowResult], sources: dict[str, Source], sections: Sequence[str]) -> str:
    blocks = []
    for name, cols, rows in sec.tables(results, sources, sections):
        body = _table(cols, rows) if rows else "None in the knowledge base.\n"
        blocks.append(f"## {sec.TITLES[name]}\n\n{body}")
    return "\n".join(blocks)


def hits(results) -> str:
    return _table(sec.HIT_COLUMNS, sec.hit_rows(results))


def code_list(summaries) -> str:
    return _table(sec.LIST_COLUMNS, sec.list_rows(summaries))
