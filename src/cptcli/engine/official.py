"""Official code sets the user imported (cptcli.imports: CMS HCPCS, AMA CPT,
NUCC, and the facts other sets give of their codes, such as an NDC crosswalk's
drug names) joined to the knowledge base before it is indexed, so that every command
answers over them through the one index.

An imported code the knowledge base does not curate becomes a record of its
own, built from the file alone; a curated code gains the file's descriptors
and fields beside the sources' facts, and a data note where the curated
descriptor differs from the official one. HCPCS Level II modifiers extend the
modifier registry with the file as their authority (a curated modifier keeps its
name and gains the file's wording beside it); a NUCC taxonomy replaces
the curated taxonomy list as what taxonomy rows are checked against.
"""

from __future__ import annotations

from dataclasses import replace

from cptcli.model import (
    ADDED_DATE,
    TERMINATION_DATE,
    Descriptor,
    Fact,
    Modifier,
    Note,
    OfficialAttribute,
    OfficialDescriptor,
    TaxonomyCode,
)

# Descriptor kinds in the order a title is chosen from.
_TITLE_KINDS = ("long", "medium", "short", "consumer", "clinician")


def join(kb) -> None:
    """Add every imported set to `kb` (a knowledge.KnowledgeBase), in place."""
    from cptcli.imports import store

    supplements = []
    for imported in store.iter_codes():
        if not any(kind in _TITLE_KINDS for kind, _ in imported.descriptors):
            supplements.append(imported)  # facts about codes a code set names (an NDC crosswalk's drug names)
            continue
        _join_one(kb, imported)
    for imported in supplements:
        if imported.code in kb.records:
            _join_one(kb, imported)
    for m in store.modifiers():
        name = next((t for k, t in m.descriptors if k == "long"), None) or next((t for _, t in m.descriptors), "")
        # The file's dates: a line is judged by the modifiers in force on its date of service (rules).
        dated = {a.label: a.value for a in m.attributes if a.label in (ADDED_DATE, TERMINATION_DATE) and a.value}
        added, ends = dated.get(ADDED_DATE), dated.get(TERMINATION_DATE)
        curated = kb.modifiers.get(m.modifier)
        if curated is None:
            kb.modifiers[m.modifier] = Modifier(
                m.modifier, name, "HCPCS", m.authority, release=m.release, official_added=added, official_ends=ends
            )
        else:
            kb.modifiers[m.modifier] = replace(
                curated, official=name, official_source=m.authority, official_added=added, official_ends=ends
            )
    if store.has_taxonomy():
        kb.taxonomy_codes = _taxonomy(kb.taxonomy_codes)
    kb.records = dict(sorted(kb.records.items()))


def _join_one(kb, imported) -> None:
    source = f"{imported.file}, {imported.release}"
    descriptors = tuple(OfficialDescriptor(kind, text, (imported.source(kind),)) for kind, text in imported.descriptors)
    attributes = tuple(OfficialAttribute(a.label, a.value, a.meaning, (source,)) for a in imported.attributes)
    curated = kb.records.get(imported.code)
    if curated is None:
        kb.records[imported.code] = _record(imported, descriptors, attributes, source)
        kb.layers[imported.code] = ()
    else:
        kb.records[imported.code] = _beside(curated, imported, descriptors, attributes, source)


def _best(descriptors) -> OfficialDescriptor | None:
    by_kind = {d.kind: d for d in descriptors}
    return next((by_kind[k] for k in _TITLE_KINDS if k in by_kind), descriptors[0] if descriptors else None)


def _record(imported, descriptors, attributes, source: str):
    from cptcli.model import CodeRecord

    best = _best(descriptors)
    title = Fact(best.text if best else imported.code, best.sources if best else (source,))
    long = next((d for d in descriptors if d.kind == "long"), best)
    return CodeRecord(
        code=imported.code,
        completeness="official",
        add_on=None,
        title=title,
        descriptor=Descriptor(long.text, long.sources, True) if long else None,
        official_descriptors=descriptors,
        official=attributes,
        origin=source,
    )


def _beside(curated, imported, descriptors, attributes, source: str):
    """The curated record with the official file's facts beside its own, and a
    note where the curated descriptor is not the official one."""
    long = next((d for d in descriptors if d.kind == "long"), None)
    notes = curated.notes
    mine = curated.descriptor.text if curated.descriptor else curated.title.text
    if long is not None and " ".join(long.text.split()).lower() != " ".join(mine.split()).lower():
        notes += (
            Note(
                "official",
                "descriptor",
                f"The imported official descriptor ({source}) differs from the one the sources give.",
                long.sources,
                source,
                long.text,
            ),
        )
    return replace(
        curated,
        official_descriptors=curated.official_descriptors + descriptors,
        official=curated.official + attributes,
        notes=notes,
    )


def _taxonomy(curated: dict) -> dict:
    """The NUCC release's codes, named as the curated list names them ('Grouping, Specialization')."""
    from cptcli.imports import store

    out: dict = {}
    for t in store.taxonomy_entries():
        leaf = t.specialization or t.classification or ""
        name = ", ".join(x for x in (t.classification, leaf if leaf != t.classification else "") if x)
        out[t.code] = TaxonomyCode(t.code, name or t.display_name, f"{t.file}, {t.release}")
    return out or curated
