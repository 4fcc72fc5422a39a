"""A real CMS release, read whole: the 2020 HCPCS Level II Alpha-Numeric file as CMS ships it (public domain).

The fabricated fixture follows the record layout as documented; this file is what CMS actually writes, and it
differs where the documentation is quiet: modifiers stand right-justified in HCPC ("   A1") and come first,
continuation records are 91 characters, the disclaimer is Windows-1252.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from cptcli.imports import detect, import_files, store

CMS_TXT = Path(__file__).resolve().parent / "fixtures" / "imports" / "cms" / "HCPC2020_ANWEB_w_disclaimer.txt"
SHA256 = "e7f6f58b91fa54d081be50230a1a34ae4671038539a2b42ed055002d395c1063"

pytestmark = pytest.mark.usefixtures("data_dir", "cache")


def _code(code: str):
    (rec,) = store.get_code(code)
    return rec


def _attrs(code: str) -> list[tuple[str, str, str | None]]:
    return [(a.label, a.value, a.meaning) for a in _code(code).attributes]


def test_the_file_is_the_cms_release_unchanged():
    raw = CMS_TXT.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == SHA256
    lines = raw.split(b"\r\n")
    assert lines[0].startswith(b"Note regarding coverage and payment indicators")
    assert b"CMS\x92 2020" in lines[0]  # a Windows-1252 right quote
    assert lines[9][:11] == b"   A1001007"  # the first record: a modifier, right-justified
    assert sorted({len(x) for x in lines[9:] if x}) == [91, 320]


def test_whole_release_imports_every_code_and_modifier():
    (r,) = import_files([CMS_TXT])
    assert (r.kind, r.release, r.records, r.modifiers, r.skipped_count) == ("hcpcs", "2020", 6710, 369, 0)
    assert detect(CMS_TXT.name, CMS_TXT.read_bytes()[:65536]) == "hcpcs"
    mods = [m.modifier for m in store.modifiers()]
    assert len(mods) == 369 and mods[:3] == ["A1", "A2", "A3"] and "XS" in mods and "59" not in mods


def test_modifier_descriptions_join_their_continuation_records():
    import_files([CMS_TXT])
    by = {m.modifier: dict(m.descriptors) for m in store.modifiers()}
    assert by["AD"] == {
        "long": "Medical supervision by a physician: more than four concurrent anesthesia procedures",
        "short": "Md supervision, >4 anes proc",
    }
    assert by["XS"]["long"] == (
        "Separate structure, a service that is distinct because it was performed on a separate organ/structure"
    )
    assert by["A1"] == {"long": "Dressing for one wound", "short": "Dressing for one wound"}


def test_codes_with_their_fields_in_words():
    import_files([CMS_TXT])
    assert dict(_code("E0110").descriptors) == {
        "long": "Crutches, forearm, includes crutches of various materials, adjustable or fixed, pair, complete with "
        "tips and handgrips",
        "short": "Crutch forearm pair",
    }
    assert _attrs("J0585") == [
        ("Sequence number", "00100", None),
        ("Pricing indicator", "51", "Other: drugs"),
        ("Multiple pricing indicator", "A", "Not applicable as HCPCS priced under one methodology"),
        ("MCM reference", "2049", None),
        ("Coverage", "D", "Special coverage instructions apply"),
        ("ASC payment group", "YY", "Approved to be performed in an ambulatory surgical center"),
        ("ASC payment group effective date", "2008-01-01", None),
        ("BETOS", "O1E", "Other drugs"),
        ("Type of service", "1", "Medical care"),
        ("Type of service", "P", "Lump sum purchase of DME, prosthetics, orthotics"),
        ("Anesthesia base units", "0", None),
        ("Code added date", "1991-01-01", None),
        ("Action effective date", "2010-01-01", None),
        ("Action code", "N", "No maintenance for this code"),
    ]
    assert ("Coverage", "I", "Not payable by Medicare") in _attrs("A0021")
    assert ("Cross reference", "A0030", None) in _attrs("A0021")


def test_show_and_modifier_answer_from_the_release(main):
    assert main("import", str(CMS_TXT))[0] == 0
    code, out, err = main("show", "E0105", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["code"] == "E0105" and doc["completeness"] == "official"
    assert doc["title"]["text"] == (
        "Cane, quad or three prong, includes canes of all materials, adjustable or fixed, with tips"
    )
    code, out, err = main("modifier", "A1", "--json")
    assert code == 0, err
    assert json.loads(out)["registry"]["name"] == "Dressing for one wound"


# (query, the codes that must come first, in order; codes that must not be among the first three)
SEARCHES = [
    # Tubing, caps and adapters "for breast pump" are parts; the pumps are named first in their own descriptors.
    ("breast pump", ["E0602", "E0603", "E0604"], ["A4281"]),
    # "Replacement, handgrip, cane, crutch, or walker" mentions crutches; "Crutches, forearm, ..." is one.
    ("crutches", ["E0110"], ["A4635", "A4636", "A4637"]),
    ("walking cane with tip", ["E0100"], []),
    # A descriptor's "without wheels" and "other than wood" say what the item is not.
    ("walker without wheels", ["E0148"], []),
    ("walker with wheels", [], ["E0148"]),
    ("wood crutches", ["E0112", "E0113"], []),
    # TENS is not "tension" (a scoliosis orthosis, an erection-device ring).
    ("TENS unit", ["E0720", "E0730"], ["L1005", "L7902"]),
    ("Botox", ["J0585"], []),
    ("Remicade", ["J1745"], []),
]


def test_search_over_the_release(main):
    assert main("import", str(CMS_TXT))[0] == 0
    for query, first, absent in SEARCHES:
        code, out, err = main("search", query, "--json", "--limit", "5")
        assert code == 0, (query, err)
        got = [h["code"] for h in json.loads(out)]
        assert got[: len(first)] == first, (query, got)
        assert not set(absent) & set(got[:3]), (query, got)
    code, out, _ = main("search", "knee brace", "--json", "--limit", "3")
    assert all(h["title"].startswith("Knee orthosis") for h in json.loads(out)), out


def test_a_curated_modifier_gains_the_files_wording_beside_its_name(main):
    assert main("import", str(CMS_TXT))[0] == 0
    code, out, _ = main("modifier", "Q6", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["registry"]["name"] == "Service furnished by a locum tenens physician"
    assert doc["registry"]["official"].startswith("Service furnished under a fee-for-time compensation arrangement")
    assert doc["registry"]["official_source"] == "HCPC2020_ANWEB_w_disclaimer.txt, 2020"
    assert doc["official_check"] == "different"
    code, out, _ = main("modifier", "Q6")
    assert "Official wording: Service furnished under a fee-for-time" in " ".join(out.split())
    assert "⚠ The registry's name is not the imported file's wording" in out
    # Spelt with a hyphen or without, the same wording; longer, still the same modifier.
    assert json.loads(main("modifier", "PN", "--json")[1])["official_check"] == "same"
    assert json.loads(main("modifier", "LT", "--json")[1])["official_check"] == "shorter"
    assert json.loads(main("modifier", "JZ", "--json")[1])["official_check"] is None  # not in the 2020 file
