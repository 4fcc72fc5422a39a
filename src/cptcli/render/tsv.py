"""TSV: CSV's one table, tab-separated (cells with tabs or newlines quoted)."""

from __future__ import annotations

from cptcli.render import csv

frame = csv.frame  # one table: the header once


def render(result, options, env) -> str:
    return csv.render(result, options, env, delimiter="\t")
