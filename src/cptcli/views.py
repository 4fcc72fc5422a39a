"""Command bodies shared by the Typer app (cli.py) and the fast entry path
(entry.py): core call, then renderer. Keeping them here means the two paths
cannot drift: only the recognition of the argument list differs."""
from __future__ import annotations


def search_hits(kb, query: str, limit: int, min_score: float):
    from cptcli.search import Searcher

    return Searcher(kb).search(query, limit=limit, min_score=min_score)


def icd_text(kb, raw_code: str, as_json: bool) -> str:
    """`cptcli icd CODE [--json]`: raises UsageError / NotFoundError / DataError."""
    from cptcli import checks, codes
    from cptcli.codesets import icd10

    result = checks.icd_lookup(kb, icd10.codeset(), codes.parse_icd10(raw_code))
    if as_json:
        from cptcli.render import json as render_json

        return render_json.dumps(result)
    from cptcli.render import table

    return table.render(table.icd_result(result))
