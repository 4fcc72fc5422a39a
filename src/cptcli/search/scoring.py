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
from cptcli.search.analysis import SYNONYM_FACTOR, Analyzer, Concept, stem, stemmed, stems
from cptcli.search.candidates import CONTESTED, LEAD, LEAD_END, NEGATED, Candidates, Corpus

SECOND_FIELD = 0.3  # the very words typed, found in a second field too, add a little
# A query word found nowhere in the corpus still counts, lightly: it lowers every score, as an
# unmatched word should, without erasing the match that the other words make.
UNKNOWN_WEIGHT = 0.5
# Asked for a removal, a code whose title says only insertion is the pair's other half.
OPPOSITE_INTENT = 0.85
SILENT = 0.5  # share of "without X" earned by a descriptor that does not mention X
CAUTION_SHARE = 0.25
# A cautioned hit keeps its place below this score but never reads as a confident answer.
CAUTION_CAP = 60.0
# A word that no uncontested text holds is answered by the contested reading alone: that reading weighs this much
# (beside the index's discounted weight for contested text), so that the code is shown with its caution instead of
# falling below the floor. Where any uncontested text holds the word, that text answers it and the discount stands
# ("surgery" is 20701's specialty before it is 000's story of 20700).
CONTESTED_ALONE = 0.5
REMOVAL, INSERTION = stem("removal"), stem("insertion")
# A note's narrative and doses say what happened, not which code: "administered ketorolac 30 mg IM" is the
# ketorolac injection code whatever the dose (drug codes are per unit), and "vancomycin 1 gram" is vancomycin's
# per-500-mg code, not a drug whose unit happens to be a gram. Found or not, they weigh what an unknown word does.
NARRATIVE = frozenset(
    map(
        stem,
        (
            "administered given gave performed patient pt delivered obtained sent dispensed ordered today "
            "mg mcg ml cc units iu meq gram grams gm milligram milligrams microgram micrograms"
        ).split(),
    )
)
# A descriptor's "non-" prefix says what the item is not ("Walking boot, non-pneumatic"): read where a query negates.
_NON = re.compile(r"\bnon-?\s?([a-z]+)")
_OFFICIAL_TEXTS = frozenset(("title", "descriptor", "official_descriptors"))
# A size typed with its unit ("ace wrap 4 inch", "stockings 20-30 mmhg") and the bounds a descriptor gives the
# measure ("width greater than or equal to three inches and less than five inches", "18-30 mmhg", "width less
# than 22 inches", "22 inches or greater"): the code whose bounds hold the size is the one asked for.
_SIZE_UNITS = {"inch": "inch", "mmhg": "mmhg"}  # the stem a query types after the number -> the descriptors' unit
_NUMBER = r"(\d+(?:\.\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
_NUMBER_WORDS = {
    w: float(i) for i, w in enumerate("one two three four five six seven eight nine ten eleven twelve".split(), 1)
}
_SIZE = re.compile(
    r"(?:(greater than or equal to|at least|more than|greater than|less than or equal to|less than|"
    r"up to and including|up to)\s+)?" + _NUMBER + r"(?:\s*(?:-|to)\s*" + _NUMBER + r")?\s*(inch(?:es)?|mmhg)"
    r"(?:\s+(or less|or greater|or more))?"
)
# A query that says what it does not want ("walker without wheels") finds a descriptor's negated words fully.
NEGATIONS = frozenset(map(stem, ("without", "no", "non", "not", "excluding", "excludes", "except")))
# Of two codes the query matches as well, word for word, the one whose text says least besides is what was asked
# for: up to FINE_POINTS more are how much of the hit's text the query covers (_WordQuery._refine), so that
# scores differ where texts do. Added, never taken away (below a ceiling's last point): --min-score drops no hit it
# kept, and half a point undoes no difference the words make of more than that. Siblings differ in it by a few
# ten-thousandths of a point ("less than 22 inches" against "22 inches or greater" in a wheelchair cushion's
# title): one decimal, or three, would round them into one score.
FINE_POINTS = 0.5
SCORE_DECIMALS = 4
# Below this (the lowest ceiling less twice FINE_POINTS) the fine term only adds: see _WordQuery._refine.
FINE_ONLY_ADDS_BELOW = CAUTION_CAP - 2 * FINE_POINTS
# Of two codes the query matches equally, the one whose title it covers more is what was asked for: "flu shot"
# is all of "Administration of influenza virus vaccine" but a little of a quality measure's sentence about an
# influenza immunization not given. Up to this share of a score is the share of the title's words matched.
FOCUS_SHARE = 0.2
# A query that is all of the name at least this many official titles lead with ("ostomy pouches": "Ostomy
# pouch, drainable, ...") names their family: its hits say the family's codes.
FAMILY_MIN = 5
# A code typed among words names the record asked about more surely than any word.
CODE_CONCEPT_WEIGHT = 3.0

# A code prefix: CPT digits ("2070") or an HCPCS letter and digits ("J103" lists J1030, J1040 ...).
_CODE_PREFIX = re.compile(r"\+?\s*([0-9]{1,4}|[A-V][0-9]{1,3})")
# Shaped like an ICD-10-CM code with its dot ("E11.40"): a diagnosis, never the HCPCS code its letters spell (E1140).
_DOTTED_ICD = re.compile(r"[A-Z][0-9][0-9A-Z]\.[0-9A-Z]{1,4}\.?")
_MODIFIER_QUERY = re.compile(r"(?:MODIFIER|MOD)\s*-?\s*([0-9A-Z]{2})|-\s*([0-9A-Z]{2})|([0-9A-Z]{2})\s*MODIFIER")


def is_dotted_icd(query: str) -> bool:
    """Whether a query is shaped like an ICD-10-CM code with its dot ("E11.40")."""
    return _DOTTED_ICD.fullmatch(codes.clean(query).upper()) is not None


class Ranked:
    """One kind of answer to a query: every matching code's score, and how to
    make the Hit for a code. Hits are made only for the codes printed, so a
    query matching half of a 100,000-code base makes ten, not fifty thousand."""

    __slots__ = ("scores", "make", "final", "ties", "refine")

    def __init__(
        self,
        scores: dict,
        make: Callable | None,
        final: bool = False,
        ties: dict | None = None,
        refine: Callable[[list[str]], dict[str, float]] | None = None,
    ):
        self.scores = scores  # code -> score, rounded as printed (before FINE_POINTS, where `refine` is given)
        self.make = make  # (code, score) -> Hit
        # An answer even when empty: "modifier 58" asks for a modifier, never for the words "58-year-old".
        self.final = final
        self.ties = ties or {}  # code -> how much more it is what was asked, among equal scores (higher first)
        # codes -> {code: its score with how much of its hit's text the query covers}: up to FINE_POINTS more
        # (cptcli.search.refined asks it only for the codes whose place or count that can change).
        self.refine = refine


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
        now = codes.today()
        # Codes their official file has ended: never a confident answer, shown with the date.
        self.ended = {code: end for code, end in corpus.ended.items() if end < now}

    def kinds(self, floor: float = 0.0) -> tuple[Callable[[str], Ranked], ...]:
        """In the order tried: the first kind that matches anything answers. `floor` is the lowest score that
        will be printed or counted: words need not score the codes that cannot reach it."""
        return self.code_hits, self.icd_hits, self.modifier_hits, lambda text: self.text_hits(text, floor)

    # -- words ------------------------------------------------------------------
    def _literal(self, c: Concept, found: dict, weights: dict[str, float]) -> dict[str, dict[str, float]]:
        """code -> field -> share of the typed words found there (times the field weight)."""
        out: dict[str, dict[str, float]] = {}
        n = len(c.words) or 1
        for cands in c.words:
            hits: dict[str, int] = {}
            for w in cands:
                posting = self.cand.posting(w)
                for code in posting.keys() & found.keys():
                    hits[code] = hits.get(code, 0) | posting[code]
            for code, mask in hits.items():
                per = out.setdefault(code, {})
                for name in self.cand.names(mask):
                    # A contested text's words are no evidence of their own: they add nothing beside a plain match.
                    if name not in (LEAD, CONTESTED):
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

    def _intents_elsewhere(self, concepts, weights, found_sets) -> set[int]:
        """Of a query naming both intents, the intent concepts whose object is not what the query is about, with
        that object's concepts. The query is about the codes its other words find most (by weight); an intent's
        object is the two concepts after it, before the next intent ("removal of infected hardware"), and it is
        theirs when one of its readings is in one of those codes' titles (the device, its site). Only where the
        other intent's object is theirs, so one intent always stands; an intent typed last has no object here and
        stands."""
        intents = {}
        for i, c in enumerate(concepts):
            for mine in (REMOVAL, INSERTION):
                if (mine,) in c.alternatives:
                    intents[i] = mine
        if len(set(intents.values())) < 2:
            return set()
        about: dict[str, float] = {}
        for j, alts in enumerate(found_sets):
            if j not in intents:
                # Read as typed or by a synonym: a far typo reading ("last" as "list") names no subject.
                for code in set().union(*(f.keys() for _, sure, f in alts if sure >= SYNONYM_FACTOR)):
                    about[code] = about.get(code, 0.0) + weights[j]
        most = max(about.values(), default=0.0)
        core = {code for code, w in about.items() if w == most}
        title = self.cand.bit.get("title", 0)

        def theirs(j: int) -> bool:
            return any(f.get(code, 0) & title for _, _, f in found_sets[j] for code in core)

        verdict, spans = {}, {}
        for i in intents:
            span = spans[i] = [j for j in range(i + 1, min(i + 3, len(concepts))) if j not in intents]
            if span and (i + 1) not in intents:
                verdict[i] = any(theirs(j) for j in span)
        kept = {intents[i] for i, ok in verdict.items() if ok}
        # The other thing's words go with its intent: "infected hardware" says nothing of the beads.
        return {k for i, ok in verdict.items() if not ok and kept - {intents[i]} for k in (i, *spans[i])}

    def _titled(self, stem: str) -> set[str]:
        title = self.cand.bit.get("title", 0)
        terms = self.analyzer.synonyms.get((stem,), {(stem,): False})
        return {code for t in terms for code, mask in self.cand.lookup(t).items() if mask & title}

    def text_hits(self, text: str, floor: float = 0.0) -> Ranked:
        """Every code the words find, scored concept by concept (_WordQuery), the rarest concepts first."""
        query = _WordQuery(self, self.analyzer.concepts(text), floor, text)
        for ci in query.in_scoring_order():
            query.score_concept(ci)
        query.credit_without_pairs()
        query.credit_sizes()
        return query.ranked()

    def _concept_weight(self, c: Concept, alts: list) -> float:
        """How much a concept decides: how rare the words typed are, where they are found as typed. A synonym
        widens what a concept finds ("gentamicin" is an antibiotic), never how much the word typed decides."""
        as_typed = tuple(c.typed.split())
        own = next((f for alt, sure, f in alts if alt == as_typed and sure == 1.0 and f), None)
        n_found = len(own) if own else len(set().union(*(f for _, _, f in alts))) if alts else 0
        if codes.is_code(c.typed.upper()):
            return CODE_CONCEPT_WEIGHT
        if n_found and c.typed not in NARRATIVE and not c.typed.isdigit():
            return self._weight(n_found)
        return UNKNOWN_WEIGHT  # lowers every score a little; erases no match the others make

    @staticmethod
    def _focus(lengths, in_title: int, in_lead: int) -> float:
        """0-1: how much of a code's title, and of the name it leads with ("Crutches, forearm, ..."), the query
        covers; 1 where the index does not say (a title that is a source's paraphrase, not official words)."""
        if not lengths or not lengths[0]:
            return 1.0
        title, lead = lengths
        covered = min(1.0, in_title / title)
        # A name that covers the lead lifts a title it covers little; a generic lead ("Injection, ...") lowers none.
        return max(covered, (covered + (min(1.0, in_lead / lead) if lead else 0.0)) / 2)

    def _ended(self, code: str, caution: str | None) -> str | None:
        """The caution of a hit its official file has ended, before any other it carries."""
        end = self.ended.get(code)
        if end is None:
            return caution
        said = codes.ended(end, otherwise=f"see cptcli show {code}")
        return f"{said}; {caution}" if caution else said

    # -- codes ------------------------------------------------------------------
    def code_hits(self, text: str) -> Ranked:
        def code_hit(code: str, score: float):
            doc = self.corpus.doc(code)
            spans = ((0, len(doc.display_code)),)
            return self.hit(doc, score, "code", doc.display_code, spans, None, None, self._ended(code, None))

        if _DOTTED_ICD.fullmatch(text):
            return NOTHING
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
        # A longer prefix says more; an exact code (above) always wins. A prefix of four is also a place in its
        # family of a hundred: "J103" lists J1030, then its neighbours J1020 and J1040, nearest first.
        scores = {code: round(60 + 30 * len(q) / 5, SCORE_DECIMALS) for code in self.corpus.codes_from(q)}
        ties: dict[str, float] = {}
        if len(q) == 4 and scores:
            wider = round(60 + 30 * 3 / 5, SCORE_DECIMALS)
            skip = 1 if q[0].isalpha() else 0
            target = int(q[skip:].ljust(5 - skip, "0"))
            for code in self.corpus.codes_from(q[:3]):
                if code not in scores and code[skip:].isdigit():
                    scores[code] = wider
                    ties[code] = -abs(int(code[skip:]) - target)
        return Ranked(scores, code_hit, ties=ties)

    def icd_hits(self, text: str) -> Ranked:
        try:
            icd = codes.parse_icd10(text)
        except UsageError:
            return NOTHING
        # A dotted diagnosis is answered by the records that list it, or by none: never by its words.
        final = _DOTTED_ICD.fullmatch(text) is not None

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

        return Ranked(scores, make, final=final)

    def _row_hit(self, doc, score: float, name: str, key: str, text: str):
        """The hit of a table row (an ICD-10-CM code, a modifier): its key highlighted, its data
        note, and a caution where the row stands on a contested reading."""
        caution = snippets.row_caution(doc, key)
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


def _isolated(found_sets, weights) -> list[int]:
    """The concepts found only in codes that hold none of the query's other concepts, when some others are found
    together: such a word ("back table" in an operative note, with a code set of thousands imported that says
    "back" and "table" elsewhere) says nothing of which code the rest of the query means, and weighs what an unknown
    word does. Where no two concepts meet in any code, none is singled out. A concept that already weighs no more
    than an unknown word (a dose, a number) meets nothing: "1 gram", found together in every drug dosed by the
    gram, does not make "vancomycin" (per 500 mg) the stray word of "vancomycin 1 gram"."""
    found = [
        set().union(*(f.keys() for _, _, f in alts)) if alts and w > UNKNOWN_WEIGHT else set()
        for alts, w in zip(found_sets, weights, strict=True)
    ]
    if len(found) < 3:
        return []
    shared = [any(i != j and not a.isdisjoint(b) for j, b in enumerate(found)) for i, a in enumerate(found)]
    if not any(shared):
        return []
    return [i for i, (a, meets) in enumerate(zip(found, shared, strict=True)) if a and not meets]


def _is_number(typed: str) -> bool:
    return typed.replace(".", "", 1).isdigit()


def size_bounds(text: str) -> dict[str, tuple[float, bool, float, bool]]:
    """{unit: (low, low is open, high, high is open)}: the bounds a descriptor gives a measure (_SIZE)."""
    out: dict[str, tuple[float, bool, float, bool]] = {}
    for m in _SIZE.finditer(text.lower()):
        before, a, b, unit, after = m.groups()
        unit = "inch" if unit.startswith("inch") else unit
        lo, lo_open, hi, hi_open = out.get(unit, (-math.inf, True, math.inf, True))
        x = _NUMBER_WORDS.get(a) or float(a)
        if b is not None:
            lo, lo_open, hi, hi_open = x, False, _NUMBER_WORDS.get(b) or float(b), False
        elif before in ("greater than or equal to", "at least") or after in ("or greater", "or more"):
            lo, lo_open = x, False
        elif before in ("more than", "greater than"):
            lo, lo_open = x, True
        elif before in ("less than or equal to", "up to and including", "up to") or after == "or less":
            hi, hi_open = x, False
        elif before == "less than":
            hi, hi_open = x, True
        else:
            continue  # a size that bounds nothing ("1.25 to 1.34 foot pounds" has no unit here)
        out[unit] = (lo, lo_open, hi, hi_open)
    return out


def _holds(bounds: tuple[float, bool, float, bool], x: float) -> bool:
    lo, lo_open, hi, hi_open = bounds
    return (x > lo if lo_open else x >= lo) and (x < hi if hi_open else x <= hi)


class _Found:
    """What one concept finds, code by code: the fields and how surely (per_code), the codes it finds through
    uncontested evidence (plain), those it finds in a contested reading (disputed), how surely each code's lead
    clause holds it (leading), and the words of each code's title (titled) and of its lead (leads) it matched."""

    __slots__ = ("per_code", "plain", "disputed", "leading", "titled", "leads")

    def __init__(self) -> None:
        self.per_code: dict[str, dict[str, float]] = {}
        self.plain: set[str] = set()
        # A word the official descriptor negates ("without programming") is no evidence for the code unless the
        # query negates it too: found there and in a contested reading, the hit stands on the contested one.
        self.disputed: set[str] = set()
        self.leading: dict[str, float] = {}
        self.titled: dict[str, int] = {}
        self.leads: dict[str, int] = {}


class _WordQuery:
    """One query of words being scored: the state the concepts add to, in the order Scorer.text_hits runs them."""

    def __init__(self, scorer: Scorer, concepts: list[Concept], floor: float, text: str = "") -> None:
        self.scorer, self.concepts, self.cand = scorer, concepts, scorer.cand
        # stem -> the word typed for it first, to name a query word a hit does not hold as the coder typed it
        self.as_typed: dict[str, str] = {}
        for word, s in stemmed(text):
            self.as_typed.setdefault(s, word)
        weights = scorer.weights
        if NEGATED in weights and any(c.typed in NEGATIONS for c in concepts):
            weights = {**weights, NEGATED: weights["title"]}
        self.weights = weights
        self.order = {f: i for i, f in enumerate(weights)}
        # Each concept's weight comes from how many codes it finds, known before any is scored. The rarest are
        # scored first; once the concepts left cannot lift a code not yet found to the floor, they only add to
        # codes already found (a common word like "removal" holds thousands of codes no query shows).
        self.found_sets = [
            [(alt, sure, self.cand.lookup(alt)) for alt, sure in c.alternatives.items()] for c in concepts
        ]
        self.concept_weight = [
            scorer._concept_weight(c, alts) for c, alts in zip(concepts, self.found_sets, strict=True)
        ]
        for i in _isolated(self.found_sets, self.concept_weight):
            self.concept_weight[i] = min(self.concept_weight[i], UNKNOWN_WEIGHT)
        # An intent word about another thing ("removal of infected hardware and insertion of antibiotic beads")
        # finds nothing and decides nothing, nor do the words of that thing: it is the hardware's removal.
        self.elsewhere = scorer._intents_elsewhere(concepts, self.concept_weight, self.found_sets)
        for i in self.elsewhere:
            self.concept_weight[i], self.found_sets[i] = UNKNOWN_WEIGHT, []
        self.total_weight = sum(self.concept_weight)
        self.left = self.total_weight
        self.floor = floor
        self.scores: dict[str, float] = {}
        self.gains: dict[str, dict[str, float]] = {}  # code -> field -> weighted score won there
        # Per code, the weight of the concepts it matches, and of those it matches only through
        # contested text or synonyms (whose discounted scores would hide how much they decide).
        self.matched: dict[str, float] = {}
        self.contested_weight: dict[str, float] = {}
        self.ties: dict[str, float] = {}  # code -> weight of the concepts its title's first clause holds
        # The concept typed right after a negation ("walker without wheels"): a descriptor that says it has it
        # is the opposite of what was asked, one that says it is without it is the answer.
        # A descriptor silent about it may well be the answer (a pickup walker has no wheels): it earns
        # SILENT of the pair's weight.
        self.pairs = [(c, concepts[i + 1]) for i, c in enumerate(concepts[:-1]) if c.typed in NEGATIONS]
        self.negated = {id(t) for _, t in self.pairs}
        self.contrary: set[str] = set()
        self.found_by: dict[int, tuple[float, set[str]]] = {}  # id(concept) -> (its weight, the codes it counts for)
        self.prune = floor > 0 and not self.pairs  # a "without" pair adds to codes that never matched its words
        # field mask -> (holds the lead, holds uncontested text, holds it outside a negation, holds contested text,
        # (field, weight) pairs): a query meets a few dozen masks over tens of thousands of codes, so each is read once.
        self.masks: dict[int, tuple[bool, bool, bool, bool, tuple[tuple[str, float], ...]]] = {}
        self.title_bit = self.cand.bit.get("title", 0)
        # code -> how many words of its title, and of the title's leading name, the query matched
        self.in_title: dict[str, int] = {}
        self.in_lead: dict[str, int] = {}
        self.idf: dict[str, float] = {}  # stem -> its weight in the fine term (_fine), read as needed
        self.final_scores: dict[str, float] = {}  # code -> its score before the fine term (ranked)
        self.family: tuple[str, frozenset[str]] | None = None  # (the name, its codes) a query names (_family)
        self._family_text: str | None = None
        # code -> (stems its official words negate with "non", stems they say otherwise), read as needed (_non)
        self.non_words: dict[str, tuple[set[str], set[str]]] = {}
        # (code, concept index) -> whether the bounds the code's title gives a measure hold the size typed
        self.sized: dict[tuple[str, int], bool] = {}

    def in_scoring_order(self) -> list[int]:
        weights = self.concept_weight
        return sorted(range(len(self.concepts)), key=lambda i: -weights[i] if self.prune else 0)

    def _mask_spec(self, mask: int) -> tuple[bool, bool, bool, bool, tuple[tuple[str, float], ...]]:
        names = self.cand.names(mask)
        found = self.masks[mask] = (
            LEAD in names,
            any(n not in (LEAD, CONTESTED) for n in names),
            any(n not in (LEAD, CONTESTED, NEGATED) for n in names),
            CONTESTED in names,
            tuple((n, self.weights[n]) for n in names if n != LEAD),
        )
        return found

    def _find(self, ci: int, only) -> _Found:
        """What concept `ci` finds, among the codes `only` names (None: every code)."""
        c, out = self.concepts[ci], _Found()
        per_code, titled, leads, leading = out.per_code, out.titled, out.leads, out.leading
        masks, title_bit, negated = self.masks, self.title_bit, id(c) in self.negated
        # Of a concept read several ways, the words of every reading a title holds are the title's words the query
        # covers: "grab bar" is all of "Bath tub wall rail" (bath rail, wall rail), three words of "Bath tub rail,
        # floor base". The word as typed beside another reading is the same name said twice ("initial preventive
        # physical exam (ippe)"): the longer of the two counts.
        several = len(self.found_sets[ci]) > 1
        typed = tuple(c.typed.split())
        title_words: dict[str, set[str]] = {}
        lead_words: dict[str, set[str]] = {}
        for alt, sure, found in self.found_sets[ci]:
            contested_alt = alt in c.contested
            for code, mask in found.items() if only is None else ((k, found[k]) for k in found.keys() & only):
                lead, uncontested, affirmed, has_contested, named = masks.get(mask) or self._mask_spec(mask)
                if several:
                    if alt == typed:
                        if mask & title_bit:
                            titled[code] = len(alt)
                        if lead:
                            leads[code] = len(alt)
                    else:
                        if mask & title_bit:
                            title_words.setdefault(code, set()).update(alt)
                        if lead:
                            lead_words.setdefault(code, set()).update(alt)
                else:
                    if mask & title_bit and len(alt) > titled.get(code, 0):
                        titled[code] = len(alt)
                    if lead and len(alt) > leads.get(code, 0):
                        leads[code] = len(alt)
                if lead and sure > leading.get(code, 0.0):
                    leading[code] = sure
                if (affirmed or (uncontested and negated)) and not contested_alt:
                    out.plain.add(code)
                if contested_alt or has_contested:
                    out.disputed.add(code)
                fields = per_code.get(code)
                if fields is None:
                    per_code[code] = {n: sure * fw for n, fw in named}
                    continue
                for n, fw in named:
                    s = sure * fw
                    if s > fields.get(n, 0.0):
                        fields[n] = s
        for code, words in title_words.items():
            titled[code] = max(titled.get(code, 0), len(words))
        for code, words in lead_words.items():
            leads[code] = max(leads.get(code, 0), len(words))
        return out

    def _negate(self, c: Concept, found: _Found) -> None:
        """The concept after "without": a code whose words hold it is the contrary of what was asked, unless they
        hold it as "non-X" (a descriptor's prefix the index reads as two words): that code is the answer."""
        lacking, _ = self._non(c, found)
        for code, fields in found.per_code.items():
            if code in lacking:
                weight = self.weights[NEGATED]
                fields.clear()
                fields[NEGATED] = max(c.alternatives.values()) * weight
                continue
            if fields and NEGATED not in fields:
                self.contrary.add(code)
                fields.clear()
                found.leading.pop(code, None)
        # "wheeled" says it has wheels, whether or not the query reaches that form.
        for alt in c.alternatives:
            if len(alt) == 1:
                self.contrary.update(k for k in self.cand.lookup((alt[0] + "ed",)) if not found.per_code.get(k))

    def _non(self, c: Concept, found: _Found) -> tuple[set[str], set[str]]:
        """(the codes whose official words say "non-X" or "nonX" of a word X of a reading of concept `c`, those of
        them that say X no other way): "Walking boot, non-pneumatic", "Conforming bandage, non-elastic". Only codes
        holding "non", or "non" and the reading run together, are read, each once a query."""
        singles = {w for alt in c.alternatives for w in alt}  # a phrase ("elastic bandage") fails by any word
        says: set[str] = set()
        only: set[str] = set()
        if not singles:
            return says, only
        held = set(self.cand.lookup(("non",)))
        for s in singles:
            held.update(self.cand.lookup(("non" + s,)))
        for code in held.intersection(found.per_code):
            read = self.non_words.get(code)
            if read is None:
                texts = [t.lower() for n, t, _ in self.scorer.corpus.doc(code).fields if n in _OFFICIAL_TEXTS]
                read = self.non_words[code] = (
                    {stem(w) for t in texts for m in _NON.findall(t) for w in (m, "non" + m)},
                    set().union(*(stems(_NON.sub(" ", t)) for t in texts)),
                )
            negated, plain = read
            if negated & singles:
                says.add(code)
                if (negated - plain) & singles:
                    only.add(code)
        return says, only

    def _affirm(self, c: Concept, found: _Found) -> None:
        """A concept the query affirms, found in a code's official words only as "non-X" ("elastic bandage" and
        "Conforming bandage, non-elastic"): the code says it is not X, and X counts there as a negated word does."""
        _, only = self._non(c, found)
        weight = self.scorer.weights[NEGATED]
        for code in only:
            fields = found.per_code[code]
            if fields and fields.keys() <= _OFFICIAL_TEXTS:
                fields.clear()
                fields[NEGATED] = max(c.alternatives.values()) * weight
                found.leading.pop(code, None)
                found.titled.pop(code, None)
                found.leads.pop(code, None)

    def score_concept(self, ci: int) -> None:
        c, w = self.concepts[ci], self.concept_weight[ci]
        prune_now = self.prune and 100 * self.left / self.total_weight < self.floor
        only = self.scores.keys() if prune_now else None
        self.left -= w
        found = self._find(ci, only)
        self._alone(ci, found)
        if id(c) in self.negated:
            self._negate(c, found)
        elif NEGATED in self.weights and c.typed not in NEGATIONS and not _is_number(c.typed):
            self._affirm(c, found)
        for code, k in found.titled.items():
            self.in_title[code] = self.in_title.get(code, 0) + k
        for code, k in found.leads.items():
            self.in_lead[code] = self.in_lead.get(code, 0) + k
        literal = self.scorer._literal(c, found.per_code, self.weights)
        self.found_by[id(c)] = (w, {code for code, fields in found.per_code.items() if fields})
        for code, sure in found.leading.items():
            self.ties[code] = self.ties.get(code, 0.0) + w * sure
        for code, fields in found.per_code.items():
            if fields:  # else found in a lead clause alone: an index whose lead is not its title's start
                self._add(code, w, fields, literal.get(code), code in found.plain or code not in found.disputed)

    def _alone(self, ci: int, found: _Found) -> None:
        """Concept `ci`'s contested readings weigh CONTESTED_ALONE where no uncontested text of any code holds it,
        for a code whose own texts (not its pointers to other codes) hold every other word of the query some code
        holds: a contested word beside words another code answers is an extra word, not the story the coder typed
        ("knee pain" is 20704's intra-articular device, not 20701's "Pain Management" heading beside its pointer to
        20704)."""
        discounted = self.weights.get(CONTESTED)
        if found.plain or not found.disputed or not discounted or discounted >= CONTESTED_ALONE:
            return
        c, masks = self.concepts[ci], self.masks
        for alt, _, codes_found in self.found_sets[ci]:
            if alt in c.contested:
                continue
            for mask in set(codes_found.values()):
                if (masks.get(mask) or self._mask_spec(mask))[2]:
                    return  # found plain among the codes pruned away: that text answers the word
        factor = CONTESTED_ALONE / discounted
        own = ~(self.cand.bit.get("cross_references", 0) | self.cand.bit.get("related", 0))
        held = [
            [codes for _, _, codes in self.found_sets[j]]
            for j in range(len(self.concepts))
            if j != ci and any(codes for _, _, codes in self.found_sets[j])
        ]
        for code, fields in found.per_code.items():
            if CONTESTED in fields and all(any(codes.get(code, 0) & own for codes in sets) for sets in held):
                fields[CONTESTED] *= factor

    def _add(self, code: str, w: float, fields: dict[str, float], lit: dict | None, plain: bool) -> None:
        """A concept of weight `w` found in `fields` of `code`: its best field scores, and the typed words found
        in a second field add a little (a synonym in the title plus the typed words in a narrative beats the
        synonym alone)."""
        order = self.order
        best_field, best = min(fields.items(), key=lambda kv: (-kv[1], order[kv[0]]))
        second = max((v for f, v in lit.items() if f != best_field), default=0.0) if lit else 0.0
        s = best + (1 - best) * SECOND_FIELD * second
        self.scores[code] = self.scores.get(code, 0.0) + w * s
        self.matched[code] = self.matched.get(code, 0.0) + w
        if not plain:
            self.contested_weight[code] = self.contested_weight.get(code, 0.0) + w
        g = self.gains.get(code)
        if g is None:
            g = self.gains[code] = {}
        g[best_field] = g.get(best_field, 0.0) + w * s

    def credit_without_pairs(self) -> None:
        """A code silent about what "without" excludes earns SILENT of the pair's weight, if it answers something
        besides "without"."""
        for word, target in self.pairs:
            (wn, by_word), (wt, by_target) = self.found_by[id(word)], self.found_by[id(target)]
            for code in self.scores.keys() - self.contrary - by_target:
                if self.matched[code] > (wn if code in by_word else 0.0):
                    self.scores[code] += SILENT * (wt + (0.0 if code in by_word else wn))

    def credit_sizes(self) -> None:
        """A size typed before its unit ("4 inch"; a range "20-30 mmhg"), held by the bounds a code's official title
        gives that measure, is found there as a word of the title; a title whose bounds leave it out holds none of
        it, whatever digits it shows."""
        concepts = self.concepts
        for i in range(len(concepts) - 1):
            unit = _SIZE_UNITS.get(concepts[i + 1].typed)
            if unit is None or not _is_number(concepts[i].typed):
                continue
            high = float(concepts[i].typed)
            low = float(concepts[i - 1].typed) if i and _is_number(concepts[i - 1].typed) else high
            sized = [j for j in (i - 1, i) if j >= 0 and _is_number(concepts[j].typed)] if low != high else [i]
            title = self.weights["title"]
            for code in self.cand.lookup((unit,)).keys() & self.scores.keys():
                bounds = size_bounds(self.scorer.corpus.doc(code).title).get(unit)
                if bounds is None:
                    continue
                inside = _holds(bounds, low) and _holds(bounds, high)
                for j in sized:
                    self.sized[(code, j)] = inside
                    w, found = self.found_by.get(id(concepts[j]), (self.concept_weight[j], set()))
                    if inside and code not in found:
                        self.scores[code] += w * title
                        self.matched[code] += w
                        g = self.gains[code]
                        g["title"] = g.get("title", 0.0) + w * title
                        self.in_title[code] = self.in_title.get(code, 0) + 1
                    elif not inside and code in found:
                        # Its digits are another measure's ("Compression stocking ... 30-40 mmhg" for "20-30").
                        self.scores[code] -= w * title
                        self.matched[code] -= w

    def ranked(self) -> Ranked:
        scorer, scores = self.scorer, self.scores
        # A hit that owes a quarter of its matched concepts or more to contested evidence is not a confident answer.
        self.cautioned = {
            code for code, cw in self.contested_weight.items() if cw >= CAUTION_SHARE * self.matched[code]
        }
        _, twins = scorer._intent_titles([c for i, c in enumerate(self.concepts) if i not in self.elsewhere])
        self.named = {c.typed.upper() for c in self.concepts}  # a code typed among the words is the code asked for
        for code in (twins | self.contrary).intersection(scores) - self.named:
            scores[code] *= OPPOSITE_INTENT
        self.typed = {w for c in self.concepts for cands in c.words for w in cands}
        self.lengths = scorer.corpus.title_lengths()
        self.final_scores = {code: self._final(code, total) for code, total in scores.items()}
        self.family = self._family()
        return Ranked(
            self.final_scores,
            self._make,
            ties=self.ties,
            refine=self._refine,
        )

    def _shown(self, code: str) -> tuple:
        """(the record, the field its hit shows, the stems of every reading of every concept found there)."""
        scorer = self.scorer
        doc = scorer.corpus.doc(code)
        gains = self.gains[code]
        top = max(gains, key=lambda f: (gains[f], scorer.weights[f]))
        if top == NEGATED:
            top = "title"  # negated words are indexed apart, shown where they stand
        bit, found = self.cand.bit[top], set[str]()
        for c in self.concepts:
            for alt in c.alternatives:
                if self.cand.lookup(alt).get(code, 0) & bit:
                    found.update(alt)
        return doc, top, found

    def _fine(self, codes: list[str]) -> dict[str, float]:
        """code -> 0-1, how much of the text its hit shows the query covers (snippets.coverage; the best-covered
        text of that field), each word weighing what it says, its IDF over the titles: a field-length norm, as
        bm25's or a tf-idf vector's, in information rather than words. Two codes whose titles hold the query's
        words alike differ by what else they say: "any type" adds little, a rare qualifier ("cic") much."""
        shown = {code: self._shown(code) for code in codes}
        # Asked for neither, "insertion" and "removal" are the halves of a pair, not what else a title says: the
        # twins read alike and keep their code order.
        asked = any((t,) in c.alternatives for c in self.concepts for t in (REMOVAL, INSERTION))
        unsaid = frozenset() if asked else frozenset((REMOVAL, INSERTION))
        words = {
            code: [[(w, s) for w, s in stemmed(t) if s and s not in unsaid] for t in doc.texts(top)] or [[]]
            for code, (doc, top, _) in shown.items()
        }
        wanted = sorted({s for texts in words.values() for t in texts for _, s in t} - self.idf.keys())
        if wanted:
            n = self.scorer.n
            for s, df in self.scorer.corpus.title_counts(wanted).items():
                self.idf[s] = math.log(1 + n / max(df, 1))
        idf = self.idf
        return {code: max(snippets.coverage(t, shown[code][2], idf) for t in texts) for code, texts in words.items()}

    def _family(self) -> tuple[str, frozenset[str]] | None:
        """(the name, its codes) when the query is all of the name the best hit's official title leads with and
        at least FAMILY_MIN official titles lead with that name: a category asked for, not one item."""
        scores, lengths = self.final_scores, self.lengths
        if not scores:
            return None
        best = min(scores, key=lambda c: (-scores[c], -self.ties.get(c, 0.0), c))
        size = (lengths.get(best) or (0, 0))[1]
        if not size or self.in_lead.get(best, 0) < size:
            return None
        # Every concept is in the best one's leading name ("orthotic additions spinal" is more than "Addition"):
        # the family is the codes whose leading name holds them all, and no more words.
        lead, members = self.cand.bit[LEAD], None
        for alts in self.found_sets:
            holding = {c for _, _, found in alts for c, mask in found.items() if mask & lead}
            members = holding if members is None else members & holding
            if best not in members:
                return None
        family = frozenset(c for c in members or () if (lengths.get(c) or (0, 0))[1] == size)
        if len(family) < FAMILY_MIN:
            return None
        return LEAD_END.split(self.scorer.corpus.doc(best).title, 1)[0].strip(), family

    def family_text(self) -> str:
        """The family's name, its codes as runs of neighbours in code order, and how many: "Foam dressing:
        A6209-A6215 (7 codes)"."""
        if self._family_text is None:
            assert self.family is not None
            name, family = self.family
            # A run is broken by any code of the set between two members, and by a change of letter.
            runs: list[list[str]] = []
            for head in sorted({c[0] for c in family}):
                inside = False
                for code in self.scorer.corpus.codes_from(head):
                    if code in family and inside:
                        runs[-1].append(code)
                    elif code in family:
                        runs.append([code])
                    inside = code in family
            said = ", ".join(run[0] if len(run) == 1 else f"{run[0]}-{run[-1]}" for run in runs)
            self._family_text = f"{name}: {said} ({len(family)} codes)"
        return self._family_text

    def _make(self, code: str, score: float):
        scorer = self.scorer
        doc, top, found = self._shown(code)
        text, spans = snippets.snippet(doc.texts(top), found, self.typed)
        caution = snippets.caution(doc) if code in self.cautioned else None
        family = self.family_text() if self.family and code in self.family[1] else None
        note = snippets.conflict(doc, top)
        caution = scorer._ended(code, caution)
        return scorer.hit(doc, score, top, text, spans, None, note, caution, family, missing=self._missing(code))

    def _missing(self, code: str) -> tuple[str, ...]:
        """The query's words `code` does not hold, as typed, as a web search says "Missing:": a hit that scores
        without a word says which. Not named: a negation and the word it negates (a hit rightly lacks it), a
        note's narrative ("administered"), and a number that is no size its title measures (a dose)."""
        out = []
        for i, c in enumerate(self.concepts):
            if c.typed in NEGATIONS or id(c) in self.negated or c.typed in NARRATIVE or c.typed.upper() == code:
                continue
            if _is_number(c.typed):
                held = self.sized.get((code, i))
                if held is None:
                    continue
            else:
                held = code in self.found_by.get(id(c), (0.0, ()))[1]
            if not held:
                out.append(" ".join(self.as_typed.get(s, s) for s in c.typed.split()))
        return tuple(out)

    def _final(self, code: str, total: float) -> float:
        # A code typed among the words is the record asked about, whatever its title says.
        if code in self.named:
            focus = 1.0
        else:
            focus = Scorer._focus(self.lengths.get(code), self.in_title.get(code, 0), self.in_lead.get(code, 0))
        score = round(100 * total / self.total_weight * (1 - FOCUS_SHARE * (1 - focus)), SCORE_DECIMALS)
        return min(score, self._ceiling(code))

    def _ceiling(self, code: str) -> float:
        return CAUTION_CAP if code in self.cautioned or code in self.scorer.ended else 100.0

    def _refine(self, codes: list[str]) -> dict[str, float]:
        """code -> its score with up to FINE_POINTS more: how much of its hit's text the query covers (_fine).
        The top two FINE_POINTS below a hit's ceiling (100, or a cautioned hit's cap) are pressed into one to make
        room, so that two hits the words score 100 still differ where their texts do."""
        fine, scores, out = self._fine(codes), self.final_scores, {}
        for code in codes:
            score, room = scores[code], self._ceiling(code) - 2 * FINE_POINTS
            out[code] = round(min(score, room) + max(0.0, score - room) / 2 + FINE_POINTS * fine[code], SCORE_DECIMALS)
        return out
