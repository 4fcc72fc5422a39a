"""CSV for spreadsheets and scripts: each section of `show` is its own table
with the code in the first column; several sections are separated by one
empty line, so `--section NAME` gives exactly one clean table."""
from __future__ import annotations

import csv as _csv
import io
from typing import Iterable, Sequence

from cptcli.model import ShowResult, Source
from cptcli.render import sections as sec


def _cell(value) -> str:
    # Scripts compare against literals: booleans as true/false, "not stated" as empty.
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _table(columns: Sequence[str], rows: Iterable[tuple]) -> str:
    buffer = io.StringIO()
    writer = _csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([_cell(v) for v in row] for row in rows)
    return buffer.getvalue()


def show(results: Sequence[ShowResult], sources: dict[str, Source], sections: Sequence[str]) -> str:
    return "\n".join(_table(cols, rows) for _, cols, rows in sec.tables(results, sources, sections))


def hits(results) -> str:
    return _table(sec.HIT_COLUMNS, sec.hit_rows(results))


def code_list(summaries) -> str:
    return _table(sec.LIST_COLUMNS, sec.list_rows(summaries))
