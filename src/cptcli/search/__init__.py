"""Rank codes against what a coder types in one query box.

A query is one of: a code or code prefix ("20701", "+20702", "2070", "J1100"),
an ICD-10-CM code ("M54.16", "m5416"), a modifier ("modifier 59", "-59"), or
words - lay or clinical, abbreviated, misspelt or run together.

One module a job: analysis (text -> concepts), candidates (postings),
scoring (scores and hits per query kind), snippets. The corpus is the index's
(cptcli.engine.corpus.IndexCorpus); nothing here imports the typed model, so
`search --json` costs little more than its SQLite reads.
"""

from __future__ import annotations

from collections import namedtuple

from cptcli import SCHEMA_VERSION, codes
from cptcli.errors import UsageError
from cptcli.search.analysis import Analyzer, synonym_terms
from cptcli.search.candidates import Candidates, Corpus, Vocabulary

MAX_QUERY = 500
DEFAULT_LIMIT = 10
DEFAULT_MIN_SCORE = 40.0


# Results and the searched documents are named tuples, not dataclasses: importing
# dataclasses (it imports inspect) costs a large share of `search --json`'s budget.
class Hit(
    namedtuple(
        "Hit",
        "code title score matched_field snippet completeness add_on highlights matched_row data_note caution family "
        "missing",
        defaults=((), None, None, None, None, ()),
    )
):
    """One ranked result. `highlights` are the (start, end) spans of the matched
    words inside `snippet`; `matched_row` the table row that matched (a modifier
    or ICD-10-CM code), if any; `data_note` a correction or conflict the coder
    must see with this hit; `family`, where the query names a category ("ostomy
    pouches"), the codes whose official titles lead with the same name, as runs
    in code order ("Ostomy pouch: A4375-A4383, ... (40 codes)"); `missing`, the
    query's words the hit does not hold, as typed (a word query's hits only)."""

    __slots__ = ()

    @property
    def display_code(self) -> str:
        return f"+{self.code}" if self.add_on else self.code

    def to_dict(self) -> dict:
        return {
            "schema_version": SCHEMA_VERSION,
            "code": self.code,
            "title": self.title,
            "score": self.score,
            "matched_field": self.matched_field,
            "snippet": self.snippet,
            "completeness": self.completeness,
            "add_on": self.add_on,
            "matched_terms": [self.snippet[s:e] for s, e in self.highlights],
            "matched_row": self.matched_row,
            "data_note": self.data_note,
            "caution": self.caution,
            "family": self.family,
            "missing": list(self.missing),
        }


class SearchNote(namedtuple("SearchNote", "kind subject correction text authority")):
    """One data note of a record as search reads it: its kind ("correction",
    "conflict", ...), the subject it is about ("title", "diagnoses/M54.16"), the
    official correction if any, its text and the authority of the correction."""

    __slots__ = ()


class SearchDoc(namedtuple("SearchDoc", "code title completeness add_on fields diagnoses modifiers notes")):
    """What search reads of one record: its searchable texts as (field, text,
    contested subject) triples, its diagnosis and modifier rows as (code,
    description) pairs, and its notes (SearchNote). Written by the index build
    (cptcli.engine.build.search_document)."""

    __slots__ = ()

    @classmethod
    def from_list(cls, value: list) -> SearchDoc:
        """The document from its stored JSON list (cptcli.engine.search_doc checks its shape)."""
        code, title, completeness, add_on, fields, diagnoses, modifiers, notes = value
        return cls(
            code,
            title,
            completeness,
            add_on,
            tuple(map(tuple, fields)),
            tuple(map(tuple, diagnoses)),
            tuple(map(tuple, modifiers)),
            tuple(SearchNote(*n) for n in notes),
        )

    @property
    def display_code(self) -> str:
        return f"+{self.code}" if self.add_on else self.code

    def texts(self, name: str) -> list[str]:
        return [t for f, t, _ in self.fields if f == name]


class Hits(list):
    """Search results, best first; `total` counts every code that scored at
    least the lowest score asked for, printed or not: a table says how many
    more there are (a row query can tie thousands of codes). `query` is the
    query as typed."""

    __slots__ = ("total", "query")

    def __init__(self, hits, total: int, query: str = ""):
        super().__init__(hits)
        self.total = total
        self.query = query

    def to_dict(self) -> list:
        return [h.to_dict() for h in self]


def _hit(
    doc: SearchDoc,
    score: float,
    name: str,
    snippet: str,
    spans: tuple = (),
    row: str | None = None,
    note: str | None = None,
    caution: str | None = None,
    family: str | None = None,
    missing: tuple[str, ...] = (),
) -> Hit:
    return Hit(
        doc.code,
        doc.title,
        score,
        name,
        snippet,
        doc.completeness,
        doc.add_on,
        spans,
        row,
        note,
        caution,
        family,
        missing,
    )


def refined(ranked, limit: int, min_score: float) -> dict[str, float]:
    """The scores with their fine term (up to scoring.FINE_POINTS more: how much of each hit's text the query
    covers), asked for the codes whose place among the first `limit`, or whose count against `min_score`, it can
    change; the others keep a score that is, as far as the page and the count can tell, the same."""
    from cptcli.search.scoring import FINE_ONLY_ADDS_BELOW, FINE_POINTS

    scores = ranked.scores
    above = sorted((s for s in scores.values() if s >= min_score - FINE_POINTS), reverse=True)
    if not above:
        return scores
    # The fine term moves a score by FINE_POINTS at most, up (or down, in the last point below a ceiling): a
    # code further than twice that below the limit-th score cannot reach the page, one further than that from
    # the floor cannot cross it, and one at the floor that it only adds to stays there.
    page = above[min(limit, len(above)) - 1] - 2 * FINE_POINTS
    asked = [
        code
        for code, s in scores.items()
        if s >= page
        or min_score - FINE_POINTS <= s < min_score
        or (min_score <= s < min_score + FINE_POINTS and s >= FINE_ONLY_ADDS_BELOW)
    ]
    return {**scores, **ranked.refine(asked)}


class Searcher:
    """Ranks one corpus against queries."""

    def __init__(self, corpus: Corpus):
        from cptcli.search.scoring import Scorer

        synonyms = synonym_terms(corpus.synonyms)
        words = frozenset(w for links in synonyms.values() for t in links for w in t)
        self.corpus = corpus
        self.analyzer = Analyzer(Vocabulary(corpus, words), synonyms)
        self.scorer = Scorer(corpus, self.analyzer, Candidates(corpus), _hit)

    def search(self, query: str, limit: int = DEFAULT_LIMIT, min_score: float = DEFAULT_MIN_SCORE) -> Hits:
        text = codes.clean(query)
        if not text:
            raise UsageError('empty query: give words such as "baclofen pump removal" or a code')
        if len(text) > MAX_QUERY:
            raise UsageError(f"query too long: {len(text)} characters (the limit is {MAX_QUERY})")
        if limit < 1:
            raise UsageError("--limit must be at least 1")
        from cptcli.search.scoring import FINE_POINTS

        # A code the words score less than FINE_POINTS below the floor may reach it (refined).
        for kind in self.scorer.kinds(max(0.0, min_score - FINE_POINTS)):
            ranked = kind(text)
            if ranked.scores or ranked.final:
                break
        ties = ranked.ties
        scores = refined(ranked, limit, min_score) if ranked.refine else ranked.scores
        order = sorted(
            ((s, c) for c, s in scores.items() if s >= min_score),
            key=lambda sc: (-sc[0], -ties.get(sc[1], 0.0), sc[1]),
        )
        make = ranked.make
        return Hits([make(code, score) for score, code in order[:limit]] if make else [], len(order), query)
