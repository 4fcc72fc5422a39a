"""`check --claims`: claim files in batch (CSV, TSV, JSON Lines), each line judged as `check` judges one, the lines
of a claim on one date judged together, malformed rows reported and skipped, a summary and the exit status."""

import json
from pathlib import Path

import pytest

from payer_stores import put

SAMPLE = Path(__file__).resolve().parent.parent / "docs" / "examples" / "claims.csv"


@pytest.fixture(autouse=True)
def _own_sets(data_dir, cache):
    """Every test imports its own sets into a data directory of its own."""


def claims(main, tmp_path, text, *args, name="claims.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    code, out, err = main("check", "--claims", str(path), *args)
    return code, out, err


def test_the_sample_file_reports_each_malformed_row_and_checks_the_rest(main):
    code, out, err = main("check", "--claims", str(SAMPLE), "--json")
    doc = json.loads(out)
    assert code == 1 and doc["verdict"] == "fail"
    assert doc["summary"] == {"claims": 2, "lines": 3, "passing": 0, "failing": 2, "not_verified": 1, "malformed": 2}
    assert [(m["row"], m["claim"], m["line"]) for m in doc["malformed"]] == [(5, "A300", "1"), (6, "A300", "2")]
    assert doc["malformed"][0]["reason"].startswith("malformed code '2070'")
    assert doc["malformed"][1]["reason"] == "malformed date '2026-06-31': expected a date of service such as 2026-11-02"
    assert err.splitlines()[0].startswith("cptcli: warning: row 5: malformed code '2070'")
    # Every finding joins back to its row.
    assert {(f["claim"], f["line"], f["row"]) for f in doc["findings"]} == {
        ("A100", "1", 2),
        ("A100", "2", 3),
        ("A200", "1", 4),
    }


def test_a_claims_other_lines_on_the_date_count_as_with_for_the_pair_edits(main, tmp_path):
    put("ncci-ptp", [("20702", "20703", 0, "2009-01-01", None, 1, "Misuse of column two code", 0)], "practitioner")
    text = "Claim ID,Line,CPT/HCPCS,Mod,DOS\nX1,1,20702,,11/02/2026\nX1,2,20703,,11/02/2026\nX2,1,20703,,11/02/2026\n"
    code, out, _ = claims(main, tmp_path, text, "--format", "csv")
    rows = [line.split(",") for line in out.splitlines()]
    assert rows[0] == ["claim", "line", "row", "code", "verdict", "severity", "kind", "subject", "message", "authority"]
    ptp = [(r[0], r[1], r[4], r[6]) for r in rows[1:] if r[6].startswith("ptp")]
    assert ptp == [("X1", "1", "fail", "ptp-edit"), ("X1", "2", "fail", "ptp-edit")]
    assert code == 1
    # The modifier on the column-2 line bypasses the indicator-1 edit.
    text2 = text.replace("X1,2,20703,,", "X1,2,20703,XS,")
    _, out2, _ = claims(main, tmp_path, text2, "--format", "jsonl")
    kinds = [json.loads(line).get("kind") for line in out2.splitlines()]
    assert "ptp-bypassed" in kinds and "ptp-edit" not in kinds
    assert json.loads(out2.splitlines()[-1])["summary"]["claims"] == 2


@pytest.mark.parametrize("mai,fails", [(1, False), (3, True)])
def test_date_of_service_mue_edits_sum_a_codes_units_over_the_claims_lines(main, tmp_path, mai, fails):
    put("ncci-mue", [("20705", 2, mai, "Clinical")], "practitioner")
    text = "claim\tline\tcode\tmodifiers\tunits\tdate\nC\t1\t20705\tRT\t1\t2026-11-02\nC\t2\t20705\tLT\t2\t2026-11-02\n"
    _, out, _ = claims(main, tmp_path, text, "--json", name="claims.tsv")
    exceeded = [f for f in json.loads(out)["findings"] if f["kind"] == "mue-exceeded"]
    assert bool(exceeded) is fails
    if fails:
        assert "3 units of 20705 on the date of service exceed its MUE of 2; MAI 3" in exceeded[0]["message"]


def test_json_lines_input_and_standard_input(main, monkeypatch, tmp_path):
    import io
    import sys

    text = '{"claim": "J1", "line": 1, "code": "20705", "dx": ["M86.161"], "date": "2026-06-01"}\n[1]\n'
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    code, out, err = main("check", "--claims", "-", "--json")
    doc = json.loads(out)
    assert doc["summary"]["lines"] == 1 and doc["malformed"] == [
        {"row": 2, "claim": "", "line": "", "reason": "not a JSON object"}
    ]


@pytest.mark.parametrize(
    "text,why",
    [
        ("code,units\n20705,0\n", "units '0' is not a whole number of 1 or more"),
        ("code,units\n20705,two\n", "units 'two' is not a whole number of 1 or more"),
        ("code,modifiers\n20705,5\n", "malformed modifier '5': expected two characters such as 59 or LT"),
        ("code,dx\n20705,12\n", "malformed ICD-10-CM code '12': expected a code such as M54.16"),
        ("code,setting\n20705,hospital\n", "unknown setting 'hospital': choose from practitioner, outpatient, dme"),
        ("code\n\n", None),
        ("code,date\n,2026-01-01\n", "empty code: give a CPT or HCPCS code such as 20700 or J1100"),
    ],
)
def test_every_malformed_kind_is_reported_with_its_row_and_skipped(main, tmp_path, text, why):
    code, out, err = claims(main, tmp_path, text, "--json")
    doc = json.loads(out)
    if why is None:
        assert doc["malformed"] == [] and doc["summary"]["lines"] == 0
    else:
        assert [m["reason"] for m in doc["malformed"]] == [why] and doc["malformed"][0]["row"] == 2
        assert code == 0 and doc["verdict"] == "pass"  # nothing else to judge: the summary counts it


def test_an_unknown_code_fails_its_line(main, tmp_path):
    code, out, _ = claims(main, tmp_path, "code\n99213\n", "--json")
    (f,) = json.loads(out)["findings"]
    assert code == 1 and (f["kind"], f["verdict"]) == ("code-unknown", "fail")


@pytest.mark.parametrize(
    "text,args,message",
    [
        (
            "cpt_code\n",
            ["20700"],
            "--claims takes its lines from the file: give no CODE, --with, --modifier, --dx, --units or --date",
        ),
        ("", [], "claims.csv: the claims file is empty"),
        (
            "procedure_name,units\nx,1\n",
            [],
            "the claims file has no code column: name one of 'code', 'cpt', 'hcpcs', 'cpthcpcs'",
        ),
    ],
)
def test_unusable_calls_and_files_are_usage_errors(main, tmp_path, text, args, message):
    path = tmp_path / "claims.csv"
    path.write_text(text)
    code, out, err = main("check", *args, "--claims", str(path))
    assert (code, out) == (2, "")
    assert err.replace(str(tmp_path) + "/", "") == f"cptcli: error: {message}\n"


def test_a_missing_claims_file_is_named(main, tmp_path):
    code, out, err = main("check", "--claims", str(tmp_path / "nope.csv"))
    assert (code, out, err) == (2, "", f"cptcli: error: {tmp_path / 'nope.csv'}: no such file\n")


def test_the_table_ends_with_the_summary(main, tmp_path):
    code, out, _ = claims(main, tmp_path, "claim,code,date\nT,63650,2026-06-01\n")
    assert out.rstrip().splitlines()[-2:] == [
        "1 claims, 1 lines checked: 0 pass, 0 fail, 1 not verified; 0 rows malformed",
        "Verdict: NOT VERIFIED",
    ]
    assert code == 4


def test_a_long_file_is_written_in_pieces_under_one_header(main, tmp_path):
    text = "claim,line,code,date\n" + "".join(f"C{n // 3},{n % 3 + 1},63650,2026-06-01\n" for n in range(4500))
    code, out, err = claims(main, tmp_path, text, "--format", "csv")
    lines = out.splitlines()
    assert code == 4 and lines[0].startswith("claim,line,row,code,verdict") and out.count("claim,line,row") == 1
    assert len({r.split(",")[2] for r in lines[1:]}) == 4500  # every row's findings, once
    _, summary, _ = claims(main, tmp_path, text, "--format", "csv", "--section", "summary")
    assert summary == "claims,lines,passing,failing,not_verified,malformed\n1500,4500,0,0,4500,0\n"
    _, jsonl, _ = claims(main, tmp_path, text, "--format", "jsonl")
    assert json.loads(jsonl.splitlines()[-1])["summary"]["lines"] == 4500
    _, whole, _ = claims(main, tmp_path, text, "--json")
    assert json.loads(whole)["summary"]["lines"] == 4500
