"""The core commands through Typer's runner and the real entry point: exit codes, JSON shapes, rendered rows."""

import json

import pytest

from cptcli import __version__


def test_version(main):
    assert main("--version") == (0, f"cptcli {__version__}\n", "")


@pytest.mark.parametrize("arg", ["20700", "+20700", " 20700 ", "CPT 20700", "20700-50", "２０７００", "20700."])
def test_show_accepts_what_coders_paste(cli, arg):
    r = cli("show", arg, "--json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["code"] == "20700"


def test_show_json_is_one_object_with_every_section(cli):
    r = cli("show", "20700", "--json")
    doc = json.loads(r.stdout)
    assert doc["schema_version"] == 1
    assert doc["display_code"] == "+20700"
    assert doc["descriptor"]["official"] is True
    assert [m["modifier"] for m in doc["modifiers"]] == [
        "11",
        "22",
        "23",
        "50",
        "52",
        "53",
        "59",
        "62",
        "63",
        "78",
        "79",
        "AS",
        "LT",
    ]
    assert [t["code"] for t in doc["taxonomy"]] == [
        "2084P0805X",
        "207L00000X",
        "207RH0000X",
        "2085R0202X",
        "208D00000X",
    ]
    assert [d["code"] for d in doc["diagnoses"]] == ["G89.21", "G89.29", "M54.5", "M54.16", "G25.3"]
    assert [(r["code"], r["in_knowledge_base"]) for r in doc["related"]] == [
        ("63650", "partial"),
        ("63655", "partial"),
        ("64561", "partial"),
        ("64568", "partial"),
        ("95970", "partial"),
    ]
    assert {n["subject"] for n in doc["notes"]} >= {"descriptor", "modifiers/AS", "diagnoses/M54.5"}


def test_show_several_codes_json_is_an_array(cli):
    r = cli("show", "20700", "20703", "--json")
    assert [d["code"] for d in json.loads(r.stdout)] == ["20700", "20703"]


def test_show_table_has_every_section_and_row(cli):
    out = cli("show", "20700").stdout
    for heading in (
        "CPT +20700",
        "Official descriptor:",
        "© Copyright 2026 American Medical Association",
        "Modifiers",
        "Provider taxonomy",
        "ICD-10-CM diagnoses",
        "Related codes",
        "Not stated by the sources: documentation requirements.",
        "Data notes",
        "Sources",
    ):
        assert heading in out, heading
    rows = [line.split() for line in out.splitlines()]
    firsts = [r[0] for r in rows if r]
    for key in ("11", "22", "AS", "LT", "2084P0805X", "G89.21", "M54.16", "63650", "95970"):
        assert key in firsts, key


def test_show_partial_record_answers(cli):
    r = cli("show", "63650", "--json")
    doc = json.loads(r.stdout)
    assert r.exit_code == 0 and doc["completeness"] == "partial" and doc["named_by"] == ["20700"]


def test_show_unknown_code_suggests_nearest_and_exits_1(cli):
    r = cli("show", "20706")
    assert r.exit_code == 1 and r.stdout == ""
    assert r.stderr == "cptcli: error: code 20706 is not in the knowledge base; nearest: 20705, 20704, 20703\n"


def test_show_mixed_known_and_unknown_prints_known_and_exits_1(cli):
    r = cli("show", "20700", "99999", "--json")
    assert r.exit_code == 1
    assert [d["code"] for d in json.loads(r.stdout)] == ["20700"]
    assert "99999 is not in the knowledge base" in r.stderr


@pytest.mark.parametrize("arg", ["abc", "2070", "", "   ", "207000"])
def test_show_malformed_code_exits_2(cli, arg):
    r = cli("show", arg)
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.startswith("cptcli: error: ") and r.stderr.count("\n") == 1


def test_search_puts_20701_first_for_baclofen_pump_removal(cli):
    r = cli("search", "baclofen pump removal", "--json")
    hits = json.loads(r.stdout)
    assert hits[0]["code"] == "20701"
    assert set(hits[0]) >= {"code", "title", "score", "matched_field", "snippet"}
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)


def test_search_table(cli):
    out = cli("search", "baclofen pump removal").stdout
    first_row = next(line for line in out.splitlines() if line.strip().startswith("+"))
    assert first_row.split()[0] == "+20701"


def test_search_limit(cli):
    assert len(json.loads(cli("search", "drug delivery device", "--limit", "2", "--json").stdout)) == 2


def test_search_no_result_exits_1(cli):
    r = cli("search", "xylophone")
    assert r.exit_code == 1 and r.stdout == ""
    assert r.stderr == "cptcli: error: no code matches 'xylophone' with a score of at least 40\n"


def test_list(cli):
    r = cli("list", "--json")
    rows = json.loads(r.stdout)
    assert [x["code"] for x in rows][:4] == ["20700", "20701", "20702", "20703"]
    assert {x["code"]: x["completeness"] for x in rows}["20704"] == "partial"
    assert rows[0] == {
        "schema_version": 1,
        "code": "20700",
        "display_code": "+20700",
        "title": "Manual preparation and insertion of drug-delivery device(s), deep",
        "add_on": True,
        "completeness": "full",
    }
    table = cli("list").stdout
    assert "63650" in table and "partial" in table


def test_usage_errors_are_one_line_exit_2(main):
    code, out, err = main("show", "20700", "--jsn")
    assert (code, out) == (2, "")
    assert err == "cptcli: error: No such option: --jsn (Possible options: --json) (see 'cptcli show --help')\n"


def test_no_command_prints_help_exit_2(main):
    code, out, err = main()
    assert code == 2 and "Usage: cptcli" in err and out == ""


@pytest.mark.parametrize("command", ["show", "search", "list"])
def test_help_has_examples_and_exit_codes(main, command):
    code, out, _ = main(command, "--help")
    assert code == 0 and "Examples:" in out and "3  knowledge base missing or invalid" in out


def test_real_subprocess_show_json(tmp_path):
    from conftest import subprocess_cli

    p = subprocess_cli("show", "20701", "--json")
    assert p.returncode == 0 and p.stderr == b""
    assert json.loads(p.stdout)["title"]["text"] == "Removal of drug-delivery device(s), deep"


def test_real_subprocess_missing_data_exits_3(tmp_path):
    from conftest import subprocess_cli

    p = subprocess_cli("--no-bundled", "--data", str(tmp_path / "nope.json"), "show", "20700")
    assert p.returncode == 3 and p.stdout == b""
    assert p.stderr.decode() == f"cptcli: error: {tmp_path / 'nope.json'}: knowledge base file not found\n"


def test_source_labels_shorten_only_seed_file_names():
    from cptcli.model import source_label

    assert source_label("000_944fcdce29adbcd4.txt") == "000"
    # A user's file keeps its name: cutting at the first underscore would say "my".
    assert source_label("my_payer_policy.pdf") == "my_payer_policy.pdf"
    assert source_label("my-payer-policy.pdf") == "my-payer-policy.pdf"
