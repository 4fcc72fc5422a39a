"""The asp-ndc kind: CMS's ASP NDC-HCPCS crosswalk (fabricated labelers, NDCs, drug names and units in the real
layout), `show` of an NDC in each of its typed forms, and a drug name on a package finding its HCPCS code."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from cptcli.codes import ndc_digits
from cptcli.errors import DataError
from cptcli.imports import asp_ndc as asp
from cptcli.imports import import_files, store, verdict
from cptcli.imports.kind import CONTENT

FIX = Path(__file__).resolve().parent / "fixtures" / "imports"
JAN = FIX / "asp-ndc" / "January 2026 ASP NDC-HCPCS Crosswalk 121225.csv"
HCPCS = FIX / "cms" / "HCPC2020_ANWEB_w_disclaimer.txt"

pytestmark = pytest.mark.usefixtures("data_dir", "cache")


def _rows() -> list[tuple]:
    con = store.open_kind("asp-ndc")
    assert con is not None
    try:
        return con.execute("SELECT * FROM ndc ORDER BY ndc").fetchall()
    finally:
        con.close()


@pytest.mark.parametrize(
    "typed,forms",
    [
        ("99901-0001-01", ("99901000101",)),  # 11 digits, 5-4-2
        ("99901000101", ("99901000101",)),
        ("0006-3026-02", ("00006302602",)),  # 10 digits, 4-4-2
        ("99901-001-01", ("99901000101",)),  # 5-3-2
        ("50242-0061-1", ("50242006101",)),  # 5-4-1
        ("9990100101", ("09990100101", "99901000101", "99901001001")),  # 10 digits without hyphens: three readings
        ("12345-678-9", None),
        ("J9271", None),
        ("20700", None),
        ("999051000-02", None),
    ],
)
def test_an_ndc_as_typed_and_the_11_digit_forms_it_stands_for(typed, forms):
    assert ndc_digits(typed) == forms


def test_every_row_its_release_and_a_row_without_an_ndc_skipped_and_named():
    (r,) = import_files([JAN])
    assert (r.kind, r.release, r.covers, r.records) == (
        "asp-ndc",
        "2026 Q1 (January 2026)",
        ("2026-01-01", "2026-03-31"),
        5,  # codes: J1885, J3301, J7325, J9035, J9271
    )
    assert [(s.line, s.reason) for s in r.skipped] == [
        (14, "J7325: '999051000-02' is not an 11-digit NDC in 5-4-2 form")
    ]
    rows = _rows()
    assert len(rows) == 8
    assert rows[0] == (
        "99901000101",
        "99901-0001-01",
        "J9271",
        "FABRICATED LABELER ONE",
        "ZORVEXA",
        "1 MG",
        "4",
        "1",
        "100",
        "100",
    )
    # The short descriptor column (AMA text for CPT codes) is never read into the store.
    assert b"Inj pembrolizumab" not in Path(store.active("asp-ndc").path).read_bytes()


def test_the_crosswalk_is_claimed_by_its_header_and_other_layouts_are_not():
    head = JAN.read_bytes()[:65536]
    assert asp.sniff("renamed.csv", head) == CONTENT
    assert verdict("renamed.csv", head).kind == "asp-ndc"
    assert asp.sniff("HCPC2020_ANWEB_w_disclaimer.txt", HCPCS.read_bytes()[:65536]) == 0.0


def test_a_zip_of_crosswalks_imports_the_asp_one_and_names_the_others(tmp_path):
    z = tmp_path / "january-2026-asp-ndc-hcpcs-crosswalk.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("Section 508 version of January 2026 ASP NDC-HCPCS Crosswalk 121225.csv", JAN.read_bytes())
        f.writestr("January 2026 AWP NDC-HCPCS Crosswalk 121225.csv", JAN.read_bytes())
    (r,) = import_files([z])
    assert r.kind == "asp-ndc" and r.records == 5
    assert [(s.name.rsplit("/", 1)[-1], s.reason) for s in r.skipped_files] == [
        (
            "January 2026 AWP NDC-HCPCS Crosswalk 121225.csv",
            "the AWP crosswalk: cptcli reads the ASP crosswalk",
        )
    ]


def test_a_row_whose_code_is_not_a_code_is_refused_with_its_line_and_the_active_release_stays(tmp_path):
    import_files([JAN])
    bad = tmp_path / "April 2026 ASP NDC-HCPCS Crosswalk.csv"
    bad.write_bytes(JAN.read_bytes().replace(b"\r\nJ1885,", b"\r\nJ18,"))
    with pytest.raises(DataError) as e:
        import_files([bad])
    assert e.value.message == (
        "April 2026 ASP NDC-HCPCS Crosswalk.csv: line 11, field HCPCS code: expected a 5-character code, found 'J18'"
    )
    assert store.active("asp-ndc").release == "2026 Q1 (January 2026)"


def test_a_file_that_does_not_say_its_quarter_is_refused(tmp_path):
    bad = tmp_path / "crosswalk.csv"
    bad.write_bytes(JAN.read_bytes().replace(b"January 2026 ASP", b"The ASP"))
    with pytest.raises(DataError, match=r"crosswalk.csv: which release is this\?"):
        import_files([bad], kind="asp-ndc")


@pytest.mark.parametrize("typed", ["99901-0001-01", "99901000101", "99901-001-01", "9990100101"])
def test_show_of_an_ndc_answers_its_code_and_billing_units(main, typed):
    import_files([HCPCS, JAN])
    code, out, err = main("show", typed, "--json")
    assert (code, err) == (0, "")
    doc = json.loads(out)
    assert doc["code"] == "J9271"
    assert doc["payer"]["ndc"] == [
        {
            "ndc": "99901000101",
            "ndc_as_filed": "99901-0001-01",
            "code": "J9271",
            "labeler": "FABRICATED LABELER ONE",
            "drug": "ZORVEXA",
            "dosage": "1 MG",
            "pkg_size": "4",
            "pkg_qty": "1",
            "bill_units": "100",
            "bill_units_pkg": "100",
            "source": "January 2026 ASP NDC-HCPCS Crosswalk 121225.csv, 2026 Q1 (January 2026)",
            "in_force_on_date": False,  # the fixture's quarter is not today's
        }
    ]


def test_show_of_an_ndc_in_the_payer_table_says_its_units_in_words(main):
    import_files([HCPCS, JAN])
    code, out, _ = main("show", "99904-0061-01", "--section", "payer", "--format", "csv")
    assert code == 0
    assert out.splitlines()[1:] == [
        'J9035,ndc,,99904-0061-01,"AVELUXA, FABRICATED LABELER FOUR, INC.: 40 billing units of J9035 (10 MG) a '
        'package (16 × 1); the crosswalk\'s quarter does not cover today","January 2026 ASP NDC-HCPCS Crosswalk '
        '121225.csv, 2026 Q1 (January 2026)"'
    ]


def test_show_of_an_ndc_without_a_crosswalk_or_not_in_it_says_which(main):
    code, out, err = main("show", "99901-0001-01")
    assert (code, out) == (1, "")
    assert err == (
        "cptcli: error: 99901-0001-01 is an NDC, and no ASP NDC-HCPCS crosswalk is imported (cptcli import the CMS "
        "file) to say which code it is billed under\n"
    )
    import_files([JAN])
    code, out, err = main("show", "99999-9999-99")
    assert (code, out) == (1, "")
    assert err == (
        "cptcli: error: NDC 99999-9999-99 is not in the imported ASP NDC-HCPCS crosswalk (January 2026 ASP NDC-HCPCS "
        "Crosswalk 121225.csv, 2026 Q1 (January 2026))\n"
    )


def test_a_drug_name_on_a_package_finds_its_code_and_names_the_ndcs(main):
    import_files([HCPCS])
    _, out, _ = main("search", "kentriva", "--json")
    assert "J3301" not in out  # the HCPCS file names the generic only
    import_files([JAN])
    code, out, _ = main("search", "kentriva", "--json")
    hit = json.loads(out)[0]
    assert (code, hit["code"], hit["matched_field"]) == (0, "J3301", "official_descriptors")
    assert hit["snippet"] == "KENTRIVA: NDC 99902-0010-05; triamcinolone acetonide: NDC 99903-0200-01"


def test_show_of_a_code_lists_its_ndcs_from_the_crosswalk(main):
    import_files([HCPCS, JAN])
    code, out, _ = main("show", "J9035", "--json")
    official = {a["label"]: a["value"] for a in json.loads(out)["official"]}
    assert official["NDCs billed under it (2)"] == (
        "99904-0061-01 AVELUXA (40 units a package); 99906-0777-01 AVELUXA (10 units a package)"
    )


def test_the_crosswalk_alone_adds_no_record_for_a_code_no_code_set_holds(main, tmp_path):
    only = tmp_path / JAN.name
    shutil.copyfile(JAN, only)
    import_files([only])
    code, _, err = main("show", "J1885")
    assert code == 1 and "J1885 is not in the knowledge base" in err


def test_show_dash_reads_ndcs_among_codes(main, monkeypatch):
    import io

    import_files([HCPCS, JAN])
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"J1885\n99904-0061-01\n99999-9999-99\n")))
    code, out, err = main("show", "-", "--format", "jsonl")
    assert [json.loads(line)["code"] for line in out.splitlines()] == ["J1885", "J9035"]
    assert code == 1 and "NDC 99999-9999-99 is not in the imported ASP NDC-HCPCS crosswalk" in err
