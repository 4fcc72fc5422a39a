"""Rank knowledge-base records against what a coder types in one query box.

A query is one of: a CPT code or code prefix ("20701", "+20702", "2070"), an
ICD-10-CM code ("M54.16", "m5416"), a modifier ("modifier 59", "-59"), or
words - lay or clinical, abbreviated, misspelt or run together.

Words are scored concept by concept. Each query word (or a phrase from the
knowledge base's synonym table, such as "take out" or "bone marrow canal") is
one concept; it is resolved against the vocabulary of the searched corpus once
(exact, then fuzzy with rapidfuzz, then as a prefix, then as two run-together
words), and widened with its synonyms. A record's score for a concept is the
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
from collections import namedtuple

from cptcli import SCHEMA_VERSION, codes
from cptcli.errors import UsageError

MAX_QUERY = 500
DEFAULT_LIMIT = 10
DEFAULT_MIN_SCORE = 40.0

# Where a word is found says how much it tells about the code. Cross-references
# and related rows describe *other* codes, so they count least.
WEIGHTS = {
    "code": 1.0,
    "title": 1.0,
    "descriptor": 0.9,
    "summary": 0.8,
    "service_type": 0.7,
    "clinical_context": 0.6,
    "examples": 0.55,
    "documentation": 0.5,
    "specialties": 0.5,
    "diagnoses": 0.45,
    "sites_of_service": 0.4,
    "modifiers": 0.4,
    "taxonomy": 0.35,
    "cross_references": 0.35,
    "related": 0.3,
}
_FIELDS = tuple(WEIGHTS)
_BIT = {f: 1 << i for i, f in enumerate(_FIELDS)}

SYNONYM_FACTOR = 0.9  # a synonym is good evidence, but the word the coder typed is better
PREFIX_SIM = 0.9
FUZZY_CUTOFF = 75.0
SECOND_FIELD = 0.3  # the very words typed, found in a second field too, add a little
SCORE_DECIMALS = 1
# A CPT code typed among words names the record asked about more surely than any word.
CODE_CONCEPT_WEIGHT = 3.0

# A word; "M54.16" is one token (its dot dropped by the stem table), as the
# diagnosis rows are indexed. Matched on lowered text: one pass, no IGNORECASE.
_TOKEN = re.compile(r"[a-z][0-9][0-9a-z]\.[0-9a-z]{1,4}\b|[a-z0-9]+")
# The same codes in unlowered text, for the snippet's highlights.
_ICD_DOT = re.compile(r"\b([a-z][0-9][0-9a-z])\.([0-9a-z]{1,4})\b", re.IGNORECASE)
_STOP = frozenset("a an and are as at be by for from in into is it of on or the this to with was when "
                  "code codes cpt procedure eg".split())
# Suffixes folded so that "insert", "inserts" and "insertion" meet; a stem keeps
# at least four letters so that "canal" does not become "can". "-ed" is kept:
# "previously inserted" describes a removal code's device, not an insertion.
_SUFFIXES = ("ations", "ation", "ators", "ator", "ions", "ion", "ments", "ment", "ings", "ing",
             "es", "al", "s", "e")
_CODE_PREFIX = re.compile(r"\+?\s*([0-9]{1,4})")
_MODIFIER_QUERY = re.compile(r"(?:MODIFIER|MOD)\s*-?\s*([0-9A-Z]{2})|-\s*([0-9A-Z]{2})|([0-9A-Z]{2})\s*MODIFIER")


_MASK_NAMES: dict[int, tuple[str, ...]] = {}


def _names(mask: int) -> tuple[str, ...]:
    """The fields a bit mask names, in field order (memoised: the scoring loop
    asks once per code and concept, tens of thousands of times on a big base)."""
    names = _MASK_NAMES.get(mask)
    if names is None:
        names = _MASK_NAMES[mask] = tuple(f for f in _FIELDS if mask & _BIT[f])
    return names


# Results and the searched documents are named tuples, not dataclasses: the
# `search --json` fast path builds them without the model, and importing
# dataclasses (it imports inspect) costs ~10 ms, a third of that path's budget.
class Hit(namedtuple("Hit", "code title score matched_field snippet completeness add_on highlights matched_row "
                            "data_note", defaults=((), None, None))):
    """One ranked result. `highlights` are the (start, end) spans of the matched
    words inside `snippet`; `matched_row` the table row that matched (a modifier
    or ICD-10-CM code), if any; `data_note` a correction or conflict the coder
    must see with this hit."""

    __slots__ = ()

    def to_dict(self) -> dict:
        return {"schema_version": SCHEMA_VERSION, "code": self.code, "title": self.title, "score": self.score,
                "matched_field": self.matched_field, "snippet": self.snippet,
                "completeness": self.completeness, "add_on": self.add_on,
                "matched_terms": [self.snippet[s:e] for s, e in self.highlights],
                "matched_row": self.matched_row, "data_note": self.data_note}


class SearchDoc(namedtuple("SearchDoc", "code title completeness add_on fields diagnoses modifiers notes")):
    """What search reads of one record: its searchable texts as (field, text)
    pairs, its diagnosis and modifier rows as (code, description) pairs, and its
    notes as (kind, subject, correction, text). Made from a CodeRecord by `of`;
    the index stores it as JSON, read back by `from_json` without the model."""

    __slots__ = ()

    @classmethod
    def of(cls, rec) -> "SearchDoc":
        return cls(rec.code, rec.title.text, rec.completeness, rec.is_add_on, tuple(_field_texts(rec)),
                   tuple((r.code, r.description) for r in rec.diagnoses),
                   tuple((r.modifier, r.description) for r in rec.modifiers),
                   tuple((n.kind, n.subject, n.correction, n.text) for n in rec.notes))

    @classmethod
    def from_json(cls, text: str) -> "SearchDoc":
        import json

        code, title, completeness, add_on, *rows = json.loads(text)
        return cls(code, title, completeness, add_on, *(tuple(map(tuple, r)) for r in rows))

    @property
    def display_code(self) -> str:
        return f"+{self.code}" if self.add_on else self.code

    def texts(self, name: str) -> list[str]:
        return [t for f, t in self.fields if f == name]


def stem(word: str) -> str:
    if not word.isalpha():
        return word
    for _ in range(2):
        for suf in _SUFFIXES:
            keep = 6 if suf.startswith("ation") else 4  # "medication" must not become "medic(al)"
            if word.endswith(suf) and len(word) - len(suf) >= keep and not (suf == "s" and word.endswith("ss")):
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
            s = self[word] = "" if word in _STOP or (len(word) == 1 and not word.isdigit()) else stem(word)
        return s


_STEMS = _StemTable()


def tokens(text: str) -> list[str]:
    return [s for s in map(_STEMS.__getitem__, _TOKEN.findall(text.lower())) if s]


def _stems(text: str) -> set[str]:
    """The distinct stems of `text`, for indexing (no list, no order)."""
    found = set(map(_STEMS.__getitem__, _TOKEN.findall(text.lower())))
    found.discard("")
    return found


def _field_texts(rec):
    """(field, text) for every searchable text of a CodeRecord, in field order."""
    yield "code", rec.code
    yield "title", rec.title.text
    if rec.descriptor:
        yield "descriptor", rec.descriptor.text
    for name in ("summary", "service_type", "clinical_context", "examples", "documentation",
                 "sites_of_service", "specialties"):
        for f in getattr(rec, name):
            yield name, f.text
    for x in rec.cross_references:
        yield "cross_references", x.text
    # A row's official correction is searchable with it: "lumbar radiculopathy"
    # must find the M54.16 row whose source calls it "lumbosacral".
    fixes = {n.subject: f"[correction: {n.correction}]" for n in rec.notes
             if n.kind == "correction" and n.correction}
    for r in rec.modifiers:
        yield "modifiers", _join(r.modifier, r.description, r.when_to_use, fixes.get(f"modifiers/{r.modifier}"))
    for r in rec.taxonomy:
        yield "taxonomy", _join(r.code, r.specialty, r.notes, fixes.get(f"taxonomy/{r.code}"))
    for r in rec.diagnoses:
        yield "diagnoses", _join(r.code, r.description, r.relevance, fixes.get(f"diagnoses/{r.code}"))
    for r in rec.related:
        yield "related", _join(r.code, r.description, r.relationship)


def _join(*cells) -> str:
    return " ".join(c for c in cells if c)


class MemoryCorpus:
    """The searched corpus of a loaded KnowledgeBase, in memory. The index
    (cptcli.index.IndexCorpus) stores this same corpus and answers the same
    questions from SQLite, so a big knowledge base is searched without loading it:

      n, synonyms (groups of terms), modifier_names (the registry's codes);
      has_stem, alpha_stems, stems_from(prefix, limit), postings(stem);
      codes_from(prefix), icd_rows(icd), modifier_codes(modifier), doc(code).

    Postings are kept per field (field -> stem -> codes, in code order) and
    merged into code -> field mask only for the stems a query asks about:
    appending is the cheapest way to index 100,000 records' 4 million
    (stem, field, code) facts in Python.
    """

    def __init__(self, synonyms=(), modifier_names=()):
        self.synonyms = tuple(tuple(g.terms) for g in synonyms)
        self.modifier_names = frozenset(modifier_names)
        self.n = 0
        self.docs: dict[str, SearchDoc] = {}
        self.by_field: dict[str, dict[str, list[str]]] = {name: {} for name in _FIELDS}
        # ("icd" | "modifier", row key) -> codes with such a row
        self.rows: dict[tuple[str, str], list[str]] = {}
        self._vocab: list[str] | None = None

    @classmethod
    def of(cls, kb) -> "MemoryCorpus":
        corpus = cls(kb.synonyms, kb.modifiers)
        for code in sorted(kb.records):
            corpus.add(SearchDoc.of(kb.records[code]))
        return corpus

    def add(self, doc: SearchDoc, keep: bool = True) -> None:
        """Index one document; codes must come in code order. The index build
        does not `keep` the documents: it stores them."""
        code = doc.code
        self.n += 1
        if keep:
            self.docs[code] = doc
        by_field: dict[str, list[str]] = {}
        for name, text in doc.fields:
            by_field.setdefault(name, []).append(text)
        for name, texts in by_field.items():
            lists = self.by_field[name]
            # One tokenising pass per field: words never run across the joining space.
            for k in _stems(" ".join(texts)):
                codes_ = lists.get(k)
                if codes_ is None:
                    lists[k] = [code]
                else:
                    codes_.append(code)
        for kind, rows in (("icd", doc.diagnoses), ("modifier", doc.modifiers)):
            for key in dict.fromkeys(k for k, _ in rows):
                self.rows.setdefault((kind, key), []).append(code)

    def stored_postings(self):
        """(stem, field bit, codes) for every stem and field: what the index stores."""
        for name, lists in self.by_field.items():
            bit = _BIT[name]
            for s, codes_ in lists.items():
                yield s, bit, codes_

    def _sorted_vocab(self) -> list[str]:
        if self._vocab is None:
            self._vocab = sorted(set().union(*self.by_field.values()))
        return self._vocab

    def has_stem(self, s: str) -> bool:
        return any(s in lists for lists in self.by_field.values())

    def alpha_stems(self) -> list[str]:
        return [w for w in self._sorted_vocab() if w.isalpha()]

    def stems_from(self, prefix: str, limit: int) -> list[str]:
        return _from(self._sorted_vocab(), prefix)[:limit]

    def postings(self, s: str) -> dict[str, int]:
        return merge_postings((_BIT[name], lists[s]) for name, lists in self.by_field.items() if s in lists)

    def codes_from(self, prefix: str) -> list[str]:
        return _from(list(self.docs), prefix)

    def icd_rows(self, icd: str) -> list[tuple[str, str]]:
        return [(key, code) for (kind, key), codes_ in self.rows.items() if kind == "icd"
                and (key.startswith(icd) or icd.startswith(key)) for code in codes_]

    def modifier_codes(self, modifier: str) -> list[str]:
        return self.rows.get(("modifier", modifier), [])

    def doc(self, code: str) -> SearchDoc:
        return self.docs[code]


def merge_postings(per_field) -> dict[str, int]:
    """code -> field mask, from (field bit, codes) pairs in field order."""
    out: dict[str, int] = {}
    for bit, codes_ in per_field:
        for code in codes_:
            out[code] = out.get(code, 0) | bit
    return out


def _from(ordered: list[str], prefix: str) -> list[str]:
    import bisect

    i = bisect.bisect_left(ordered, prefix)
    j = bisect.bisect_left(ordered, prefix + "\U0010ffff", i)
    return ordered[i:j]


class _Concept:
    """One thing the query asks for: the words typed, and the terms (stem
    tuples) that count as finding it, each with how sure that reading is."""

    __slots__ = ("typed", "alternatives", "words")

    def __init__(self, typed: str, alternatives=None, words=None):
        self.typed = typed
        self.alternatives: dict[tuple[str, ...], float] = alternatives if alternatives is not None else {}
        # What each typed word resolved to: the literal evidence, synonyms aside.
        self.words: list[dict[str, float]] = words if words is not None else []


class Hits(list):
    """Search results, best first; `total` counts every code that scored at
    least the lowest score asked for, printed or not: a table says how many
    more there are (a row query can tie thousands of codes)."""

    __slots__ = ("total",)

    def __init__(self, hits, total: int):
        super().__init__(hits)
        self.total = total


class _Ranked:
    """One kind of answer to a query: every matching code's score, and how to
    make the Hit for a code. Hits are made only for the codes printed, so a
    query matching half of a 100,000-code base makes ten, not fifty thousand."""

    __slots__ = ("scores", "make")

    def __init__(self, scores: dict, make):
        self.scores = scores  # code -> score, rounded as printed
        self.make = make  # (code, score) -> Hit


class Searcher:
    """Ranks a corpus against queries: a loaded KnowledgeBase (searched in
    memory) or an index's corpus (cptcli.index.IndexCorpus)."""

    def __init__(self, source):
        self.corpus = MemoryCorpus.of(source) if hasattr(source, "records") else source
        self.n = max(self.corpus.n, 1)
        self.synonyms = self._synonym_terms(self.corpus.synonyms)
        self._synonym_words = frozenset(w for terms in self.synonyms.values() for t in terms for w in t)
        self._alpha: list[str] | None = None
        self._postings: dict[str, dict[str, int]] = {}
        self._lookups: dict[tuple[str, ...], dict[str, int]] = {}

    # -- synonyms ---------------------------------------------------------
    @staticmethod
    def _synonym_terms(groups) -> dict[tuple[str, ...], frozenset]:
        """term -> every term of every group it belongs to, all as stem tuples."""
        out: dict[tuple[str, ...], set] = {}
        for group in groups:
            terms = {t for t in (tuple(tokens(x)) for x in group) if t}
            for t in terms:
                out.setdefault(t, set()).update(terms)
        return {k: frozenset(v) for k, v in out.items()}

    # -- the vocabulary: the corpus's stems and the synonym table's words ----
    def _known(self, s: str) -> bool:
        return s in self._synonym_words or self.corpus.has_stem(s)

    def _alpha_vocab(self) -> list[str]:
        if self._alpha is None:
            self._alpha = sorted(set(self.corpus.alpha_stems()).union(w for w in self._synonym_words if w.isalpha()))
        return self._alpha

    def _stems_from(self, prefix: str, limit: int) -> list[str]:
        found = set(self.corpus.stems_from(prefix, limit))
        found.update(w for w in self._synonym_words if w.startswith(prefix))
        return sorted(found)[:limit]

    def _posting(self, s: str) -> dict[str, int]:
        p = self._postings.get(s)
        if p is None:
            p = self._postings[s] = self.corpus.postings(s)
        return p

    # -- resolving query words against the vocabulary ----------------------
    @staticmethod
    def _max_edits(n: int) -> int:
        # Short words must be near-exact: "pmp" may be "pump", never "pm" + 2 edits.
        return 1 if n <= 4 else 2 if n <= 7 else 3

    def _resolve(self, tok: str) -> dict[str, float]:
        """Vocabulary stems the typed stem may stand for, each with a certainty 0-1."""
        if self._known(tok):
            return {tok: 1.0}
        # Codes, numbers and abbreviations of two letters match exactly or not at all.
        if not tok.isalpha() or len(tok) <= 2:
            return {}
        # Imported here: a query whose every word is known never needs it (~10 ms).
        from rapidfuzz import fuzz, process
        from rapidfuzz.distance import Levenshtein

        out: dict[str, float] = {}
        for w, score, _ in process.extract(tok, self._alpha_vocab(), scorer=fuzz.ratio,
                                           score_cutoff=FUZZY_CUTOFF, limit=8):
            if Levenshtein.distance(tok, w) <= self._max_edits(len(tok)):
                out[w] = score / 100
        if len(tok) >= 4:
            for w in self._stems_from(tok, 20):
                out[w] = max(out.get(w, 0.0), PREFIX_SIM)
        return out

    def _split(self, tok: str) -> list[tuple[str, dict[str, float]]] | None:
        """Two run-together words ("baclofenpump"): one half exact, the other resolved."""
        best, best_sim = None, 0.0
        for i in range(3, len(tok) - 2):
            left, right = stem(tok[:i]), stem(tok[i:])
            if not self._known(left) and not self._known(right):
                continue
            rl, rr = self._resolve(left), self._resolve(right)
            if rl and rr:
                sim = min(max(rl.values()), max(rr.values()))
                if sim > best_sim:
                    best, best_sim = [(left, rl), (right, rr)], sim
        return best if best_sim >= 0.8 else None

    def _query_tokens(self, text: str) -> list[tuple[str, dict[str, float]]]:
        raw = tokens(text)
        out: list[tuple[str, dict[str, float]]] = []
        i = 0
        while i < len(raw):
            tok = raw[i]
            # "intra medullary" typed apart for a word the corpus writes as one.
            if i + 1 < len(raw) and tok.isalpha() and raw[i + 1].isalpha():
                joined = stem(tok + raw[i + 1])
                if self._known(joined):
                    out.append((joined, {joined: 1.0}))
                    i += 2
                    continue
            cands = self._resolve(tok)
            if tok.isalpha() and len(tok) >= 6 and (not cands or max(cands.values()) < 0.9):
                parts = self._split(tok)
                if parts:
                    out.extend(parts)
                    i += 1
                    continue
            out.append((tok, cands))
            i += 1
        return out

    def _concepts(self, text: str) -> list[_Concept]:
        toks = self._query_tokens(text)
        concepts: list[_Concept] = []
        i = 0
        while i < len(toks):
            match, match_sim = None, 0.0
            # The longest synonym term that the words from here spell (typos allowed).
            for term in self.synonyms:
                k = len(term)
                if i + k > len(toks) or (match and k <= len(match)):
                    continue
                sims = []
                for j, w in enumerate(term):
                    typed, cands = toks[i + j]
                    s = 1.0 if typed == w else cands.get(w, 0.0)
                    if not s:
                        break
                    sims.append(s)
                else:
                    match, match_sim = term, min(sims)
            if match:
                k = len(match)
                c = _Concept(" ".join(t for t, _ in toks[i:i + k]),
                             words=[cands or {t: 1.0} for t, cands in toks[i:i + k]])
                for alt in self.synonyms[match]:
                    # "intraarticular" typed is "intra-articular" spelt together, not a synonym.
                    same = "".join(alt) == "".join(match)
                    c.alternatives[alt] = match_sim * (1.0 if same else SYNONYM_FACTOR)
                concepts.append(c)
                i += k
                continue
            typed, cands = toks[i]
            concepts.append(_Concept(typed, {(w,): s for w, s in cands.items()}, [cands]))
            i += 1
        return concepts

    # -- scoring ------------------------------------------------------------
    def _lookup(self, term: tuple[str, ...]) -> dict[str, int]:
        """code -> fields holding the whole term. A phrase needs all its words in
        one field, in any order: "peripheral ... neurostimulator" is still one."""
        found = self._lookups.get(term)
        if found is None:
            found = self._posting(term[0])
            for w in term[1:]:
                nxt = self._posting(w)
                found = {c: m & nxt[c] for c, m in found.items() if m & nxt.get(c, 0)}
            self._lookups[term] = found
        return found

    def _literal(self, c: _Concept, codes_: dict) -> dict[str, dict[str, float]]:
        """code -> field -> share of the typed words found there (times the field weight)."""
        out: dict[str, dict[str, float]] = {}
        n = len(c.words) or 1
        for cands in c.words:
            hits: dict[str, int] = {}
            for w in cands:
                for code, mask in self._posting(w).items():
                    if code in codes_:
                        hits[code] = hits.get(code, 0) | mask
            for code, mask in hits.items():
                per = out.setdefault(code, {})
                for name in _names(mask):
                    per[name] = per.get(name, 0.0) + WEIGHTS[name] / n
        return out

    def _weight(self, df: int) -> float:
        if not df:
            return 2.0
        return 1.0 + math.log(1 + self.n / df) / math.log(1 + self.n)

    def _text_hits(self, text: str) -> _Ranked:
        concepts = self._concepts(text)
        total_weight = 0.0
        scores: dict[str, float] = {}
        gains: dict[str, dict[str, float]] = {}  # code -> field -> weighted score won there
        for c in concepts:
            per_code: dict[str, dict[str, float]] = {}
            for alt, sure in c.alternatives.items():
                for code, mask in self._lookup(alt).items():
                    fields = per_code.get(code)
                    if fields is None:
                        fields = per_code[code] = {}
                    for name in _names(mask):
                        s = sure * WEIGHTS[name]
                        if s > fields.get(name, 0.0):
                            fields[name] = s
            literal = self._literal(c, per_code)
            w = CODE_CONCEPT_WEIGHT if codes.is_cpt(c.typed.upper()) else self._weight(len(per_code))
            total_weight += w
            for code, fields in per_code.items():
                best_field, best = min(fields.items(), key=lambda kv: (-kv[1], _FIELDS.index(kv[0])))
                # A synonym in the title plus the typed words in a narrative beats the synonym alone.
                second = max((v for f, v in literal.get(code, {}).items() if f != best_field), default=0.0)
                s = best + (1 - best) * SECOND_FIELD * second
                scores[code] = scores.get(code, 0.0) + w * s
                g = gains.get(code)
                if g is None:
                    g = gains[code] = {}
                g[best_field] = g.get(best_field, 0.0) + w * s
        typed = {w for c in concepts for cands in c.words for w in cands}

        def make(code: str, score: float) -> Hit:
            doc = self.corpus.doc(code)
            top = max(gains[code], key=lambda f: (gains[code][f], WEIGHTS[f]))
            # The stems of every reading of every concept found in that field.
            bit, stems = _BIT[top], set()
            for c in concepts:
                for alt in c.alternatives:
                    if self._lookup(alt).get(code, 0) & bit:
                        stems.update(alt)
            snippet, spans = self._snippet(doc, top, stems, typed)
            return self._hit(doc, score, top, snippet, spans, data_note=self._conflict(doc, top))

        return _Ranked({code: round(100 * total / total_weight, SCORE_DECIMALS) for code, total in scores.items()},
                       make)

    @staticmethod
    def _snippet(doc: SearchDoc, name: str, stems: set, typed: frozenset = frozenset(),
                 width: int = 90) -> tuple[str, tuple]:
        """The part of the field that shows the most matched words, cut to `width`, and their spans."""
        texts = doc.texts(name)

        def marks(t: str) -> list[tuple[int, int]]:
            t2 = _ICD_DOT.sub(lambda m: m.group(0).replace(".", "\0"), t)  # keep offsets, join ICD codes
            return [(m.start(), m.end()) for m in re.finditer(r"[a-z0-9\0]+", t2, re.IGNORECASE)
                    if m.group().lower() not in _STOP and stem(m.group().lower().replace("\0", "")) in stems]

        # The window holding the most distinct matched words, earliest first; the
        # words the coder typed count double, synonyms once.
        best, start, best_count = texts[0], 0, -1
        for t in texts:
            ms = marks(t)
            # Each match may open the window, with a little context before it or none.
            starts = sorted({max(0, x - d) for x, _ in ms for d in (width // 4, 0)}) if len(t) > width else [0]
            for a in starts:
                inside = {stem(t[x:y].lower()) for x, y in ms if a <= x and y <= a + width - 2}
                count = len(inside) + len(inside & typed)
                if count > best_count:
                    best, start, best_count = t, a, count
        spans = marks(best)
        if start:  # begin on a word, forward so that the counted window stays whole
            first = min((x for x, _ in spans if x >= start), default=start)
            space = best.find(" ", start - 1, first)
            start = space + 1 if space >= 0 else start
        end = min(len(best), start + width)
        if end < len(best):
            space = best.rfind(" ", start, end)
            end = space if space > start + width // 2 else end
        head = "…" if start else ""
        snippet = head + best[start:end] + ("…" if end < len(best) else "")
        off = len(head) - start
        return snippet, tuple((s + off, e + off) for s, e in spans if s >= start and e <= end)

    @staticmethod
    def _conflict(doc: SearchDoc, name: str) -> str | None:
        """A source conflict about the matched field, or about what the code is at all."""
        for kind, subject, _, _ in doc.notes:
            if kind == "conflict" and subject in (name, "descriptor"):
                return f"sources conflict on {subject}: see cptcli show {doc.code}"
        return None

    # -- query kinds --------------------------------------------------------
    def search(self, query: str, limit: int = DEFAULT_LIMIT, min_score: float = DEFAULT_MIN_SCORE) -> list[Hit]:
        text = codes.clean(query)
        if not text:
            raise UsageError("empty query: give words such as \"baclofen pump removal\" or a code")
        if len(text) > MAX_QUERY:
            raise UsageError(f"query too long: {len(text)} characters (the limit is {MAX_QUERY})")
        if limit < 1:
            raise UsageError("--limit must be at least 1")
        # The first kind of query that matches anything answers it.
        for kind in (self._code_hits, self._icd_hits, self._modifier_hits, self._text_hits):
            ranked = kind(text)
            if ranked.scores:
                break
        order = sorted(((s, c) for c, s in ranked.scores.items() if s >= min_score), key=lambda sc: (-sc[0], sc[1]))
        return Hits([ranked.make(code, score) for score, code in order[:limit]], len(order))

    @staticmethod
    def _hit(doc: SearchDoc, score: float, name: str, snippet: str, spans: tuple = (),
             row: str | None = None, data_note: str | None = None) -> Hit:
        return Hit(doc.code, doc.title, score, name, snippet, doc.completeness, doc.add_on, spans, row, data_note)

    def _code_hits(self, text: str) -> _Ranked:
        def code_hit(code: str, score: float) -> Hit:
            doc = self.corpus.doc(code)
            return self._hit(doc, score, "code", doc.display_code, ((0, len(doc.display_code)),))

        try:
            full = codes.parse_cpt(text).code
        except UsageError:
            full = None
        if full:
            scores = {code: 70.0 for code in self.corpus.codes_from(full[:4])}  # the family, e.g. the removal twin
            if full in scores:
                scores[full] = 100.0
            # Records whose cross-references or related rows name the code.
            naming = _BIT["cross_references"] | _BIT["related"]
            rows: dict[str, tuple] = {}
            for code, mask in self._posting(full.lower()).items():
                if mask & naming and code not in scores:
                    for name, row_text in self.corpus.doc(code).fields:
                        if name in ("cross_references", "related") and full in row_text:
                            rows[code] = (name, row_text)
                            scores[code] = 60.0
                            break

            def make(code: str, score: float) -> Hit:
                if code not in rows:
                    return code_hit(code, score)
                name, row_text = rows[code]
                pos = row_text.find(full)
                return self._hit(self.corpus.doc(code), score, name, row_text, ((pos, pos + len(full)),))

            return _Ranked(scores, make)
        m = _CODE_PREFIX.fullmatch(text)
        if not m:
            return _Ranked({}, None)
        q = m.group(1)
        # A longer prefix says more; an exact code (above) always wins.
        return _Ranked({code: round(60 + 30 * len(q) / 5, SCORE_DECIMALS) for code in self.corpus.codes_from(q)},
                       code_hit)

    @staticmethod
    def _row_note(doc: SearchDoc, subject: str) -> str | None:
        for kind, about, correction, note in doc.notes:
            if about == subject and kind in ("correction", "conflict"):
                return f"{kind}: {correction}" if correction else f"{kind}: {note}"
        return None

    def _icd_hits(self, text: str) -> _Ranked:
        try:
            icd = codes.parse_icd10(text)
        except UsageError:
            return _Ranked({}, None)

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

        def make(code: str, score: float) -> Hit:
            doc = self.corpus.doc(code)
            # The record's first row with the best score, as the record lists its rows.
            row_code, description = next(r for r in doc.diagnoses if score_of(r[0]) == score)
            snippet = f"{row_code} {description or ''}".strip()
            return self._hit(doc, score, "diagnoses", snippet, ((0, len(row_code)),), row_code,
                             self._row_note(doc, f"diagnoses/{row_code}"))

        return _Ranked(scores, make)

    def _modifier_hits(self, text: str) -> _Ranked:
        m = _MODIFIER_QUERY.fullmatch(text)
        if m:
            mod = next(g for g in m.groups() if g)
        elif len(text) == 2 and text in self.corpus.modifier_names:
            mod = text  # a bare "59" that is no code prefix: the registry says it is a modifier
        else:
            return _Ranked({}, None)

        def make(code: str, score: float) -> Hit:
            doc = self.corpus.doc(code)
            description = next(d for k, d in doc.modifiers if k == mod)
            snippet = f"{mod} {description or '(no description in the source)'}"
            return self._hit(doc, score, "modifiers", snippet, ((0, len(mod)),), mod,
                             self._row_note(doc, f"modifiers/{mod}"))

        return _Ranked(dict.fromkeys(self.corpus.modifier_codes(mod), 100.0), make)
