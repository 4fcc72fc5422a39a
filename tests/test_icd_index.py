"""The ICD-10-CM Alphabetic Index as `icd search`'s synonym table (cptcli.codesets.icd_index): CDC's XML read into
entries that lead to a code, references followed, and the bundled table made from the FY2025 Index."""

from __future__ import annotations

from pathlib import Path

import pytest

from cptcli.codesets import icd10, icd_index
from cptcli.search.analysis import tokens

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "icd10cm-index" / "icd10cm_index_2025_excerpt.xml"


def test_cdcs_xml_gives_each_entry_that_leads_to_a_code_its_path_and_reference():
    rows = list(icd_index.entries(icd_index.from_xml(str(FIXTURE))))
    assert rows == [
        ("I21.9", "Attack, attacks > heart", "infarct, myocardium"),  # see: main term Infarct, subterm myocardium
        ("K64.9", "Hemorrhoids", ""),  # the nemod "(bleeding) ..." is no part of the entry's words
        ("I21.9", "Infarct, infarction > myocardium, myocardial", ""),
        ("B99.9", "Infection, infected, infective", ""),
        ("H66.9", "Infection, infected, infective > ear", "Otitis media"),  # see also, run together: Otitis > media
        ("B85.2", "Lice", ""),
        ("B85.0", "Lice > head", ""),
        ("H66.90", "Otitis", ""),
        ("H66.9", "Otitis > media", ""),  # "H66.9-": the coder picks the character; the subcategory is the code
        ("K64.9", "Piles", ""),  # its own code: the see also is not followed
    ]


def test_a_reference_to_no_coded_entry_leads_nowhere():
    tree = icd_index.from_xml(str(FIXTURE))
    assert icd_index._resolve(tree, "Infarct") == "" and icd_index._resolve(tree, "Fracture, wrist") == ""


@pytest.mark.parametrize(
    "entry,words",
    [
        ("Attack, attacks > heart", 2),  # two forms of one word, then the subterm
        ("Infection, infected, infective > ear", 2),
        ("Migration, anxiety concerning", 3),  # a qualifier after the comma is words of its own
        ("Lice", 1),
    ],
)
def test_an_entry_names_each_level_once_however_many_forms_it_is_written_in(entry, words):
    assert icd_index.size(entry, tokens) == words


def test_the_bundled_table_names_its_release_and_leads_lay_words_to_codes_of_the_release():
    assert icd_index.release().startswith("ICD-10-CM Index to Diseases and Injuries FY2025 (CDC")
    table = icd_index.read()
    assert ("Attack, attacks > heart", "infarct, myocardium") in table["I21.9"]
    assert ("Piles", "") in table["K64.9"] and ("Lice > head", "") in table["B85.0"]
    assert all(len(entry.split(icd_index.SEP)) <= icd_index.DEPTH for rows in table.values() for entry, _ in rows)
    release = icd10.codeset()
    held = sum(1 for code in table if release.exists(code))
    # The table is the FY2025 Index and the release April 2026's: every code it leads to is still one.
    assert held == len(table) > 8000, (held, len(table))


def test_the_table_is_part_of_the_cache_key(monkeypatch):
    info = icd10.PackageInfo("1.5.0", ("code-list-April-2026.txt",))
    before = info.key
    monkeypatch.setattr(icd_index, "release", lambda path=icd_index.TABLE: "another Index")
    assert info.key != before and info.key.endswith("; another Index")


def test_the_same_releases_table_made_anew_is_a_new_cache_key(monkeypatch):
    # Another depth of entries from the same Index file keeps the release line: the table's length tells.
    info = icd10.PackageInfo("1.5.0", ("code-list-April-2026.txt",))
    before = info.key
    monkeypatch.setattr(icd_index, "table_bytes", lambda path=icd_index.TABLE: 12345)
    assert info.key != before and "; 12345 bytes; " in info.key


def _entry(title, code="", see="", kids=()):
    e = icd_index._Entry(title, code, see)
    e.kids = list(kids)
    return e


def test_a_main_term_whose_subterms_refer_to_another_reads_as_it():
    broken = _entry(
        "Broken",
        kids=[
            _entry("arm", see="Fracture, arm"),
            _entry("leg", see="Fracture, leg"),
            _entry("bone", see="Fracture"),
            _entry("nose", code="S02.2"),
        ],
    )
    (row,) = icd_index.word_readings([broken], tokens)
    assert row[:2] == ("broken", "Fracture") and row[2].startswith("Broken > arm (see Fracture, arm); ")
    # Two references are too few to tell; three that name the other term at one subterm only are a coincidence;
    # a main term with a code of its own is a condition, not another's word.
    assert not list(icd_index.word_readings([_entry("Broken", kids=broken.kids[:2])], tokens))
    scattered = [_entry("arm", see="Fracture, arm"), _entry("leg", see="Fracture, tibia"), _entry("x", see="Fracture")]
    assert not list(icd_index.word_readings([_entry("Broken", kids=scattered)], tokens))
    assert not list(icd_index.word_readings([_entry("Broken", code="T14.8", kids=broken.kids)], tokens))


def test_the_bundled_words_name_their_release_and_read_as_words_of_the_release():
    words = icd_index.read_words()
    assert words["broken"][0] == "Fracture" and "Broken > bone (see Fracture)" in words["broken"][1]
    with open(icd_index.WORDS, encoding="utf-8") as f:
        assert f.readline().lstrip("# ").strip() == icd_index.release()
    held = icd10.codeset().stem_counts([s for other, _ in words.values() for s in tokens(other)])
    assert all(tokens(other)[0] in held for other, _ in words.values()), words


def test_a_reference_is_read_under_the_main_term_of_its_name_that_the_index_files_most_under():
    # "Fracture" answers to Fracture, pathological and Fracture, traumatic (the Index's principal one, far longer):
    # a reference to "Fracture, clavicle" is the traumatic one's, not the first of the two in the Index's order.
    pathological = _entry("Fracture, pathological", kids=[_entry("clavicle", code="M84.41")])
    traumatic = _entry("Fracture, traumatic", code="T14.8", kids=[_entry("clavicle", code="S42.00"), _entry("rib")])
    assert icd_index._resolve([pathological, traumatic], "Fracture, clavicle") == "S42.00"
    # "see Disease" names the principal main term, which has no code: it leads nowhere, not to the first entry of
    # some other main term that answers to the word and has one.
    blood = _entry("Blood-forming organs, disease", code="D75.9")
    disease = _entry("Disease, diseased", kids=[_entry("heart", code="I51.9"), _entry("lung", code="J98.4")])
    assert icd_index._resolve([blood, disease], "Disease") == ""


def test_a_reference_is_read_without_its_nonessential_words_and_followed_through_an_entry_without_a_code():
    loss = _entry("Loss", kids=[_entry("pregnancy", kids=[_entry("recurrent", code="N96")])])
    assert icd_index._resolve([loss], "Loss (of),  pregnancy, recurrent") == "N96"
    # Fracture, traumatic > arm has no code, only "see also Fracture, humerus, shaft": that is followed.
    humerus = _entry("humerus", kids=[_entry("shaft", code="S42.30")])
    fracture = _entry("Fracture, traumatic", kids=[_entry("arm", see="Fracture, humerus, shaft"), humerus])
    assert icd_index._resolve([fracture], "Fracture, arm") == "S42.30"
    # A reference that runs in a circle ends.
    a, b = _entry("A", see="B"), _entry("B", see="A")
    assert icd_index._resolve([a, b], "A") == ""
