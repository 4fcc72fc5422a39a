"""cptcli.imports.ncci_mue: the three CMS NCCI MUE tables (practitioner, outpatient hospital, DME supplier) read
from their CSV and .xlsx forms, side by side, each as its own release; fixtures in tests/fixtures/imports/ncci-mue/
(fabricated values in CMS's layout, see the README there)."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from pathlib import Path

import pytest

from conftest import kill_import_half_way
from cptcli.errors import DataError
from cptcli.imports import import_files, parser, store, verdict
from cptcli.imports.kind import CONFIDENT, CONTENT, NAME_OF_CONTAINER
from cptcli.imports.ncci_mue import MEANINGS

FIX = Path(__file__).resolve().parent / "fixtures" / "imports"
MUE = FIX / "ncci-mue"
PRA = MUE / "MCR_MUE_PractitionerServices_Eff_10-01-2026.csv"
OPH = MUE / "MCR_MUE_OutpatientHospitalServices_Eff_10-01-2026.csv"
DME = MUE / "MCR_MUE_DMESupplierServices_Eff_10-01-2026.csv"
DAMAGED = MUE / "damaged" / "MCR_MUE_PractitionerServices_Eff_01-01-2027.csv"
Q4 = "2026 Q4 (October 1, 2026)"

PRA_ROWS = [
    ("99990", 1, 2, "Code Descriptor / CPT Instruction"),
    ("99991", 2, 3, "Clinical: Data"),
    ("9990T", 1, 1, "Anatomic Consideration"),
    ("A4218", 30, 3, "Nature of Service/Procedure"),
    ("J1100", 20, 3, "Prescribing Information"),
    ("0990U", 1, 2, "CMS Policy"),
]

pytestmark = pytest.mark.usefixtures("data_dir")


def _rows(slot: str) -> list[tuple]:
    src = store.active("ncci-mue", slot)
    assert src is not None
    con = sqlite3.connect(src.path)
    try:
        return con.execute("SELECT code, value, mai, rationale FROM mue ORDER BY rowid").fetchall()
    finally:
        con.close()


def _mue(code: str) -> dict[str, tuple]:
    """The edit for one code in every imported setting, through the check rules' indexed reader."""
    look = store.Lookup()
    try:
        return {
            s.slot: row[0]
            for s in look.sets("ncci-mue")
            if (row := look.rows(s.kind, s.slot, "SELECT value, mai FROM mue WHERE code = ?", (code,)))
        }
    finally:
        look.close()


def _xlsx(path: Path, header_row: int = 2, column: str = "Practitioner Services MUE Values") -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    if header_row == 2:
        ws.append(
            [
                "CPT codes, descriptions and other data only are copyright 2025 American Medical Association.\n\n"
                "Applicable FARS/DFARS Restrictions Apply to Government Use."
            ]
        )
    ws.append(["HCPCS/\nCPT Code", column, "MUE Adjudication Indicator", "MUE Rationale"])
    for code, value, mai, why in PRA_ROWS:
        words = {1: "1 Line Edit", 2: "2 Date of Service Edit: Policy", 3: "3 Date of Service Edit: Clinical"}[mai]
        ws.append([code, value, words, why])
    wb.save(path)
    return path


def test_fixtures_have_the_cms_quirks():
    raw = PRA.read_bytes()
    assert raw.startswith(b'"CPT\xae codes')  # latin-1 registered sign, the notice one quoted cell
    assert b'.",,,\r\n"HCPCS/\r\nCPT Code",Practitioner Services MUE Values,' in raw  # line break in a header cell
    assert raw.count(b"\r\n") == raw.count(b"\n")  # CRLF throughout
    assert b'"Outpatient Hospital Services\r\nMUE Values"' in OPH.read_bytes()


def test_every_field_of_the_practitioner_table():
    (r,) = import_files([PRA])
    assert (r.kind, r.slot, r.release, r.covers, r.records, r.skipped_count) == (
        "ncci-mue",
        "practitioner",
        Q4,
        ("2026-10-01", "2026-12-31"),
        6,
        0,
    )
    assert _rows("practitioner") == PRA_ROWS


def test_three_settings_side_by_side_each_its_own_release():
    reports = import_files([DME, PRA, OPH])
    assert sorted((r.slot, r.records) for r in reports) == [("dme", 3), ("outpatient", 4), ("practitioner", 6)]
    assert _mue("J1100") == {"dme": (10, 3), "outpatient": (40, 3), "practitioner": (20, 3)}
    assert _mue("99991") == {"outpatient": (4, 3), "practitioner": (2, 3)}
    assert _mue("E0110") == {"dme": (1, 2)}
    assert _rows("outpatient")[2] == ("9990T", 2, 1, "Anatomic Consideration")
    # A new release of one setting replaces that setting only.
    import_files([PRA])
    assert [s.name for s in store.sources()] == ["ncci-mue dme", "ncci-mue outpatient", "ncci-mue practitioner"]


def test_sources_list_each_setting_with_its_release_and_quarter():
    import_files([PRA, DME])
    assert [(s.name, s.release, s.covers, s.files, s.records) for s in store.sources()] == [
        ("ncci-mue dme", Q4, ("2026-10-01", "2026-12-31"), (DME.name,), 3),
        ("ncci-mue practitioner", Q4, ("2026-10-01", "2026-12-31"), (PRA.name,), 6),
    ]
    assert store.active("ncci-mue", "dme").covers_date("2027-01-01") is False


def test_a_damaged_row_is_refused_with_file_line_and_field_and_the_active_release_stays():
    import_files([PRA])
    with pytest.raises(DataError) as e:
        import_files([DAMAGED])
    assert str(e.value) == (
        "MCR_MUE_PractitionerServices_Eff_01-01-2027.csv: line 10, field MUE Values: 'one' is not a whole number "
        "of units"
    )
    assert store.active("ncci-mue", "practitioner").release == Q4
    assert _rows("practitioner") == PRA_ROWS


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            "99990,1,3 Date of Service Edit: Policy,CMS Policy",
            "field MUE Adjudication Indicator: '3 Date of Service "
            "Edit: Policy' (indicator 3 is 'date of service edit: clinical')",
        ),
        ("99990,1,4 Line Edit,CMS Policy", "field MUE Adjudication Indicator: '4 Line Edit' is not 1, 2 or 3"),
        ("9999,1,1 Line Edit,CMS Policy", "field HCPCS/CPT Code: '9999' is not a 5-character code"),
        ("99991,1,1 Line Edit,CMS Policy", "field HCPCS/CPT Code: 99991 was already given at line 9"),
    ],
)
def test_rows_that_cannot_be_trusted_are_refused(tmp_path, row, message):
    bad = tmp_path / PRA.name
    bad.write_bytes(PRA.read_bytes().replace(b'0990U,1,2 Date of Service Edit: Policy,"CMS Policy"', row.encode()))
    with pytest.raises(DataError) as e:
        import_files([bad])
    assert str(e.value) == f"{PRA.name}: line 13, {message}"
    assert store.active("ncci-mue", "practitioner") is None


def test_a_note_under_the_table_is_skipped_not_read_as_an_edit(tmp_path):
    p = tmp_path / PRA.name
    p.write_bytes(PRA.read_bytes() + b"MUE values are subject to change,,,\r\n")
    (r,) = import_files([p])
    assert (r.records, [(s.line, s.reason) for s in r.skipped]) == (
        6,
        [(15, "not an MUE row: 'MUE values are subject to change'")],
    )


def test_reimporting_the_same_table_is_unchanged():
    (first,) = import_files([PRA])
    (again,) = import_files([PRA])
    assert (first.unchanged, again.unchanged, again.release, again.slot) == (False, True, Q4, "practitioner")


def test_zip_as_cms_ships_it_and_the_release_from_the_zip_name(tmp_path):
    z = tmp_path / "medicare-ncci-2026-q4-practitioner-services-mue-table.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("practitioner-mue.csv", PRA.read_bytes())  # a member named without its date
        zf.writestr("MCR_MUE_PractitionerServices_Eff_10-01-2026.xlsx", _xlsx(tmp_path / "x.xlsx").read_bytes())
    (r,) = import_files([z])
    assert (r.slot, r.release, r.covers, r.files, r.records) == (
        "practitioner",
        Q4,
        ("2026-10-01", "2026-12-31"),
        ("practitioner-mue.csv",),
        6,
    )
    assert [(s.name, s.reason) for s in r.skipped_files] == [
        (
            "MCR_MUE_PractitionerServices_Eff_10-01-2026.xlsx",
            "one practitioner MUE table per import; practitioner-mue.csv was imported",
        )
    ]


def test_a_bare_file_without_a_dated_name_has_no_quarter(tmp_path):
    p = tmp_path / "mue.csv"
    p.write_bytes(PRA.read_bytes())
    (r,) = import_files([p])
    assert (r.release, r.covers, r.records) == ("unknown release", None, 6)


def test_the_quarter_from_the_preamble_where_the_name_gives_none(tmp_path):
    p = tmp_path / "mue.csv"
    p.write_bytes(
        PRA.read_bytes().replace(b"All rights reserved.", b"All rights reserved. MUEs effective July 1, 2026.")
    )
    (r,) = import_files([p])
    assert (r.release, r.covers) == ("2026 Q3 (July 1, 2026)", ("2026-07-01", "2026-09-30"))


@pytest.mark.parametrize("header_row", [1, 2])
def test_the_xlsx_form_reads_as_the_csv_does(tmp_path, header_row):
    x = _xlsx(tmp_path / "MCR_MUE_PractitionerServices_Eff_10-01-2026.xlsx", header_row)
    assert verdict(x.name, x.read_bytes()[:65536]).candidates == (("ncci-mue", NAME_OF_CONTAINER),)
    (r,) = import_files([x])
    assert (r.slot, r.release, r.records) == ("practitioner", Q4, 6)
    assert _rows("practitioner") == PRA_ROWS


def test_the_xlsx_setting_comes_from_its_header(tmp_path):
    x = _xlsx(tmp_path / "MCR_MUE_DMESupplierServices_Eff_10-01-2026.xlsx", column="DME Supplier Services MUE Values")
    (r,) = import_files([x])
    assert r.slot == "dme"


def test_fixtures_are_claimed_by_this_kind_only_by_their_content():
    files = sorted(p for p in MUE.rglob("*") if p.is_file() and p.suffix == ".csv")
    assert len(files) == 4
    for p in files:
        head = p.read_bytes()[:65536]
        v = verdict(p.name, head)
        assert (v.kind, v.candidates) == ("ncci-mue", (("ncci-mue", CONTENT),)), p
        for other in ("hcpcs", "cpt", "nucc"):
            assert parser(other).sniff(p.name, head) < CONFIDENT
        # The content decides, not the name.
        assert parser("ncci-mue").sniff("table.csv", head) == CONTENT


def test_other_kinds_files_are_not_claimed():
    for p in FIX.rglob("*"):
        if p.is_file() and "ncci-mue" not in p.parts and p.suffix in (".txt", ".csv"):
            assert parser("ncci-mue").sniff(p.name, p.read_bytes()[:65536]) == 0.0, p


def test_meanings_say_what_follows_each_adjudication_indicator():
    mai = MEANINGS["mai"]
    assert sorted(mai) == [1, 2, 3]
    assert mai[1].startswith("Line edit: the units on each claim line")
    assert "absolute" in mai[2] and "not paid on appeal" in mai[2]
    assert "may be paid on appeal with documentation of medical necessity" in mai[3]


def test_cli_refuses_a_damaged_table_in_one_line_with_the_data_exit_status(main):
    code, out, err = main("import", str(DAMAGED))
    assert (code, out) == (3, "")
    assert err == (
        "cptcli: error: MCR_MUE_PractitionerServices_Eff_01-01-2027.csv: line 10, field MUE Values: 'one' is not a "
        "whole number of units\n"
    )


def test_an_import_killed_half_way_leaves_the_previous_release_active(tmp_path, data_dir):
    import_files([PRA])
    q1 = tmp_path / "MCR_MUE_PractitionerServices_Eff_01-01-2027.csv"
    q1.write_bytes(PRA.read_bytes().replace(b"99991,2,", b"99991,3,"))
    kill_import_half_way([q1], data_dir)
    assert store.active("ncci-mue", "practitioner").release == Q4
    assert _rows("practitioner") == PRA_ROWS
    (r,) = import_files([q1])
    assert (r.release, _mue("99991")) == ("2027 Q1 (January 1, 2027)", {"practitioner": (3, 3)})


def test_check_judges_units_by_the_table_of_the_line_s_setting(main):
    import_files([FIX / "HCPC2026_JAN_ANWEB.txt", PRA, OPH, DME])
    seen = {}
    for setting in ("practitioner", "outpatient", "dme"):
        code, out, err = main("check", "J1100", "--units", "25", "--date", "2026-11-02", "--setting", setting, "--json")
        doc = json.loads(out)
        (mue,) = [i for i in doc["issues"] if i["subject"] == "mue/J1100"]
        seen[setting] = (code, doc["verdict"], mue["severity"], mue["message"].split(": ", 1)[-1][:38])
    assert seen == {
        "practitioner": (1, "fail", "error", "25 units of J1100 exceed its MUE of 20"),
        "outpatient": (4, "unverified", "info", "25 units within the MUE of 40 (MAI 3)"),
        "dme": (1, "fail", "error", "25 units of J1100 exceed its MUE of 10"),
    }
