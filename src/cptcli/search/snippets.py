"""Snippets: the part of a matched field that shows the most matched words,
with the spans to highlight, and the data note a hit must carry."""

from __future__ import annotations

import re

from cptcli.search.analysis import STOP, stem
from cptcli.search.candidates import CONTESTED

# ICD-10-CM codes in unlowered text, for the snippet's highlights.
_ICD_DOT = re.compile(r"\b([a-z][0-9][0-9a-z])\.([0-9a-z]{1,4})\b", re.IGNORECASE)


def snippet(texts: list[str], stems: set, typed: frozenset | set = frozenset(), width: int = 90) -> tuple[str, tuple]:
    """The window of one of `texts` holding the most distinct matched words,
    earliest first, cut to `width`; the words the coder typed count double,
    synonyms once. Returns the snippet and the spans of its matched words."""

    def marks(t: str) -> list[tuple[int, int]]:
        t2 = _ICD_DOT.sub(lambda m: m.group(0).replace(".", "\0"), t)  # keep offsets, join ICD codes
        return [
            (m.start(), m.end())
            for m in re.finditer(r"[a-z0-9\0]+", t2, re.IGNORECASE)
            if m.group().lower() not in STOP and stem(m.group().lower().replace("\0", "")) in stems
        ]

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
    text = head + best[start:end] + ("…" if end < len(best) else "")
    off = len(head) - start
    return text, tuple((s + off, e + off) for s, e in spans if s >= start and e <= end)


# Of how much of a text a query covers (coverage), the share that says where its matched words stand.
EARLY_SHARE = 0.2


def coverage(words: list[tuple[str, str]], stems: set, idf: dict[str, float]) -> float:
    """0-1: how much of a text (its indexed words: analysis.stemmed, stop words aside) the query covers, each
    character weighing what its word says (the word's IDF, so that "each", "any" or "mg" weigh little): mostly
    the share of that weight in words whose stems are among `stems`, and for the rest the share that does not
    stand before the last of them (a text that says the query's words first, together, is about them: "Walker,
    folding, wheeled, ..." more than "Walker, heavy duty, wheeled, rigid or folding")."""
    every = covered = between = before = 0.0
    prev = ""
    for word, s in words:
        w = idf[s] * len(word)
        every += w
        # "non-pneumatic" is the contrary of "pneumatic", unless the query says "non" too.
        if s in stems and (prev != "non" or "non" in stems):
            covered += w
            before = between
        else:
            between += w
        prev = s
    if not every:
        return 0.0
    return (1 - EARLY_SHARE) * covered / every + EARLY_SHARE * (1 - before / every)


def conflict(doc, name: str) -> str | None:
    """A source conflict about the matched field, or about what the code is at all."""
    for n in doc.notes:
        if n.kind == "conflict" and n.subject in (name, "descriptor"):
            return f"sources conflict on {n.subject}: see cptcli show {doc.code}"
    return None


def row_note(doc, subject: str) -> str | None:
    """The correction or conflict recorded on one table row ('diagnoses/M54.16')."""
    for n in doc.notes:
        if n.subject == subject and n.kind in ("correction", "conflict"):
            return f"{n.kind}: {n.correction}" if n.correction else f"{n.kind}: {n.text}"
    return None


def caution(doc) -> str:
    """Why a hit found only through contested text or synonyms is not a
    confident answer: what the official descriptor covers, and who says so."""
    contested = {subject for _, _, subject in doc.fields if subject}
    notes = [n for n in doc.notes if n.kind in ("conflict", "correction") and n.correction and n.subject in contested]
    notes = notes or [n for n in doc.notes if n.kind == "conflict" and n.correction]
    if not notes:
        return (
            "matched only through a source's reading that the official descriptor contradicts: see cptcli show "
            + doc.code
        )
    note = notes[0]
    return f"matched only through a source's reading that the official descriptor contradicts: {note.correction}" + (
        f" [{note.authority}]" if note.authority else ""
    )


def row_caution(doc, key: str) -> str | None:
    """The caution a table row (an ICD-10-CM code, a modifier) carries where it stands only on a contested
    reading: search's row hit and the reverse look-ups (cptcli icd, cptcli modifier) say the same words."""
    return caution(doc) if contested_row(doc, key) else None


def contested_row(doc, key: str) -> bool:
    """Whether the record's table row for `key` (an ICD-10-CM code, a modifier) stands only on a
    contested reading: such rows are indexed under the contested pseudo-field, their key first."""
    return any(name == CONTESTED and text.split(" ", 1)[0] == key for name, text, _ in doc.fields)
