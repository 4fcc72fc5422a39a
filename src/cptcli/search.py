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

import bisect
import math
import re
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Optional

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from cptcli import codes
from cptcli.errors import UsageError
from cptcli.knowledge import KnowledgeBase
from cptcli.model import SCHEMA_VERSION, CodeRecord

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

_WORD = re.compile(r"[a-z0-9]+", re.IGNORECASE)
# "M54.16" is one token, as the diagnosis rows are indexed.
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


@dataclass(frozen=True, slots=True)
class Hit:
    code: str
    title: str
    score: float
    matched_field: str
    snippet: str
    completeness: str
    add_on: Optional[bool]
    # (start, end) of the matched words inside `snippet`, for highlighting.
    highlights: tuple[tuple[int, int], ...] = ()
    # The table row that matched (a modifier or ICD-10-CM code), if any.
    matched_row: Optional[str] = None
    # A data note the coder must see with this hit: a correction or a conflict.
    data_note: Optional[str] = None

    def to_dict(self) -> dict:
        return {"schema_version": SCHEMA_VERSION, "code": self.code, "title": self.title, "score": self.score,
                "matched_field": self.matched_field, "snippet": self.snippet,
                "completeness": self.completeness, "add_on": self.add_on,
                "matched_terms": [self.snippet[s:e] for s, e in self.highlights],
                "matched_row": self.matched_row, "data_note": self.data_note}


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


def tokens(text: str) -> list[str]:
    text = _ICD_DOT.sub(r"\1\2", text).lower()
    return [stem(w) for w in _WORD.findall(text) if w not in _STOP and (len(w) > 1 or w.isdigit())]


def _field_texts(rec: CodeRecord) -> Iterator[tuple[str, str]]:
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
        yield "modifiers", " ".join(filter(None, (r.modifier, r.description, r.when_to_use,
                                                  fixes.get(f"modifiers/{r.modifier}"))))
    for r in rec.taxonomy:
        yield "taxonomy", " ".join(filter(None, (r.code, r.specialty, r.notes, fixes.get(f"taxonomy/{r.code}"))))
    for r in rec.diagnoses:
        yield "diagnoses", " ".join(filter(None, (r.code, r.description, r.relevance,
                                                  fixes.get(f"diagnoses/{r.code}"))))
    for r in rec.related:
        yield "related", " ".join(filter(None, (r.code, r.description, r.relationship)))


@dataclass
class _Concept:
    """One thing the query asks for: the words typed, and the terms (stem
    tuples) that count as finding it, each with how sure that reading is."""

    typed: str
    alternatives: dict[tuple[str, ...], float] = field(default_factory=dict)
    # What each typed word resolved to: the literal evidence, synonyms aside.
    words: list[dict[str, float]] = field(default_factory=list)


class Searcher:
    """An inverted index over a knowledge base; build once, query many times."""

    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        self.synonyms = self._synonym_terms(kb)
        # stem -> code -> bit mask of the fields holding it
        self.postings: dict[str, dict[str, int]] = {}
        for rec in kb.records.values():
            for name, text in _field_texts(rec):
                bit = _BIT[name]
                for k in set(tokens(text)):
                    per = self.postings.setdefault(k, {})
                    per[rec.code] = per.get(rec.code, 0) | bit
        self.n = max(len(kb.records), 1)
        vocab = set(self.postings)
        vocab.update(w for terms in self.synonyms.values() for t in terms for w in t)
        self.vocab = sorted(vocab)
        self._vocab_set = frozenset(vocab)
        self._alpha_vocab = [w for w in self.vocab if w.isalpha()]

    # -- synonyms ---------------------------------------------------------
    @staticmethod
    def _synonym_terms(kb: KnowledgeBase) -> dict[tuple[str, ...], frozenset]:
        """term -> every term of every group it belongs to, all as stem tuples."""
        out: dict[tuple[str, ...], set] = {}
        for group in kb.synonyms:
            terms = {t for t in (tuple(tokens(x)) for x in group.terms) if t}
            for t in terms:
                out.setdefault(t, set()).update(terms)
        return {k: frozenset(v) for k, v in out.items()}

    # -- resolving query words against the vocabulary ----------------------
    @staticmethod
    def _max_edits(n: int) -> int:
        # Short words must be near-exact: "pmp" may be "pump", never "pm" + 2 edits.
        return 1 if n <= 4 else 2 if n <= 7 else 3

    def _resolve(self, tok: str) -> dict[str, float]:
        """Vocabulary stems the typed stem may stand for, each with a certainty 0-1."""
        if tok in self._vocab_set:
            return {tok: 1.0}
        # Codes, numbers and abbreviations of two letters match exactly or not at all.
        if not tok.isalpha() or len(tok) <= 2:
            return {}
        out: dict[str, float] = {}
        for w, score, _ in process.extract(tok, self._alpha_vocab, scorer=fuzz.ratio,
                                           score_cutoff=FUZZY_CUTOFF, limit=8):
            if Levenshtein.distance(tok, w) <= self._max_edits(len(tok)):
                out[w] = score / 100
        if len(tok) >= 4:
            i = bisect.bisect_left(self.vocab, tok)
            for w in self.vocab[i:i + 20]:
                if not w.startswith(tok):
                    break
                out[w] = max(out.get(w, 0.0), PREFIX_SIM)
        return out

    def _split(self, tok: str) -> Optional[list[tuple[str, dict[str, float]]]]:
        """Two run-together words ("baclofenpump"): one half exact, the other resolved."""
        best, best_sim = None, 0.0
        for i in range(3, len(tok) - 2):
            left, right = stem(tok[:i]), stem(tok[i:])
            if left not in self._vocab_set and right not in self._vocab_set:
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
                if joined in self._vocab_set:
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
        found = self.postings.get(term[0], {})
        for w in term[1:]:
            nxt = self.postings.get(w, {})
            found = {c: m & nxt[c] for c, m in found.items() if m & nxt.get(c, 0)}
        return found

    def _literal(self, c: _Concept, codes_: dict) -> dict[str, dict[str, float]]:
        """code -> field -> share of the typed words found there (times the field weight)."""
        out: dict[str, dict[str, float]] = {}
        n = len(c.words) or 1
        for cands in c.words:
            hits: dict[str, int] = {}
            for w in cands:
                for code, mask in self.postings.get(w, {}).items():
                    if code in codes_:
                        hits[code] = hits.get(code, 0) | mask
            for code, mask in hits.items():
                per = out.setdefault(code, {})
                for name in _FIELDS:
                    if mask & _BIT[name]:
                        per[name] = per.get(name, 0.0) + WEIGHTS[name] / n
        return out

    def _weight(self, df: int) -> float:
        if not df:
            return 2.0
        return 1.0 + math.log(1 + self.n / df) / math.log(1 + self.n)

    def _text_hits(self, text: str) -> list[Hit]:
        concepts = self._concepts(text)
        if not concepts:
            return []
        total_weight = 0.0
        scores: dict[str, float] = {}
        gains: dict[str, dict[str, float]] = {}  # code -> field -> weighted score won there
        found: dict[str, dict[str, set]] = {}  # code -> field -> stems found there
        typed = {w for c in concepts for cands in c.words for w in cands}
        for c in concepts:
            per_code: dict[str, dict[str, float]] = {}
            for alt, sure in c.alternatives.items():
                for code, mask in self._lookup(alt).items():
                    fields = per_code.setdefault(code, {})
                    for name in _FIELDS:
                        if mask & _BIT[name]:
                            s = sure * WEIGHTS[name]
                            if s > fields.get(name, 0.0):
                                fields[name] = s
                            found.setdefault(code, {}).setdefault(name, set()).update(alt)
            literal = self._literal(c, per_code)
            w = CODE_CONCEPT_WEIGHT if codes.is_cpt(c.typed.upper()) else self._weight(len(per_code))
            total_weight += w
            for code, fields in per_code.items():
                ranked = sorted(fields.items(), key=lambda kv: (-kv[1], _FIELDS.index(kv[0])))
                best_field, best = ranked[0]
                # A synonym in the title plus the typed words in a narrative beats the synonym alone.
                second = max((v for f, v in literal.get(code, {}).items() if f != best_field), default=0.0)
                s = best + (1 - best) * SECOND_FIELD * second
                scores[code] = scores.get(code, 0.0) + w * s
                g = gains.setdefault(code, {})
                g[best_field] = g.get(best_field, 0.0) + w * s
        out = []
        for code, total in scores.items():
            rec = self.kb.records[code]
            top = max(gains[code], key=lambda f: (gains[code][f], WEIGHTS[f]))
            snippet, spans = self._snippet(rec, top, found[code][top], typed)
            out.append(self._hit(rec, 100 * total / total_weight, top, snippet, spans,
                                 data_note=self._conflict(rec, top)))
        return out

    @staticmethod
    def _snippet(rec: CodeRecord, name: str, stems: set, typed: frozenset = frozenset(),
                 width: int = 90) -> tuple[str, tuple]:
        """The part of the field that shows the most matched words, cut to `width`, and their spans."""
        texts = [t for f, t in _field_texts(rec) if f == name]

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
    def _conflict(rec: CodeRecord, name: str) -> Optional[str]:
        """A source conflict about the matched field, or about what the code is at all."""
        for n in rec.notes:
            if n.kind == "conflict" and n.subject in (name, "descriptor"):
                return f"sources conflict on {n.subject}: see cptcli show {rec.code}"
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
        hits = (self._code_hits(text) or self._icd_hits(text) or self._modifier_hits(text)
                or self._text_hits(text))
        hits = [h for h in hits if h.score >= min_score]
        hits.sort(key=lambda h: (-h.score, h.code))
        return hits[:limit]

    def _hit(self, rec: CodeRecord, score: float, name: str, snippet: str, spans: tuple = (),
             row: Optional[str] = None, data_note: Optional[str] = None) -> Hit:
        return Hit(rec.code, rec.title.text, round(score, SCORE_DECIMALS), name, snippet, rec.completeness,
                   rec.is_add_on, spans, row, data_note)

    def _code_hit(self, rec: CodeRecord, score: float) -> Hit:
        return self._hit(rec, score, "code", rec.display_code, ((0, len(rec.display_code)),))

    def _code_hits(self, text: str) -> list[Hit]:
        try:
            full = codes.parse_cpt(text).code
        except UsageError:
            full = None
        if full:
            out = []
            for rec in self.kb.records.values():
                if rec.code == full:
                    out.append(self._code_hit(rec, 100.0))
                elif rec.code[:4] == full[:4]:
                    out.append(self._code_hit(rec, 70.0))  # the same code family, e.g. the removal twin
                else:
                    for name, row_text in _field_texts(rec):
                        if name in ("cross_references", "related") and full in row_text:
                            pos = row_text.find(full)
                            out.append(self._hit(rec, 60.0, name, row_text, ((pos, pos + len(full)),)))
                            break
            return out
        m = _CODE_PREFIX.fullmatch(text)
        if not m:
            return []
        q = m.group(1)
        # A longer prefix says more; an exact code (above) always wins.
        return [self._code_hit(rec, 60 + 30 * len(q) / 5) for rec in self.kb.records.values()
                if rec.code.startswith(q)]

    def _row_note(self, rec: CodeRecord, subject: str) -> Optional[str]:
        for n in rec.notes_about(subject):
            if n.kind in ("correction", "conflict"):
                return f"{n.kind}: {n.correction}" if n.correction else f"{n.kind}: {n.text}"
        return None

    def _icd_hits(self, text: str) -> list[Hit]:
        try:
            icd = codes.parse_icd10(text)
        except UsageError:
            return []
        out = []
        for rec in self.kb.records.values():
            for row in rec.diagnoses:
                if row.code == icd:
                    score = 100.0
                elif row.code.startswith(icd):
                    score = 90.0  # the query is the category the row sits in
                elif icd.startswith(row.code):
                    score = 80.0  # the row is a header above the code asked for
                else:
                    continue
                snippet = f"{row.code} {row.description or ''}".strip()
                out.append(self._hit(rec, score, "diagnoses", snippet, ((0, len(row.code)),), row.code,
                                     self._row_note(rec, f"diagnoses/{row.code}")))
        return _best_per_code(out)

    def _modifier_hits(self, text: str) -> list[Hit]:
        m = _MODIFIER_QUERY.fullmatch(text)
        if m:
            mod = next(g for g in m.groups() if g)
        elif len(text) == 2 and text in self.kb.modifiers:
            mod = text  # a bare "59" that is no code prefix: the registry says it is a modifier
        else:
            return []
        out = []
        for rec in self.kb.records.values():
            for row in rec.modifiers:
                if row.modifier == mod:
                    snippet = f"{row.modifier} {row.description or '(no description in the source)'}"
                    out.append(self._hit(rec, 100.0, "modifiers", snippet, ((0, len(row.modifier)),), row.modifier,
                                         self._row_note(rec, f"modifiers/{row.modifier}")))
        return _best_per_code(out)


def _best_per_code(hits: Iterable[Hit]) -> list[Hit]:
    best: dict[str, Hit] = {}
    for h in hits:
        if h.code not in best or h.score > best[h.code].score:
            best[h.code] = h
    return list(best.values())
