"""The pfs-rvu kind: CMS's PPRRVU relative value file (fabricated codes and text in the real layout)."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import zipfile
from pathlib import Path

import pytest

from cptcli.errors import DataError, UsageError
from cptcli.imports import KINDS, import_files, parser, sources, store, verdict
from cptcli.imports import pfs_rvu as pfs
from cptcli.imports.kind import CONTENT, NAME_OF_CONTAINER, NAME_ONLY

FIX = Path(__file__).resolve().parent / "fixtures" / "imports" / "pfs-rvu"
JAN = FIX / "PPRRVU26_JAN.csv"
DAMAGED = FIX / "PPRRVU26_APR_damaged.csv"

pytestmark = pytest.mark.usefixtures("data_dir")

COLUMNS = ("code", "modifier", "status", "pctc", "global_days", "mult_proc", "bilateral", "assistant")
COLUMNS += ("co_surgeons", "team")


def _rows() -> list[tuple]:
    con = store.open_kind("pfs-rvu")
    assert con is not None
    try:
        return con.execute(f"SELECT {', '.join(COLUMNS)} FROM pfs ORDER BY code, modifier").fetchall()
    finally:
        con.close()


def _xlsx(src: Path, dest: Path) -> Path:
    """The same rows as a workbook, as CMS ships PPRRVU26_JAN.xlsx beside the CSV."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for row in csv.reader(io.StringIO(src.read_text(), newline="")):
        ws.append([c if c != "" else None for c in row])
    wb.save(dest)
    return dest


def test_every_field_of_a_row_and_the_release():
    (r,) = import_files([JAN])
    assert (r.kind, r.release, r.slot, r.covers, r.records) == (
        "pfs-rvu",
        "RVU26A (January 2026)",
        "",
        ("2026-01-01", "2026-03-31"),
        19,
    )
    rows = _rows()
    assert rows[0] == ("99901", "", "A", "0", "090", "2", "1", "2", "1", "0")
    assert ("99903", "26", "A", "1", "XXX", "4", "3", "9", "9", "9") in rows
    assert ("99903", "TC", "A", "1", "XXX", "4", "3", "9", "9", "9") in rows
    assert ("99917", "53", "A", "0", "000", "3", "0", "1", "0", "0") in rows
    assert {r[0]: r[2] for r in rows if r[1] == ""} == {
        "99901": "A",
        "99902": "A",
        "99903": "A",
        "99904": "B",
        "99905": "N",
        "99906": "C",
        "99907": "I",
        "99908": "A",
        "99909": "T",
        "99910": "X",
        "99911": "R",
        "99912": "E",
        "99913": "J",
        "99914": "M",
        "99915": "P",
        "99916": "A",
    }
    assert ("99906", "", "C", "0", "YYY", "2", "1", "0", "2", "2") in rows
    assert ("99916", "", "A", "0", "MMM", "9", "0", "0", "0", "0") in rows


def test_the_table_is_the_declared_shape_with_its_index(data_dir):
    import_files([JAN])
    con = sqlite3.connect(data_dir / "pfs-rvu.sqlite")
    try:
        cols = [c[1] for c in con.execute("PRAGMA table_info(pfs)")]
        idx = [i[1] for i in con.execute("PRAGMA index_list(pfs)")]
        plan = " ".join(str(r) for r in con.execute("EXPLAIN QUERY PLAN SELECT * FROM pfs WHERE code = '99901'"))
    finally:
        con.close()
    assert tuple(cols) == COLUMNS
    assert idx == ["pfs_0"]
    assert "USING INDEX pfs_0" in plan


def test_no_description_is_stored_anywhere(data_dir):
    # Every DESCRIPTION cell of the fixture holds NOTSTORED: AMA text must reach no table, meta or report.
    assert JAN.read_text().count("NOTSTORED") == 19
    (r,) = import_files([JAN])
    raw = (data_dir / "pfs-rvu.sqlite").read_bytes()
    assert b"NOTSTORED" not in raw and b"fabricated" not in raw
    assert "NOTSTORED" not in json.dumps(r.to_dict())
    assert "NOTSTORED" not in json.dumps([s.to_dict() for s in sources()])


def test_a_damaged_row_is_refused_with_file_line_and_field_and_the_active_release_stays():
    import_files([JAN])
    with pytest.raises(DataError) as e:
        import_files([DAMAGED])
    assert e.value.message == (
        "PPRRVU26_APR_damaged.csv: line 14, field GLOB DAYS: expected blank or 3 characters "
        "(000, 010, 090, MMM, XXX, YYY, ZZZ), found '9O'"
    )
    (s,) = [s for s in sources() if s.kind == "pfs-rvu"]
    assert s.release == "RVU26A (January 2026)" and s.files == ("PPRRVU26_JAN.csv",)
    assert ("99902", "", "A", "0", "010", "2", "0", "1", "0", "0") in _rows()


def test_the_damage_is_not_quoting_the_description(tmp_path):
    text = JAN.read_text().replace("NOTSTORED fabricated descriptor 06,B", "NOTSTORED fabricated descriptor 06,BB")
    bad = tmp_path / "PPRRVU26_JAN.csv"
    bad.write_text(text)
    with pytest.raises(DataError) as e:
        import_files([bad])
    assert e.value.message == "PPRRVU26_JAN.csv: line 16, field STATUS CODE: expected one letter, found 'BB'"


def test_a_duplicate_code_and_modifier_is_damage(tmp_path):
    lines = JAN.read_text().splitlines(keepends=True)
    bad = tmp_path / "PPRRVU26_JAN.csv"
    bad.write_text("".join([*lines, lines[10]]))
    with pytest.raises(DataError, match=r"line 30, field HCPCS: 99901 was already given at line 11$"):
        import_files([bad])


def test_reimport_is_unchanged_and_a_new_quarter_replaces_it(tmp_path):
    (a,) = import_files([JAN])
    (b,) = import_files([JAN])
    assert not a.unchanged and b.unchanged and b.release == a.release
    apr = tmp_path / "PPRRVU26_APR.csv"
    apr.write_text(JAN.read_text().replace("January Release", "April Release"))
    (c,) = import_files([apr])
    assert (c.release, c.covers, c.unchanged) == ("RVU26B (April 2026)", ("2026-04-01", "2026-06-30"), False)
    assert [s.release for s in sources() if s.kind == "pfs-rvu"] == ["RVU26B (April 2026)"]


def test_sources_lists_a_zip_and_its_files_the_csv_preferred(tmp_path):
    z = tmp_path / "RVU26A.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.write(JAN, "PPRRVU2026_Jan_nonQPP.csv")
        f.write(JAN, "PPRRVU2026_Jan_QPP.csv")
        f.write(_xlsx(JAN, tmp_path / "x.xlsx"), "PPRRVU2026_Jan_nonQPP.xlsx")
        f.writestr("PPRRVU2026_Jan_nonQPP.txt", "HDR CPT CODES AND DESCRIPTIONS ONLY ARE COPYRIGHT\r\n")
        f.writestr("RVU26A.pdf", b"%PDF-1.4")
    (r,) = import_files([z])
    assert (r.release, r.files, r.records) == ("RVU26A (January 2026)", ("PPRRVU2026_Jan_nonQPP.csv",), 19)
    skipped = {s.name: s.reason for s in r.skipped_files}
    assert skipped["PPRRVU2026_Jan_QPP.csv"].startswith("one relative value file per import; PPRRVU2026_Jan_nonQPP")
    assert "PPRRVU2026_Jan_nonQPP.xlsx" in skipped and "PPRRVU2026_Jan_nonQPP.txt" in skipped
    assert "RVU26A.pdf" in skipped
    (s,) = [s for s in sources() if s.kind == "pfs-rvu"]
    assert (s.release, s.files, s.covers) == ("RVU26A (January 2026)", ("PPRRVU2026_Jan_nonQPP.csv",), r.covers)


def test_the_workbook_gives_the_same_rows(tmp_path):
    import_files([JAN])
    from_csv = _rows()
    (r,) = import_files([_xlsx(JAN, tmp_path / "PPRRVU26_JAN.xlsx")], force=True)
    assert r.release == "RVU26A (January 2026)" and r.files == ("PPRRVU26_JAN.xlsx",)
    assert _rows() == from_csv


def test_the_release_comes_from_the_title_then_the_name_then_the_zip(tmp_path):
    untitled = JAN.read_text().replace("2026 National Physician Fee Schedule Relative Value File January Release", "")
    p = tmp_path / "PPRRVU25_OCT.csv"
    p.write_text(untitled)
    (r,) = import_files([p])
    assert (r.release, r.covers) == ("RVU25D (October 2025)", ("2025-10-01", "2025-12-31"))
    q = tmp_path / "relative values.csv"
    q.write_text(untitled + "\n")  # other bytes: the same bytes would be reported unchanged
    z = tmp_path / "RVU26C.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.write(q, q.name)
    (r,) = import_files([z])
    assert (r.release, r.covers) == ("RVU26C (July 2026)", ("2026-07-01", "2026-09-30"))
    q.write_text(untitled + "\n\n")
    with pytest.raises(DataError, match=r"relative values.csv: which release is this\?"):
        import_files([q])


def test_the_fixed_width_text_form_is_refused_saying_which_to_import(tmp_path):
    t = tmp_path / "PPRRVU26_JAN.txt"
    t.write_text("HDR CPT CODES AND DESCRIPTIONS ONLY ARE COPYRIGHT\r\n")
    assert pfs.sniff(t.name, t.read_bytes()) == NAME_ONLY
    with pytest.raises(UsageError, match="by its name only"):
        import_files([t])
    with pytest.raises(DataError, match=r"fixed-width \.txt form has no header.*\.csv or \.xlsx"):
        import_files([t], kind="pfs-rvu")


def test_detection_by_content_only_by_this_kind():
    for f in sorted(FIX.iterdir()):
        head = f.read_bytes()[:65536]
        scores = {k: parser(k).sniff(f.name, head) for k in KINDS}
        assert scores["pfs-rvu"] == CONTENT, f.name
        assert all(s == 0 for k, s in scores.items() if k != "pfs-rvu"), (f.name, scores)
        assert verdict(f.name, head).kind == "pfs-rvu"
    # The content decides, whatever the name; the name alone only suggests.
    assert pfs.sniff("rates.csv", JAN.read_bytes()) == CONTENT
    assert pfs.sniff("PPRRVU26_JAN.csv", b"HCPCS,MOD\r\n") == NAME_ONLY
    assert pfs.sniff("PPRRVU26_JAN.xlsx", b"PK\x03\x04") == NAME_OF_CONTAINER
    assert pfs.sniff("notes.csv", b"HCPCS,MOD,DESCRIPTION\r\n") == 0


def test_meanings_and_payable_status_codes():
    for indicator, values in {
        "status": "ABCDEFGHIJMNPRTX",
        "pctc": "0123456789",
        "mult_proc": "01234567" + "9",
        "bilateral": "01239",
        "assistant": "0129",
        "co_surgeons": "0129",
        "team": "0129",
    }.items():
        assert sorted(pfs.MEANINGS[indicator]) == sorted(values), indicator
        assert indicator in pfs.SOURCES
    assert sorted(pfs.MEANINGS["global_days"]) == ["000", "010", "090", "MMM", "XXX", "YYY", "ZZZ"]
    assert pfs.PAYABLE == {"A", "C", "R", "T"}
    assert pfs.PAYABLE.isdisjoint(pfs.NOT_PAYABLE)
    assert set(pfs.MEANINGS["status"]) - (pfs.PAYABLE | pfs.NOT_PAYABLE) == {"J"}  # anesthesia: base units
    assert {"B", "E", "I", "N", "P", "X"} <= pfs.NOT_PAYABLE
    assert pfs.meaning("assistant", "1").startswith("Statutory payment restriction")
    assert pfs.meaning("bilateral", "7") is None and pfs.meaning("team", None) is None


def test_openpyxl_s_warnings_about_a_workbook_are_not_printed(tmp_path, main, monkeypatch):
    import warnings

    import openpyxl

    real = openpyxl.load_workbook

    def warning(*args, **kwargs):
        # As openpyxl warns of CMS's workbooks when it reads their styles.
        warnings.warn_explicit(
            "Workbook contains no default style, apply openpyxl's default",
            UserWarning,
            "stylesheet.py",
            237,
            module="openpyxl.styles.stylesheet",
        )
        return real(*args, **kwargs)

    monkeypatch.setattr(openpyxl, "load_workbook", warning)
    workbook = _xlsx(JAN, tmp_path / "PPRRVU26_JAN.xlsx")
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")  # every warning reaches the user unless cptcli keeps it back
        code, out, err = main("import", str(workbook), "--json")
    assert (code, err) == (0, "") and json.loads(out)[0]["records"] == 19
    assert [str(w.message) for w in shown if "default style" in str(w.message)] == []
