"""Abbreviations an official code set defines itself, found when the index is built.

CMS spells some out in a long descriptor ("an initial preventive physical examination (ippe) or annual wellness
visit (awv)") and uses others in a short one ("Cpm device, knee" beside "Continuous passive motion exercise
device for use on knee only"). Read either way, an abbreviation whose letters are the initials of the words it
stands for becomes a synonym of them, so a coder may type IPPE or CPM and find every code that spells the words
out. The curated lexicon (codes.json "synonyms") stays the authority: an abbreviation it already defines is not
mined again.

An abbreviation must be three to six letters, and a word of its own in the long descriptors of a handful of
codes at most ("who" in "patients who ..." is not the wrist-hand orthosis; "ippe" in "visit, ippe or awv" is the
abbreviation used), so that a reading mined from one code cannot change what an ordinary word finds.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

_WORD = re.compile(r"[a-z0-9]+")
_PAREN = re.compile(r"\(([a-z]{3,6})\)")
# Words an abbreviation's letters skip: "Thoracic lumbar sacral orthosis" and "ankle-foot" alike, "of" and "and" no.
_SKIP = frozenset(("of", "and", "the", "for", "with", "or", "in", "on", "to", "a", "an", "by", "per"))
MIN_LETTERS, MAX_LETTERS = 3, 6
PLAIN_AT_MOST = 5  # codes whose long descriptor holds the abbreviation as a word of its own


def _expansion(letters: str, words: list[str]) -> str | None:
    """The shortest run of words ending `words` whose initials, skip words aside, spell `letters`."""
    if not words or words[-1] in _SKIP:
        return None
    spelt = ""
    for start in range(len(words) - 1, -1, -1):
        w = words[start]
        if w in _SKIP:
            continue
        spelt = w[0] + spelt
        if spelt == letters:
            return " ".join(words[start:])
        if not letters.endswith(spelt):
            return None
    return None


def mine(descriptors: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    """{abbreviation: the phrases it stands for} from (long, short) descriptor pairs ("" for a missing one)."""
    found: dict[str, set[str]] = {}
    plain: Counter[str] = Counter()
    for long, short in descriptors:
        long = long.lower()
        plain.update(set(_WORD.findall(_PAREN.sub(" ", long))))
        for m in _PAREN.finditer(long):
            phrase = _expansion(m.group(1), _WORD.findall(long[: m.start()])[-2 * MAX_LETTERS :])
            if phrase:
                found.setdefault(m.group(1), set()).add(phrase)
        if not short:
            continue
        words = _WORD.findall(long)
        present = set(words)
        for token in set(_WORD.findall(short.lower())) - present:
            if not (MIN_LETTERS <= len(token) <= MAX_LETTERS and token.isalpha()):
                continue
            # The words it abbreviates may stand anywhere in the long form: try each end.
            for end in range(len(words), 0, -1):
                if words[end - 1][0] != token[-1]:
                    continue  # the last letter is the initial of the last word
                phrase = _expansion(token, words[:end])
                if phrase and " " in phrase:
                    found.setdefault(token, set()).add(phrase)
                    break
    return {abbr: phrases for abbr, phrases in found.items() if plain[abbr] <= PLAIN_AT_MOST}
