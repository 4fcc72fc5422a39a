"""User knowledge bases layered over the bundled one: they add, they never silently replace."""

import json
import os
from pathlib import Path

import pytest

from cptcli import knowledge
from cptcli.datafiles import data_files
from cptcli.engine import Engine
from cptcli.errors import DataError

EXAMPLE = Path(__file__).parent / "fixtures" / "example_user_kb.json"
BUNDLED_TITLE = "Manual preparation and insertion of drug-delivery device(s), deep"


def _write(tmp_path, doc, name="user.json"):
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _example():
    return json.loads(EXAMPLE.read_text(encoding="utf-8"))


def test_example_adds_rows_and_notes_with_their_sources(cli):
    plain = json.loads(cli("show", "20700", "--json").stdout)
    doc = json.loads(cli("--data", str(EXAMPLE), "show", "20700", "--json").stdout)
    assert doc["payers"][: len(plain["payers"])] == plain["payers"]
    assert doc["payers"][-1] == {
        "text": "Example Health Plan (fictional)",
        "sources": ["my-payer-policy.pdf"],
        "quote": None,
        "copyright": None,
        "contested": None,
    }
    assert doc["documentation"][-1]["sources"] == ["my-payer-policy.pdf"]
    assert doc["notes"][-1]["sources"] == ["my-payer-policy.pdf"]
    assert doc["contributors"] == [plain["origin"], str(EXAMPLE)]
    assert not any(n["kind"] == "override" for n in doc["notes"])
    for key in ("title", "descriptor", "add_on", "completeness", "modifiers", "diagnoses"):
        assert doc[key] == plain[key], key


def test_cptcli_data_environment_variable_layers_too(cli, monkeypatch):
    monkeypatch.setenv("CPTCLI_DATA", os.pathsep.join([str(EXAMPLE), ""]))
    assert json.loads(cli("show", "20700", "--json").stdout)["payers"][-1]["sources"] == ["my-payer-policy.pdf"]


def test_table_shows_user_rows_and_contributing_files(cli):
    out = cli("--data", str(EXAMPLE), "show", "20700").stdout
    assert "Example Health Plan (fictional)" in out and "my-payer-policy.pdf" in out
    assert "Knowledge-base files:" in " ".join(out.split()) and "example_user_kb.json" in out.replace("\n", "")


def test_same_file_twice_does_not_double_rows():
    kb = Engine.open(data_files([str(EXAMPLE), str(EXAMPLE)]))
    assert [p.text for p in kb.get("20700").payers].count("Example Health Plan (fictional)") == 1


def test_differing_scalar_facts_keep_the_bundled_value_and_note_the_override(tmp_path, cli):
    doc = _example()
    rec = doc["codes"][0]
    rec["title"] = {"text": "My own title", "sources": ["my-payer-policy.pdf"]}
    rec["add_on"] = {"value": False, "sources": ["my-payer-policy.pdf"]}
    path = _write(tmp_path, doc)
    out = json.loads(cli("--data", str(path), "show", "20700", "--json").stdout)
    assert out["title"]["text"] == BUNDLED_TITLE and out["add_on"]["value"] is True
    overrides = {n["subject"]: n for n in out["notes"] if n["kind"] == "override"}
    assert set(overrides) == {"title", "add_on"}
    assert overrides["title"]["text"].startswith(f"{path} gives title 'My own title'; the value from ")
    assert overrides["title"]["text"].endswith(f"('{BUNDLED_TITLE}') is kept.")
    assert overrides["title"]["sources"] == ["my-payer-policy.pdf"]
    table = " ".join(cli("--data", str(path), "show", "20700", "--section", "notes").stdout.split())
    assert "override" in table and "My own title" in table


def test_a_gap_in_the_bundled_record_is_filled_with_the_users_sources(tmp_path, bundled_doc):
    base = next(r for r in bundled_doc["codes"] if r["code"] == "63650")
    assert base["add_on"] is None
    rec = {k: base[k] for k in ("code", "completeness", "title")}
    rec["add_on"] = {"value": False, "sources": ["my-payer-policy.pdf"]}
    doc = {"format_version": 1, "sources": _example()["sources"], "codes": [rec]}
    kb = Engine.open(data_files([str(_write(tmp_path, doc))]))
    assert kb.get("63650").add_on.value is False and kb.get("63650").add_on.sources == ("my-payer-policy.pdf",)
    assert not [n for n in kb.get("63650").notes if n.kind == "override"]


def test_user_files_add_codes_and_no_bundled_uses_only_them(tmp_path, bundled_doc, cli):
    # A real bundled record, moved into a second user file: no invented codes.
    rec = dict(next(r for r in bundled_doc["codes"] if r["code"] == "20701"), related=[], cross_references=[])
    second = _write(tmp_path, {"format_version": 1, "sources": bundled_doc["sources"], "codes": [rec]}, "b.json")
    r = cli("--no-bundled", "--data", str(EXAMPLE), "--data", str(second), "list", "--json")
    assert r.exit_code == 0, r.stderr
    assert [x["code"] for x in json.loads(r.stdout)] == ["20700", "20701"]
    shown = json.loads(
        cli("--no-bundled", "--data", str(EXAMPLE), "--data", str(second), "show", "20701", "--json").stdout
    )
    assert shown["origin"] == str(second) and shown["contributors"] == [str(second)]


def test_errors_name_file_record_and_field(tmp_path):
    doc = _example()
    doc["codes"][0]["related"] = [{"code": "99999", "sources": ["my-payer-policy.pdf"]}]
    path = _write(tmp_path, doc)
    with pytest.raises(DataError) as exc:
        knowledge.load(data_files([str(path)]))
    assert exc.value.message == f"{path}: record 20700, field related: names unknown code 99999"


def test_unlisted_source_in_a_user_row_is_an_error(tmp_path):
    doc = _example()
    doc["codes"][0]["payers"][0]["sources"] = ["not-listed.pdf"]
    path = _write(tmp_path, doc)
    with pytest.raises(DataError) as exc:
        knowledge.load(data_files([str(path)]))
    assert exc.value.message == (
        f"{path}: record 20700: cites source 'not-listed.pdf', which is not in the sources list"
    )


def test_user_file_cannot_replace_a_bundled_source_title(tmp_path):
    doc = _example()
    doc["sources"][1]["title"] = "Something else"
    kb = Engine.open(data_files([str(_write(tmp_path, doc))]))
    assert kb.sources["001_596d63048c814939.txt"].title == "CPT® Code 20700 (Coding Ahead)"
