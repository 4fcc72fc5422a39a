"""Query analysis: text -> stems -> concepts.

Each query word (or a phrase from the knowledge base's synonym table, such as
"take out" or "bone marrow canal") is one concept. It is resolved against the
vocabulary of the searched corpus once (exact, then fuzzy with rapidfuzz, then
as a prefix, then as two run-together words), and widened with its synonyms.
The same tokeniser and stemmer index the corpus (cptcli.engine.build), so a
query word and an indexed word meet exactly when their stems do.
"""

from __future__ import annotations

import re

from cptcli.search.candidates import Vocabulary

SYNONYM_FACTOR = 0.9  # a synonym is good evidence, but the word the coder typed is better
# A synonym that holds only through a source's reading an official descriptor contradicts
# counts for little: the hit it makes carries a caution and no confident score.
CONTESTED_FACTOR = 0.4
PREFIX_SIM = 0.9
PAST_SIM = 0.9
FUZZY_CUTOFF = 75.0
# A British spelling is the same word, not a typo: "sulphate", "nebuliser", "haemodialysis", "orthopaedic",
# "aluminium", "oedema", "catheterisation", "centre", "tumour", "analyse" (the American forms are the code sets').
BRITISH_SIM = 0.98
_BRITISH = (
    (re.compile(r"aluminium"), "aluminum"),
    (re.compile(r"sulph"), "sulf"),
    (re.compile(r"ae"), "e"),
    (re.compile(r"oe(?=[dst])"), "e"),
    (re.compile(r"(?<=[a-z]{3})(?<!s)is(?=er|ed|e|ing|$)"), "iz"),  # not "dialysis"
    (re.compile(r"(?<=[a-z]{3})ys(?=er|ed|e|ing|$)"), "yz"),
    (re.compile(r"(?<=[a-z]{2})our(?=$|s$|ed$)"), "or"),
    (re.compile(r"(?<=[a-z]{2})tr$"), "ter"),
    (re.compile(r"ogu$"), "og"),
)

# A word; "M54.16" is one token (its dot dropped by the stem table), as the
# diagnosis rows are indexed. Matched on lowered text: one pass, no IGNORECASE.
_TOKEN = re.compile(r"[a-z][0-9][0-9a-z]\.[0-9a-z]{1,4}\b|[a-z0-9]+")
# Function words say nothing of what a code is: a query's "that" or "were" must not weigh as a word ("were" is no
# typo of "wire"), nor decide anything once a code set of thousands holds them in its sentences.
STOP = frozenset(
    "a an and are as at be by for from in into is it of on or the this to with was when "
    "that these those there their its were been being has have had which whom whose will would "
    "code codes cpt procedure eg".split()
)
# A phrasal verb's particle may follow its object: "take the beads out" is "take out" the beads.
PARTICLES = frozenset(("out",))
PARTICLE_REACH = 4  # words between the verb and its particle, at most
# The two intents of a pair of codes, by the stems their synonym groups are named by (codes.json "synonyms").
INTENTS = ("remov", "insert")
# A participle after these tells the device's history, not the intent: "the previously placed rod was removed".
HISTORY = frozenset(("previously", "prior", "already"))
# Suffixes folded so that "insert", "inserts" and "insertion" meet; a stem keeps
# at least four letters so that "canal" does not become "can". "-ed" is kept:
# "previously inserted" describes a removal code's device, not an insertion.
_SUFFIXES = ("ations", "ation", "ators", "ator", "ions", "ion", "ments", "ment", "ings", "ing", "es", "al", "s", "e")


def american(tok: str) -> str:
    """A stem written the American way, as the code sets write it ("sulphat" -> "sulfat")."""
    for pattern, repl in _BRITISH:
        tok = pattern.sub(repl, tok)
    return tok


def stem(word: str) -> str:
    if not word.isalpha():
        return word
    if word.endswith("ies") and len(word) >= 6:
        word = word[:-3] + "y"  # batteries, supplies, accessories: the singular's stem
    for _ in range(2):
        for suf in _SUFFIXES:
            # "medication" must not become "medic(al)", nor "tension" "tens" (TENS) or "portion" "port".
            # A plural of three letters is stemmed too (tips, pads, hips), but not "plus", "axis" or TENS.
            keep = 6 if suf.startswith("ation") else 5 if suf.startswith("ion") else 3 if suf == "s" else 4
            if (
                word.endswith(suf)
                and len(word) - len(suf) >= keep
                and not (suf == "s" and (word.endswith(("ss", "us", "is")) or word == "tens"))
            ):
                word = word[: -len(suf)]
                break
        else:
            break
    return word


class _StemTable(dict):
    """word -> its stem, or "" for a word never indexed (a stop word, a lone
    letter). Filled on first sight: a 100,000-code base has ~18 million words
    but a few thousand distinct ones, so the index build stems each once and
    looks the rest up in C."""

    def __missing__(self, word: str) -> str:
        if "." in word:
            s = self[word] = self[word.replace(".", "")]
        else:
            s = self[word] = "" if word in STOP or (len(word) == 1 and not word.isdigit()) else stem(word)
        return s


_STEMS = _StemTable()


def tokens(text: str) -> list[str]:
    return [s for s in map(_STEMS.__getitem__, _TOKEN.findall(text.lower())) if s]


def stemmed(text: str) -> list[tuple[str, str]]:
    """Each word of `text` with its stem as the index reads it ("" for a word never indexed, a stop word)."""
    return [(w, _STEMS[w]) for w in _TOKEN.findall(text.lower())]


def stems(text: str) -> set[str]:
    """The distinct stems of `text`, for indexing (no list, no order)."""
    found = set(map(_STEMS.__getitem__, _TOKEN.findall(text.lower())))
    found.discard("")
    return found


class Concept:
    """One thing the query asks for: the words typed, and the terms (stem
    tuples) that count as finding it, each with how sure that reading is."""

    __slots__ = ("typed", "alternatives", "words", "contested")

    def __init__(self, typed: str, alternatives=None, words=None):
        self.typed = typed
        self.alternatives: dict[tuple[str, ...], float] = alternatives if alternatives is not None else {}
        # The alternatives reached only through contested synonym groups.
        self.contested: set[tuple[str, ...]] = set()
        # What each typed word resolved to: the literal evidence, synonyms aside.
        self.words: list[dict[str, float]] = words if words is not None else []


def synonym_terms(groups) -> dict[tuple[str, ...], dict[tuple[str, ...], bool]]:
    """term -> {every term of every group it belongs to: whether the link is
    contested}, all as stem tuples. A link is contested when every group that
    makes it is."""
    out: dict[tuple[str, ...], dict[tuple[str, ...], bool]] = {}
    for group, contested in groups:
        # In the group's order, not a set's: the order terms are tried in must not hang on the hash seed.
        terms = dict.fromkeys(t for t in (tuple(tokens(x)) for x in group) if t)
        for t in terms:
            links = out.setdefault(t, {})
            for other in terms:
                links[other] = links.get(other, True) and contested and other != t
    return out


class Analyzer:
    """Turns query text into concepts against one vocabulary and synonym table."""

    def __init__(self, vocabulary: Vocabulary, synonyms: dict[tuple[str, ...], dict[tuple[str, ...], bool]]):
        self.vocab = vocabulary
        self.synonyms = synonyms
        # The one-word terms that say an intent ("remov", "explant", "plac", "implant" ...).
        self.intent_words = frozenset(
            t[0] for head in INTENTS for t in synonyms.get((head,), {}) if len(t) == 1
        ) | frozenset(h for h in INTENTS if (h,) in synonyms)

    @staticmethod
    def _max_edits(n: int) -> int:
        # Short words must be near-exact: "pmp" may be "pump", never "pm" + 2 edits.
        return 1 if n <= 4 else 2 if n <= 7 else 3

    def resolve(self, tok: str) -> dict[str, float]:
        """Vocabulary stems the typed stem may stand for, each with a certainty 0-1."""
        if self.vocab.known(tok):
            # "-ed" is not folded (see _SUFFIXES), so "wheels" reaches a "wheeled walker" here, a little less
            # surely; the synonym table's words (the intents among them) keep their exact sense.
            past = tok + "ed"
            if tok.isalpha() and len(tok) >= 4 and tok not in self.vocab.synonym_words and self.vocab.known(past):
                return {tok: 1.0, past: PAST_SIM}
            if self._rare(tok):
                # A word one code's short form has ("remv") may be a typo of a word thousands have ("remval" for
                # "removal" stems so): the common word one edit away, from the same first letter ("hair" is
                # no typo of "air"), is read too, as a typo is.
                return {**self._typos(tok, 1, common_only=True), tok: 1.0}
            return {tok: 1.0}
        # Codes, numbers and abbreviations of two letters match exactly or not at all.
        if not tok.isalpha() or len(tok) <= 2:
            return {}
        us = american(tok)
        if us != tok and self.vocab.known(us):
            return {us: BRITISH_SIM}
        out = self._typos(tok, self._max_edits(len(tok)))
        if len(tok) >= 4:
            for w in self.vocab.stems_from(tok, 20):
                out[w] = max(out.get(w, 0.0), PREFIX_SIM)
        return out

    def _rare(self, tok: str) -> bool:
        return (
            tok.isalpha() and len(tok) >= 4 and tok not in self.vocab.synonym_words and self.vocab.codes_with(tok) <= 1
        )

    def _typos(self, tok: str, most: int, common_only: bool = False) -> dict[str, float]:
        """The vocabulary words `tok` may be a misspelling of, at most `most` edits away, each with its certainty."""
        # Imported here: a query whose every word is known never needs it.
        from rapidfuzz import fuzz, process
        from rapidfuzz.distance import Levenshtein

        out: dict[str, float] = {}
        for w, score, _ in process.extract(
            tok, self.vocab.alpha(), scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF, limit=8
        ):
            # A misspelling keeps its first letter, or changes nothing else ("neumonia"): "vasectomy" is not a
            # mistyped "mastectomy".
            edits = most if w[0] == tok[0] else 0 if common_only else 1
            if w != tok and Levenshtein.distance(tok, w) <= edits and not (common_only and self._rare(w)):
                out[w] = score / 100
        return out

    @staticmethod
    def _edits(tok: str, cands: dict[str, float]) -> float:
        """The fewest edits that read `tok` as one of the words it resolved to (a prefix costs none)."""
        from rapidfuzz.distance import Levenshtein

        if not cands:
            return float("inf")
        return min(0 if w.startswith(tok) else Levenshtein.distance(tok, w) for w in cands)

    def _split(self, tok: str) -> tuple[list[tuple[str, dict[str, float]]], int] | None:
        """Two run-together words ("baclofenpump"): one half exact, the other resolved; with the edits the
        reading costs (the missing space is one)."""
        from rapidfuzz.distance import Levenshtein

        best, best_sim = None, 0.0
        for i in range(3, len(tok) - 2):
            left, right = stem(tok[:i]), stem(tok[i:])
            if not self.vocab.known(left) and not self.vocab.known(right):
                continue
            rl, rr = self.resolve(left), self.resolve(right)
            if rl and rr:
                sim = min(max(rl.values()), max(rr.values()))
                if sim > best_sim:
                    best, best_sim = [(left, rl), (right, rr)], sim
        if best is None or best_sim < 0.8:
            return None
        cost = 1 + sum(min(Levenshtein.distance(t, w) for w in found) for t, found in best)
        return best, cost

    def _query_tokens(self, text: str) -> list[tuple[str, dict[str, float], tuple[str, ...] | None]]:
        """(typed stem, what it resolves to, the two words it was typed as when joined)."""
        raw = tokens(text)
        out: list[tuple[str, dict[str, float], tuple[str, ...] | None]] = []
        i = 0
        while i < len(raw):
            tok = raw[i]
            # "intra medullary" typed apart for a word the corpus writes as one. Both readings stand:
            # "breast pump" is the words of "Breast pump, manual" as well as a short form's "breastpump".
            if i + 1 < len(raw) and tok.isalpha() and raw[i + 1].isalpha():
                joined = stem(tok + raw[i + 1])
                if self.vocab.known(joined):
                    apart = (tok, raw[i + 1]) if self.vocab.known(tok) and self.vocab.known(raw[i + 1]) else None
                    out.append((joined, {joined: 1.0}, apart))
                    i += 2
                    continue
            cands = self.resolve(tok)
            if tok.isalpha() and len(tok) >= 6 and (not cands or max(cands.values()) < 0.9):
                split = self._split(tok)
                # "oxigen" is one mistyped "oxygen" (one edit), not "oxi" + "gen" (a space and an edit).
                if split and split[1] < self._edits(tok, cands):
                    out.extend((t, c, None) for t, c in split[0])
                    i += 1
                    continue
            out.append((tok, cands, None))
            i += 1
        return out

    def _particles(self, toks: list) -> list:
        """The query's tokens with a particle moved next to the verb it completes, where the two are a synonym
        term ("take the antibiotic beads out" reads as "take out the antibiotic beads")."""
        for j in range(2, len(toks)):
            if toks[j][0] not in PARTICLES:
                continue
            for i in range(j - 2, max(-1, j - 2 - PARTICLE_REACH), -1):
                if (toks[i][0], toks[j][0]) in self.synonyms:
                    toks = [*toks[: i + 1], toks[j], *toks[i + 1 : j], *toks[j + 1 :]]
                    break
        return toks

    def _participles(self, toks: list) -> list:
        """A query naming no intent word but a participle of one ("drug device removed from deep tissue", "beads
        placed in the bone marrow canal") asks for that intent: the participle also reads as its intent word, a
        little less surely ("-ed" is not folded: "previously placed" tells the device's history, and stays so)."""
        if any(t in self.intent_words or self.intent_words.intersection(c) for t, c, _ in toks):
            return toks
        out = []
        for k, (typed, cands, apart) in enumerate(toks):
            base = next((b for b in (stem(typed[:-1]), stem(typed[:-2])) if b in self.intent_words), None)
            if base and typed.endswith("ed") and (k == 0 or toks[k - 1][0] not in HISTORY):
                cands = {**cands, base: PAST_SIM}
            out.append((typed, cands, apart))
        return out

    def concepts(self, text: str) -> list[Concept]:
        toks = self._participles(self._particles(self._query_tokens(text)))
        concepts: list[Concept] = []
        i = 0
        while i < len(toks):
            match: tuple[str, ...] | None = None
            match_sim = 0.0
            # The longest synonym term that the words from here spell (typos allowed); of two as long, the surer
            # reading ("nebulizor" is "nebulizer" before "nebuliser"), then the first in stem order, so that the
            # reading never depends on the order the table was filled in.
            for term in self.synonyms:
                k = len(term)
                if i + k > len(toks) or (match and k < len(match)):
                    continue
                sims = []
                for j, w in enumerate(term):
                    typed, cands, _ = toks[i + j]
                    s = 1.0 if typed == w else cands.get(w, 0.0)
                    if not s:
                        break
                    sims.append(s)
                else:
                    sim = min(sims)
                    if not match or k > len(match) or (-sim, term) < (-match_sim, match):
                        match, match_sim = term, sim
            if match:
                k = len(match)
                c = Concept(
                    " ".join(t for t, _, _ in toks[i : i + k]),
                    words=[cands or {t: 1.0} for t, cands, _ in toks[i : i + k]],
                )
                for alt, contested in self.synonyms[match].items():
                    # "intraarticular" typed is "intra-articular" spelt together, not a synonym.
                    same = "".join(alt) == "".join(match)
                    factor = 1.0 if same else CONTESTED_FACTOR if contested else SYNONYM_FACTOR
                    if alt not in c.alternatives or c.alternatives[alt] < match_sim * factor:
                        c.alternatives[alt] = match_sim * factor
                        if contested and not same:
                            c.contested.add(alt)
                        else:
                            c.contested.discard(alt)
                concepts.append(c)
                i += k
                continue
            typed, cands, apart = toks[i]
            alternatives: dict[tuple[str, ...], float] = {(w,): s for w, s in cands.items()}
            if apart:
                alternatives[apart] = 1.0
            concepts.append(Concept(typed, alternatives, [cands]))
            i += 1
        return concepts
