"""`cptcli icd search`: ICD-10-CM codes ranked by the words of a query.

The codes searched are the release's (cptcli.codesets.icd10): each code's description and its inclusion terms,
analysed as `search` analyses a knowledge base (cptcli.search.analysis: stop words, stems). A query word the
release never uses is read as the word it begins, when it is the start of one ("strep": streptococcal), else
corrected to its nearest stem (rapidfuzz); one the release never writes whose stem is a written word's all the same
("migrane" stems as "migrans") is read as the written word nearer to it ("migraine"). A word so read counts a
little less, and so does the other reading of a word the Alphabetic Index reads as another main term ("broken" as
Fracture, cptcli.codesets.icd_index.word_readings), the word as typed still counting in full. A code scores by the
share of the query's words it holds, the description counting more than an inclusion term, and by how much of the
text that matched the query covers; of two codes that score alike the billable one comes first, and a header says
so and ranks a little lower (it is not reported: a billable code below it is).

`search` shows these codes as a section of its own (SearchHits) when a query reads as a diagnosis
(about_a_diagnosis): the best ICD-10-CM code holds every word of it and scores well above every procedure hit.
"""

from __future__ import annotations

from collections import namedtuple

from cptcli import SCHEMA_VERSION
from cptcli.codesets.icd_index import read_words, text_of
from cptcli.search import Hits

IN_DESCRIPTION = 1.0
IN_TERM = 0.8  # an inclusion term says what else the code covers: a match there is a little less sure
# An Alphabetic Index entry (cptcli.codesets.icd_index) is CDC's own pointer from a coder's words to the code, as sure
# as an inclusion term.
IN_INDEX = 1.0
# A word found only as the stem a typo was read as: less than the word as typed found in an inclusion term.
CORRECTED = 0.6
TYPO_CUTOFF = 80.0  # rapidfuzz ratio a correction needs
TYPO_MIN = 4  # letters a stem needs before it is read as a typo
COVER_SHARE = 0.8  # of a score, the share that is the query's words found; the rest is how much of the text they are
# A header is not reported (a billable code below it is): it ranks below the billable codes that match as well.
HEADER = 0.9
DEFAULT_LIMIT = 10
DEFAULT_MIN_SCORE = 40.0
# A query reads as a diagnosis when the best ICD-10-CM code holds all its words and scores this many points above
# the best procedure hit: "knee pain" (93.3 against 45) does, "bone marrow" (93.3 against 92.4) and "removal of
# implant" (88 against 79.1: a personal-history code holds both words) do not. The scales differ, so only a wide
# margin says the words are a condition's rather than a service's.
DIAGNOSIS_MARGIN = 20.0


class IcdHit(namedtuple("IcdHit", "code description billable score matched_field matched_text matched_terms")):
    """One ranked ICD-10-CM code: where the query matched (its description or an inclusion term) and the words."""

    __slots__ = ()

    def to_dict(self) -> dict:
        # A header is said outright: it is not reported, a billable code below it is.
        return {"schema_version": SCHEMA_VERSION, **self._asdict(), "matched_terms": list(self.matched_terms)} | {
            "header": not self.billable
        }


class IcdHits(list):
    """`icd search`'s results, best first; `total` counts every code that scored at least the lowest score asked
    for; `corrected` the query words read as another word (typo -> stem); `authority` the release searched."""

    __slots__ = ("total", "query", "corrected", "authority", "wanted", "also")

    def __init__(
        self,
        hits,
        total: int,
        query: str,
        corrected: dict,
        authority: str,
        wanted: tuple[str, ...] = (),
        also: dict | None = None,
    ):
        super().__init__(hits)
        self.total, self.query, self.corrected, self.authority = total, query, corrected, authority
        self.wanted = wanted  # the query's stems
        # The query's words the Alphabetic Index reads as another main term, as well as themselves: word -> term.
        self.also = also or {}

    def to_dict(self) -> list:
        return [h.to_dict() for h in self]


def query_stems(query: str, codeset) -> tuple[list[str], dict[str, str]]:
    """The query's stems, and the stem each typo is read as: a stem the release never uses is read as the nearest
    one it does. A stem it uses, however rarely, is taken as typed ("shingl" is not "singl")."""
    from cptcli.search.analysis import stemmed

    typed_as: dict[str, str] = {}
    for word, s in stemmed(query):
        if s:
            typed_as.setdefault(s, word)
    wanted = list(typed_as)
    held = codeset.stem_counts(wanted) if wanted else {}
    corrected: dict[str, str] = {}
    # A stem the release holds may be a typo's all the same: "migrane" stems as "migrans" does. The word as typed
    # is then one the release never writes, nor a form of one that adds or drops an ending ("sprained": "sprain"),
    # and a word it does write is nearer to it and of another stem: that is the word meant.
    suspect = [s for s in wanted if s in held and typed_as[s].isalpha() and len(typed_as[s]) > TYPO_MIN]
    forms = codeset.written_forms(suspect) if suspect else {}
    for s in suspect:
        w = typed_as[s]
        if any(w.startswith(f) or f.startswith(w) for f in forms.get(s, ())):
            continue
        nearest = _nearest_written(codeset, w)
        if nearest is not None and nearest != s:
            corrected[s] = nearest
    for s in wanted:
        if s in held or not s.isalpha() or len(s) < TYPO_MIN:
            continue
        # A word clipped as people say it ("strep", "staph") is the start of the word the release writes: of the
        # stems it begins, the one most codes hold.
        longer = codeset.stems_starting(s)
        if longer:
            corrected[s] = max(longer, key=lambda n: (longer[n], n))
            continue
        from rapidfuzz import fuzz, process

        # A ratio is twice the letters in common over both lengths: a stem reaches the cutoff only within these
        # lengths of the typo's, so only those are read (a letter more each side, for the float's rounding).
        share = TYPO_CUTOFF / (200.0 - TYPO_CUTOFF)
        sized = codeset.stems_sized(int(len(s) * share), int(len(s) / share) + 1)
        near = process.extract(s, sized.keys(), scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF, limit=None)
        # Of the nearest, the closest; of two as close, the one more codes hold.
        best = max((n for n, _, _ in near), default=None, key=lambda n: (fuzz.ratio(s, n), sized[n]))
        if best is not None:
            corrected[s] = best
    return wanted, corrected


_READINGS: dict[str, tuple[str, str]] = {}


def index_readings(wanted: list[str]) -> dict[str, tuple[str, str]]:
    """Of the query's stems, those of a word the Alphabetic Index reads as another main term
    (cptcli.codesets.icd_index.word_readings: "broken" as "fracture"): stem -> (that term's stem, the term)."""
    from cptcli.search.analysis import tokens

    if not _READINGS:
        for word, (other, _) in read_words().items():
            (stem,) = tokens(word) or ("",)
            reads = tokens(other)
            if stem and len(reads) == 1:
                _READINGS[stem] = (reads[0], other.lower())
    return {s: _READINGS[s] for s in wanted if s in _READINGS}


def _nearest_written(codeset, word: str) -> str | None:
    """The stem of the written word nearest to `word` (at least TYPO_CUTOFF alike); of two as near, the one whose
    stem more codes hold."""
    from rapidfuzz import fuzz, process

    share = TYPO_CUTOFF / (200.0 - TYPO_CUTOFF)
    sized = codeset.words_sized(int(len(word) * share), int(len(word) / share) + 1)
    near = process.extract(word, sized.keys(), scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF, limit=None)
    if not near:
        return None
    held = codeset.stem_counts({sized[n] for n, _, _ in near})
    best = max((n for n, _, _ in near), key=lambda n: (fuzz.ratio(word, n), held.get(sized[n], 0)))
    return sized[best]


def rank(codeset, query: str, limit: int = DEFAULT_LIMIT, min_score: float = DEFAULT_MIN_SCORE) -> IcdHits:
    wanted, corrected = query_stems(query, codeset)
    if not wanted:
        return IcdHits([], 0, query, corrected, codeset.authority)
    hits = []
    # A word the Index reads as another main term counts as either, the other reading as a correction does.
    also = {s: r for s, (r, _) in index_readings([s for s in wanted if s not in corrected]).items()}
    # A code reached only through that other reading must hold another of the query's words too: alone, "broken"
    # is the Index's own Broken entries, not every fracture of the release.
    read = {s: corrected.get(s, s) for s in wanted}
    others = [(r, [read[o] for o in wanted if o != s]) for s, r in also.items()]
    for row in codeset.matching(read.values(), others):
        code, description, billable, desc_stems, lead_stems, terms, term_stems, entries, entry_stems, sizes = row
        texts = [(description, desc_stems, IN_DESCRIPTION, "description", 0)]
        if terms:
            texts += [
                (t, ts, IN_TERM, "inclusion term", 0)
                for t, ts in zip(terms.split("\n"), term_stems.split(" | "), strict=False)
            ]
        if entries:
            texts += [
                (text_of(*e.split("\t")), es, IN_INDEX, "index", int(n))
                for e, es, n in zip(entries.split("\n"), entry_stems.split(" | "), sizes.split(), strict=False)
            ]
        found = 0.0
        best_text, best_hits, best_focus, field = description, tuple[str, ...](), 0.0, "description"
        for text, text_stems, weight, name, named in texts:
            held = set(text_stems.split())
            # A word read as another counts only as that reading, and less than a word found as typed.
            reading = {}
            for s in wanted:
                if s in corrected:
                    if corrected[s] in held:
                        reading[s] = (corrected[s], CORRECTED)
                elif s in held:
                    reading[s] = (s, 1.0)
                elif s in also and also[s] in held:
                    reading[s] = (also[s], CORRECTED)
            got = list(reading)
            if not got:
                continue
            sure = sum(weight * w for _, w in reading.values())
            words = {r for r, _ in reading.values()}
            focus_on = held
            if text is description and lead_stems:
                lead = set(lead_stems.split())
                if words <= lead:
                    focus_on = lead
            # An Index entry's words are its levels', a term written in several forms counted once.
            focus = min(len(words) / max(named or len(focus_on), 1), 1.0)
            if sure > found or (sure == found and focus > best_focus):
                found, best_text, best_hits, best_focus, field = sure, text, tuple(got), focus, name
        if not found:
            continue
        score = 100.0 * (COVER_SHARE * found / len(wanted) + (1 - COVER_SHARE) * best_focus)
        score *= 1.0 if billable else HEADER
        hits.append(IcdHit(code, description, bool(billable), round(score, 1), field, best_text, best_hits))
    # The score orders; of equal scores the billable code first, then the shorter description, then the code.
    hits.sort(key=lambda h: (-h.score, not h.billable, len(h.description), h.code))
    kept = [h for h in hits if h.score >= min_score]
    said = {s: term for s, (_, term) in index_readings(list(also)).items()}
    return IcdHits(kept[:limit], len(kept), query, corrected, codeset.authority, tuple(wanted), said)


def about_a_diagnosis(icd: IcdHits, best_procedure: float) -> bool:
    """Whether `search`'s query reads as a diagnosis: the best ICD-10-CM code holds every word of it (as typed or as
    its typo is read) and scores DIAGNOSIS_MARGIN points above the best procedure hit (0 when there is none)."""
    return (
        bool(icd) and len(icd[0].matched_terms) == len(icd.wanted) and icd[0].score >= best_procedure + DIAGNOSIS_MARGIN
    )


class SearchHits(Hits):
    """`search`'s results: the procedure hits (a Hits, and as JSON still the list of them), and `icd`, the ICD-10-CM
    codes of a query that reads as a diagnosis (or that asked for them), else None. Its sections are `hits` and
    `icd` (cptcli.render: a table shows both, CSV the first unless --section names the other)."""

    __slots__ = ("icd",)
    SECTIONS = ("hits", "icd")

    def __init__(self, hits: Hits, icd: IcdHits | None = None):
        super().__init__(hits, hits.total, hits.query)
        self.icd = icd
