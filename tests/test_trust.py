"""Answers a coder can trust: official rules win over a source's reading, three
verdicts, every real modifier, HCPCS codes valid, nearest means near."""

import json
import re

import pytest

from conftest import searcher_of
from cptcli.engine import Engine
from cptcli.engine.build import field_texts
from cptcli.knowledge import bundled_path
from cptcli.search.analysis import tokens


def check(main, *args):
    code, out, err = main("check", *args, "--json")
    return code, (json.loads(out) if out else None), err


def issue(doc, kind):
    return next(i for i in doc["issues"] if i["kind"] == kind)


# -- 1. a source's reading never passes silently ------------------------------------------
@pytest.mark.parametrize("primary", ["64568", "63650", "63655", "64561", "95970"])
def test_a_primary_that_pairs_only_through_the_pocket_reading_is_a_warning(main, primary):
    code, doc, _ = check(main, "20700", "--with", primary, "--dx", "G89.29")
    assert (code, doc["verdict"], doc["ok"]) == (4, "unverified", False)
    found = issue(doc, "primary-contested")
    assert found["severity"] == "warning" and found["subject"] == f"with/{primary}"
    assert "conflicts with the official descriptor" in found["message"] and "unbundling" in found["message"]
    dx = issue(doc, "dx-contested")
    assert dx["subject"] == "diagnoses/G89.29" and "neurostimulator" in dx["message"]


def test_a_primary_outside_the_knowledge_base_is_not_verified(main):
    code, doc, _ = check(main, "20700", "--with", "27447")
    assert (code, doc["verdict"]) == (4, "unverified") and doc["counts"]["error"] == 0


def test_the_table_says_not_verified(main):
    code, out, _ = main("check", "20700", "--with", "27447")
    assert code == 4 and out.rstrip().endswith(
        "Verdict: NOT VERIFIED (nothing could verify part of this line: see the rows above)"
    )


def test_the_pump_caution_names_the_code_that_covers_the_service_and_its_authority():
    hits = searcher_of([bundled_path()]).search("baclofen pump removal", min_score=0)
    top = hits[0]
    assert top.code == "20701" and top.score <= 60
    assert "62365" in top.caution and "official descriptor" in top.caution and "LCD" in top.caution


# -- 3. every real modifier known -------------------------------------------------------------
@pytest.mark.parametrize(
    "modifier,name",
    [
        ("25", "Significant, separately identifiable evaluation and management service by the same physician or other"),
        ("58", "Staged or related procedure or service by the same physician or other qualified health care"),
        ("AI", "Principal physician of record"),
        ("XS", "Separate structure"),
        ("GZ", None),
        ("KX", None),
        ("E1", None),
        ("FA", None),
        ("TA", None),
        ("GA", None),
    ],
)
def test_the_registry_holds_real_modifiers_with_authorities(main, modifier, name):
    code, out, _ = main("modifier", modifier, "--json")
    doc = json.loads(out)
    assert doc["in_registry"] is True and doc["registry"]["source"] and doc["registry"]["release"]
    if name:
        assert doc["registry"]["name"].startswith(name), doc["registry"]["name"]


def test_a_malformed_modifier_is_a_usage_error(main):
    code, out, err = main("check", "20700", "--modifier", "ZZ1")
    assert (code, out) == (
        2,
        "",
    ) and err == "cptcli: error: malformed modifier 'ZZ1': expected two characters such as 59 or LT\n"


@pytest.mark.parametrize(
    "mods,subject",
    [
        ("59,XE", "modifiers/59+XE"),
        ("XP,59", "modifiers/XP+59"),
        ("59,XU", "modifiers/59+XU"),
        ("LT,RT", "modifiers/LT+RT"),
        ("22,52", "modifiers/22+52"),
        ("50,LT", "modifiers/50+LT"),
        ("52,53", "modifiers/52+53"),
    ],
)
def test_combination_rules_fire_with_their_authority(main, mods, subject):
    _, doc, _ = check(main, "20700", "--with", "99999", "--modifier", mods)
    found = issue(doc, "modifier-conflict")
    assert found["subject"] == subject and found["authority"]


def test_51_on_an_add_on_stays_an_error(main):
    _, doc, _ = check(main, "20700", "--with", "99999", "--modifier", "51")
    assert issue(doc, "modifier-on-add-on")["severity"] == "error"


# -- 4. HCPCS Level II and CPT Category II/III/PLA codes are codes ------------------------------
@pytest.mark.parametrize("raw", ["J1100", "j1100", "E0114", "A4253", "0001F", "0042T", "0001U", "HCPCS J1100"])
def test_every_kind_of_code_is_well_formed_and_unknown_is_exit_1(main, raw):
    code, out, err = main("show", raw)
    assert (code, out) == (1, "")
    assert re.fullmatch(
        r"cptcli: error: code \w{5} is not in the knowledge base, which holds 11 codes "
        r"\(cptcli list shows them; cptcli import adds official code sets\)\n",
        err,
    ), err


@pytest.mark.parametrize("raw", ["W1234", "Z9999", "J110", "J11000", "0001X"])
def test_what_no_code_set_has_is_malformed(main, raw):
    code, out, err = main("show", raw)
    assert (code, out) == (2, "") and "malformed code" in err


# -- 5. nearest means near ----------------------------------------------------------------------
@pytest.mark.parametrize("code,nearest", [("20706", "20705, 20704, 20703"), ("6456A", None), ("64569", "64568, 64561")])
def test_nearest_codes_only_from_the_family(main, code, nearest):
    status, _, err = main("show", code)
    if code == "6456A":
        assert status == 2
        return
    assert status == 1 and err == f"cptcli: error: code {code} is not in the knowledge base; nearest: {nearest}\n"


# -- 7. diagnoses judged by the code set's structure -----------------------------------------------
def test_a_billable_child_of_a_paired_header_pairs_as_info(main):
    _, doc, _ = check(main, "20700", "--with", "99999", "--dx", "M54.50")
    found = issue(doc, "dx-under-paired-header")
    assert found["severity"] == "info" and "descends from M54.5" in found["message"]
    assert "dx-not-paired" not in {i["kind"] for i in doc["issues"]}


# -- 8. partial records say what is known --------------------------------------------------------------
@pytest.mark.parametrize(
    "code,official",
    [
        ("64561", "sacral nerve"),
        ("64568", "cranial nerve (eg, vagus nerve)"),
        ("95970", "without programming (CPT 2019 revision)"),
        ("63650", "epidural"),
        ("63655", "plate/paddle"),
    ],
)
def test_the_five_neurostimulator_titles_are_corrected_beside_the_source(main, code, official):
    _, out, _ = main("show", code, "--json")
    doc = json.loads(out)
    [note] = [n for n in doc["notes"] if n["subject"] == "title" and n["kind"] == "correction"]
    assert official in note["correction"] and note["authority"] and doc["title"]["text"] != note["correction"]
    _, table, _ = main("show", code, "--section", "facts")
    assert "Officially:" in table and doc["title"]["text"][:30] in " ".join(table.split())


def test_search_reads_the_official_titles(main):
    s = searcher_of([bundled_path()])
    assert s.search("vagus nerve stimulator")[0].code == "64568"
    assert s.search("sacral nerve stimulator electrode")[0].code == "64561"


# -- properties over the whole bundled knowledge base -------------------------------------------------
@pytest.fixture(scope="module")
def engine():
    return Engine.open([str(bundled_path())])


def test_no_line_pairing_only_on_a_contested_reading_or_on_nothing_passes(engine, main):
    """Every code with every other code as its primary, every diagnosis it lists and one it does not:
    where the pairing stands on a contested row or on no row at all, the verdict is never pass."""
    tried = 0
    for code in engine.codes():
        rec = engine.get(code)
        related = {r.code: r for r in rec.related}
        for primary in [c for c in engine.codes() if c != code] + ["99999"]:
            row = related.get(primary)
            if row is not None and not row.contested:
                continue
            status, doc, _ = check(main, code, "--with", primary)
            tried += 1
            assert doc["verdict"] != "pass" and status != 0, (code, primary, doc["issues"])
        for dx in [r for r in rec.diagnoses if r.contested]:
            status, doc, _ = check(main, code, "--with", "99999", "--dx", dx.code)
            tried += 1
            assert doc["verdict"] != "pass" and status != 0, (code, dx.code)
    assert tried >= 100


def test_no_hit_that_stands_only_on_contested_text_lacks_its_caution(engine):
    """For every contested text, the words it alone gives its record: a search for them that finds the
    record must say why it is not a confident answer."""
    searcher = searcher_of([bundled_path()])
    tried = 0
    for code in engine.codes():
        rec = engine.get(code)
        texts = list(field_texts(rec))
        plain = {w for name, text, contested in texts if not contested for w in tokens(text)}
        for _, text, contested in texts:
            if not contested:
                continue
            own = [w for w in dict.fromkeys(tokens(text)) if w not in plain and w.isalpha()][:4]
            if not own:
                continue
            tried += 1
            for hit in searcher.search(" ".join(own), limit=20, min_score=0):
                if hit.code == code:
                    assert hit.caution, (code, own, hit)
                    assert hit.score <= 60
    assert tried >= 15
