"""The ICD-10-CM Alphabetic Index's entries, as words that lead to a code: what `icd search` reads for the lay words
the tabular list never uses ("Attack, heart - see Infarct, myocardium", "Piles - see also Hemorrhoids", "Lice,
head"). The tabular list names a condition as a coder does; the Index is how CDC leads a coder from the words a
note (or a patient) uses to the code, so its entries are the synonym table, cited entry by entry.

The table bundled beside this module (icd10cm_index.tsv) holds every entry of the Index to Diseases and Injuries
whose path is a main term or a main term and one subterm, and that names a code or, by its "see" or "see also"
reference, an entry that does: one row an entry, `code TAB entry TAB reference`, the entry its path in the Index
("Attack, attacks > heart"), which is where the row comes from. Deeper subterms qualify a condition already named
(site, stage, episode of care) with the clinical words the tabular list has too; they are left out to keep the
table to the words that lead somewhere new. (The second subterm level was tried and left out: bench/icd-search.md.)

A second table beside it (icd10cm_index_words.tsv, word_readings) holds the few one-word main terms the Index itself
reads as another main term, one row a word with the references that say so ("Broken > arm - see Fracture, arm",
"Broken > leg - see Fracture, leg", "Broken > bone - see Fracture"): a query's "broken wrist" is then a fracture at
the wrist, which the Index files under Fracture and never under Broken.

The Index is CDC's (National Center for Health Statistics), a US government work in the public domain, published
with each release in "Code Tables, Tabular and Index" (icd10cm_index_YYYY.xml, icd-10-cm-index-YYYY.xml); its XML
layout is CDC's icd10cm-index-YYYY.xsd: ICD10CM.index > letter > mainTerm, each with a title (text and an optional
nemod, the non-essential modifiers), an optional see, seeAlso and code, and nested term elements (level 1-9) of
the same shape. `python -m cptcli.codesets.icd_index SOURCE` writes both tables anew from such a file (or from the
flat CSV of one, RowID,Letter,Level,Term,See,SeeAlso,NonEssModif,Code, one row an entry in document order).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator

TABLE = os.path.join(os.path.dirname(__file__), "icd10cm_index.tsv")
# The lay words the Index itself reads as another main term (word_readings), made from the same Index file.
WORDS = os.path.join(os.path.dirname(__file__), "icd10cm_index_words.tsv")
# Entries kept: a main term, or a main term and one subterm (see the module's doc).
DEPTH = 2
SEP = " > "


class _Entry:
    __slots__ = ("title", "code", "see", "kids")

    def __init__(self, title: str, code: str, see: str) -> None:
        self.title, self.code, self.see = title, code, see
        self.kids: list[_Entry] = []


def _forms(title: str) -> set[str]:
    """The names an entry answers a reference by: "Infarct, infarction" is referred to as "Infarct", "drug NEC" as
    "drug"."""
    t = title.strip().lower()
    forms = {t, *(x.strip() for x in t.split(","))}
    return forms | {f[: -len(" nec")] for f in forms if f.endswith(" nec")}


def _find(entries: list[_Entry], parts: list[str]) -> _Entry | None:
    for e in entries:
        if parts[0] in _forms(e.title):
            if len(parts) == 1:
                return e
            found = _find(e.kids, parts[1:])
            if found is not None:
                return found
    return None


def _find_principal(roots: list[_Entry], parts: list[str]) -> _Entry | None:
    """The entry a path names, under the main term of that name the Index files most under when several answer to
    it ("Fracture" is Fracture, traumatic, not Fracture, burst or Fracture, pathological; "Disease" is Disease,
    diseased, not Blood-forming organs, disease)."""
    found = []
    for i, root in _named(roots).get(parts[0], ()):
        e = root if len(parts) == 1 else _find(root.kids, parts[1:])
        if e is not None:
            found.append((len(root.kids), -i, e))
    return max(found, key=lambda f: f[:2])[2] if found else None


_NAMED: dict[int, tuple[list[_Entry], dict[str, list[tuple[int, _Entry]]]]] = {}


def _named(roots: list[_Entry]) -> dict[str, list[tuple[int, _Entry]]]:
    """The main terms by each name they answer to, in the Index's order (made once a tree)."""
    held = _NAMED.get(id(roots))
    if held is None or held[0] is not roots:
        names: dict[str, list[tuple[int, _Entry]]] = {}
        for i, root in enumerate(roots):
            for form in _forms(root.title):
                names.setdefault(form, []).append((i, root))
        held = _NAMED[id(roots)] = (roots, names)
    return held[1]


def _resolve(roots: list[_Entry], reference: str, hops: int = 3) -> str:
    """The code of the entry a reference names ("Infarct, myocardium": main term Infarct, subterm myocardium), or ""
    when it names none (a reference to a whole main term without a code of its own: "see Condition"). An entry it
    names that has no code but a reference of its own is followed in turn, a few hops at most ("Fracture, arm" is
    "see also Fracture, humerus, shaft")."""
    # The non-essential modifiers in parentheses and doubled spaces are no part of the path ("Loss (of), pregnancy").
    reference = " ".join(re.sub(r"\([^)]*\)", " ", reference).split())
    parts = [x.strip().lower() for x in reference.split(",") if x.strip()]
    readings = [[", ".join(parts[:cut]), *parts[cut:]] for cut in range(len(parts), 0, -1)]
    # A main term's own title may hold a comma ("Attack, attacks"): the longest reading of it first. A reference may
    # run a main term and its subterm together ("see also Otitis media": Otitis > media).
    words = parts[0].split() if parts else []
    readings += [[" ".join(words[:cut]), " ".join(words[cut:]), *parts[1:]] for cut in range(len(words) - 1, 0, -1)]
    for path in readings:
        found = _find_principal(roots, path)
        if found is not None and found.code:
            return found.code
    if hops:
        for path in readings:
            found = _find_principal(roots, path)
            if found is not None and found.see:
                code = _resolve(roots, found.see, hops - 1)
                if code:
                    return code
    return ""


def entries(tree: list[_Entry]) -> Iterator[tuple[str, str, str]]:
    """(code, entry path, reference followed or "") of each entry of at most DEPTH levels that leads to a code; a
    code the Index gives incomplete ("H93.29-": a coder picks the character) is its category or subcategory."""

    def walk(level: list[_Entry], path: tuple[str, ...]) -> Iterator[tuple[str, str, str]]:
        for e in level:
            here = (*path, e.title.strip())
            if len(here) > DEPTH:
                return
            code = e.code or (_resolve(tree, e.see) if e.see else "")
            if code:
                yield code.rstrip("-").rstrip("."), SEP.join(here), "" if e.code else e.see.strip()
            yield from walk(e.kids, here)

    yield from walk(tree, ())


def word_readings(tree: list[_Entry], tokens) -> Iterator[tuple[str, str, str]]:
    """(word, the main term it reads as, the Index's references that say so) for each one-word main term with no
    code of its own that the Index reads as another: at least three of its subterms refer elsewhere, two in three of
    those to one other main term, and at least two as the same subterm there ("Broken > arm - see Fracture, arm",
    "Broken > leg - see Fracture, leg": "broken" is "fracture" before any site). Read so, a query's "broken wrist"
    is a fracture at the wrist, which the Index files under Fracture, never under Broken."""
    for e in tree:
        name = e.title.split(",")[0].strip()
        if e.code or len(tokens(name)) != 1:
            continue
        refs = [(k.title, [p.strip() for p in k.see.split(",")]) for k in e.kids if k.see]
        if len(refs) < 3:
            continue
        heads: dict[str, int] = {}
        for _, parts in refs:
            heads[parts[0].lower()] = heads.get(parts[0].lower(), 0) + 1
        other, count = max(heads.items(), key=lambda kv: (kv[1], kv[0]))
        if tokens(other) == tokens(name) or other in _forms(e.title) or 3 * count < 2 * len(refs):
            continue
        said = [(title, parts) for title, parts in refs if parts[0].lower() == other]
        same = [p for title, p in said if len(p) > 1 and p[-1].lower() in _forms(title)]
        if len(same) < 2:
            continue
        evidence = "; ".join(f"{e.title.strip()} > {title.strip()} (see {', '.join(p)})" for title, p in said)
        yield name.lower(), said[0][1][0], evidence


def write_words(rows: Iterable[tuple[str, str, str]], source: str, out: str = WORDS) -> int:
    about = (
        "One row a one-word main term of CDC's ICD-10-CM Index to Diseases and Injuries (public domain) that the Index"
        " reads as another (cptcli.codesets.icd_index.word_readings): word, the main term, its references."
    )
    return _write_rows(rows, source, about, out)


def read_words(path: str = WORDS) -> dict[str, tuple[str, str]]:
    """word -> (the main term the Index reads it as, the references that say so); {} when there is no table."""
    return {word: (other, evidence) for word, other, evidence in _read_rows(path)}


def _read_rows(path: str) -> Iterator[list[str]]:
    """The rows of a bundled table (three tab-separated fields), none when there is no table."""
    try:
        f = open(path, encoding="utf-8")
    except FileNotFoundError:
        return
    with f:
        for line in f:
            if not line.startswith("#") and line.strip():
                yield line.rstrip("\n").split("\t")


def from_xml(path: str) -> list[_Entry]:
    """The entry tree of CDC's Index XML (icd10cm_index_YYYY.xml)."""
    import xml.etree.ElementTree as ET

    def text(el) -> str:
        return "" if el is None else "".join(el.itertext()).strip()

    def entry(el) -> _Entry:
        title = el.find("title")
        # The title's own text, without its nemod (the non-essential modifiers in parentheses).
        words = "" if title is None else (title.text or "") + "".join(c.tail or "" for c in title)
        e = _Entry(" ".join(words.split()), text(el.find("code")), text(el.find("see")) or text(el.find("seeAlso")))
        e.kids = [entry(t) for t in el.findall("term")]
        return e

    root = ET.parse(path).getroot()
    return [entry(m) for letter in root.findall("letter") for m in letter.findall("mainTerm")]


def from_flat_csv(path: str) -> list[_Entry]:
    """The entry tree of a flat CSV of the Index (one row an entry in document order, its Level 0 for a main
    term)."""
    import csv

    roots: list[_Entry] = []
    stack: list[_Entry] = []
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            level = int(row["Level"])
            e = _Entry(row["Term"] or "", row["Code"] or "", row["See"] or row["SeeAlso"] or "")
            stack = stack[:level]
            (stack[-1].kids if stack else roots).append(e)
            stack.append(e)
    return roots


def read(path: str = TABLE) -> dict[str, list[tuple[str, str]]]:
    """code -> its (entry, reference) rows, in the table's order; {} when there is no table."""
    found: dict[str, list[tuple[str, str]]] = {}
    for code, entry, reference in _read_rows(path):
        found.setdefault(code, []).append((entry, reference))
    return found


def release(path: str = TABLE) -> str:
    """The release the table was made from, as its first line names it (part of the ICD-10-CM cache's key)."""
    try:
        with open(path, encoding="utf-8") as f:
            first = f.readline()
    except FileNotFoundError:
        return "none"
    return first.lstrip("# ").strip()


def table_bytes(path: str = TABLE) -> int:
    """The table's length (part of the ICD-10-CM cache's key, beside its release): 0 when there is none."""
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def size(entry: str, tokens) -> int:
    """How many words an entry names, each level once: a main term written in several forms ("Infection, infected,
    infective", "Attack, attacks") is one term, so a query holding one of them covers it as a description's word is
    covered; a part after a comma that is not a form of the first ("Migration, anxiety concerning", "Fracture,
    traumatic") qualifies it, and its words count."""

    def words(level: str) -> int:
        first, *rest = (p.strip().lower() for p in level.split(","))
        forms = first.split()[-1:] if first.split() else []
        count = len(tokens(first)) or 1
        for part in rest:
            # Another form of the same word begins as it does ("infect-ion", "infect-ed"; "attack", "attacks").
            if not (forms and part[:4] == forms[0][:4] and " " not in part):
                count += len(tokens(part))
        return count

    return sum(words(level) for level in entry.split(SEP))


def text_of(entry: str, reference: str) -> str:
    """An entry as a coder reads it in the Index: "Attack, attacks > heart (see Infarct, myocardium)"."""
    return f"{entry} (see {reference})" if reference else entry


def write(rows: Iterable[tuple[str, str, str]], source: str, out: str = TABLE) -> int:
    about = (
        "One row an entry of CDC's ICD-10-CM Index to Diseases and Injuries (public domain) that leads to a code"
        " (cptcli.codesets.icd_index): code, the entry's path in the Index, the see/see also reference followed."
    )
    return _write_rows(rows, source, about, out)


def _write_rows(rows: Iterable[tuple[str, str, str]], source: str, about: str, out: str) -> int:
    """A bundled table: the release it is made from, what a row is, then the rows (three tab-separated fields)."""
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        f.write(f"# {source}\n# {about}\n")
        n = 0
        for row in rows:
            f.write("\t".join(row) + "\n")
            n += 1
    return n


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="Write the bundled ICD-10-CM Index table from CDC's Index file.")
    ap.add_argument("source", help="icd10cm_index_YYYY.xml, or a flat CSV of it")
    ap.add_argument("--release", required=True, help='what the table is made from, e.g. "ICD-10-CM Index FY2025"')
    ap.add_argument("--out", default=TABLE)
    ap.add_argument("--words-out", default=WORDS, help="where the words the Index reads as another go")
    args = ap.parse_args(argv)
    from cptcli.search.analysis import tokens

    tree = from_flat_csv(args.source) if args.source.endswith(".csv") else from_xml(args.source)
    print(write(entries(tree), args.release, args.out), "rows")
    print(write_words(word_readings(tree, tokens), args.release, args.words_out), "words read as another")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
