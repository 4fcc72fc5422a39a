"""Normalise what users type or paste into canonical codes (CPT, HCPCS Level II,
ICD-10-CM, modifiers).

Coders paste from PDFs and spreadsheets: full-width digits, non-breaking
spaces, a "CPT" label, a trailing period, a "+" add-on mark or a "-50" modifier
suffix. Everything is folded here, once, so the rest of the tool sees clean codes.
"""

from __future__ import annotations

import re
from collections import namedtuple

from cptcli.errors import UsageError

# Pattern strings, not compiled objects: re compiles (and caches) each on first
# use, so the fast path pays only for the one it needs (~1.5 ms saved a call).
# CPT (five digits; Category II nnnnF, Category III nnnnT, PLA nnnnU, MAAA nnnnM)
# and HCPCS Level II (a letter A-V and four digits).
_CODE = r"[0-9]{4}[0-9FMTU]|[A-V][0-9]{4}"
# One code as typed: a label, an add-on "+", the code, any modifier suffixes (20700-RT-59, E0143-NU-RR), a period.
_CODE_INPUT = (
    r"(?:(?:CPT|HCPCS)\s*(?:CODE)?\s*[:#]?\s*)?\+?\s*([0-9]{4}[0-9FMTU]|[A-V][0-9]{4})"
    r"((?:\s*-\s*[0-9A-Z]{2})*)\.?"
)
# A pasted list: codes apart by commas, semicolons or spaces ("20700,20701", "20700 20701", a column's lines).
_LIST_ITEM = r"\s*(?:" + _CODE_INPUT + r")\s*(?:[,;]\s*|(?<=\s)|\Z)"
_ICD = r"([A-Z][0-9][0-9A-Z])\.?([0-9A-Z]{0,4})"
_MODIFIER = r"(?:MODIFIER\s*|MOD\s*|-)?([0-9A-Z]{2})"
# Shown in place of characters a terminal would act on (escapes, controls), and of
# lone surrogates: Python's stand-ins for bytes of invalid UTF-8 in argv or stdin.
_UNPRINTABLE = r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]"


# collections.namedtuple, not typing.NamedTuple: typing costs ~3 ms of the fast path's budget.
CodeInput = namedtuple("CodeInput", "code modifiers")


def clean(text: str) -> str:
    """NFKC folds full-width digits and non-breaking spaces; then trim and upper-case.
    ASCII is its own NFKC form, so typed codes skip unicodedata's import."""
    if not text.isascii():
        import unicodedata

        text = unicodedata.normalize("NFKC", text)
    return " ".join(text.split()).upper()


def printable(text: str, limit: int = 40) -> str:
    """A version of user input safe to echo in an error line: no control
    characters or escapes, and cut to `limit` characters."""
    text = re.sub(_UNPRINTABLE, "?", text)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def parse_code(raw: str) -> CodeInput:
    """'+20700', ' 20700 ', 'CPT 20700', '20700-50', '20700-RT-59', '２０７００.', 'j1100' -> CodeInput('20700', (...)):
    one code, its modifier suffixes split off in order."""
    text = clean(raw)
    if not text:
        raise UsageError("empty code: give a CPT or HCPCS code such as 20700 or J1100")
    m = re.fullmatch(_CODE_INPUT, text)
    if not m:
        raise UsageError(_malformed(raw))
    return CodeInput(m.group(1), _suffixes(m.group(2)))


def parse_codes(raw: str) -> list[CodeInput]:
    """Every code of what was typed or pasted as one argument or line: '20700,20701', '20700 20701',
    '20700-RT-59; E0143-NU-RR' (each code as parse_code reads one). The one parser of code arguments."""
    text = clean(raw)
    if not text:
        raise UsageError("empty code: give a CPT or HCPCS code such as 20700 or J1100")
    one = re.fullmatch(_CODE_INPUT, text)  # the usual case
    if one:
        return [CodeInput(one.group(1), _suffixes(one.group(2)))]
    item, found, pos = re.compile(_LIST_ITEM), [], 0
    while pos < len(text):
        m = item.match(text, pos)
        if m is None or m.end() == pos:
            bad = re.split(r"[,;\s]+", text[pos:].strip(" ,;"), maxsplit=1)[0] or text[pos:]
            if pos == 0 and bad == text:
                raise UsageError(_malformed(raw))
            raise UsageError(f"{_malformed(bad)} (in {printable(raw)!r})")
        found.append(CodeInput(m.group(1), _suffixes(m.group(2))))
        pos = m.end()
    return found


def split_list(values) -> list[str]:
    """The items of values that may each be a pasted list (modifiers '50,LT' or '50 LT', diagnoses
    'M54.5; G89.29'): apart by commas, semicolons, bars or spaces."""
    return [item for value in values for item in re.split(r"[,;|\s]+", value) if item]


def _suffixes(text: str) -> tuple[str, ...]:
    return tuple(re.findall(r"[0-9A-Z]{2}", text)) if text else ()


def _malformed(raw: str) -> str:
    return (
        f"malformed code {printable(raw)!r}: expected a CPT code such as 20700 or +20700, "
        f"or an HCPCS Level II code such as J1100"
    )


def is_code(text: str) -> bool:
    return re.fullmatch(_CODE, text) is not None


def parse_icd10(raw: str) -> str:
    """'m5416', 'M54.16', ' M54.16. ' -> 'M54.16' (the dot goes after the third character)."""
    text = clean(raw).rstrip(".").replace(" ", "")
    m = re.fullmatch(_ICD, text)
    if not text or not m:
        raise UsageError(f"malformed ICD-10-CM code {printable(raw)!r}: expected a code such as M54.16")
    head, tail = m.groups()
    return f"{head}.{tail}" if tail else head


def parse_modifier(raw: str) -> str:
    """'59', '-59', 'modifier 59', 'lt' -> '59' / 'LT'."""
    text = clean(raw).replace(" ", "")
    m = re.fullmatch(_MODIFIER, text)
    if not m:
        raise UsageError(f"malformed modifier {printable(raw)!r}: expected two characters such as 59 or LT")
    return m.group(1)


def parse_date(raw: str) -> str:
    """A date of service as YYYY-MM-DD, from '2026-11-02', '11/02/2026' or '20261102'; raises UsageError otherwise."""
    import datetime

    text = clean(raw)
    if len(text) == 10 and text[4] == "-":  # the ISO form: no strptime, which a claims file would call per row
        try:
            return datetime.date.fromisoformat(text).isoformat()
        except ValueError:
            pass
    for fmt in ("%Y-%m-%d", "%m/%d/%Y", "%Y%m%d"):
        try:
            return datetime.datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    raise UsageError(f"malformed date {printable(raw)!r}: expected a date of service such as 2026-11-02")


def today() -> str:
    """Today as YYYY-MM-DD: what an official file's termination dates are compared with (until claim lines carry
    a date of service). time, not datetime: search imports this module and datetime costs more to import."""
    import time

    return time.strftime("%Y-%m-%d")


def ended(end: str, successors=(), otherwise: str = "look for the code that replaced it", on: str = "") -> str:
    """How every command says that an official file ends a code on `end` (YYYY-MM-DD), and what to use instead:
    the codes the file cross-references from it, else `otherwise`. `on`: the date of service (today if none)."""
    then = f"the file cross-references {', '.join(successors)}" if successors else otherwise
    return (
        f"{'terminated' if end < (on or today()) else 'ends'} on {end}: not valid for services after that date; {then}"
    )


# An NDC as labels print it: 10 digits in three hyphenated segments (4-4-2, 5-3-2 or 5-4-1), or the 11-digit
# 5-4-2 form CMS bills with (hyphenated or not).
_NDC_HYPHENATED = re.compile(r"([0-9]{4,5})-([0-9]{3,4})-([0-9]{1,2})")


def ndc_digits(raw: str) -> tuple[str, ...] | None:
    """The 11-digit forms an NDC as typed can stand for: one for a hyphenated NDC (a zero leads the short segment)
    or 11 digits; three for 10 digits without hyphens, whose segments cannot be told apart; None for anything that
    is not shaped like an NDC."""
    text = raw.strip()
    m = _NDC_HYPHENATED.fullmatch(text)
    if m:
        a, b, c = m.groups()
        if len(a) + len(b) + len(c) == 11 and (len(a), len(b), len(c)) == (5, 4, 2):
            return (a + b + c,)
        if len(a) + len(b) + len(c) != 10:
            return None
        return (a.zfill(5) + b.zfill(4) + c.zfill(2),)
    if text.isdigit() and text.isascii():
        if len(text) == 11:
            return (text,)
        if len(text) == 10:
            return ("0" + text, text[:5] + "0" + text[5:], text[:9] + "0" + text[9:])
    return None
