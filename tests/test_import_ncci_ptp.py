"""cptcli.imports.ncci_ptp: CMS NCCI PTP edit files (practitioner and outpatient hospital, four parts a release)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import kill_import_half_way
from cptcli.errors import DataError
from cptcli.imports import import_files, parser, sources, store, verdict
from cptcli.imports.kind import CONFIDENT, CONTENT, NAME_OF_CONTAINER
from cptcli.imports.ncci_ptp import BYPASS_MODIFIERS, MEANINGS, release_of

FIX = Path(__file__).resolve().parent / "fixtures" / "imports" / "ncci-ptp"
PRA = [FIX / f"ccipra-v322r0-f{p}.txt" for p in range(1, 5)]
OPH = [FIX / f"ccioph-v322r0-f{p}.txt" for p in range(1, 5)]
DAMAGED = FIX / "damaged" / "ccipra-v323r0-f2.txt"

pytestmark = pytest.mark.usefixtures("data_dir")


def _rows(slot: str, where: str = "", args: tuple = ()) -> list[tuple]:
    con = sqlite3.connect(store.kind_path("ncci-ptp", slot))
    try:
        return con.execute(f"SELECT * FROM ptp {where} ORDER BY rowid", args).fetchall()
    finally:
        con.close()


def _release(tmp: Path, version: str, damaged: bool = False) -> list[Path]:
    """The practitioner fixture's four parts under another release's names (f2 the damaged part if asked)."""
    tmp.mkdir(parents=True, exist_ok=True)
    out = []
    for p, src in enumerate(PRA, 1):
        dst = tmp / f"ccipra-{version}-f{p}.txt"
        # Another release's notice, so that its files are not those of the fixture's release.
        dst.write_bytes(
            (DAMAGED if damaged and p == 2 else src).read_bytes().replace(b"2025 American", b"2026 American")
        )
        out.append(dst)
    return out


def test_fixtures_have_the_layout_quirks():
    for f in PRA + OPH + [DAMAGED]:
        raw = f.read_bytes()
        assert raw.count(b"\r\n") == raw.count(b"\n")  # CRLF throughout
        assert b"\xa9" in raw  # a latin-1 byte in the preamble
        lines = raw.split(b"\r\n")
        assert lines[0].startswith(b"FABRICATED TEST DATA")
        assert lines[2].startswith(b"Column1/Column2 Edits")
        assert lines[3].startswith(b"Column 1\tColumn 2\t*=in existence\tEffective\tDeletion\tModifier")
        assert lines[4:7] == [
            b"\t\tprior to 1996\tDate\tDate\t0=not allowed\t",
            b"\t\t\t\t*=no data\t1=allowed\t",
            b"\t\t\t\t\t9=not applicable\t",
        ]
    assert b"\t*\t19960101\t*\t" in PRA[0].read_bytes()  # in existence before 1996, no deletion date


def test_every_field_of_every_part_is_read():
    (r,) = import_files(PRA)
    assert (r.kind, r.slot, r.records) == ("ncci-ptp", "practitioner", 16)
    rows = _rows("practitioner")
    # column1, column2, prior_1996, effective, ends (last day in force), modifier, rationale, part
    assert rows[0] == ("10060", "11042", 1, "1996-01-01", None, 1, "Misuse of column two code with column one code", 0)
    assert rows[1] == ("29881", "29877", 0, "2012-01-01", None, 0, "Mutually exclusive procedures", 0)
    assert rows[5] == ("0001A", "G0471", 0, "2020-12-11", None, 1, "HCPCS/CPT procedure code definition", 1)
    assert rows[7] == (
        "20610",
        "J1030",
        0,
        "2019-01-01",
        "2026-06-30",
        1,
        "Standards of medical / surgical practice",
        1,
    )
    assert rows[10] == ("0591T", "99213", 0, "2020-01-01", None, 1, "Standards of medical / surgical practice", 2)
    assert rows[15] == ("29881", "29877", 0, "2026-07-01", None, 1, "Mutually exclusive procedures", 3)
    assert [r[7] for r in rows] == [0] * 5 + [1] * 4 + [2] * 4 + [3] * 3


def test_a_deletion_date_is_the_first_day_out_of_force():
    import_files(PRA)
    # Deleted 20170101: in force through 31 December 2016.
    assert _rows("practitioner", "WHERE column1 = ? AND ends IS NOT NULL", ("99213",))[0][3:5] == (
        "2015-01-01",
        "2016-12-31",
    )
    # Deleted back to its effective date (indicator 9): it ends before it starts, so it never applied.
    ((eff, ends, mod),) = [r[3:6] for r in _rows("practitioner", "WHERE column1 = ?", ("93653",))]
    assert (eff, ends, mod) == ("2013-01-01", "2012-12-31", 9) and ends < eff
    # Deleted 20261001, the first day of 2026 Q4: in force through the last day of Q3.
    assert _rows("practitioner", "WHERE column1 = ?", ("80053",))[0][4] == "2026-09-30"


def test_one_pair_with_different_dates_keeps_every_row():
    import_files(PRA)
    assert [r[3:6] for r in _rows("practitioner", "WHERE column1 = ? AND column2 = ?", ("99213", "36415"))] == [
        ("2015-01-01", "2016-12-31", 1),
        ("2019-04-01", None, 0),
    ]
    # The same pair in two parts: both rows, each with its part.
    assert [(r[3], r[5], r[7]) for r in _rows("practitioner", "WHERE column1 = ?", ("29881",))] == [
        ("2012-01-01", 0, 0),
        ("2026-07-01", 1, 3),
    ]


def test_sources_lists_the_release_its_quarter_and_setting():
    import_files(PRA)
    (s,) = sources()
    assert (s.kind, s.slot, s.name) == ("ncci-ptp", "practitioner", "ncci-ptp practitioner")
    assert s.release == "2026 Q3 (July 1, 2026)"
    assert s.covers == ("1996-01-01", "2026-09-30")
    assert s.files == tuple(p.name for p in PRA) and s.records == 16
    assert s.covers_date("2026-09-30") and not s.covers_date("2026-10-01")
    assert dict(s.counts)["ptp"] == 16


@pytest.mark.parametrize(
    ("version", "release", "covers"),
    [
        ((32, 2, 0), "2026 Q3 (July 1, 2026)", ("1996-01-01", "2026-09-30")),
        ((31, 3, 0), "2025 Q4 (October 1, 2025)", ("1996-01-01", "2025-12-31")),
        ((32, 0, 1), "2026 Q1 (January 1, 2026), revision 1", ("1996-01-01", "2026-03-31")),
        # CMS: version 21.1 took effect on 1 April 2015, 16.3 on 1 October 2010.
        ((21, 1, 0), "2015 Q2 (April 1, 2015)", ("1996-01-01", "2015-06-30")),
        ((16, 3, 0), "2010 Q4 (October 1, 2010)", ("1996-01-01", "2010-12-31")),
    ],
)
def test_release_and_quarter_from_the_version(version, release, covers):
    assert release_of(version) == (release, covers)


def test_a_minor_version_past_the_fourth_quarter_is_refused():
    with pytest.raises(DataError, match=r"version 32\.4: NCCI versions run \.0 to \.3"):
        release_of((32, 4, 0))


def test_both_settings_side_by_side():
    (pra,) = import_files(PRA)
    (oph,) = import_files(OPH)
    assert (pra.slot, oph.slot) == ("practitioner", "outpatient")
    assert [(s.slot, s.records) for s in sources()] == [("outpatient", 5), ("practitioner", 16)]
    # The same pair, another indicator in each setting's edits.
    assert _rows("outpatient", "WHERE column1 = ?", ("29881",)) == [
        ("29881", "29877", 0, "2012-01-01", None, 1, "Mutually exclusive procedures", 0)
    ]
    assert _rows("practitioner", "WHERE column1 = ?", ("29881",))[0][5] == 0
    # A new practitioner release leaves the outpatient one as it was.
    oph_path = store.kind_path("ncci-ptp", "outpatient")
    before = oph_path.stat().st_mtime_ns
    import_files(_release(Path(os.environ["CPTCLI_DATA_DIR"]).parent / "v323", "v323r0"))
    assert oph_path.stat().st_mtime_ns == before
    assert {s.slot: s.release for s in sources()} == {
        "outpatient": "2026 Q3 (July 1, 2026)",
        "practitioner": "2026 Q4 (October 1, 2026)",
    }


def test_re_import_is_unchanged():
    (first,) = import_files(PRA)
    (again,) = import_files(list(reversed(PRA)))
    assert not first.unchanged and again.unchanged
    assert (again.slot, again.release, again.records) == ("practitioner", "2026 Q3 (July 1, 2026)", 16)


def test_a_damaged_row_is_refused_with_file_line_and_field_and_the_active_release_stays(tmp_path, data_dir):
    import_files(PRA)
    with pytest.raises(DataError) as e:
        import_files(_release(tmp_path, "v323r0", damaged=True))
    assert e.value.message == ("ccipra-v323r0-f2.txt: line 9, field Effective Date: '2015010' is not a date YYYYMMDD")
    (s,) = sources()
    assert s.release == "2026 Q3 (July 1, 2026)" and s.records == 16
    assert [n for n in os.listdir(data_dir) if n.endswith(".tmp")] == []


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"2061\t76942\t\t20150101\t*\t0\tx", "field Column 1: '2061' is not a 5-character HCPCS/CPT code"),
        (b"20610\t7694-\t\t20150101\t*\t0\tx", "field Column 2: '7694-' is not a 5-character HCPCS/CPT code"),
        (b"20610\t76942\tY\t20150101\t*\t0\tx", "field *=in existence prior to 1996: 'Y' is not '*' or empty"),
        (b"20610\t76942\t\t20150101\t-\t0\tx", "field Deletion Date: '-' is not a date YYYYMMDD or '*'"),
        (b"20610\t76942\t\t20150101\t*\t2\tx", "field Modifier: '2' is not 0, 1 or 9"),
        (b"20610\t76942\t\t20151301\t*\t0\tx", "field Effective Date: '20151301' is not a date (YYYYMMDD)"),
        (b"20610\t76942\t\t20150101\t20150230\t0\tx", "field Deletion Date: '20150230' is not a date (YYYYMMDD)"),
        (b"20610\t76942\t\t20150101\t*\t0", "field Modifier: 6 tab-separated fields where an edit has 7"),
    ],
)
def test_each_damaged_field_is_named(tmp_path, line, message):
    raw = (
        PRA[1]
        .read_bytes()
        .replace(b"20610\t76942\t\t20150101\t*\t0\tMisuse of column two code with column one code", line)
    )
    parts = _release(tmp_path, "v322r0")
    parts[1].write_bytes(raw)
    with pytest.raises(DataError) as e:
        import_files(parts)
    assert e.value.message == f"ccipra-v322r0-f2.txt: line 9, {message}"
    assert sources() == []


def test_a_header_column_out_of_place_is_refused(tmp_path):
    parts = _release(tmp_path, "v322r0")
    parts[2].write_bytes(PRA[2].read_bytes().replace(b"Effective\tDeletion", b"Deletion\tEffective"))
    with pytest.raises(DataError, match=r"ccipra-v322r0-f3\.txt: header, column 4: .* 'Effective Date'"):
        import_files(parts)


def test_a_release_with_a_part_missing_is_refused_naming_it(tmp_path):
    with pytest.raises(DataError) as e:
        import_files([PRA[0], PRA[1], PRA[3]])
    assert e.value.message.startswith(
        "ccipra-v322r0: part f3 missing (given: f1, f2, f4): CMS ships each release in 4 parts"
    )
    assert sources() == []


def test_a_part_given_as_txt_and_xlsx_is_read_once(tmp_path):
    xlsx = _xlsx(tmp_path / "ccipra-v322r0-f2.xlsx", PRA[1])
    (r,) = import_files([*PRA, xlsx])
    assert r.records == 16 and r.files == tuple(p.name for p in PRA)
    assert [(s.name, s.reason) for s in r.skipped_files] == [
        ("ccipra-v322r0-f2.xlsx", "the same part as ccipra-v322r0-f2.txt, which was read")
    ]


def test_a_name_without_a_setting_is_refused(tmp_path):
    p = tmp_path / "ptp-edits.txt"
    shutil.copyfile(PRA[0], p)
    with pytest.raises(DataError, match="ptp-edits.txt: an NCCI PTP file, but its name does not say which setting"):
        import_files([p])


def test_a_zip_holding_both_settings_gives_two_sets(tmp_path):
    z = tmp_path / "ncci-ptp-2026q3.zip"
    with zipfile.ZipFile(z, "w") as f:
        for p in PRA + OPH:
            f.write(p, p.name)
    reports = import_files([z])
    assert sorted((r.slot, r.records) for r in reports) == [("outpatient", 5), ("practitioner", 16)]
    assert _rows("practitioner") == _rows_of(PRA, tmp_path / "bare")


def _rows_of(paths: list[Path], data_dir: Path) -> list[tuple]:
    """The rows the bare files give, imported into a data directory of their own."""
    saved = os.environ["CPTCLI_DATA_DIR"]
    os.environ["CPTCLI_DATA_DIR"] = str(data_dir)
    try:
        import_files(paths)
        return _rows("practitioner")
    finally:
        os.environ["CPTCLI_DATA_DIR"] = saved


def test_one_zip_a_part_as_cms_ships_them(tmp_path):
    zips = []
    for p in PRA:
        z = tmp_path / f"{p.stem}.zip"
        with zipfile.ZipFile(z, "w") as f:
            f.write(p, p.stem + ".TXT")
        zips.append(z)
    (r,) = import_files(zips)
    assert (r.slot, r.records, r.files) == ("practitioner", 16, tuple(f"{p.stem}.TXT" for p in PRA))


def test_a_directory_of_bare_files(tmp_path):
    d = tmp_path / "ncci"
    d.mkdir()
    for p in PRA + OPH:
        shutil.copyfile(p, d / p.name)
    assert sorted(r.slot for r in import_files([d])) == ["outpatient", "practitioner"]


def _xlsx(path: Path, txt: Path) -> Path:
    """A part as CMS's workbook holds it: the same lines as cells, codes, dates and indicators as numbers."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for line in txt.read_bytes().decode("latin-1").split("\r\n"):
        cells: list[object] = [c or None for c in line.split("\t")]
        if len(cells) == 7 and str(cells[3] or "").isdigit():
            cells = [int(c) if isinstance(c, str) and c.isdigit() else c for c in cells]
        ws.append(cells)
    wb.save(path)
    return path


def test_xlsx_parts_read_as_the_text_parts(tmp_path):
    parts = [_xlsx(tmp_path / f"ccipra-v322r0-f{p}.xlsx", t) for p, t in enumerate(PRA, 1)]
    head = parts[0].read_bytes()[:65536]
    assert verdict(parts[0].name, head).kind == "ncci-ptp"
    assert parser("ncci-ptp").sniff(parts[0].name, head) == NAME_OF_CONTAINER
    (r,) = import_files(parts)
    assert r.records == 16
    rows = _rows("practitioner")
    # 10060 and 0001A: a number cell keeps its code; a text one ("0001A") is read as it is.
    assert rows[0] == ("10060", "11042", 1, "1996-01-01", None, 1, "Misuse of column two code with column one code", 0)
    assert rows == _rows_of(PRA, tmp_path / "txt")


def test_every_fixture_is_claimed_by_ncci_ptp_only_and_from_its_content():
    files = sorted(FIX.rglob("*.txt"))
    assert len(files) == 9
    for f in files:
        head = f.read_bytes()[:65536]
        found = verdict(f.name, head)
        assert found.kind == "ncci-ptp" and found.candidates == (("ncci-ptp", CONTENT),), f.name
        for other in ("hcpcs", "cpt", "nucc"):
            assert parser(other).sniff(f.name, head) < CONFIDENT, (f.name, other)
    # Renamed, the content still decides.
    assert verdict("edits.txt", PRA[0].read_bytes()).kind == "ncci-ptp"


def test_the_bypass_modifiers_and_indicator_words():
    anatomic = {"E1", "E2", "E3", "E4", "FA", "LT", "RT", "LC", "LD", "RC", "LM", "RI"}
    anatomic |= {f"F{i}" for i in range(1, 10)} | {"TA"} | {f"T{i}" for i in range(1, 10)}
    others = {"24", "25", "27", "57", "58", "59", "78", "79", "91", "XE", "XP", "XS", "XU"}
    assert set(BYPASS_MODIFIERS) == anatomic | others and len(BYPASS_MODIFIERS) == 44
    assert set(MEANINGS["modifier"]) == {0, 1, 9}
    assert MEANINGS["modifier"][0].startswith("not allowed")
    assert MEANINGS["modifier"][1].startswith("allowed")
    assert MEANINGS["modifier"][9].startswith("not applicable")


def test_import_killed_half_way_leaves_previous_release(tmp_path, data_dir):
    import_files(PRA)
    before = store.stamp()
    parts = _release(tmp_path, "v323r0")
    tmps = kill_import_half_way(parts, data_dir)
    assert len(tmps) == 1 and tmps[0].startswith(".ncci-ptp.practitioner.sqlite.")
    assert store.stamp() == before
    (s,) = sources()
    assert s.release == "2026 Q3 (July 1, 2026)" and s.records == 16
    # The next import clears the dead writer's file and goes through.
    (r,) = import_files(parts)
    assert r.release == "2026 Q4 (October 1, 2026)" and not r.unchanged
    assert [n for n in os.listdir(data_dir) if n.endswith(".tmp")] == []


def test_the_bench_generator_writes_what_the_parser_reads(tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    import payer_ncci_ptp

    paths = payer_ncci_ptp.write(tmp_path / "ptp", seed=1, rows=2000)
    assert [p.name for p in paths] == [f"{s}-v321r0-f{i}.txt" for s in ("ccipra", "ccioph") for i in range(1, 5)]
    reports = import_files(paths)
    assert sorted((r.slot, r.records, r.release) for r in reports) == [
        ("outpatient", 2000, "2026 Q2 (April 1, 2026)"),
        ("practitioner", 2000, "2026 Q2 (April 1, 2026)"),
    ]
    rows = _rows("practitioner")
    assert {r[5] for r in rows} == {0, 1, 9} and any(r[2] for r in rows) and any(r[4] for r in rows)


def test_a_directory_with_a_part_of_another_release_alone_is_refused_whole(tmp_path):
    d = tmp_path / "downloads"
    d.mkdir()
    for p in PRA:
        shutil.copyfile(p, d / p.name)
    shutil.copyfile(DAMAGED, d / DAMAGED.name)
    with pytest.raises(DataError, match=r"^ccipra-v323r0: parts f1, f3, f4 missing \(given: f2\)"):
        import_files([d])
    assert sources() == []


def test_the_sources_command_lists_each_setting_with_its_release(main):
    import json

    code, out, err = main("import", *map(str, PRA + OPH))
    assert (code, err) == (0, "")
    code, out, err = main("sources", "--json")
    assert code == 0
    ptp = [(s["kind"], s["release"], s["records"]) for s in json.loads(out) if s["kind"].startswith("ncci-ptp")]
    assert ptp == [
        ("ncci-ptp outpatient", "2026 Q3 (July 1, 2026)", 5),
        ("ncci-ptp practitioner", "2026 Q3 (July 1, 2026)", 16),
    ]


@pytest.mark.parametrize(
    ("date", "kind", "indicator"),
    [
        ("2014-12-31", "ptp-not-in-force", None),  # the day before the first row's effective date
        ("2015-01-01", "ptp-edit", "modifier indicator 1"),
        ("2016-12-31", "ptp-edit", "modifier indicator 1"),  # the day before the deletion date: still in force
        ("2017-01-01", "ptp-not-in-force", None),  # the deletion date: out of force
        ("2019-04-01", "ptp-edit", "modifier indicator 0"),  # the pair's second row, added again
    ],
)
def test_check_applies_the_row_in_force_on_the_date(tmp_path, main, date, kind, indicator):
    """The imported dates as the PTP rule reads them, with the pair 99213/36415 on two codes the bundled knowledge
    base has (the rows otherwise as the fixture files them)."""
    import json

    parts = _release(tmp_path, "v322r0")
    for p in parts:
        p.write_bytes(p.read_bytes().replace(b"99213\t36415", b"63650\t64568"))
    assert main("import", *map(str, parts))[0] == 0
    code, out, err = main("check", "63650", "--with", "64568", "--date", date, "--json")
    (issue,) = [i for i in json.loads(out)["issues"] if i["kind"].startswith("ptp")]
    assert issue["kind"] == kind
    if indicator:
        assert issue["severity"] == "error" and code == 1 and indicator in issue["message"]
    else:
        assert issue["severity"] == "info" and "not applied on " + date in issue["message"]


def test_a_workbook_with_one_header_row_date_cells_and_numeric_codes(tmp_path):
    import datetime as dt

    import openpyxl

    parts = []
    for p in range(1, 5):
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.append(["CPT only copyright 2025 American Medical Association.  All rights reserved."])
        ws.append(["Column1/Column2 Edits"])
        ws.append(
            [
                "Column 1",
                "Column 2",
                "*=in existence\nprior to 1996",
                "Effective\nDate",
                "Deletion\nDate\n*=no data",
                "Modifier\n0=not allowed\n1=allowed\n9=not applicable",
                "PTP Edit Rationale",
            ]
        )
        ws.append(
            [100, 99100 + p, None, dt.datetime(2010, 1, 1), "*", 0, "Misuse of column two code with column one code"]
        )
        ws.append([None] * 7)
        ws.append(["0001A", "G0471", "*", 19960101, dt.date(2026, 7, 1), 1.0, "HCPCS/CPT procedure code definition"])
        parts.append(tmp_path / f"ccioph-v322r0-f{p}.xlsx")
        wb.save(parts[-1])
    (r,) = import_files(parts)
    assert (r.slot, r.records) == ("outpatient", 8)
    assert _rows("outpatient")[:2] == [
        ("00100", "99101", 0, "2010-01-01", None, 0, "Misuse of column two code with column one code", 0),
        ("0001A", "G0471", 1, "1996-01-01", "2026-06-30", 1, "HCPCS/CPT procedure code definition", 0),
    ]
