"""The reverse look-ups: from an ICD-10-CM code or a modifier to the codes
whose tables list it (`cptcli icd`, `cptcli modifier`), each row with how its
wording compares with the official one. They read the index's rows
(cptcli.engine.Engine.rows_listing) beside the engine's other look-ups; the
check rules (cptcli.rules) share only the comparison of names.
"""

from __future__ import annotations

from cptcli.model import CodeRecord, IcdChild, IcdListing, IcdResult, ModifierListing, ModifierResult
from cptcli.rules import Knowledge, compare_names, name_verdict


def _caution(rec: CodeRecord, key: str) -> str | None:
    """The caution search gives a hit on the record's row for `key`, from the same search document the index
    stores for the record, so that a pairing reads the same wherever it is shown."""
    from cptcli.engine.build import field_texts, search_document
    from cptcli.search import SearchDoc, snippets

    return snippets.row_caution(SearchDoc.from_list(search_document(rec, list(field_texts(rec)))), key)


def icd_lookup(kb: Knowledge, codeset, code: str) -> IcdResult:
    from cptcli.errors import NotFoundError

    official = codeset.get(code)
    if official is None:
        near = _ancestor(codeset, code)
        hint = f"; the nearest code above it is {near} ({codeset.get(near).description})" if near else ""
        raise NotFoundError(f"{code} is not an ICD-10-CM code in the {codeset.authority}{hint}")

    def child(c: str) -> IcdChild:
        got = codeset.get(c)
        return IcdChild(c, got.description if got else "", bool(got and got.billable))

    children = tuple(child(c) for c in official.children)
    billable = (
        () if official.billable else tuple(IcdChild(c.code, c.description, True) for c in codeset.billable_under(code))
    )
    parent_code = _ancestor(codeset, code)
    parent = child(parent_code) if parent_code else None
    listings = []
    for rec, row in kb.rows_listing("diagnoses", code):
        same = compare_names(row.description, official.description) == "same" if row.description else None
        listings.append(
            IcdListing(
                rec.code,
                rec.display_code,
                rec.title.text,
                row.description,
                row.relevance,
                row.sources,
                same,
                rec.notes_about(f"diagnoses/{code}"),
                _caution(rec, code),
            )
        )
    return IcdResult(
        code, official.description, official.billable, children, billable, parent, tuple(listings), codeset.authority
    )


def _ancestor(codeset, code: str) -> str | None:
    """The nearest code above `code` in the release (S32.9XXA -> S32.9)."""
    for i in range(len(code) - 1, 2, -1):
        prefix = code[:i].rstrip(".")
        if prefix != code and codeset.exists(prefix):
            return prefix
    return None


def modifier_lookup(kb: Knowledge, modifier: str) -> ModifierResult:
    from cptcli.errors import NotFoundError

    entry = kb.modifiers.get(modifier)
    listings = []
    for rec, row in kb.rows_listing("modifiers", modifier):
        verdict = name_verdict(row.description, entry) if entry and row.description else None
        listings.append(
            ModifierListing(
                rec.code,
                rec.display_code,
                row.description,
                row.when_to_use,
                row.sources,
                verdict,
                rec.notes_about(f"modifiers/{modifier}"),
                _caution(rec, modifier),
            )
        )
    if entry is None and not listings:
        raise NotFoundError(f"modifier {modifier} is not in the registry and no document lists it")
    check = compare_names(entry.name, entry.official) if entry and entry.official else None
    return ModifierResult(modifier, entry, tuple(listings), check)
