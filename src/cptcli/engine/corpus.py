"""The search corpus (cptcli.search.candidates.Corpus) answered from the
index: a query reads the postings of its own words and the documents of the
codes it prints, never the whole knowledge base."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Every code is stored in five ASCII characters (CPT, HCPCS Level II, Category II/III, PLA):
# postings are those codes concatenated, so a stem held by 50,000 codes is one blob.
CODE_WIDTH = 5

# Above every character: `key >= p AND key < p || TOP` selects the keys starting with p.
TOP = "\U0010ffff"


class IndexCorpus:
    """Postings are stored one row per stem and field: the codes concatenated,
    so a stem held by 50,000 codes is a few blobs read in one step."""

    def __init__(self, ask: Callable[..., Any], meta: dict):
        # The engine's query function: damage found while searching is repaired as anywhere else.
        self.ask = ask
        self.n: int = meta["n"]
        self.fields: dict[str, float] = meta["fields"]
        # (terms, contested): a contested group links its terms only through a source's conflicting reading.
        self.synonyms = tuple((tuple(g["terms"]), g["contested"]) for g in meta["synonyms"])
        self.modifier_names = frozenset(meta["modifiers"])
        self.ended: dict[str, str] = meta.get("ended", {})
        self._bits = {1 << i: name for i, name in enumerate(self.fields)}
        self._title_lengths: dict[str, list[int]] | None = None

    def has_stem(self, s: str) -> bool:
        return self.ask("SELECT 1 FROM terms WHERE stem = ? LIMIT 1", (s,)) != []

    def alpha_stems(self) -> list[str]:
        return [s for (s,) in self.ask("SELECT DISTINCT stem FROM terms WHERE alpha ORDER BY stem")]

    def stems_from(self, prefix: str, limit: int) -> list[str]:
        return [
            s
            for (s,) in self.ask(
                "SELECT DISTINCT stem FROM terms WHERE stem >= ? AND stem < ? ORDER BY stem LIMIT ?",
                (prefix, prefix + TOP, limit),
            )
        ]

    def postings(self, s: str) -> dict[str, int]:
        def merge(rows) -> dict[str, int]:
            from cptcli.engine import Damaged

            out: dict[str, int] = {}
            for bit, blob in rows:
                if not isinstance(blob, bytes) or not blob.isascii() or len(blob) % CODE_WIDTH:
                    raise Damaged(f"the postings of {s!r} are not codes")
                text = blob.decode("ascii")
                for i in range(0, len(text), CODE_WIDTH):
                    code = text[i : i + CODE_WIDTH]
                    out[code] = out.get(code, 0) | bit
            return out

        return self.ask("SELECT bit, codes FROM terms WHERE stem = ? ORDER BY bit", (s,), merge)

    def codes_from(self, prefix: str) -> list[str]:
        return [
            c
            for (c,) in self.ask(
                "SELECT code FROM codes WHERE code >= ? AND code < ? ORDER BY code", (prefix, prefix + TOP)
            )
        ]

    def icd_rows(self, icd: str) -> list[tuple[str, str]]:
        heads = [icd[:i] for i in range(1, len(icd))]
        return self.ask(
            "SELECT key, code FROM rows WHERE kind = 'icd' AND ((key >= ? AND key < ?) OR key IN ({}))".format(
                ",".join("?" * len(heads))
            ),
            (icd, icd + TOP, *heads),
        )

    def modifier_codes(self, modifier: str) -> list[str]:
        return [
            c
            for (c,) in self.ask("SELECT code FROM rows WHERE kind = 'modifier' AND key = ? ORDER BY code", (modifier,))
        ]

    def title_lengths(self) -> dict[str, list[int]]:
        """code -> [distinct words of its title, of its leading name]; read once, only by a words query."""
        if self._title_lengths is None:
            import json

            rows = self.ask("SELECT value FROM meta WHERE name = 'title_lengths'")
            self._title_lengths = json.loads(rows[0][0]) if rows else {}
        return self._title_lengths

    def title_counts(self, stems: list[str]) -> dict[str, int]:
        """stem -> how many titles hold it (a word a title only negates aside), for the stems asked: search
        weighs a title's words by it. Reads the postings' lengths, never their codes."""
        bit = 1 << list(self.fields).index("title")
        out: dict[str, int] = dict.fromkeys(stems, 0)
        for i in range(0, len(stems), 500):  # under SQLite's limit on bound values
            chunk = stems[i : i + 500]
            rows = self.ask(
                "SELECT stem, length(codes) FROM terms WHERE bit = ? AND stem IN ({})".format(
                    ",".join("?" * len(chunk))
                ),
                (bit, *chunk),
            )
            for s, n in rows:
                out[s] = n // CODE_WIDTH
        return out

    def doc(self, code: str):
        from cptcli.engine import Damaged, search_doc

        def parse(rows):
            if not rows:
                raise Damaged(f"the index has no search document for {code}")
            return search_doc(rows[0][0])

        return self.ask("SELECT search FROM codes WHERE code = ?", (code,), parse)
