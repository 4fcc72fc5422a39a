"""Scoring: every matching code's score for one kind of query, and how to make
the Hit of a code that is printed.

Words are scored concept by concept. A record's score for a concept is the
weight of the best field holding it (the title counts more than a narrative),
times how sure the resolution is (a typo or a synonym counts a little less).
The record's score is the weighted mean over concepts, 0-100, so
`--min-score` reads the same for every query.

Concept weights are a flattened IDF over the searched corpus (1 for a word
every record has, 2 for one no record has): rare words still decide more, but a
common intent word such as "removal" keeps enough weight to rank a removal
code above its insertion twin when thousands of unrelated records exist.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from cptcli import codes
from cptcli.errors import UsageError
from cptcli.search import snippets
from cptcli.search.analysis import Analyzer, Concept, stem
from cptcli.search.candidates import CONTESTED, LEAD, NEGATED, Candidates, Corpus

SECOND_FIELD = 0.3  # the very words typed, found in a second field too, add a little
# A query word found nowhere in the corpus still counts, lightly: it lowers every score, as an
# unmatched word should, without erasing the match that the other words make.
UNKNOWN_WEIGHT = 0.5
# Asked for a removal, a code whose title says only insertion is the pair's other half.
OPPOSITE_INTENT = 0.85
CAUTION_SHARE = 0.25
# A cautioned hit keeps its place below this score but never reads as a confident answer.
CAUTION_CAP = 60.0
REMOVAL, INSERTION = stem("removal"), stem("insertion")
# A query that says what it does not want ("walker without wheels") finds a descriptor's negated words fully.
NEGATIONS = frozenset(map(stem, ("without", "no", "non", "not", "excluding", "excludes", "except")))
SCORE_DECIMALS = 1
# A code typed among words names the record asked about more surely than any word.
CODE_CONCEPT_WEIGHT = 3.0

_CODE_PREFIX = re.compile(r"\+?\s*([0-9]{1,4})")
_MODIFIER_QUERY = re.compile(r"(?:MODIFIER|MOD)\s*-?\s*([0-9A-Z]{2})|-\s*([0-9A-Z]{2})|([0-9A-Z]{2})\s*MODIFIER")


class Ranked:
    """One kind of answer to a query: every matching code's score, and how to
    make the Hit for a code. Hits are made only for the codes printed, so a
    query matching half of a 100,000-code base makes ten, not fifty thousand."""

    __slots__ = ("scores", "make", "final", "ties")

    def __init__(self, scores: dict, make: Callable | None, final: bool = False, ties: dict | None = None):
        self.scores = scores  # code -> score, rounded as printed
        self.make = make  # (code, score) -> Hit
        # An answer even when empty: "modifier 58" asks for a modifier, never for the words "58-year-old".
        self.final = final
        self.ties = ties or {}  # code -> how much more it is what was asked, among equal scores (higher first)


NOTHING = Ranked({}, None)


class Scorer:
    """The four kinds of query (code, ICD-10-CM code, modifier, words) over one corpus."""

    def __init__(self, corpus: Corpus, analyzer: Analyzer, candidates: Candidates, hit: Callable):
        self.corpus = corpus
        self.analyzer = analyzer
        self.cand = candidates
        self.weights = corpus.fields
        self.n = max(corpus.n, 1)
        self.hit = hit  # (doc, score, field, snippet, spans, row, note) -> Hit

    def kinds(self) -> tuple[Callable[[str], Ranked], ...]:
        """In the order tried: the first kind that matches anything answers."""
        return self.code_hits, self.icd_hits, self.modifier_hits, self.text_hits

    # -- words ------------------------------------------------------------------
    def _literal(self, c: Concept, found: dict, weights: dict[str, float]) -> dict[str, dict[str, float]]:
        """code -> field -> share of the typed words found there (times the field weight)."""
        out: dict[str, dict[str, float]] = {}
        n = len(c.words) or 1
        for cands in c.words:
            hits: dict[str, int] = {}
            for w in cands:
                for code, mask in self.cand.posting(w).items():
                    if code in found:
                        hits[code] = hits.get(code, 0) | mask
            for code, mask in hits.items():
                per = out.setdefault(code, {})
                for name in self.cand.names(mask):
                    if name != LEAD:
                        per[name] = per.get(name, 0.0) + weights[name] / n
        return out

    def _weight(self, df: int) -> float:
        if not df:
            return 2.0
        return 1.0 + math.log(1 + self.n / df) / math.log(1 + self.n)

    def _intent_titles(self, concepts) -> tuple[set[str], set[str]]:
        """(codes whose titles say the intent asked for, codes whose titles say
        only the opposite one): "removal" asked, an insertion title is the twin."""
        wanted, opposite = set(), set()
        for c in concepts:
            for mine, other in ((REMOVAL, INSERTION), (INSERTION, REMOVAL)):
                if (mine,) in c.alternatives:
                    wanted |= self._titled(mine)
                    opposite |= self._titled(other)
        return wanted, opposite - wanted

    def _titled(self, stem: str) -> set[str]:
        title = self.cand.bit.get("title", 0)
        terms = self.analyzer.synonyms.get((stem,), {(stem,): False})
        return {code for t in terms for code, mask in self.cand.lookup(t).items() if mask & title}

    def text_hits(self, text: str) -> Ranked:
        concepts = self.analyzer.concepts(text)
        weights = self.weights
        if NEGATED in weights and any(c.typed in NEGATIONS for c in concepts):
            weights = {**weights, NEGATED: weights["title"]}
        order = {f: i for i, f in enumerate(weights)}
        total_weight = 0.0
        scores: dict[str, float] = {}
        gains: dict[str, dict[str, float]] = {}  # code -> field -> weighted score won there
        # Per code, the weight of the concepts it matches, and of those it matches only through
        # contested text or synonyms (whose discounted scores would hide how much they decide).
        matched: dict[str, float] = {}
        contested_weight: dict[str, float] = {}
        ties: dict[str, float] = {}  # code -> weight of the concepts its title's first clause holds
        for c in concepts:
            per_code: dict[str, dict[str, float]] = {}
            plain: set[str] = set()  # codes this concept finds through uncontested evidence
            leading: dict[str, float] = {}
            for alt, sure in c.alternatives.items():
                contested_alt = alt in c.contested
                for code, mask in self.cand.lookup(alt).items():
                    fields = per_code.get(code)
                    if fields is None:
                        fields = per_code[code] = {}
                    for name in self.cand.names(mask):
                        if name == LEAD:
                            leading[code] = max(leading.get(code, 0.0), sure)
                            continue
                        if not contested_alt and name != CONTESTED:
                            plain.add(code)
                        s = sure * weights[name]
                        if s > fields.get(name, 0.0):
                            fields[name] = s
            literal = self._literal(c, per_code, weights)
            if codes.is_code(c.typed.upper()):
                w = CODE_CONCEPT_WEIGHT
            elif per_code:
                w = self._weight(len(per_code))
            else:
                w = UNKNOWN_WEIGHT  # lowers every score a little; erases no match the other words make
            total_weight += w
            for code, sure in leading.items():
                ties[code] = ties.get(code, 0.0) + w * sure
            for code, fields in per_code.items():
                if not fields:
                    continue  # found in a lead clause alone: an index whose lead is not its title's start
                best_field, best = min(fields.items(), key=lambda kv: (-kv[1], order[kv[0]]))
                # A synonym in the title plus the typed words in a narrative beats the synonym alone.
                second = max((v for f, v in literal.get(code, {}).items() if f != best_field), default=0.0)
                s = best + (1 - best) * SECOND_FIELD * second
                scores[code] = scores.get(code, 0.0) + w * s
                matched[code] = matched.get(code, 0.0) + w
                if code not in plain:
                    contested_weight[code] = contested_weight.get(code, 0.0) + w
                g = gains.get(code)
                if g is None:
                    g = gains[code] = {}
                g[best_field] = g.get(best_field, 0.0) + w * s
        # A hit that owes a quarter of its matched concepts or more to contested evidence is not a confident answer.
        cautioned = {code for code, cw in contested_weight.items() if cw >= CAUTION_SHARE * matched[code]}
        _, twins = self._intent_titles(concepts)
        named = {c.typed.upper() for c in concepts}  # a code typed among the words is the code asked for
        for code in twins.intersection(scores) - named:
            scores[code] *= OPPOSITE_INTENT
        typed = {w for c in concepts for cands in c.words for w in cands}

        def make(code: str, score: float):
            doc = self.corpus.doc(code)
            top = max(gains[code], key=lambda f: (gains[code][f], self.weights[f]))
            if top == NEGATED:
                top = "title"  # negated words are indexed apart, shown where they stand
            # The stems of every reading of every concept found in that field.
            bit, found = self.cand.bit[top], set[str]()
            for c in concepts:
                for alt in c.alternatives:
                    if self.cand.lookup(alt).get(code, 0) & bit:
                        found.update(alt)
            text, spans = snippets.snippet(doc.texts(top), found, typed)
            caution = snippets.caution(doc) if code in cautioned else None
            return self.hit(doc, score, top, text, spans, None, snippets.conflict(doc, top), caution)

        def final(code: str, total: float) -> float:
            score = round(100 * total / total_weight, SCORE_DECIMALS)
            return min(score, CAUTION_CAP) if code in cautioned else score

        return Ranked({code: final(code, total) for code, total in scores.items()}, make, ties=ties)

    # -- codes ------------------------------------------------------------------
    def code_hits(self, text: str) -> Ranked:
        def code_hit(code: str, score: float):
            doc = self.corpus.doc(code)
            return self.hit(doc, score, "code", doc.display_code, ((0, len(doc.display_code)),), None, None)

        try:
            full = codes.parse_code(text).code
        except UsageError:
            full = None
        if full:
            scores = {code: 70.0 for code in self.corpus.codes_from(full[:4])}  # the family, e.g. the removal twin
            if full in scores:
                scores[full] = 100.0
            # Records whose cross-references or related rows name the code.
            naming = self.cand.bit.get("cross_references", 0) | self.cand.bit.get("related", 0)
            rows: dict[str, tuple] = {}
            for code, mask in self.cand.posting(full.lower()).items():
                if mask & naming and code not in scores:
                    for name, row_text, _ in self.corpus.doc(code).fields:
                        if name in ("cross_references", "related") and full in row_text:
                            rows[code] = (name, row_text)
                            scores[code] = 60.0
                            break

            def make(code: str, score: float):
                if code not in rows:
                    return code_hit(code, score)
                name, row_text = rows[code]
                pos = row_text.find(full)
                return self.hit(self.corpus.doc(code), score, name, row_text, ((pos, pos + len(full)),), None, None)

            return Ranked(scores, make)
        m = _CODE_PREFIX.fullmatch(text)
        if not m:
            return NOTHING
        q = m.group(1)
        # A longer prefix says more; an exact code (above) always wins.
        return Ranked(
            {code: round(60 + 30 * len(q) / 5, SCORE_DECIMALS) for code in self.corpus.codes_from(q)}, code_hit
        )

    def icd_hits(self, text: str) -> Ranked:
        try:
            icd = codes.parse_icd10(text)
        except UsageError:
            return NOTHING

        def score_of(row_code: str) -> float:
            if row_code == icd:
                return 100.0
            if row_code.startswith(icd):
                return 90.0  # the query is the category the row sits in
            if icd.startswith(row_code):
                return 80.0  # the row is a header above the code asked for
            return 0.0

        scores: dict[str, float] = {}
        for row_code, code in self.corpus.icd_rows(icd):
            scores[code] = max(scores.get(code, 0.0), score_of(row_code))

        def make(code: str, score: float):
            doc = self.corpus.doc(code)
            # The record's first row with the best score, as the record lists its rows.
            row_code, description = next(r for r in doc.diagnoses if score_of(r[0]) == score)
            return self._row_hit(doc, score, "diagnoses", row_code, f"{row_code} {description or ''}".strip())

        return Ranked(scores, make)

    def _row_hit(self, doc, score: float, name: str, key: str, text: str):
        """The hit of a table row (an ICD-10-CM code, a modifier): its key highlighted, its data
        note, and a caution where the row stands on a contested reading."""
        caution = snippets.caution(doc) if snippets.contested_row(doc, key) else None
        return self.hit(doc, score, name, text, ((0, len(key)),), key, snippets.row_note(doc, f"{name}/{key}"), caution)

    def modifier_hits(self, text: str) -> Ranked:
        m = _MODIFIER_QUERY.fullmatch(text)
        if m:
            mod = next(g for g in m.groups() if g)
        elif len(text) == 2 and text in self.corpus.modifier_names:
            mod = text  # a bare "59" that is no code prefix: the registry says it is a modifier
        else:
            return NOTHING

        def make(code: str, score: float):
            doc = self.corpus.doc(code)
            description = next(d for k, d in doc.modifiers if k == mod)
            return self._row_hit(
                doc, score, "modifiers", mod, f"{mod} {description or '(no description in the source)'}"
            )

        return Ranked(dict.fromkeys(self.corpus.modifier_codes(mod), 100.0), make, final=True)
