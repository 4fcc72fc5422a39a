"""cptcli.imports.ncci_aoc: the CMS NCCI add-on code edits read from the fixed-width text and the .xlsx (under
each release's column names), Julian dates converted; fixtures in tests/fixtures/imports/ncci-aoc/ (FABRICATED
TEST DATA in CMS's layout, see the README there)."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import zipfile
from pathlib import Path

import pytest

from cptcli.errors import DataError
from cptcli.imports import import_files, parser, store, verdict
from cptcli.imports.kind import CONFIDENT, CONTENT, NAME_OF_CONTAINER
from cptcli.imports.ncci_aoc import MEANINGS
from cptcli.imports.ncci_common import julian, quarter_of

FIX = Path(__file__).resolve().parent / "fixtures" / "imports"
AOC = FIX / "ncci-aoc"
TXT = AOC / "AOC_V2026Q2-MCR.txt"
DAMAGED = AOC / "damaged" / "AOC_V2026Q3-MCR.txt"
Q2 = "2026 Q2 (April 1, 2026)"

# (addon, addon_ends, primary_code, primary_ends, effective, ends, edit_type, notes), in file order.
ROWS = [
    ("99991", None, "99990", None, "2026-01-01", None, 1, ""),
    ("99991", None, "9998T", None, "2024-02-29", None, 1, ""),
    ("99991", None, "99993", "2025-12-31", "2020-01-01", "2025-12-31", 1, ""),
    ("99991", None, "99993", None, "2026-05-01", None, 1, ""),
    ("9991T", None, "CCCCC", None, "2013-04-01", None, 2, "Contractor Defined Primary Codes"),
    ("99994", "2026-06-30", "99990", None, "2024-01-01", None, 3, ""),
    ("99994", "2026-06-30", "9998T", None, "2024-12-31", None, 3, "9998T Practitioner Only"),
]

pytestmark = pytest.mark.usefixtures("data_dir")


def _rows(where: str = "", args: tuple = ()) -> list[tuple]:
    src = store.active("ncci-aoc")
    assert src is not None
    con = sqlite3.connect(src.path)
    try:
        return con.execute(f"SELECT * FROM aoc {where} ORDER BY rowid", args).fetchall()
    finally:
        con.close()


def _jul(iso: str | None, deletion: bool = False) -> int | None:
    """The Julian number (YYYYDDD) an .xlsx cell holds for an ISO date; for a last day in force, the deletion date
    CMS writes (the day after)."""
    if iso is None:
        return None
    d = dt.date.fromisoformat(iso) + dt.timedelta(days=deletion)
    return d.year * 1000 + d.timetuple().tm_yday


# Header names of three releases, in their column order, and how to lay a row out under them.
NAMES_2026 = [
    "AOC_Edit_Type",
    "Add-On_Code",
    "AOC_DelDT",
    "Primary_Code",
    "Primary_Code_DelDT",
    "AOC_Edit_EffDT",
    "AOC_Edit_DelDT",
    "Special_Instruction_Notes",
]
NAMES_2024Q2 = [
    "Add-on Code",
    "AOC Del Dt",
    "Primary Code",
    "Primary Code Del Dt",
    "AOC Edit Eff Dt",
    "AOC Edit Del Dt",
    "AOC Edit Type",
    "Special Instruction Notes",
]
NAMES_2024Q3 = [n.replace(" Dt", " Dt (Julian)") for n in NAMES_2024Q2]


def _cells(row: tuple, names: list[str]) -> list:
    addon, addon_ends, primary, primary_ends, eff, ends, edit_type, notes = row
    by = {
        "type": edit_type,
        "addon": addon,
        "addondel": _jul(addon_ends, deletion=True),
        "primary": primary,
        "primarydel": _jul(primary_ends, deletion=True),
        "eff": _jul(eff),
        "del": _jul(ends, deletion=True),
        "notes": notes or None,
    }
    keys = ["type", "addon", "addondel", "primary", "primarydel", "eff", "del", "notes"]
    order = dict(zip(NAMES_2026, keys, strict=True)) | dict(
        zip(NAMES_2024Q2, keys[1:7] + ["type", "notes"], strict=True)
    )
    order |= dict(zip(NAMES_2024Q3, keys[1:7] + ["type", "notes"], strict=True))
    return [by[order[n]] for n in names]


def _xlsx(path: Path, names: list[str], notice: bool = True) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    if notice:
        ws.append(["CPT codes, descriptions and other data only are copyright 2025 American Medical Association."])
    ws.append(names)
    for r in ROWS:
        ws.append(_cells(r, names))
    wb.save(path)
    return path


def test_fixture_has_the_cms_quirks():
    raw = TXT.read_bytes()
    lines = raw.split(b"\r\n")
    assert raw.count(b"\n") == raw.count(b"\r\n")  # CRLF
    assert lines[0].startswith(b"CPT\xae codes")  # latin-1 notice, row 1
    assert lines[1].startswith(b"AOC_Edit_Type Add-On_Code AOC_DelDT")  # header, row 2
    assert lines[2] == b"199991       99990       2026001"  # absent dates blank, the record cut after its last field
    assert lines[6] == b"29991T       CCCCC       2013091       Contractor Defined Primary Codes"
    assert lines[7].endswith(b"2024001*")  # a '*' for no deletion date


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("2026001", "2026-01-01"),
        ("2026091", "2026-04-01"),
        ("2024060", "2024-02-29"),
        ("2024366", "2024-12-31"),
        ("2023365", "2023-12-31"),
        ("2023366", None),
        ("2026000", None),
        ("26091", None),
        ("2026O91", None),
    ],
)
def test_julian_dates(raw, iso):
    d = julian(raw)
    assert (d.isoformat() if d else None) == iso


@pytest.mark.parametrize(
    ("names", "release", "covers"),
    [
        (("AOC_V2026Q2-MCR.txt",), "2026 Q2 (April 1, 2026)", ("2026-04-01", "2026-06-30")),
        (("AOC_V2025Q4_01-MCR.txt",), "2025 Q4 (October 1, 2025)", ("2025-10-01", "2025-12-31")),
        (
            ("x.txt", "add-code-edits-medicare-effective-01012027.zip"),
            "2027 Q1 (January 1, 2027)",
            ("2027-01-01", "2027-03-31"),
        ),
        (("MCR_MUE_DMESupplierServices_Eff_07-15-2026.csv",), "2026 Q3 (July 15, 2026)", ("2026-07-15", "2026-09-30")),
        (
            ("medicare-ncci-2026-q1-dme-supplier-services-mue-table.zip",),
            "2026 Q1 (January 1, 2026)",
            ("2026-01-01", "2026-03-31"),
        ),
    ],
)
def test_a_release_is_named_by_its_quarter(names, release, covers):
    q = quarter_of(*names)
    assert (q.release, q.covers) == (release, covers)
    assert quarter_of("AOC-MCR.txt", "") is None


def test_every_field_of_the_text_form_with_dates_converted():
    raw = TXT.read_bytes()
    # Deletion dates as CMS writes them: the first day no longer in force; the table keeps the day before.
    assert b"199991       99993202600120200012026001\r\n" in raw and b"\r\n399994202618299990" in raw
    (r,) = import_files([TXT])
    assert (r.kind, r.slot, r.release, r.records, r.skipped_count) == ("ncci-aoc", "", Q2, 7, 0)
    assert _rows() == ROWS


def test_the_release_covers_its_deleted_edits_back_to_the_earliest_and_ends_with_its_quarter():
    import_files([TXT])
    (src,) = store.sources()
    assert (src.name, src.release, src.covers, src.files, src.records) == (
        "ncci-aoc",
        Q2,
        ("2013-04-01", "2026-06-30"),
        (TXT.name,),
        7,
    )
    assert (src.covers_date("2013-03-31"), src.covers_date("2026-06-30"), src.covers_date("2026-07-01")) == (
        False,
        True,
        False,
    )


def test_indexed_look_ups_by_add_on_and_by_primary():
    import_files([TXT])
    look = store.Lookup()
    try:
        (src,) = look.sets("ncci-aoc")
        by_primary = look.rows(
            src.kind, src.slot, "SELECT addon, edit_type FROM aoc WHERE primary_code = ? ORDER BY addon", ("99990",)
        )
        cccc = look.rows(
            src.kind, src.slot, "SELECT addon, edit_type, notes FROM aoc WHERE primary_code = ?", ("CCCCC",)
        )
    finally:
        look.close()
    assert by_primary == [("99991", 1), ("99994", 3)]
    assert cccc == [("9991T", 2, "Contractor Defined Primary Codes")]
    con = sqlite3.connect(store.active("ncci-aoc").path)
    plans = [
        con.execute(f"EXPLAIN QUERY PLAN SELECT * FROM aoc WHERE {c} = 'x'").fetchall()
        for c in ("addon", "primary_code")
    ]
    con.close()
    assert all("USING INDEX" in str(p) for p in plans)


def test_a_damaged_record_is_refused_with_file_line_and_field_and_the_active_release_stays():
    import_files([TXT])
    with pytest.raises(DataError) as e:
        import_files([DAMAGED])
    assert (
        str(e.value)
        == "AOC_V2026Q3-MCR.txt: line 6, field AOC Edit Effective Date: '2026400' is not a Julian date (YYYYDDD)"
    )
    assert store.active("ncci-aoc").release == Q2
    assert _rows() == ROWS


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("499992       99990       2026001", "field AOC Edit Type: '4' is not 1, 2 or 3"),
        ("19999-       99990       2026001", "field Add-on Code: '9999-' is not a 5-character code"),
        ("199992       99990", "field AOC Edit Effective Date: empty (a Julian date YYYYDDD is required)"),
        (
            "199992       99990202613X2026001",
            "field Primary Code Deletion Date: '202613X' is not a Julian date (YYYYDDD)",
        ),
    ],
)
def test_records_that_do_not_fit_the_layout_are_refused_not_guessed(tmp_path, line, message):
    p = tmp_path / TXT.name
    lines = TXT.read_bytes().split(b"\r\n")
    lines[3] = line.encode()
    p.write_bytes(b"\r\n".join(lines))
    with pytest.raises(DataError) as e:
        import_files([p])
    assert str(e.value) == f"{TXT.name}: line 4, {message}"
    assert store.active("ncci-aoc") is None


def test_reimporting_the_same_file_is_unchanged():
    (first,) = import_files([TXT])
    (again,) = import_files([TXT])
    assert (first.unchanged, again.unchanged, again.release, again.records) == (False, True, Q2, 7)


def test_zip_with_both_forms_imports_the_text_and_takes_the_release_from_the_zip_name(tmp_path):
    z = tmp_path / "add-code-edits-medicare-effective-04012026.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("AOC-MCR.txt", TXT.read_bytes())  # a member whose name gives no quarter
        zf.writestr("AOC_V2026Q2-MCR.xlsx", _xlsx(tmp_path / "x.xlsx", NAMES_2026).read_bytes())
    (r,) = import_files([z])
    assert (r.release, r.files, r.records) == (Q2, ("AOC-MCR.txt",), 7)
    assert [(s.name, s.reason) for s in r.skipped_files] == [
        ("AOC_V2026Q2-MCR.xlsx", "one AOC file per import; AOC-MCR.txt was imported")
    ]
    assert _rows() == ROWS


@pytest.mark.parametrize(
    ("names", "notice"),
    [(NAMES_2026, True), (NAMES_2024Q2, False), (NAMES_2024Q3, True)],
    ids=["2026: notice row 1, header row 2, type first", "2024 Q2: header row 1, type seventh", "2024 Q3: (Julian)"],
)
def test_the_xlsx_form_under_each_releases_column_names(tmp_path, names, notice):
    x = _xlsx(tmp_path / "AOC_V2026Q2-MCR.xlsx", names, notice)
    assert verdict(x.name, x.read_bytes()[:65536]).candidates == (("ncci-aoc", NAME_OF_CONTAINER),)
    (r,) = import_files([x])
    assert (r.release, r.records) == (Q2, 7)
    assert _rows() == ROWS


def test_an_xlsx_without_the_header_is_refused(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["Code", "Something"])
    x = tmp_path / "AOC_V2026Q2-MCR.xlsx"
    wb.save(x)
    with pytest.raises(DataError, match=r"^AOC_V2026Q2-MCR.xlsx: no AOC edits found \(no header with Add-on Code"):
        import_files([x])


def test_fixtures_are_claimed_by_this_kind_only_by_their_content():
    files = sorted(p for p in AOC.rglob("*.txt"))
    assert len(files) == 2
    for p in files:
        head = p.read_bytes()[:65536]
        v = verdict(p.name, head)
        assert (v.kind, v.candidates) == ("ncci-aoc", (("ncci-aoc", CONTENT),)), p
        for other in ("hcpcs", "cpt", "nucc", "ncci-mue"):
            assert parser(other).sniff(p.name, head) < CONFIDENT
        assert parser("ncci-aoc").sniff("edits.txt", head) == CONTENT


def test_other_kinds_files_are_not_claimed():
    for p in FIX.rglob("*"):
        if p.is_file() and "ncci-aoc" not in p.parts and p.suffix in (".txt", ".csv"):
            assert parser("ncci-aoc").sniff(p.name, p.read_bytes()[:65536]) == 0.0, p


def test_meanings_of_the_edit_types():
    t = MEANINGS["edit_type"]
    assert sorted(t) == [1, 2, 3]
    assert "define all acceptable primary codes" in t[1] and "should not allow other primary codes" in t[1]
    assert "CCCCC" in t[2] and "contractors develop their own lists" in t[2]
    assert "some, but not all" in t[3] and "additional acceptable primary codes" in t[3]


@pytest.mark.parametrize(
    ("primary", "date", "severity", "says"),
    [
        ("99990", "2026-06-01", "info", "99990 is a listed primary of the add-on 99991"),
        ("9997U", "2026-06-01", "error", "9997U is not among the primaries CMS lists for 99991"),
        # The edit 99991/99993 was deleted as of 2026001 (last day in force 2025-12-31) and added again on 2026121.
        ("99993", "2025-12-31", "info", "99993 is a listed primary of the add-on 99991"),
        ("99993", "2026-01-01", "error", "99993 is not among the primaries CMS lists for 99991"),
        ("99993", "2026-05-01", "info", "99993 is a listed primary of the add-on 99991"),
    ],
)
def test_check_applies_the_imported_edits_on_the_date_of_service(main, primary, date, severity, says):
    import_files([FIX / "cpt", TXT])
    code, out, err = main("check", "99991", "--with", primary, "--date", date, "--json")
    (aoc,) = [i for i in json.loads(out)["issues"] if i["subject"] == f"with/{primary}" and "NCCI AOC" in i["message"]]
    assert (aoc["severity"], aoc["message"].split("): ", 1)[1][: len(says)]) == (severity, says)
    assert aoc["message"].startswith(f"NCCI AOC ({Q2}, applied on {date})")
