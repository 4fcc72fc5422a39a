"""Which ICD-10-CM release judges a date of service: an imported fiscal year's order file (cptcli.imports, kind
icd10cm) whose year covers the date, else the bundled release (simple-icd-10-cm, cptcli.codesets.icd10), which
then says whether its own fiscal year covers the date. ICD-10-CM fiscal years run from 1 October to 30 September.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from cptcli.codesets.icd10 import IcdCode

_MONTHS = "January February March April May June July August September October November December".split()


def fiscal_year(month: str, year: int) -> tuple[str, str]:
    """The first and last day of the fiscal year a release of `month` `year` belongs to (October starts the next)."""
    fy = year + 1 if _MONTHS.index(month) >= 9 else year
    return f"{fy - 1}-10-01", f"{fy}-09-30"


def bundled_covers(authority: str) -> tuple[str, str] | None:
    """The fiscal year of the bundled release, read from its authority ("ICD-10-CM April 2026 release (CDC) ...")."""
    m = re.search(r"ICD-10-CM (\w+) (\d{4}) release", authority)
    if not m or m.group(1) not in _MONTHS:
        return None
    return fiscal_year(m.group(1), int(m.group(2)))


class OrderFileSet:
    """An imported fiscal year's ICD-10-CM order file, answering as the bundled CodeSet does (get, exists,
    billable_under, parent_in, authority) from its indexed table."""

    def __init__(self, lookup, source) -> None:
        self._lookup, self._source = lookup, source
        self.authority = f"ICD-10-CM {source.release}, {', '.join(source.files)}"
        self.covers = source.covers
        self._memo: dict[str, IcdCode | None] = {}

    def _rows(self, sql: str, args: tuple) -> list[tuple]:
        return self._lookup.rows(self._source.kind, self._source.slot, sql, args)

    def _below(self, code: str) -> list[tuple]:
        return self._rows(
            "SELECT code, billable, long FROM icd WHERE code > ? AND code < ? ORDER BY code", (code, code + "\uffff")
        )

    def get(self, code: str) -> IcdCode | None:
        if code not in self._memo:
            rows = self._rows("SELECT code, long, billable FROM icd WHERE code = ?", (code,))
            if not rows:
                self._memo[code] = None
            else:
                below = [c for c, _, _ in self._below(code)]
                depth = min((len(c) for c in below), default=0)
                self._memo[code] = IcdCode(
                    rows[0][0], rows[0][1], bool(rows[0][2]), tuple(c for c in below if len(c) == depth)
                )
        return self._memo[code]

    def exists(self, code: str) -> bool:
        return self.get(code) is not None

    def billable_under(self, code: str) -> list[IcdCode]:
        return [IcdCode(c, d, True) for c, b, d in self._below(code) if b]

    def parent_in(self, code: str, candidates: Iterable[str]) -> str | None:
        best = None
        for c in candidates:
            if c != code and code.startswith(c) and (best is None or len(c) > len(best)):
                best = c
        return best


def for_date(date: str, lookup=None):
    """The ICD-10-CM release that judges `date`: an imported fiscal year covering it, else the bundled one. The
    answer has `covers` ((first, last) day, or None where unknown) so that a rule can say when it does not apply."""
    from cptcli.codesets import icd10

    if lookup is not None:
        # An April update applies from 1 April within its fiscal year: the release that starts latest decides.
        covering = [s for s in lookup.sets("icd10cm") if s.covers is not None and s.covers[0] <= date <= s.covers[1]]
        if covering:
            return OrderFileSet(lookup, max(covering, key=lambda s: s.covers[0]))
    bundled = icd10.codeset()
    if not hasattr(bundled, "covers"):
        bundled.covers = bundled_covers(bundled.authority)  # type: ignore[attr-defined]
    return bundled
