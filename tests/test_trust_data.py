"""Issue 16, data half: the facts added to data/codes.json, read with json only, and the schema they follow."""

import json
import re
from pathlib import Path

import fastjsonschema
import jsonschema
import pytest

from cptcli.knowledge import load_schema

DATA = Path(__file__).resolve().parent.parent / "data" / "codes.json"
CPT_LEVEL_I = {
    "22",
    "23",
    "24",
    "25",
    "26",
    "33",
    "50",
    "51",
    "52",
    "53",
    "54",
    "55",
    "56",
    "57",
    "58",
    "59",
    "62",
    "27",
    "47",
    "63",
    "66",
    "73",
    "74",
    "76",
    "77",
    "78",
    "79",
    "80",
    "81",
    "82",
    "90",
    "91",
    "93",
    "95",
}
ANATOMIC = {
    "LT",
    "RT",
    "E1",
    "E2",
    "E3",
    "E4",
    "FA",
    *(f"F{i}" for i in range(1, 10)),
    "TA",
    *(f"T{i}" for i in range(1, 10)),
    "LC",
    "LD",
    "LM",
    "RC",
    "RI",
}
OTHER_HCPCS = {
    "XE",
    "XP",
    "XS",
    "XU",
    "GA",
    "GC",
    "GX",
    "GY",
    "GZ",
    "KX",
    "Q5",
    "Q6",
    "AA",
    "AD",
    "AS",
    "QK",
    "QX",
    "QY",
    "QZ",
    "QS",
    "GT",
    "JW",
    "JZ",
    "PO",
    "PN",
    "CR",
    "ET",
    "SG",
    "TC",
}


@pytest.fixture(scope="module")
def doc():
    return json.loads(DATA.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def schema():
    return load_schema()


def test_bundled_data_validates_with_jsonschema_and_fastjsonschema(doc, schema):
    jsonschema.Draft202012Validator.check_schema(schema)
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(doc)) == []
    fastjsonschema.compile(schema)(doc)


@pytest.mark.parametrize(
    "code,ok",
    [
        ("20700", True),
        ("99213", True),
        ("0001U", True),
        ("1234F", True),
        ("0784T", True),
        ("J1100", True),
        ("A4550", True),
        ("V2020", True),
        ("L3000", True),
        ("1234B", False),
        ("W1234", False),
        ("J110", False),
        ("J11000", False),
        ("20700\n", False),
        ("2070", False),
        ("j1100", False),
        ("", False),
        ("X1234", False),
        ("0001u", False),
    ],
)
def test_code_pattern_accepts_cpt_hcpcs_and_nothing_else(schema, code, ok):
    pattern = schema["$defs"]["code"]["properties"]["code"]["pattern"]
    assert bool(re.search(pattern, code)) is ok
    record = {
        "format_version": 1,
        "codes": [{"code": code, "completeness": "partial", "add_on": None, "title": {"text": "t", "sources": ["s"]}}],
    }
    for validate in (fastjsonschema.compile(schema), lambda d: jsonschema.Draft202012Validator(schema).validate(d)):
        if ok:
            validate(record)
        else:
            with pytest.raises((fastjsonschema.JsonSchemaException, jsonschema.ValidationError)):
                validate(record)


def _patterns(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "pattern":
                yield v
            else:
                yield from _patterns(v)
    elif isinstance(node, list):
        for v in node:
            yield from _patterns(v)


def test_every_pattern_is_anchored_with_backslash_z(schema):
    pats = list(_patterns(schema))
    assert len(pats) >= 10
    for p in pats:
        assert p.startswith("^") and p.endswith(r"\Z") and not p.endswith("$"), p


@pytest.mark.parametrize(
    "path,value",
    [
        (("modifiers", 0, "modifier"), "22\n"),
        (("taxonomy_codes", 0, "code"), "207L00000X\n"),
    ],
)
def test_a_trailing_newline_is_rejected(doc, schema, path, value):
    import copy

    bad = copy.deepcopy(doc)
    node = bad
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value
    with pytest.raises(fastjsonschema.JsonSchemaException):
        fastjsonschema.compile(schema)(bad)
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(bad))


def test_registry_holds_the_level_i_and_level_ii_modifiers_with_authorities(doc):
    reg = {m["modifier"]: m for m in doc["modifiers"]}
    assert len(reg) == len(doc["modifiers"]), "no duplicates"
    assert CPT_LEVEL_I <= set(reg) and ANATOMIC <= set(reg) and OTHER_HCPCS <= set(reg)
    for mod, m in reg.items():
        assert m["kind"] == ("CPT" if mod.isdigit() else "HCPCS"), mod
        assert m["name"].strip() and m["source"].strip() and m["summary"].strip(), mod
        if "url" in m:
            assert m["url"].startswith(("http://", "https://")), mod
    assert "11" not in reg
    assert reg["XS"]["name"] == "Separate structure" and reg["LT"]["name"] == "Left side"
    assert reg["GZ"]["name"] == "Item or service expected to be denied as not reasonable and necessary"
    assert reg["SG"]["name"] == "Ambulatory surgical center (asc) facility service"
    assert reg["51"]["not_with_add_on"] is True
    assert reg["50"]["conflicts_with"] == ["LT", "RT"]


def test_every_registry_entry_names_the_release_its_wording_comes_from(doc):
    reg = {m["modifier"]: m for m in doc["modifiers"]}
    assert all(m["release"].strip() for m in reg.values())
    assert {"AI", "NU", "RR"} <= set(reg) and len(reg) == 97
    assert reg["AI"]["name"] == "Principal physician of record" and "HCPC2020_ANWEB" in reg["AI"]["release"]
    assert reg["NU"]["name"] == "New equipment"
    assert reg["RR"]["name"] == "Rental (use the 'rr' modifier when dme is to be rented)"


@pytest.mark.parametrize(
    "mod,name",
    [
        (
            "25",
            "Significant, separately identifiable evaluation and management service by the same physician or other "
            "qualified health care professional on the same day of the procedure or other service",
        ),
        (
            "58",
            "Staged or related procedure or service by the same physician or other qualified health care professional "
            "during the postoperative period",
        ),
        ("77", "Repeat procedure by another physician or other qualified health care professional"),
        (
            "24",
            "Unrelated evaluation and management service by the same physician or other qualified health care "
            "professional during a postoperative period",
        ),
        ("PO", "Excepted service provided at an off-campus, outpatient, provider-based department of a hospital"),
    ],
)
def test_entries_that_carried_older_wording_carry_the_current_one(doc, mod, name):
    entry = {m["modifier"]: m for m in doc["modifiers"]}[mod]
    assert entry["name"] == name
    assert entry["release"].startswith(("CPT Appendix A, current wording", "CMS HCPCS Level II 2020 annual release"))


def test_25_belongs_on_e_m_services_with_its_authority(doc):
    scope = {m["modifier"]: m for m in doc["modifiers"]}["25"]["only_on"]
    assert scope["codes"] == ["99202-99499", "92002-92014", "G0101", "G0175"]
    assert scope["severity"] == "warning" and "NCCI Policy Manual" in scope["authority"]
    assert "Chapter I" in scope["authority"]


def test_combination_rules_each_name_an_authority(doc):
    combos = doc["modifier_combinations"]
    reg = {m["modifier"] for m in doc["modifiers"]}
    pairs = {frozenset(c["modifiers"]): c for c in combos}
    for x in ("XE", "XP", "XS", "XU"):
        assert pairs[frozenset({"59", x})]["severity"] == "error"
        assert pairs[frozenset({"59", x})]["rule"] == "59-with-x"
    assert pairs[frozenset({"LT", "RT"})]["severity"] == "warning"
    assert pairs[frozenset({"50", "LT"})]["severity"] == pairs[frozenset({"50", "RT"})]["severity"] == "error"
    for pair in ({"22", "52"}, {"22", "53"}, {"52", "53"}):
        assert pairs[frozenset(pair)]["severity"] == "warning"
    for pair, rule in (
        (("GA", "GZ"), "ga-with-gz"),
        (("JW", "JZ"), "jw-with-jz"),
        (("26", "TC"), "26-with-tc"),
        (
            ("78", "79"),
            "78-with-79",
        ),
        (("NU", "RR"), "nu-with-rr"),
    ):
        assert (pairs[frozenset(pair)]["severity"], pairs[frozenset(pair)]["rule"]) == ("error", rule)
    for c in combos:
        assert set(c["modifiers"]) <= reg, c
        assert c["authority"].strip() and c["message"].strip() and c["url"].startswith("http")
    # registry conflicts_with agrees with the combination table
    by = {m["modifier"]: m for m in doc["modifiers"]}
    for m in by.values():
        for other in m["conflicts_with"]:
            assert frozenset({m["modifier"], other}) in pairs, (m["modifier"], other)


def test_invalid_modifier_11(doc):
    inv = {i["modifier"]: i for i in doc["invalid_modifiers"]}
    assert set(inv) == {"11"} and inv["11"]["authority"] and inv["11"]["reason"]


def _contested_items(rec):
    for field, value in rec.items():
        if isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, dict) and "contested" in item:
                    yield field, i, item
        elif isinstance(value, dict) and "contested" in value:
            yield field, None, value


def test_every_contested_mark_names_a_conflict_note_in_its_own_record(doc):
    marks = 0
    for rec in doc["codes"]:
        conflicts = {n["subject"] for n in rec["notes"] if n["kind"] == "conflict"}
        for field, i, item in _contested_items(rec):
            marks += 1
            assert item["contested"]["code"] == rec["code"], (rec["code"], field, i)
            assert item["contested"]["subject"] in conflicts, (rec["code"], field, i)
    assert marks >= 20


def test_source_000_neurostimulator_rows_are_contested(doc):
    r = {c["code"]: c for c in doc["codes"]}["20700"]
    want = {"code": "20700", "subject": "descriptor"}
    for table in ("related", "diagnoses", "taxonomy"):
        assert r[table] and all(row.get("contested") == want for row in r[table]), table
    assert r["examples"][0]["contested"] == want
    assert "contested" not in r["summary"][0], "001's official reading stands"
    # A modifier row stands on 000's reading only where its own text says "pocket".
    for m in r["modifiers"]:
        says_pocket = "pocket" in f"{m.get('description')} {m.get('when_to_use')}".lower()
        assert (m.get("contested") == want) is says_pocket, m["modifier"]


def test_pump_stories_are_contested_and_corrected_with_their_authority(doc):
    by = {c["code"]: c for c in doc["codes"]}
    for code, subject in (("20701", "clinical_context"), ("20703", "device")):
        rec = by[code]
        note = [n for n in rec["notes"] if n["kind"] == "conflict" and n["subject"] == subject]
        assert len(note) == 1
        assert "62365" in note[0]["correction"] and "62365" in note[0]["authority"], code
        assert note[0]["url"].startswith("http")
        marked = [item for _, _, item in _contested_items(rec)]
        assert marked and all(m["contested"] == {"code": code, "subject": subject} for m in marked)
    assert all(e.get("contested") for e in by["20701"]["examples"])


@pytest.mark.parametrize(
    "code,words",
    [
        ("63650", "epidural"),
        ("63655", "plate/paddle"),
        ("64561", "sacral nerve"),
        ("64568", "cranial nerve (eg, vagus nerve)"),
        ("95970", "without programming (CPT 2019 revision)"),
    ],
)
def test_partial_records_carry_a_title_correction_and_keep_the_source_title(doc, code, words):
    rec = {c["code"]: c for c in doc["codes"]}[code]
    notes = [n for n in rec["notes"] if n["kind"] == "correction" and n["subject"] == "title"]
    assert len(notes) == 1
    n = notes[0]
    assert words in n["correction"] and n["authority"].strip() and n["url"].startswith("http")
    assert rec["title"]["sources"] == ["000_944fcdce29adbcd4.txt"], "the source's title is kept"
    assert words not in rec["title"]["text"]


def test_synonym_groups_that_stand_on_contested_readings_say_so(doc):
    notes = {
        (c["code"], n["subject"]) for c in doc["codes"] for n in c["notes"] if n["kind"] in ("conflict", "correction")
    }
    groups = {(g["terms"][0] if g["terms"][0] != "drug-delivery device" else g["terms"][1]): g for g in doc["synonyms"]}
    expect = {
        "pump": {("20701", "clinical_context"), ("20703", "device")},
        "baclofen": {("20701", "clinical_context")},
        "spasticity": {("20701", "clinical_context")},
        "generator pocket": {("20700", "descriptor")},
        "reprogramming": {("95970", "title")},
        "peripheral nerve stimulator": {("64561", "title"), ("64568", "title")},
    }
    for first, refs in expect.items():
        got = {(r["code"], r["subject"]) for r in groups[first]["contested"]}
        assert got == refs, first
    for g in doc["synonyms"]:
        for r in g.get("contested", []):
            assert (r["code"], r["subject"]) in notes, g["terms"][0]
            assert "contested" in g["reason"], g["terms"][0]
    assert "contested" not in groups["removal"] and "contested" not in groups["antibiotic cement device"]


def test_95970_gives_the_current_descriptor_sense_with_its_year(doc):
    """The pre-2019 "without reprogramming" wording is no longer printed as the official sense."""
    rec = {c["code"]: c for c in doc["codes"]}["95970"]
    [note] = [n for n in rec["notes"] if n["kind"] == "correction" and n["subject"] == "title"]
    assert "reprogramming" not in note["correction"]
    assert note["correction"].endswith("without programming (CPT 2019 revision)")
    assert note["authority"].startswith("CPT 2019 revision of 95970")
    assert "cpt-2019" in note["url"]
