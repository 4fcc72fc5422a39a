"""`cptcli validate` and `cptcli schema`: every message names file, record and field."""

import json
from pathlib import Path

import pytest

from cptcli import knowledge

EXAMPLE = Path(__file__).parent / "fixtures" / "example_user_kb.json"


def _write(tmp_path, text, name="user.json"):
    path = tmp_path / name
    path.write_text(text if isinstance(text, str) else json.dumps(text), encoding="utf-8")
    return path


def test_example_is_valid(main):
    assert main("validate", str(EXAMPLE)) == (0, f"{EXAMPLE}: valid\n", "")
    assert main("--no-bundled", "validate", str(EXAMPLE))[0] == 0


def test_invalid_json_exits_3_with_line_and_column(main, tmp_path):
    path = _write(tmp_path, '{"format_version": 1,\n "codes": [}')
    code, out, err = main("validate", str(path))
    assert (code, out) == (3, "") and err == f"cptcli: error: {path}:2:12: invalid JSON: Expecting value\n"


def test_missing_file_exits_3(main, tmp_path):
    code, _, err = main("validate", str(tmp_path / "nope.json"))
    assert code == 3 and "knowledge base file not found" in err


def test_schema_findings_all_reported_exit_1(main, tmp_path):
    path = _write(
        tmp_path,
        {
            "format_version": 1,
            "codes": [{"code": "2070", "completeness": "done", "add_on": None, "title": {"text": "x", "sources": []}}],
        },
    )
    code, out, err = main("validate", str(path))
    assert code == 1 and err == f"cptcli: 3 findings in {path}\n"
    assert out.splitlines() == [
        f"{path}: record 2070, field code: '2070' does not match '^(?:[0-9]{{4}}[0-9FTU]|[A-V][0-9]{{4}})\\\\Z'",
        f"{path}: record 2070, field completeness: 'done' is not one of ['full', 'partial']",
        f"{path}: record 2070, field title.sources: [] should be non-empty",
    ]


def test_reference_override_and_audit_findings(main, tmp_path):
    doc = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    rec = doc["codes"][0]
    rec["completeness"] = "partial"
    rec["related"] = [{"code": "99999", "sources": ["my-payer-policy.pdf"]}]
    rec["diagnoses"] = [{"code": "Z99.999", "description": "Made up", "sources": ["my-payer-policy.pdf"]}]
    path = _write(tmp_path, doc)
    code, out, _ = main("validate", str(path))
    lines = out.splitlines()
    assert code == 1
    assert f"{path}: record 20700, field related: names unknown code 99999" in lines
    assert any(
        line.startswith(f"{path}: record 20700, field completeness: gives completeness 'partial'; the value from ")
        and line.endswith("('full') is kept. Give the same value, or record the disagreement as a note.")
        for line in lines
    )
    assert f"{path}: record 20700, field diagnoses/Z99.999: Z99.999 is not an ICD-10-CM code" in lines


def test_duplicate_code_in_the_file_is_a_finding(main, tmp_path):
    doc = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    doc["codes"].append(doc["codes"][0])
    path = _write(tmp_path, doc)
    assert main("validate", str(path))[:2] == (1, f"{path}: record 20700, field code: duplicate code (record #2)\n")


def test_schema_command_prints_the_schema(main):
    code, out, _ = main("schema")
    assert code == 0 and json.loads(out) == knowledge.load_schema()


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d["codes"][3].__setitem__("completeness", "sort of"),
        lambda d: d["codes"][5]["title"].__setitem__("sources", "000"),
        lambda d: d["codes"][0]["modifiers"][2].__setitem__("modifier", "5"),
        lambda d: d.__setitem__("synonyms", "none"),
    ],
)
def test_an_invalid_record_is_worded_as_jsonschema_words_the_whole_document(bundled_doc, damage):
    """The record fastjsonschema names is worded alone (fast on a 100,000-code file), as jsonschema
    would word the whole document."""
    import copy

    import jsonschema

    from cptcli.errors import DataError

    doc = copy.deepcopy(bundled_doc)
    damage(doc)
    error = next(jsonschema.Draft202012Validator(knowledge.load_schema()).iter_errors(doc))
    with pytest.raises(DataError) as got:
        knowledge.validate_document(doc, "kb.json")
    assert got.value.message == f"kb.json: {knowledge._where(doc, error.absolute_path)}: {error.message}"


def test_validate_and_audit_judge_against_the_same_imported_taxonomy(main, tmp_path, data_dir, cache):
    # A row naming a code of the imported NUCC release (fabricated fixture) as something else:
    # validate sees the import as `--data FILE audit` does, both through the one index build.
    nucc = Path(__file__).parent / "fixtures" / "imports" / "nucc" / "nucc_taxonomy_251.csv"
    assert main("import", str(nucc))[0] == 0
    path = _write(
        tmp_path,
        {
            "format_version": 1,
            "sources": [{"file": "mine.pdf", "title": "Mine", "publisher": "Me"}],
            "codes": [
                {
                    "code": "20799",
                    "completeness": "partial",
                    "add_on": None,
                    "title": {"text": "A fabricated record", "sources": ["mine.pdf"]},
                    "taxonomy": [{"code": "999A00001X", "specialty": "Cardiology", "sources": ["mine.pdf"]}],
                }
            ],
        },
    )
    code, out, err = main("--data", str(path), "audit", "--json")
    mismatch = [f for f in json.loads(out)["findings"] if f["kind"] == "taxonomy-mismatch"]
    assert code == 1 and [f["subject"] for f in mismatch] == ["taxonomy/999A00001X"]
    code, out, err = main("validate", str(path))
    assert code == 1 and out == (
        f"{path}: record 20799, field taxonomy/999A00001X: NUCC names 999A00001X "
        "'Fabricated Classification, Fabricated Specialization', not 'Cardiology' as the row says\n"
    )
