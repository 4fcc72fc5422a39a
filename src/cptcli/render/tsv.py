"""TSV: CSV's one table, tab-separated (cells with tabs or newlines quoted)."""

from __future__ import annotations

from cptcli.render import csv


def render(result, options, env) -> str:
    return csv.render(result, options, env, delimiter="\t")
