"""`cptcli audit`: every finding about the bundled data, each already curated as a data note."""

import copy
import json

import pytest

ROW_KINDS = {
    "modifier-unknown",
    "modifier-name",
    "icd-header",
    "icd-unknown",
    "icd-description",
    "taxonomy-mismatch",
    "taxonomy-unverified",
}


@pytest.fixture(scope="module")
def bundled_audit():
    import contextlib
    import io

    from cptcli.cli import run

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = run(["audit", "--json"])
    return status, json.loads(out.getvalue())


def _find(doc, kind, subject, code="20700"):
    hits = [f for f in doc["findings"] if f["kind"] == kind and f["subject"] == subject and f["code"] == code]
    assert len(hits) == 1, (kind, subject, hits)
    return hits[0]


def test_audit_exits_1_on_errors_with_schema_version(bundled_audit):
    status, doc = bundled_audit
    assert status == 1
    assert doc["schema_version"] == 1
    assert doc["counts"]["error"] >= 1
    assert set(doc["authorities"]) == {"icd10cm", "modifiers", "taxonomy"}


def test_audit_finds_a_real_finding_of_each_kind_in_the_bundled_data(bundled_audit):
    _, doc = bundled_audit
    kinds = {f["kind"] for f in doc["findings"]}
    # icd-unknown and taxonomy-unverified do not occur in the bundled data; see the layered file below.
    assert kinds >= {
        "modifier-unknown",
        "modifier-name",
        "icd-header",
        "icd-description",
        "taxonomy-mismatch",
        "conflict",
        "truncation",
    }


def test_audit_findings_carry_their_facts(bundled_audit):
    _, doc = bundled_audit
    as_ = _find(doc, "modifier-name", "modifiers/AS")
    assert as_["severity"] == "error" and as_["stated"] == "Ambulatory surgery center facility service"
    assert as_["official"].startswith("Physician assistant") and "HCPCS" in as_["authority"]
    assert as_["sources"] == ["000_944fcdce29adbcd4.txt"] and as_["file"].endswith("codes.json")
    # Obviously equal names are not findings; a name that leaves words out is a warning.
    subjects = {f["subject"] for f in doc["findings"] if f["kind"] == "modifier-name"}
    assert "modifiers/50" not in subjects and "modifiers/63" not in subjects
    assert _find(doc, "modifier-name", "modifiers/78")["severity"] == "warning"
    assert _find(doc, "modifier-unknown", "modifiers/11", "20703")["severity"] == "error"
    m5416 = _find(doc, "icd-description", "diagnoses/M54.16")
    assert (m5416["severity"], m5416["official"]) == ("error", "Radiculopathy, lumbar region")
    header = _find(doc, "icd-header", "diagnoses/M54.5")
    assert header["official"] == "M54.50, M54.51, M54.59" and header["authority"].startswith("ICD-10-CM")
    tax = _find(doc, "taxonomy-mismatch", "taxonomy/2085R0202X")
    assert tax["stated"] == "Neurology" and tax["official"] == "Radiology, Diagnostic Radiology"
    assert _find(doc, "truncation", "modifiers", "20702")["severity"] == "warning"
    for f in doc["findings"]:
        assert f["severity"] in ("error", "warning", "info") and f["message"] and f["sources"]
        if f["kind"] in ROW_KINDS:
            assert f["authority"], f


def test_every_computed_finding_is_a_curated_note(bundled_audit, bundled_doc):
    """`show` must stay fast and never open ICD-10-CM, so what audit computes
    has to be in the data already, as a note `show` prints under Data notes."""
    _, doc = bundled_audit
    notes = {(r["code"], n["subject"]) for r in bundled_doc["codes"] for n in r.get("notes", ())}
    missing = [
        (f["code"], f["subject"], f["message"])
        for f in doc["findings"]
        if f["kind"] in ROW_KINDS and (f["code"], f["subject"]) not in notes
    ]
    assert missing == []
    assert all(f["noted"] for f in doc["findings"])


def test_show_prints_the_curated_notes_without_the_icd_package(cli):
    out = cli("show", "20700").stdout
    assert "Data notes" in out and "modifiers/78" in out and "primary_procedure" in out


def test_audit_table(cli):
    r = cli("audit")
    assert r.exit_code == 1
    for text in (
        "Audit of the knowledge base",
        "modifiers/AS",
        "diagnoses/M54.5",
        "taxonomy/208D00000X",
        "Checked against",
        "errors",
    ):
        assert text in r.stdout, text


def _write(tmp_path, doc):
    path = tmp_path / "extra.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return str(path)


def test_unknown_icd_and_unverified_taxonomy_in_a_user_file(cli, bundled_doc, tmp_path):
    doc = copy.deepcopy(bundled_doc)
    rec = next(r for r in doc["codes"] if r["code"] == "20700")
    src = rec["diagnoses"][0]["sources"]
    # Test-only rows: Z99.99 is not an ICD-10-CM code; 207Q00000X is not in the verified list.
    rec["diagnoses"] = [{"code": "Z99.99", "description": "Made-up", "relevance": None, "sources": src}]
    rec["taxonomy"] = [{"code": "207Q00000X", "specialty": "Family Medicine", "notes": None, "sources": src}]
    rec["modifiers"] = []
    doc["codes"] = [rec] + [r for r in doc["codes"] if r["code"] in ("63650", "63655", "64561", "64568", "95970")]
    r = cli("--no-bundled", "--data", _write(tmp_path, doc), "audit", "--json")
    found = {(f["kind"], f["severity"]) for f in json.loads(r.stdout)["findings"]}
    assert ("icd-unknown", "error") in found and ("taxonomy-unverified", "info") in found
    assert r.exit_code == 1


def test_clean_data_exits_0(cli, bundled_doc, tmp_path):
    doc = copy.deepcopy(bundled_doc)
    doc["codes"] = [r for r in doc["codes"] if r["code"] == "63650"]
    r = cli("--no-bundled", "--data", _write(tmp_path, doc), "audit")
    assert r.exit_code == 0, r.stdout
    assert "No findings" in r.stdout
