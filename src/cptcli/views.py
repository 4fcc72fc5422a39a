"""Command bodies shared by the Typer app (cli.py) and the fast entry path
(entry.py): core call, then renderer. Keeping them here means the two paths
cannot drift: only the recognition of the argument list differs."""
from __future__ import annotations


def search_hits(paths, query: str, limit: int, min_score: float):
    """Search the knowledge-base files `paths` through their index, so that a
    100,000-code base is searched without loading it. Without an index the
    files are loaded, which builds one, and the search goes through that; only
    where no index can be written (or it is damaged) is the loaded knowledge
    base searched in memory: the same corpus, the same results (a test)."""
    from cptcli.search import Searcher

    hits = _search_index(paths, query, limit, min_score)
    if hits is None:
        from cptcli import knowledge

        kb = knowledge.load([knowledge.Path(p) for p in paths])
        hits = _search_index(paths, query, limit, min_score)
        if hits is None:
            hits = Searcher(kb).search(query, limit=limit, min_score=min_score)
    return hits


def _search_index(paths, query: str, limit: int, min_score: float):
    """Hits from the index of `paths`, or None when there is no usable index."""
    from cptcli import index
    from cptcli.search import Searcher

    con = index.open_for(paths)
    if con is None:
        return None
    try:
        return Searcher(index.IndexCorpus(con)).search(query, limit=limit, min_score=min_score)
    except index.sqlite3.Error:
        return None  # damaged past its key check: the caller searches the files themselves
    finally:
        con.close()


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
