"""Command bodies shared by the Typer app (cli.py) and the fast entry path
(entry.py): core call, then renderer. Keeping them here means the two paths
cannot drift: only the recognition of the argument list differs."""
from __future__ import annotations

from functools import cached_property


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

        kb = knowledge.load(paths)
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
        pass
    finally:
        con.close()
    index.discard(paths)  # damaged past its key check: the caller's load rebuilds it
    return None


class Lookups:
    """What show, list, check, icd and modifier read of the knowledge-base
    files `paths` (the read API of KnowledgeBase they use: show, sources, get,
    find, modifiers, rows_listing; and summaries), from their index when there
    is a usable one: a 100,000-code base then answers without being loaded
    (~5 s and ~850 MB). Otherwise from the loaded knowledge base: the same
    answers either way, errors included (a test)."""

    def __init__(self, paths):
        from cptcli import index

        self.paths = paths
        self._kb = None
        self._con = index.open_named(paths)  # answers name files as this caller does
        if self._con is None:
            self.kb()  # now, as without an index: a broken file fails before any output

    def kb(self):
        if self._kb is None:
            from cptcli import knowledge

            self._kb = knowledge.load(self.paths)
        return self._kb

    def _indexed(self, ask):
        """ask(index, con), or None when there is no index or it is damaged
        past its key check (the files are then read instead)."""
        from cptcli import index

        if self._con is None:
            return None
        try:
            return ask(index, self._con)
        except index.sqlite3.Error:
            self._con.close()
            self._con = None
            index.discard(self.paths)  # damaged past its key check: loading the files rebuilds it
            return None

    def _not_found(self, code: str):
        """KnowledgeBase.get's error for `code`, naming the nearest codes."""
        from cptcli import knowledge

        known = self._indexed(lambda index, con: index.all_codes(con))
        return knowledge.not_found(code, known if known is not None else self.kb().records)

    def show(self, code: str):
        """Raises NotFoundError for a code not in the knowledge base."""
        found = self._indexed(lambda index, con: index.show_result(con, code))
        if found is not None:
            return found
        if self._con is None:  # no index, or damaged just now
            return self.kb().show(code)
        raise self._not_found(code)

    def find(self, code: str):
        """The record of `code`, or None."""
        found = self._indexed(lambda index, con: index.show_result(con, code))
        if found is not None:
            return found.record
        return self.kb().find(code) if self._con is None else None

    def get(self, code: str):
        """The record of `code`; raises NotFoundError naming the nearest codes."""
        found = self.find(code)
        if found is None:
            raise self._not_found(code)
        return found

    @cached_property
    def sources(self) -> dict:
        return self._registry("sources")

    @cached_property
    def modifiers(self) -> dict:
        return self._registry("modifiers")

    def _registry(self, name: str) -> dict:
        """kb.sources or kb.modifiers: the index's copy, unless the files are loaded anyway."""
        found = self._indexed(lambda index, con: getattr(index, name)(con)) if self._kb is None else None
        return found if found is not None else getattr(self.kb(), name)

    def summaries(self) -> list:
        """`list`: every code's model.CodeSummary, in code order."""
        found = self._indexed(lambda index, con: index.summaries(con))
        if found is not None:
            return found
        from cptcli.model import CodeSummary

        return [CodeSummary.of(rec) for rec in self.kb().records.values()]

    def rows_listing(self, table: str, key: str) -> list:
        """Every (record, row) whose `table` ("diagnoses", "modifiers") lists `key`, in code order."""
        codes = self._indexed(lambda index, con: index.codes_listing(con, table, key))
        if codes is None:
            return self.kb().rows_listing(table, key)
        return [(rec, row) for rec in map(self.get, codes) for row in getattr(rec, table) if row.key == key]


def report_text(report, as_json: bool, table_view: str) -> str:
    """check and audit: the report as JSON, or drawn by `table.<table_view>`."""
    if as_json:
        from cptcli.render import json as render_json

        return render_json.dumps(report)
    from cptcli.render import table

    return table.render(getattr(table, table_view)(report))


def claim_line(code: str, with_, modifier, dx):
    """`check` arguments parsed, before anything is loaded: raises UsageError
    (exit 2) on a malformed code. Lists may be comma-separated
    ('--modifier 50,LT' is '--modifier 50 --modifier LT'): coders paste lists."""
    from cptcli import codes

    def split(values):
        return [v for value in values for v in value.split(",") if v.strip()]

    cpt = codes.parse_cpt(code)
    primaries = [codes.parse_cpt(p).code for p in split(with_)]
    mods = ([cpt.modifier] if cpt.modifier else []) + [codes.parse_modifier(m) for m in split(modifier)]
    return cpt.code, primaries, mods, [codes.parse_icd10(d) for d in split(dx)]


def check_report(kb, line):
    """`cptcli check`: the report for a parsed claim line (see claim_line)."""
    from cptcli import checks
    from cptcli.codesets import icd10

    return checks.check(kb, icd10.codeset, *line)


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
