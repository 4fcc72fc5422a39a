"""Rank knowledge-base records against a free-text query.

The query box takes what coders type: lay words with typos, a code or code
prefix, an ICD-10-CM code, or a modifier. Each query word is matched fuzzily
against the words of every field; a word's best match is weighted by the
field it was found in (a title counts more than a clinical narrative) and by
how rare the word is across the knowledge base, so "removal" decides between
an insert/remove pair while "device", which every record has, barely counts.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Iterable, Optional

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from cptcli import codes
from cptcli.errors import UsageError
from cptcli.knowledge import KnowledgeBase
from cptcli.model import SCHEMA_VERSION, CodeRecord

MAX_QUERY = 500
DEFAULT_LIMIT = 10
DEFAULT_MIN_SCORE = 40.0

# Field weights: where a word is found says how much it tells about the code.
WEIGHTS = {
    "code": 1.0,
    "title": 1.0,
    "descriptor": 1.0,
    "summary": 0.9,
    "cross_references": 0.6,
    "service_type": 0.7,
    "clinical_context": 0.6,
    "examples": 0.55,
    "documentation": 0.5,
    "sites_of_service": 0.5,
    "specialties": 0.5,
    "modifiers": 0.45,
    "diagnoses": 0.45,
    "taxonomy": 0.4,
    "related": 0.35,
}
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset("a an and are as at be by for from in into is it of on or the this to with was when code "
                  "cpt procedure".split())
_CODE_QUERY = re.compile(r"\+?\s*([0-9]{1,4}[0-9A-Z]?)")
_MODIFIER_QUERY = re.compile(r"(?:MODIFIER|MOD)\s*-?\s*([0-9A-Z]{2})")


@dataclass(frozen=True, slots=True)
class Hit:
    code: str
    title: str
    score: float
    matched_field: str
    snippet: str
    completeness: str
    add_on: Optional[bool]

    def to_dict(self) -> dict:
        return {"schema_version": SCHEMA_VERSION, "code": self.code, "title": self.title, "score": self.score,
                "matched_field": self.matched_field, "snippet": self.snippet,
                "completeness": self.completeness, "add_on": self.add_on}


def words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP]


def _field_texts(rec: CodeRecord) -> Iterable[tuple[str, str]]:
    yield "title", rec.title.text
    if rec.descriptor:
        yield "descriptor", rec.descriptor.text
    for name in ("summary", "service_type", "clinical_context", "examples", "documentation",
                 "sites_of_service", "specialties"):
        for f in getattr(rec, name):
            yield name, f.text
    for x in rec.cross_references:
        yield "cross_references", x.text
    for r in rec.modifiers:
        yield "modifiers", " ".join(filter(None, (r.modifier, r.description, r.when_to_use)))
    for r in rec.taxonomy:
        yield "taxonomy", " ".join(filter(None, (r.specialty, r.notes)))
    for r in rec.diagnoses:
        yield "diagnoses", " ".join(filter(None, (r.description, r.relevance)))
    for r in rec.related:
        yield "related", " ".join(filter(None, (r.description, r.relationship)))


class Searcher:
    """Pre-tokenised view of a knowledge base; build once, query many times."""

    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        # record -> field -> (set of words, list of texts)
        self.fields: dict[str, dict[str, tuple[frozenset, list[str]]]] = {}
        doc_freq: dict[str, int] = {}
        for rec in kb.records.values():
            per: dict[str, tuple[set, list]] = {}
            for name, text in _field_texts(rec):
                ws, texts = per.setdefault(name, (set(), []))
                ws.update(words(text))
                ws.update(a + b for a, b in zip(words(text), words(text)[1:]))  # run-together words
                texts.append(text)
            self.fields[rec.code] = {k: (frozenset(v[0]), v[1]) for k, v in per.items()}
            for w in set().union(*(v[0] for v in per.values())) if per else ():
                doc_freq[w] = doc_freq.get(w, 0) + 1
        n = max(len(kb.records), 1)
        self.idf = {w: math.log(1 + n / df) for w, df in doc_freq.items()}
        self.default_idf = math.log(1 + n)
        self.synonyms = self._synonym_index(kb)

    @staticmethod
    def _synonym_index(kb: KnowledgeBase) -> dict[str, frozenset]:
        """word -> every single word it stands for, from the data's synonym table."""
        index: dict[str, set] = {}
        for group in kb.synonyms:
            group_words = {w for term in group.terms for w in words(term)}
            for term in group.terms:
                for w in words(term):
                    index.setdefault(w, set()).update(group_words)
        return {k: frozenset(v) for k, v in index.items()}

    # -- scoring ----------------------------------------------------------
    @staticmethod
    def _word_match(q: str, candidates: frozenset) -> tuple[float, str]:
        if q in candidates:
            return 100.0, q
        best, best_w = 0.0, ""
        for w in candidates:
            if abs(len(w) - len(q)) > max(3, len(q) // 2):
                continue
            if len(q) >= 4 and w.startswith(q):
                s = 95.0
            else:
                s = fuzz.ratio(q, w)
                # Short words need to be near-exact: "pmp" must not become "pm".
                if len(q) <= 3 and Levenshtein.distance(q, w) > 1:
                    s = 0.0
            if s > best:
                best, best_w = s, w
        return (best, best_w) if best >= 75 else (0.0, "")

    def _expand(self, q: str) -> set[str]:
        alts = {q}
        for key, group in self.synonyms.items():
            if key == q or (len(q) >= 5 and fuzz.ratio(q, key) >= 85):
                alts |= group
        return alts

    def score(self, code: str, query_words: list[str]) -> tuple[float, str, str]:
        fields = self.fields[code]
        total = weight_sum = 0.0
        field_gain: dict[str, float] = {}
        matched_words: dict[str, list[str]] = {}
        for q in query_words:
            idf = self.idf.get(q, self.default_idf)
            best, best_field, best_word = 0.0, "", ""
            for alt in self._expand(q):
                factor = 1.0 if alt == q else 0.9
                for name, (ws, _) in fields.items():
                    s, w = self._word_match(alt, ws)
                    s *= factor * WEIGHTS[name]
                    if s > best:
                        best, best_field, best_word = s, name, w
            total += idf * best
            weight_sum += idf
            if best_field:
                field_gain[best_field] = field_gain.get(best_field, 0.0) + idf * best
                matched_words.setdefault(best_field, []).append(best_word)
        if not weight_sum or not field_gain:
            return 0.0, "", ""
        top = max(sorted(field_gain), key=field_gain.get)
        return round(total / weight_sum, 1), top, self._snippet(fields[top][1], matched_words[top])

    @staticmethod
    def _snippet(texts: list[str], hit_words: list[str], width: int = 90) -> str:
        """The text of the field around its first matched word, cut to `width`."""
        best = max(texts, key=lambda t: sum(w in t.lower() for w in hit_words))
        low = best.lower()
        pos = min((low.find(w) for w in hit_words if w and low.find(w) >= 0), default=0)
        start = max(0, pos - width // 3)
        text = best[start:start + width]
        return ("…" if start else "") + text + ("…" if start + width < len(best) else "")

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

    def _hit(self, rec: CodeRecord, score: float, field: str, snippet: str) -> Hit:
        return Hit(rec.code, rec.title.text, score, field, snippet, rec.completeness, rec.is_add_on)

    def _code_hits(self, text: str) -> list[Hit]:
        m = _CODE_QUERY.fullmatch(text)
        if not m:
            return []
        q = m.group(1)
        out = []
        for rec in self.kb.records.values():
            if rec.code == q:
                out.append(self._hit(rec, 100.0, "code", rec.code))
            elif rec.code.startswith(q):
                # Longer shared prefixes rank higher; the exact code always wins.
                out.append(self._hit(rec, round(60 + 30 * len(q) / 5, 1), "code", rec.code))
        return out

    def _icd_hits(self, text: str) -> list[Hit]:
        try:
            icd = codes.parse_icd10(text)
        except UsageError:
            return []
        out = []
        for rec in self.kb.records.values():
            for row in rec.diagnoses:
                if row.code == icd:
                    out.append(self._hit(rec, 100.0, "diagnoses", f"{row.code} {row.description or ''}".strip()))
                elif row.code.startswith(icd) or icd.startswith(row.code):
                    out.append(self._hit(rec, 80.0, "diagnoses", f"{row.code} {row.description or ''}".strip()))
        return self._best_per_code(out)

    def _modifier_hits(self, text: str) -> list[Hit]:
        m = _MODIFIER_QUERY.fullmatch(text.replace(" ", "")) or _MODIFIER_QUERY.fullmatch(text)
        if not m:
            return []
        mod = m.group(1)
        out = [self._hit(rec, 100.0, "modifiers", f"{row.modifier} {row.description or ''}".strip())
               for rec in self.kb.records.values() for row in rec.modifiers if row.modifier == mod]
        return self._best_per_code(out)

    @staticmethod
    def _best_per_code(hits: list[Hit]) -> list[Hit]:
        best: dict[str, Hit] = {}
        for h in hits:
            if h.code not in best or h.score > best[h.code].score:
                best[h.code] = h
        return list(best.values())

    def _text_hits(self, text: str) -> list[Hit]:
        query_words = words(text)
        if not query_words:
            return []
        out = []
        for rec in self.kb.records.values():
            score, field, snippet = self.score(rec.code, query_words)
            if score > 0:
                out.append(self._hit(rec, score, field, snippet))
        return out
