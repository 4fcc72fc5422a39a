"""Candidates: which codes hold a stem or a phrase, and in which fields, read
from the corpus (the index's postings: cptcli.engine.corpus)."""

from __future__ import annotations

import re
from typing import Protocol

# The pseudo-field of texts that stand only on a source's reading an official descriptor
# contradicts (cptcli.engine.build indexes them under it): a hit found only there is cautioned.
CONTESTED = "contested"
# The pseudo-field of the name a title starts with: descriptors name the thing first ("Crutches, forearm, ...",
# "Replacement, tip, cane, crutch, ...", "Tubing for breast pump"), so of two codes that match a query equally,
# the one whose name holds more of it is what was asked for. It orders ties and never adds to a score.
LEAD = "lead"
# The name a descriptor starts with ends at its first qualifier: "Tubing | for breast pump", "Breast pump | , manual".
LEAD_END = re.compile(r"[,;:]| \(| - | (?:for|with|without|of|or|and|used|to|in|on|per|by|includ\w*|each)\b", re.I)
# The pseudo-field of the words a descriptor negates ("without wheels"): found only there, a word counts for
# little, unless the query negates too ("walker without wheels").
NEGATED = "negated"


class Corpus(Protocol):
    """What search reads of the searched knowledge: the index answers it
    (cptcli.engine.corpus.IndexCorpus); tests may pass any object that does."""

    n: int
    fields: dict[str, float]  # searched field -> weight, in bit order
    synonyms: tuple[tuple[tuple[str, ...], bool], ...]  # (terms, contested)
    modifier_names: frozenset[str]
    ended: dict[str, str]  # code -> termination date (YYYY-MM-DD)

    def has_stem(self, s: str) -> bool: ...
    def alpha_stems(self) -> list[str]: ...
    def stems_from(self, prefix: str, limit: int) -> list[str]: ...
    def postings(self, s: str) -> dict[str, int]: ...
    def codes_from(self, prefix: str) -> list[str]: ...
    def icd_rows(self, icd: str) -> list[tuple[str, str]]: ...
    def modifier_codes(self, modifier: str) -> list[str]: ...
    def doc(self, code: str): ...
    def title_lengths(self) -> dict[str, list[int]]: ...
    def title_counts(self, stems: list[str]) -> dict[str, int]: ...


class Vocabulary:
    """The corpus's stems and the synonym table's words: what a query word may resolve to."""

    def __init__(self, corpus: Corpus, synonym_words: frozenset[str]):
        self.corpus = corpus
        self.synonym_words = synonym_words
        self._alpha: list[str] | None = None

    def known(self, s: str) -> bool:
        return s in self.synonym_words or self.corpus.has_stem(s)

    def codes_with(self, s: str) -> int:
        """How many codes hold the stem, in any field."""
        return len(self.corpus.postings(s))

    def alpha(self) -> list[str]:
        if self._alpha is None:
            self._alpha = sorted(set(self.corpus.alpha_stems()).union(w for w in self.synonym_words if w.isalpha()))
        return self._alpha

    def stems_from(self, prefix: str, limit: int) -> list[str]:
        found = set(self.corpus.stems_from(prefix, limit))
        found.update(w for w in self.synonym_words if w.startswith(prefix))
        return sorted(found)[:limit]


def merge_postings(per_field) -> dict[str, int]:
    """code -> field mask, from (field bit, codes) pairs in field order."""
    out: dict[str, int] = {}
    for bit, found in per_field:
        for code in found:
            out[code] = out.get(code, 0) | bit
    return out


class Candidates:
    """Postings of stems and phrases, each read once a query."""

    def __init__(self, corpus: Corpus):
        self.corpus = corpus
        self.fields = tuple(corpus.fields)
        self.bit = {f: 1 << i for i, f in enumerate(self.fields)}
        self._postings: dict[str, dict[str, int]] = {}
        self._lookups: dict[tuple[str, ...], dict[str, int]] = {}
        self._names: dict[int, tuple[str, ...]] = {}

    def names(self, mask: int) -> tuple[str, ...]:
        """The fields a bit mask names, in field order (memoised: the scoring loop
        asks once per code and concept, tens of thousands of times on a big base)."""
        found = self._names.get(mask)
        if found is None:
            found = self._names[mask] = tuple(f for f in self.fields if mask & self.bit[f])
        return found

    def posting(self, s: str) -> dict[str, int]:
        p = self._postings.get(s)
        if p is None:
            p = self._postings[s] = self.corpus.postings(s)
        return p

    def lookup(self, term: tuple[str, ...]) -> dict[str, int]:
        """code -> fields holding the whole term. A phrase needs all its words in
        one field, in any order: "peripheral ... neurostimulator" is still one."""
        found = self._lookups.get(term)
        if found is None:
            found = self.posting(term[0])
            for w in term[1:]:
                nxt = self.posting(w)
                found = {c: m & nxt[c] for c, m in found.items() if m & nxt.get(c, 0)}
            self._lookups[term] = found
        return found
