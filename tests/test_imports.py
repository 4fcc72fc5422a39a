"""cptcli.imports: parsing the HCPCS, CPT and NUCC files users download, and the per-kind store."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from conftest import kill_import_half_way
from cptcli.errors import DataError, UsageError
from cptcli.imports import KINDS, detect, import_files, parser, remove, sources, store, verdict
from cptcli.imports.kind import CONTENT, NAME_ONLY
from cptcli.imports.records import Attribute, ImportedCode, Member

FIX = Path(__file__).resolve().parent / "fixtures" / "imports"
HCPCS_TXT = FIX / "HCPC2026_JAN_ANWEB.txt"
CPT_DIR = FIX / "cpt"
CPT_FILES = [
    CPT_DIR / n for n in ("LONGULT.txt", "MEDU.txt", "SHORTU.txt", "ConsumerDescriptor.txt", "ClinicianDescriptor.txt")
]
sys.path.insert(0, str(FIX))
import hcpcs_fixture  # noqa: E402

pytestmark = pytest.mark.usefixtures("data_dir")  # every test imports into a data directory of its own


@pytest.fixture
def xlsx(tmp_path):
    return hcpcs_fixture.write_xlsx(tmp_path / "HCPC2026_JAN_ANWEB.xlsx")


def _member(p: Path) -> Member:
    data = p.read_bytes()
    return Member(p.name, data, hashlib.sha256(data).hexdigest())


def _parse(p: Path):
    return parser("hcpcs").parse([_member(p)])


def test_fixture_file_is_what_the_generator_writes(tmp_path):
    assert hcpcs_fixture.write_txt(tmp_path / "x.txt").read_bytes() == HCPCS_TXT.read_bytes()


def test_fixture_has_the_anweb_quirks():
    raw = HCPCS_TXT.read_bytes()
    assert raw.count(b"\r\n") == raw.count(b"\n")  # CRLF throughout
    assert b"\xa0" in raw  # latin-1 non-breaking space
    assert b"\xa9" in raw  # latin-1 copyright sign in the disclaimer
    lines = raw.split(b"\r\n")
    assert lines[0].startswith(b"FABRICATED TEST DATA")
    assert {len(x) for x in lines[4:-1]} == {320}


E0114_ATTRIBUTES = [
    (
        "Pricing indicator",
        "32",
        "DMEPOS: inexpensive and routinely purchased DME (price subject to floors and ceilings)",
    ),
    ("Pricing indicator", "36", "DMEPOS: capped rental DME (price subject to floors and ceilings)"),
    ("Multiple pricing indicator", "A", "Not applicable as HCPCS priced under one methodology"),
    ("CIM reference", "60-9", None),
    ("MCM reference", "2100.1", None),
    ("MCM reference", "2100.2", None),
    ("Statute", "1861S8", None),
    ("Cross reference", "E0110", None),
    ("Cross reference", "E0111", None),
    ("Coverage", "D", "Special coverage instructions apply"),
    ("ASC payment group", "YY", "Approved to be performed in an ambulatory surgical center"),
    ("ASC payment group effective date", "2008-01-01", None),
    ("OPPS payment group", "102", None),
    ("OPPS payment policy indicator", "9", "ASC payment not applicable"),
    ("OPPS effective date", "2008-01-01", None),
    ("Processing note", "0123", None),
    ("BETOS", "D1E", "Other DME"),
    ("Type of service", "P", "Lump sum purchase of DME, prosthetics, orthotics"),
    ("Type of service", "R", "Rental of DME"),
    ("Type of service", "A", "Used DME"),
    ("Anesthesia base units", "000", None),
    ("Code added date", "1985-01-01", None),
    ("Action effective date", "2026-01-01", None),
    ("Action code", "C", "Change in long description of procedure or modifier code"),
]


def test_every_field_of_a_record_with_codes_and_words():
    p = _parse(HCPCS_TXT)
    assert p.release == "2026 January"
    e = next(c for c in p.codes if c.code == "E0114")
    assert (e.kind, e.release, e.file) == ("hcpcs", "2026 January", "HCPC2026_JAN_ANWEB.txt")
    assert e.descriptors == (
        ("long", "Crutches, underarm, other than wood, adjustable or fixed, pair, with pads, tips and handgrips"),
        ("short", "Crutch underarm pair no wood"),
    )
    assert [(a.label, a.value, a.meaning) for a in e.attributes] == E0114_ATTRIBUTES
    assert e.source() == "HCPC2026_JAN_ANWEB.txt, 2026 January"


def test_lab_certification_termination_and_discontinued_action():
    p9612 = next(c for c in _parse(HCPCS_TXT).codes if c.code == "P9612")
    got = {(a.label, a.value): a.meaning for a in p9612.attributes}
    assert got[("Lab certification", "310")] == "Routine chemistry"
    assert got[("Lab certification", "400")] == "Hematology"
    assert got[("Pricing indicator", "21")] == "Clinical lab fee schedule: price subject to national limitation amount"
    assert got[("Multiple pricing indicator", "C")].startswith("Physician interpretation of clinical lab service")
    assert got[("Termination date", "2025-12-31")] is None
    assert got[("Action code", "D")] == "Discontinue procedure or modifier code"
    assert got[("Type of service", "5")] == "Diagnostic laboratory"


def test_continuations_join_and_nbsp_is_a_space():
    codes = {c.code: c for c in _parse(HCPCS_TXT).codes}
    assert codes["A4216"].descriptor("long") == (
        "Sterile water, saline and/or dextrose, diluent/flush, 10 ml, fabricated fixture text that runs long enough "
        "to need a second and then a third continuation record in the file"
    )
    assert codes["J1100"].descriptor("long") == "Injection, dexamethasone sodium phosphate, 1 mg"
    assert sorted(codes) == ["A4216", "E0105", "E0114", "J1100", "P9612"]


def test_out_of_range_code_and_its_continuation_are_skipped_with_line_numbers():
    p = _parse(HCPCS_TXT)
    assert p.skipped_count == 2
    assert [(s.line, s.reason) for s in p.skipped] == [
        (15, "HCPC 'Z9999' is not an HCPCS code (a letter A-V, 4 digits)"),
        (16, "continues skipped record Z9999"),
    ]


def test_modifiers_with_continuation_and_authority():
    mods = {m.modifier: m for m in _parse(HCPCS_TXT).modifiers}
    assert sorted(mods) == ["GA", "LT"]
    ga = mods["GA"]
    assert ga.descriptors == (
        (
            "long",
            "Waiver of liability statement issued as required by payer policy, individual case, fabricated "
            "fixture wording",
        ),
        ("short", "Waiver of liability (fab)"),
    )
    assert ga.authority == "HCPC2026_JAN_ANWEB.txt, 2026 January"
    assert Attribute("Action code", "C", "Change in long description of procedure or modifier code") in ga.attributes


def _comparable(items):
    out = []
    for x in items:
        d = x.to_dict()
        d.pop("file")
        d.pop("authority", None)
        out.append(d)
    return out


def test_both_forms_of_a_release_give_the_same_records(xlsx):
    t, x = _parse(HCPCS_TXT), _parse(xlsx)
    assert x.release == t.release == "2026 January"
    assert _comparable(x.codes) == _comparable(t.codes)
    assert _comparable(x.modifiers) == _comparable(t.modifiers)
    assert x.skipped_count == t.skipped_count == 2
    assert x.codes[0].file == "HCPC2026_JAN_ANWEB.xlsx"


def test_xlsx_is_read_only_mode(xlsx, monkeypatch):
    import openpyxl

    seen = {}
    real = openpyxl.load_workbook

    def spy(*a, **kw):
        seen.update(kw)
        return real(*a, **kw)

    monkeypatch.setattr(openpyxl, "load_workbook", spy)
    _parse(xlsx)
    assert seen["read_only"] is True


def test_detect_by_content_first_then_by_name(xlsx, tmp_path):
    assert detect("renamed.dat", HCPCS_TXT.read_bytes()) == "hcpcs"
    assert detect("whatever.txt", (CPT_DIR / "LONGULT.txt").read_bytes()) == "cpt"
    assert detect("x", (CPT_DIR / "ClinicianDescriptor.txt").read_bytes()) == "cpt"
    assert detect("x.csv", (FIX / "nucc" / "nucc_taxonomy_150.csv").read_bytes()) == "nucc"
    # Content wins over a misleading name.
    assert detect("HCPC2026_JAN_ANWEB.txt", (CPT_DIR / "LONGULT.txt").read_bytes()) == "cpt"
    # An .xlsx is a zip: its head says nothing, its name does.
    assert detect(xlsx.name, xlsx.read_bytes()[:65536]) == "hcpcs"
    assert detect("HCPC2026_JAN_Transreport_ANWEB.xlsx", b"PK\x03\x04") is None
    # A name alone suggests a kind but does not decide it: the refusal names the candidate.
    assert detect("nucc_taxonomy_251.csv", b"") is None
    assert verdict("nucc_taxonomy_251.csv", b"").candidates == (("nucc", NAME_ONLY),)
    assert detect("notes.pdf", b"%PDF-1.7") is None


def test_a_file_no_kind_is_sure_of_is_refused_naming_the_candidate(main, tmp_path):
    f = tmp_path / "nucc_taxonomy_251.csv"
    f.write_text("nothing here\n")
    code, out, err = main("import", str(f))
    assert (code, out) == (2, "")
    assert err == (
        "cptcli: error: nucc_taxonomy_251.csv: looks like a NUCC taxonomy file (nucc) by its name only, "
        "not its content; --kind nucc forces it\n"
    )


def test_a_tie_between_kinds_is_refused_naming_both(monkeypatch):
    from cptcli import imports

    monkeypatch.setattr(imports.parser("cpt"), "sniff", lambda name, head: CONTENT)
    found = imports.verdict("x.txt", HCPCS_TXT.read_bytes())
    assert found.kind is None and {k for k, _ in found.candidates} == {"hcpcs", "cpt"}
    assert (
        imports._undecided("x.txt", found)
        == "x.txt: could be an HCPCS file (hcpcs) or a CPT file (cpt): --kind says which"
    )


def test_import_reports_and_sources_with_sha256(data_dir):
    (r,) = import_files([HCPCS_TXT])
    d = r.to_dict()
    assert d["schema_version"] == 1
    assert (d["kind"], d["release"], d["file"], d["records"], d["modifiers"]) == (
        "hcpcs",
        "2026 January",
        "HCPC2026_JAN_ANWEB.txt",
        5,
        2,
    )
    assert d["skipped_count"] == 2 and d["unchanged"] is False and d["seconds"] >= 0
    sha = hashlib.sha256(HCPCS_TXT.read_bytes()).hexdigest()
    assert d["sha256"] == {"HCPC2026_JAN_ANWEB.txt": sha}
    json.dumps(d)
    (s,) = sources()
    assert (s.kind, s.release, s.files, s.records, s.modifiers) == (
        "hcpcs",
        "2026 January",
        ("HCPC2026_JAN_ANWEB.txt",),
        5,
        2,
    )
    assert s.sha256 == (("HCPC2026_JAN_ANWEB.txt", sha),)
    assert time.strptime(s.imported_at, "%Y-%m-%dT%H:%M:%SZ")
    assert s.to_dict()["schema_version"] == 1
    assert (os.stat(data_dir / "hcpcs.sqlite").st_mode & 0o777) == 0o600


def test_store_reads(data_dir):
    assert store.stamp() == "" and store.get_code("E0114") == [] and not store.has_taxonomy()
    import_files([HCPCS_TXT, *CPT_FILES, FIX / "nucc" / "nucc_taxonomy_251.csv"])
    (e,) = store.get_code("e0114")
    assert isinstance(e, ImportedCode) and e.kind == "hcpcs"
    assert ImportedCode.from_dict(e.to_dict()) == e
    assert [c.code for c in store.iter_codes()] == [
        "9997U",
        "9998T",
        "99990",
        "99991",
        "9999F",
        "A4216",
        "E0105",
        "E0114",
        "J1100",
        "P9612",
    ]
    assert [m.modifier for m in store.modifiers()] == ["GA", "LT"]
    t = store.taxonomy("999A00000X")
    assert t is not None and t.section == "Individual" and t.display_name == "Fabricated Classification Provider"
    assert t.definition == "FABRICATED TEST DATA, not NUCC text. A definition\nover two lines, with a comma."
    assert store.has_taxonomy()
    con = store.open_kind("hcpcs")
    assert con is not None
    with pytest.raises(Exception, match="readonly"):
        con.execute("DELETE FROM codes")
    assert con.execute("SELECT kind, release, records, modifiers, format, reader FROM meta").fetchone() == (
        "hcpcs",
        "2026 January",
        5,
        2,
        3,
        parser("hcpcs").READER,
    )
    con.close()
    assert store.stamp().count(";") == 2


def test_store_read_path_imports_no_parser_or_openpyxl(data_dir):
    import_files([HCPCS_TXT])
    code = (
        "import sys; from cptcli.imports import store; store.stamp(); store.get_code('E0114'); "
        "bad = [m for m in ('openpyxl', 'zipfile', 'cptcli.imports.hcpcs', 'cptcli.imports.cpt', "
        "'cptcli.imports.nucc') if m in sys.modules]; print(bad)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "CPTCLI_DATA_DIR": str(data_dir)},
    )
    assert out.stdout.strip() == "[]"


def test_cpt_files_merge_into_one_set():
    (r,) = import_files(CPT_FILES)
    assert (r.kind, r.release, r.records) == ("cpt", "CPT 2026", 5)
    assert r.files == ("LONGULT.txt", "MEDU.txt", "SHORTU.txt", "ConsumerDescriptor.txt", "ClinicianDescriptor.txt")
    assert [(s.file, s.line, s.reason) for s in r.skipped] == [
        ("LONGULT.txt", 9, "'J9999' is not a CPT code (5 digits, or 4 digits and F, T or U)")
    ]
    (c,) = store.get_code("99990")
    assert c.texts() == [
        ("descriptor_long", "Fabricated long descriptor one for test code 99990, not AMA text"),
        ("descriptor_medium", "FABRICATED MEDIUM DESCRIPTOR ONE FOR TEST CODE"),
        ("descriptor_short", "FAB SHORT ONE"),
        ("descriptor_consumer", "Fabricated consumer descriptor: a test visit, not AMA text"),
        ("descriptor_clinician", "Fabricated clinician descriptor A for 99990, not AMA text"),
        ("descriptor_clinician", "Fabricated clinician descriptor B for 99990, not AMA text"),
    ]
    assert c.attributes == (
        Attribute("Concept ID", "1000001"),
        Attribute("Clinician descriptor ID", "2000001", "Fabricated clinician descriptor A for 99990, not AMA text"),
        Attribute("Clinician descriptor ID", "2000002", "Fabricated clinician descriptor B for 99990, not AMA text"),
    )
    assert c.source("short") == "SHORTU.txt, CPT 2026"
    assert c.source("clinician") == "ClinicianDescriptor.txt, CPT 2026"
    (t,) = store.get_code("9998T")
    assert t.descriptors == (
        ("long", "Fabricated Category III style descriptor, not AMA text"),
        ("short", "FAB CAT III SHORT"),
    )


def test_cpt_directory_and_zip_import_the_same_set(tmp_path):
    (a,) = import_files([CPT_DIR])
    assert [s.name for s in a.skipped_files] == ["README.txt"]
    z = tmp_path / "cpt2026.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for p in CPT_FILES:
            zf.write(p, f"CPT 2026/{p.name}")
    (b,) = import_files([z])
    assert b.unchanged is True and b.records == a.records


def test_nucc_new_and_old_headers():
    (r,) = import_files([FIX / "nucc" / "nucc_taxonomy_251.csv"])
    assert (r.kind, r.release, r.records) == ("nucc", "Version 25.1", 3)
    (r,) = import_files([FIX / "nucc" / "nucc_taxonomy_150.csv"])
    assert (r.release, r.records, r.skipped_count) == ("Version 15.0", 2, 1)
    assert r.skipped[0].reason == "Code 'BAD-CODE' is not a taxonomy code (9 letters or digits and X)"
    t = store.taxonomy("999C00000X")
    assert t is not None
    assert (t.grouping, t.classification, t.notes, t.display_name, t.section) == (
        "Fabricated Suppliers",
        "Fabricated Supplier",
        "Fabricated old note.",
        "",
        "",
    )
    assert store.taxonomy("999B00000X") is None  # the old release replaced the new one


def _cms_zip(tmp_path, xlsx) -> Path:
    z = tmp_path / "HCPC2026_JAN_ANWEB.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(HCPCS_TXT, "HCPC2026_JAN_ANWEB.txt")
        zf.write(xlsx, "HCPC2026_JAN_ANWEB.xlsx")
        zf.writestr("HCPC2026_recordlayout.pdf", b"%PDF-1.7 fabricated")
        zf.writestr("HCPC2026_JAN_Transreport_ANWEB.xlsx", b"PK\x03\x04 not really")
        zf.writestr("proc_notes_JAN2026.txt", "Fabricated processing notes\r\n")
        zf.writestr("docs/", "")
    return z


def test_zip_as_cms_ships_it(tmp_path, xlsx):
    (r,) = import_files([_cms_zip(tmp_path, xlsx)])
    assert (r.kind, r.release, r.files, r.records, r.modifiers) == (
        "hcpcs",
        "2026 January",
        ("HCPC2026_JAN_ANWEB.txt",),
        5,
        2,
    )
    assert [(s.name, s.reason) for s in r.skipped_files] == [
        ("HCPC2026_recordlayout.pdf", "not a code-set file cptcli reads (.pdf)"),
        ("HCPC2026_JAN_Transreport_ANWEB.xlsx", "not a code-set file cptcli reads (.xlsx)"),
        ("proc_notes_JAN2026.txt", "not a code-set file cptcli reads (.txt)"),
        ("HCPC2026_JAN_ANWEB.xlsx", "another form of the same set; HCPC2026_JAN_ANWEB.txt was imported"),
    ]


def test_xlsx_alone_imports(xlsx):
    (r,) = import_files([xlsx])
    assert (r.files, r.records, r.modifiers) == (("HCPC2026_JAN_ANWEB.xlsx",), 5, 2)


def test_forced_kind_refuses_a_file_of_another_kind_by_name(tmp_path, xlsx):
    with pytest.raises(UsageError, match=r"^LONGULT.txt is a CPT file, not an HCPCS file$"):
        import_files([CPT_DIR / "LONGULT.txt"], kind="hcpcs")
    with pytest.raises(UsageError, match=r"^HCPC2026_JAN_ANWEB.txt is an HCPCS file, not a CPT file$"):
        import_files([HCPCS_TXT], kind="cpt")
    # In a zip the mismatching members are skipped with the same words.
    z = tmp_path / "mixed.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(HCPCS_TXT, HCPCS_TXT.name)
        zf.write(CPT_DIR / "LONGULT.txt", "LONGULT.txt")
    (r,) = import_files([z], kind="cpt")
    assert r.kind == "cpt"
    assert [(s.name, s.reason) for s in r.skipped_files] == [
        ("HCPC2026_JAN_ANWEB.txt", "HCPC2026_JAN_ANWEB.txt is an HCPCS file, not a CPT file")
    ]


def test_unknown_kind_and_unrecognised_file(tmp_path):
    with pytest.raises(
        UsageError,
        match="unknown kind 'icd': choose from hcpcs, cpt, nucc, ncci-ptp, ncci-mue, ncci-aoc, pfs-rvu, icd10cm, "
        "asp-ndc",
    ):
        import_files([HCPCS_TXT], kind="icd")
    with pytest.raises(UsageError, match="unknown kind"):
        remove("icd")
    p = tmp_path / "notes.txt"
    p.write_text("nothing to see\n")
    with pytest.raises(UsageError, match=r"^notes.txt: not a file cptcli can import"):
        import_files([p])
    with pytest.raises(UsageError, match="no such file"):
        import_files([tmp_path / "missing.txt"])
    assert set(KINDS) == {"hcpcs", "cpt", "nucc", "ncci-ptp", "ncci-mue", "ncci-aoc", "pfs-rvu", "icd10cm", "asp-ndc"}


def _corrupt(tmp_path, lineno: int, col: int, ch: str, name: str = "HCPC2026_JAN_ANWEB.txt") -> Path:
    lines = HCPCS_TXT.read_bytes().split(b"\r\n")
    line = bytearray(lines[lineno - 1])
    line[col - 1 : col] = ch.encode()
    lines[lineno - 1] = bytes(line)
    p = tmp_path / name
    p.write_bytes(b"\r\n".join(lines))
    return p


def test_corrupt_file_refused_with_line_and_field(tmp_path):
    # Line 6 continues A4216 (RECID 4); a 7 there breaks the continuation.
    p = _corrupt(tmp_path, 6, 11, "7")
    with pytest.raises(DataError) as e:
        import_files([p])
    assert e.value.message == (
        "HCPC2026_JAN_ANWEB.txt: line 6, field RECID: expected 3 or 4 after a continued description, found '7'"
    )
    assert "\n" not in e.value.message
    p = _corrupt(tmp_path, 5, 11, "5")
    with pytest.raises(
        DataError,
        match=r"^HCPC2026_JAN_ANWEB.txt: line 5, field RECID: expected 3, 4, 7 or 8, "
        r"found '5'$",
    ):
        import_files([p])
    p = _corrupt(tmp_path, 5, 276, "x")  # last digit of ADD_DT
    with pytest.raises(DataError, match=r"line 5, field ADD_DT: expected a date YYYYMMDD, found '2006010x'"):
        import_files([p])
    assert sources() == []


def test_corrupt_cpt_and_xlsx(tmp_path):
    p = tmp_path / "ClinicianDescriptor.txt"
    p.write_text(
        "Concept Id\tCPT Code\tClinician Descriptor Id\tClinician Descriptor\n"
        "1000001\t99990\tabc\tFabricated, not AMA text\n"
    )
    with pytest.raises(
        DataError,
        match=r"^ClinicianDescriptor.txt: line 2, field Clinician Descriptor Id: "
        r"expected a number, found 'abc'$",
    ):
        import_files([p])
    bad = tmp_path / "HCPC2026_JAN_ANWEB.xlsx"
    bad.write_bytes(b"PK\x03\x04 broken")
    with pytest.raises(DataError, match=r"^HCPC2026_JAN_ANWEB.xlsx: not a readable .xlsx workbook"):
        import_files([bad])


def test_same_file_twice_changes_nothing(data_dir):
    (a,) = import_files([HCPCS_TXT])
    st = os.stat(data_dir / "hcpcs.sqlite")
    stamp = store.stamp()
    (b,) = import_files([HCPCS_TXT])
    assert b.unchanged is True and a.unchanged is False
    assert (b.release, b.records, b.modifiers, b.sha256) == (a.release, a.records, a.modifiers, a.sha256)
    assert os.stat(data_dir / "hcpcs.sqlite").st_ino == st.st_ino
    assert store.stamp() == stamp
    assert sources()[0].imported_at == store.sources()[0].imported_at


def test_a_file_read_by_an_older_reader_is_read_again(data_dir, monkeypatch):
    """A fixed parser must not leave the old reading answering because the file's digest is unchanged."""
    hcpcs = parser("hcpcs")
    with monkeypatch.context() as m:
        m.setattr(hcpcs, "READER", hcpcs.READER - 1)
        (a,) = import_files([HCPCS_TXT])
    (b,) = import_files([HCPCS_TXT])
    (c,) = import_files([HCPCS_TXT])
    assert (a.unchanged, b.unchanged, c.unchanged) == (False, False, True)
    con = store.open_kind("hcpcs")
    assert con is not None
    assert con.execute("SELECT reader FROM meta").fetchone() == (hcpcs.READER,)
    con.close()


def test_remove():
    import_files([HCPCS_TXT, *CPT_FILES])
    assert remove("hcpcs") is True
    assert remove("hcpcs") is False
    assert store.get_code("E0114") == [] and store.modifiers() == []
    assert [s.kind for s in sources()] == ["cpt"]


def test_progress_callback(tmp_path):
    calls = []
    import_files([HCPCS_TXT], progress=lambda phase, done, total: calls.append((phase, done, total)))
    assert calls[-1] == ("storing", 7, 7)


def test_import_killed_half_way_leaves_previous_release(tmp_path, data_dir):
    import_files([HCPCS_TXT])
    before = store.stamp()
    april = tmp_path / "HCPC2026_APR_ANWEB.txt"
    april.write_bytes(HCPCS_TXT.read_bytes().replace(b"Crutches, underarm", b"CRUTCHES, UNDERARM"))
    tmps = kill_import_half_way([april], data_dir)
    assert len(tmps) == 1 and tmps[0].startswith(".hcpcs.sqlite.")
    # The previous release still answers; the half-written file is never read.
    assert store.stamp() == before
    assert store.active_kinds() == ["hcpcs"]
    (s,) = sources()
    assert s.release == "2026 January"
    (e,) = store.get_code("E0114")
    assert e.descriptor("long").startswith("Crutches, underarm")
    # The next import clears the dead writer's file and goes through.
    (r,) = import_files([april])
    assert r.release == "2026 April" and not r.unchanged
    assert [n for n in os.listdir(data_dir) if n.endswith(".tmp")] == []
    assert store.get_code("E0114")[0].descriptor("long").startswith("CRUTCHES, UNDERARM")


def test_temp_file_never_through_a_symlink(tmp_path, data_dir, monkeypatch):
    data_dir.mkdir()
    target = tmp_path / "elsewhere"
    monkeypatch.setattr(os, "urandom", lambda n: b"\0" * n)
    link = data_dir / f".hcpcs.sqlite.{os.getpid()}-{'00' * 8}.tmp"  # the one name cptcli.cache can pick
    link.symlink_to(target)
    with pytest.raises(DataError, match="cannot write the imported HCPCS set"):
        import_files([HCPCS_TXT])
    assert not target.exists()
    assert sources() == []


def test_release_from_the_file_when_the_name_has_none(tmp_path):
    p = tmp_path / "hcpcs.txt"
    p.write_bytes(b"HCPCS quarterly update, fabricated preamble, July 2026\r\n" + HCPCS_TXT.read_bytes())
    (r,) = import_files([p])
    assert r.release == "2026 July"


def test_xlsx_dates_as_excel_day_numbers_and_text(tmp_path):
    import openpyxl

    src = hcpcs_fixture.write_xlsx(tmp_path / "a.xlsx")
    wb = openpyxl.load_workbook(src)
    ws = wb.active
    header = [c.value for c in ws[4]]
    add, eff = header.index("ADD_DT") + 1, header.index("ACT_EFF_DT") + 1
    for row in ws.iter_rows(min_row=5):
        if row[add - 1].value is not None:
            row[add - 1].value = 31048  # 1985-01-01 as an Excel day number
            row[eff - 1].value = "2026-01-01"
    p = tmp_path / "HCPC2026_JAN_ANWEB.xlsx"
    wb.save(p)
    codes = {c.code: c for c in _parse(p).codes}
    got = {a.label: a.value for a in codes["E0114"].attributes}
    assert (got["Code added date"], got["Action effective date"]) == ("1985-01-01", "2026-01-01")


def test_zip_inside_a_zip(tmp_path, xlsx):
    inner = _cms_zip(tmp_path, xlsx)
    outer = tmp_path / "bundle.zip"
    with zipfile.ZipFile(outer, "w") as zf:
        zf.write(inner, inner.name)
    (r,) = import_files([outer])
    assert (r.kind, r.release, r.records) == ("hcpcs", "2026 January", 5)


def test_cpt_release_names(tmp_path):
    from cptcli.imports.cpt import release_of

    assert release_of(["Copyright 1995-2025 fabricated holder", "CPT\u00ae 2026 data files (fabricated)"]) == "CPT 2026"
    assert release_of(["Copyright 1995-2025 fabricated holder"], "", "2026_cpt_data.zip") == "CPT 2026"
    assert release_of(["Copyright 1995-2025 fabricated holder"], "", "LONGULT.txt") == "CPT, copyright 2025"
    assert release_of([], "", "LONGULT.txt") == "unknown release"


def test_damaged_member_deep_in_a_library_is_one_line(tmp_path, xlsx):
    # A workbook whose sheet XML is cut short fails inside openpyxl; the user sees one DataError line.
    src = zipfile.ZipFile(xlsx)
    (tmp_path / "bad").mkdir()
    bad = tmp_path / "bad" / "HCPC2026_JAN_ANWEB.xlsx"
    with zipfile.ZipFile(bad, "w") as zf:
        for i in src.infolist():
            data = src.read(i)
            if i.filename.startswith("xl/worksheets/"):
                data = data[: len(data) // 2]
            zf.writestr(i.filename, data)
    with pytest.raises(DataError) as e:
        import_files([bad])
    assert e.value.message.startswith("HCPC2026_JAN_ANWEB.xlsx: ")
    assert "\n" not in e.value.message


def test_nucc_release_9_layout_copyright_row_under_the_header_and_windows_1252():
    # NUCC 9.0 as published: quoted header, the licence notice as the first row under it, a 0x92 apostrophe.
    (r,) = import_files([FIX / "nucc" / "nucc_taxonomy_90.csv"])
    assert (r.kind, r.release, r.records, r.skipped_count) == ("nucc", "Version 9.0", 2, 0)
    t = store.taxonomy("999D00000X")
    assert t is not None
    assert t.definition == "A fabricated definition needing a master\u2019s degree."
    assert store.taxonomy("999E00000X").specialization == "Fabricated Addiction"


def test_a_file_named_as_no_kind_is_not_a_set(data_dir, cache, main):
    """A stray "notes.sqlite" (or a later version's kind) in the data directory is no set: before, every
    look-up stopped on it as a damaged set (exit 3) whose fix, 'import --remove notes', was no kind."""
    import sqlite3

    data_dir.mkdir(mode=0o700)
    sqlite3.connect(data_dir / "notes.sqlite").execute("CREATE TABLE x (a)").connection.close()
    code, out, err = main("import", str(HCPCS_TXT))
    assert code == 0, err
    code, out, err = main("show", "20700", "--json")
    assert (code, err) == (0, "") and json.loads(out)["code"] == "20700"
    code, out, err = main("sources", "--json")
    assert code == 0 and [s["kind"] for s in json.loads(out)] == ["knowledge base (bundled)", "hcpcs"], out
    code, out, err = main("cache", "info", "--section", "imported", "-f", "csv")
    assert code == 0 and "notes" not in out and "hcpcs" in out, out
    assert (data_dir / "notes.sqlite").exists()  # not ours to remove
