"""`cptcli check`: one claim line against the knowledge base, the modifier registry and ICD-10-CM."""

import json

import pytest

from cptcli.rules import compare_names, taxonomy_matches


@pytest.mark.parametrize(
    "stated,official,verdict",
    [
        ("Bilateral procedure", "Bilateral Procedure", "same"),
        ("Procedure performed on infants less than 4 kg", "Procedure performed on infants less than 4 kg", "same"),
        (
            "Unrelated procedure or service by the same physician during the postoperative period",
            "Unrelated procedure or service by the same physician or other qualified health care professional during "
            "the postoperative period",
            "shorter",
        ),
        (
            "Ambulatory surgery center facility service",
            "Physician assistant, nurse practitioner, or clinical nurse specialist services for assistant at surgery",
            "different",
        ),
        ("Radiculopathy, lumbosacral region", "Radiculopathy, lumbar region", "different"),
    ],
)
def test_compare_names(stated, official, verdict):
    assert compare_names(stated, official) == verdict


@pytest.mark.parametrize(
    "stated,nucc,match",
    [
        ("Pain Medicine Specialist", "Pain Medicine, Pain Medicine", True),
        ("Physical Medicine & Rehabilitation (PM&R)", "Physical Medicine & Rehabilitation", True),
        ("Pain Medicine Specialist", "Psychiatry & Neurology, Geriatric Psychiatry", False),
        ("Neurology", "Radiology, Diagnostic Radiology", False),
        ("Physical Medicine & Rehabilitation - Pain Management", "Internal Medicine, Hematology", False),
        ("Anesthesiology", "General Practice", False),
    ],
)
def test_taxonomy_matches(stated, nucc, match):
    assert taxonomy_matches(stated, nucc) is match


def check(main, *args):
    code, out, err = main("check", *args, "--json")
    return code, (json.loads(out) if out else None), err


def kinds(doc, severity=None):
    return {(i["kind"], i["subject"]) for i in doc["issues"] if severity is None or i["severity"] == severity}


def test_add_on_without_primary_is_an_error_with_the_documents_prose(main):
    code, doc, _ = check(main, "+20700")
    assert code == 1 and doc["schema_version"] == 1 and doc["ok"] is False
    issue = next(i for i in doc["issues"] if i["kind"] == "add-on-without-primary")
    assert issue["severity"] == "error"
    assert "debridement or arthrotomy" in issue["message"]
    assert "001_596d63048c814939.txt" in issue["sources"]


def test_add_on_without_primary_where_no_document_names_one(main):
    _, doc, _ = check(main, "20704")
    issue = next(i for i in doc["issues"] if i["kind"] == "add-on-without-primary")
    assert "name no primary procedure" in issue["message"]


def test_primary_that_is_itself_an_add_on(main):
    code, doc, _ = check(main, "20703", "--with", "+20702")
    assert code == 1 and ("primary-is-add-on", "with/20702") in kinds(doc, "error")
    assert ("add-on-without-primary", "add_on") not in kinds(doc)


def test_primary_outside_the_knowledge_base_is_not_verified(main):
    code, doc, _ = check(main, "20700", "--with", "99999")  # a code the knowledge base does not hold
    assert (code, doc["verdict"], doc["ok"]) == (4, "unverified", False) and kinds(doc, "error") == set()
    assert ("primary-not-in-knowledge-base", "with/99999") in kinds(doc, "info")


@pytest.mark.parametrize(
    "mods,subject,severity,authority",
    [
        (["--modifier", "50", "--modifier", "LT"], "modifiers/50+LT", "error", "e2e Medical Billing"),
        (["--modifier", "RT,50"], "modifiers/RT+50", "error", "e2e Medical Billing"),
        (["-m", "52", "-m", "53"], "modifiers/52+53", "warning", "AAP"),
        (["-m", "59", "-m", "XS"], "modifiers/59+XS", "error", "Moda Health"),
        (["-m", "LT,RT"], "modifiers/LT+RT", "warning", "American College of Surgeons"),
        (["-m", "22,52"], "modifiers/22+52", "warning", "Medical Economics"),
        (["-m", "GA,GZ"], "modifiers/GA+GZ", "error", "CMS claims processing instructions"),
        (["-m", "JZ", "-m", "JW"], "modifiers/JZ+JW", "error", "Noridian JF Part B"),
        (["-m", "26,TC"], "modifiers/26+TC", "error", "Priority Health"),
        (["-m", "78,79"], "modifiers/78+79", "error", "AAPC Orthopedic Coding Alert"),
        (["-m", "RR,NU"], "modifiers/RR+NU", "error", "Premera Blue Cross"),
    ],
)
def test_modifiers_not_reported_together_each_with_its_authority(main, mods, subject, severity, authority):
    code, doc, _ = check(main, "20700", "--with", "99999", *mods)
    [issue] = [i for i in doc["issues"] if i["kind"] == "modifier-conflict"]
    assert (issue["subject"], issue["severity"]) == (subject, severity)
    assert authority in issue["authority"]
    assert code == (1 if severity == "error" else 4)


def test_25_on_a_code_that_is_no_e_m_service_is_a_warning_citing_the_ncci_manual(main):
    code, doc, _ = check(main, "20700", "--with", "99999", "-m", "25")
    [issue] = [i for i in doc["issues"] if i["kind"] == "modifier-wrong-code"]
    assert (code, doc["verdict"], issue["severity"], issue["subject"]) == (4, "unverified", "warning", "modifiers/25")
    assert issue["message"].endswith(
        "belongs on evaluation and management (E/M) services (99202-99499, 92002-92014, G0101, G0175); "
        "+20700 is not one"
    )
    assert issue["authority"].startswith("NCCI Policy Manual for Medicare Services, Chapter I")
    _, doc, _ = check(main, "20700", "--with", "99999", "-m", "59")
    assert "modifier-wrong-code" not in {i["kind"] for i in doc["issues"]}


@pytest.mark.parametrize(
    "code,held",
    [("99213", True), ("99202", True), ("99499", True), ("99500", False), ("99201", False), ("92012", True)]
    + [("92015", False), ("20610", False), ("G0101", True), ("G0102", False), ("0001T", False), ("J1100", False)],
)
def test_the_e_m_scope_of_25(code, held):
    from cptcli.model import CodeScope

    scope = CodeScope(("99202-99499", "92002-92014", "G0101", "G0175"), "E/M services", "warning", "x")
    assert scope.holds(code) is held


def test_51_on_an_add_on_code(main):
    code, doc, _ = check(main, "20702-51", "--with", "99999")
    assert code == 1 and doc["modifiers"] == ["51"]
    assert ("modifier-on-add-on", "modifiers/51") in kinds(doc, "error")


def test_a_modifier_no_public_list_has_is_an_error_and_cites_the_curated_note(main):
    code, doc, _ = check(main, "20700", "--with", "99999", "--modifier", "11")
    issue = next(i for i in doc["issues"] if i["kind"] == "modifier-invalid")
    assert code == 1 and issue["severity"] == "error" and doc["verdict"] == "fail"
    assert "000 lists it for 20700" in issue["message"] and "Do not report it" in issue["message"]


def test_a_well_formed_modifier_the_registry_lacks_cannot_be_verified(main):
    code, doc, _ = check(main, "20700", "--with", "99999", "--modifier", "ZZ")
    issue = next(i for i in doc["issues"] if i["subject"] == "modifiers/ZZ")
    assert (code, doc["verdict"]) == (4, "unverified")
    assert (issue["kind"], issue["severity"]) == ("modifier-cannot-verify", "warning")
    assert "cannot be verified" in issue["message"]


def test_modifier_the_source_misdescribes_is_a_warning(main):
    code, doc, _ = check(main, "20700", "--with", "99999", "--modifier", "AS")
    assert code == 4
    assert ("modifier-misdescribed", "modifiers/AS") in kinds(doc, "warning")


def test_header_dx_is_an_error_listing_billable_codes(main):
    code, doc, _ = check(main, "20700", "--with", "99999", "--dx", "M54.5")
    issue = next(i for i in doc["issues"] if i["kind"] == "icd-header")
    assert code == 1 and "M54.50" in issue["message"] and "M54.59" in issue["message"]
    assert doc["authorities"]["icd10cm"].startswith("ICD-10-CM")


def test_unknown_dx_is_an_error(main):
    code, doc, _ = check(main, "20700", "--with", "99999", "--dx", "Z99.99")
    assert code == 1 and ("icd-unknown", "diagnoses/Z99.99") in kinds(doc, "error")


def test_unpaired_dx_is_a_warning_and_a_child_of_a_paired_header_is_info(main):
    code, doc, _ = check(main, "20700", "--with", "99999", "--dx", "M54.50,G20.A1")
    assert code == 4
    by_subject = {i["subject"]: i for i in doc["issues"]}
    assert by_subject["diagnoses/G20.A1"]["kind"] == "dx-not-paired"
    assert by_subject["diagnoses/G20.A1"]["severity"] == "warning"
    assert "does not pair G20.A1" in by_subject["diagnoses/G20.A1"]["message"]
    header = by_subject["diagnoses/M54.50"]
    assert header["kind"] in ("dx-under-paired-header", "dx-contested")
    assert "M54.5" in header["message"]


def test_a_line_every_part_of_which_a_source_or_an_imported_edit_verifies_passes(main, tmp_path, data_dir, cache):
    from payer_stores import every_kind

    every_kind("20710", "2025-10-01", "2026-09-30")
    fact = {"text": "Example", "sources": ["my-payer-policy.pdf"]}
    doc = {
        "format_version": 1,
        "sources": [{"file": "my-payer-policy.pdf", "title": "Example payer policy"}],
        "codes": [
            {
                "code": "20710",
                "completeness": "partial",
                "title": fact,
                "add_on": {"value": False, "sources": ["my-payer-policy.pdf"]},
                "modifiers": [
                    {
                        "modifier": "59",
                        "description": "Distinct procedural service",
                        "when_to_use": None,
                        "sources": ["my-payer-policy.pdf"],
                    }
                ],
                "diagnoses": [
                    {
                        "code": "M86.161",
                        "description": "Other acute osteomyelitis, right tibia and fibula",
                        "relevance": None,
                        "sources": ["my-payer-policy.pdf"],
                    }
                ],
            }
        ],
    }
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    args = ("--data", str(path), "check", "20710", "--modifier", "59", "--dx", "M86.161", "--json")
    code, out, err = main(*args, "--date", "2026-06-01")
    report = json.loads(out)
    assert (code, report["verdict"], report["ok"]) == (0, "pass", True), err
    assert report["counts"] == {"error": 0, "warning": 0, "info": 3}
    # A date the imported edits do not cover (nor the bundled ICD-10-CM fiscal year) is not verified.
    code, out, _ = main(*args, "--date", "2026-10-01")
    assert (code, json.loads(out)["verdict"]) == (4, "unverified")


def test_paired_dx_that_the_source_misdescribes_is_noted(main):
    code, doc, _ = check(main, "20700", "--with", "99999", "--dx", "M54.16")
    assert code == 4 and ("dx-source-description", "diagnoses/M54.16") in kinds(doc, "info")


@pytest.mark.parametrize(
    "args", [["2070"], ["20700", "--modifier", "5"], ["20700", "--dx", "12"], ["20700", "--with", "abc"]]
)
def test_malformed_input_exits_2(main, args):
    code, out, err = main("check", *args)
    assert code == 2 and out == "" and err.count("\n") == 1


def test_unknown_code_exits_1_naming_its_family(main):
    code, out, err = main("check", "20706")
    assert (
        code == 1
        and out == ""
        and err == "cptcli: error: code 20706 is not in the knowledge base; nearest: 20705, 20704, 20703\n"
    )


def test_check_table(cli):
    r = cli("check", "20700", "--modifier", "50,LT", "--dx", "M54.5")
    assert r.exit_code == 1
    for text in ("Check +20700-50-LT; dx M54.5", "ERROR", "modifiers/50+LT", "Checked against", "errors"):
        assert text in r.stdout, text


def test_help_has_examples(main):
    for command in ("check", "audit", "icd", "modifier"):
        code, out, _ = main(command, "--help")
        assert code == 0 and "Examples:" in out and f"cptcli {command}" in out and "Exit status" in out
