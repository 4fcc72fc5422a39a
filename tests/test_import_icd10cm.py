"""The icd10cm kind: CDC's ICD-10-CM order file of a fiscal year (real, public-domain rows as fixtures)."""

from __future__ import annotations

import sqlite3
import zipfile
from pathlib import Path

import pytest

from cptcli.errors import DataError, UsageError
from cptcli.imports import KINDS, import_files, parser, sources, store, verdict
from cptcli.imports import icd10cm as icd
from cptcli.imports.kind import CONTENT, NAME_ONLY

FIX = Path(__file__).resolve().parent / "fixtures" / "imports" / "icd10cm"
FY26 = FIX / "icd10cm_order_2026.txt"
FY25 = FIX / "icd10cm_order_2025.txt"
DAMAGED = FIX / "icd10cm_order_2026_damaged.txt"

pytestmark = pytest.mark.usefixtures("data_dir")


def _rows(slot: str) -> list[tuple]:
    con = store.open_kind("icd10cm", slot)
    assert con is not None
    try:
        return con.execute("SELECT code, billable, short, long FROM icd ORDER BY rowid").fetchall()
    finally:
        con.close()


def test_every_field_the_code_with_its_dot_and_the_fiscal_year():
    (r,) = import_files([FY26])
    assert (r.kind, r.slot, r.release, r.covers, r.records) == (
        "icd10cm",
        "FY2026",
        "FY2026 (October 1, 2025 – September 30, 2026)",
        ("2025-10-01", "2026-09-30"),
        7,
    )
    assert _rows("FY2026") == [
        ("A00", 0, "Cholera", "Cholera"),
        (
            "A00.0",
            1,
            "Cholera due to Vibrio cholerae 01, biovar cholerae",
            "Cholera due to Vibrio cholerae 01, biovar cholerae",
        ),
        (
            "A00.1",
            1,
            "Cholera due to Vibrio cholerae 01, biovar eltor",
            "Cholera due to Vibrio cholerae 01, biovar eltor",
        ),
        ("A00.9", 1, "Cholera, unspecified", "Cholera, unspecified"),
        ("E11", 0, "Type 2 diabetes mellitus", "Type 2 diabetes mellitus"),
        ("E11.65", 1, "Type 2 diabetes mellitus with hyperglycemia", "Type 2 diabetes mellitus with hyperglycemia"),
        ("I10", 1, "Essential (primary) hypertension", "Essential (primary) hypertension"),
    ]
    assert icd.dotted("M5416") == "M54.16" and icd.dotted("S0200XA") == "S02.00XA" and icd.dotted("I10") == "I10"


def test_the_table_is_the_declared_shape_with_its_index(data_dir):
    import_files([FY26])
    con = sqlite3.connect(data_dir / "icd10cm.FY2026.sqlite")
    try:
        cols = [c[1] for c in con.execute("PRAGMA table_info(icd)")]
        plan = " ".join(str(r) for r in con.execute("EXPLAIN QUERY PLAN SELECT * FROM icd WHERE code = 'E11.65'"))
    finally:
        con.close()
    assert cols == ["code", "billable", "short", "long"]
    assert "USING INDEX icd_0" in plan


def test_two_fiscal_years_side_by_side_and_the_one_in_force():
    a, b = import_files([FY25, FY26])
    assert (a.slot, a.covers, a.records) == ("FY2025", ("2024-10-01", "2025-09-30"), 4)
    assert (b.slot, b.covers, b.records) == ("FY2026", ("2025-10-01", "2026-09-30"), 7)
    got = {s.slot: (s.release, s.files) for s in sources() if s.kind == "icd10cm"}
    assert got == {
        "FY2025": ("FY2025 (October 1, 2024 – September 30, 2025)", ("icd10cm_order_2025.txt",)),
        "FY2026": ("FY2026 (October 1, 2025 – September 30, 2026)", ("icd10cm_order_2026.txt",)),
    }
    assert [r[0] for r in _rows("FY2025")] == ["A00", "A00.0", "A00.1", "A00.9"]
    mine = [s for s in sources() if s.kind == "icd10cm"]
    assert icd.in_force(mine, "2025-09-30").slot == "FY2025"
    assert icd.in_force(mine, "2025-10-01").slot == "FY2026"
    assert icd.in_force(mine, "2024-09-30") is None and icd.in_force(mine, "2026-10-01") is None


def test_an_april_update_sits_beside_its_october_release_and_is_in_force_from_april(tmp_path):
    april = tmp_path / "icd10cm-order-April-2026.txt"
    # QA0 is a category the April 2026 tabular list added (two letters lead it); its short description is cut here.
    qa0 = "Neurodevelopmental disorders related to specific genetic pathogenic variants"
    added = f"30493 QA0     0 {qa0[:56]:<60} {qa0}\r\n".encode()
    april.write_bytes(FY26.read_bytes().replace(b"11580 I10 ", b"11581 I10 ") + added)
    import_files([FY26])
    (r,) = import_files([april])
    assert (r.slot, r.release, r.covers) == (
        "FY2026-April",
        "FY2026 April update (April 1, 2026 – September 30, 2026)",
        ("2026-04-01", "2026-09-30"),
    )
    assert _rows("FY2026-April")[-1] == ("QA0", 0, qa0[:56], qa0)
    assert icd.dotted("QA00101") == "QA0.0101"
    mine = [s for s in sources() if s.kind == "icd10cm"]
    assert sorted(s.slot for s in mine) == ["FY2026", "FY2026-April"]
    assert icd.in_force(mine, "2026-03-31").slot == "FY2026"
    assert icd.in_force(mine, "2026-04-01").slot == "FY2026-April"


def test_a_damaged_line_is_refused_with_file_line_and_field_and_the_active_release_stays():
    import_files([FY26])
    with pytest.raises(DataError) as e:
        import_files([DAMAGED])
    assert e.value.message == (
        "icd10cm_order_2026_damaged.txt: line 5, field header/valid flag: expected 0 or 1, found '2'"
    )
    (s,) = [s for s in sources() if s.kind == "icd10cm"]
    assert s.files == ("icd10cm_order_2026.txt",) and len(_rows("FY2026")) == 7


@pytest.mark.parametrize(
    "edit,message",
    [
        (
            lambda t: t.replace("04413 E1165 ", "04413 E11.6 "),
            "line 6, field code: expected an ICD-10-CM code, found 'E11.6  '",
        ),
        (
            lambda t: t.replace("04413 E1165 ", "0441x E1165 "),
            "line 6, field order number: expected 5 digits, found '0441x'",
        ),
        (
            lambda t: t.replace("hypertension\r\n", "hypertension\r\n11581 I10     1 Essential\r\n"),
            "line 8, field long description",
        ),
        (lambda t: t + t.splitlines(keepends=True)[1], "line 8, field code: A00.0 was already given at line 2"),
    ],
)
def test_other_damage_names_its_line_and_field(tmp_path, edit, message):
    bad = tmp_path / "icd10cm_order_2026.txt"
    bad.write_bytes(edit(FY26.read_bytes().decode()).encode())
    with pytest.raises(DataError, match="^icd10cm_order_2026.txt: " + message.replace("(", r"\(").replace(")", r"\)")):
        import_files([bad], kind="icd10cm")


def test_reimport_is_unchanged():
    (a,) = import_files([FY26])
    (b,) = import_files([FY26])
    assert not a.unchanged and b.unchanged and (b.slot, b.release) == (a.slot, a.release)


def test_a_zip_names_the_year_where_the_file_does_not(tmp_path):
    z = tmp_path / "icd10cm-Code Descriptions-2026.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.write(FY26, "order.txt")
        f.writestr("README.txt", "Code descriptions in tabular order\r\n")
    (r,) = import_files([z])
    assert (r.slot, r.files, r.records) == ("FY2026", ("order.txt",), 7)
    assert [s.name for s in r.skipped_files] == ["README.txt"]
    (s,) = [s for s in sources() if s.kind == "icd10cm"]
    assert (s.slot, s.files, s.covers) == ("FY2026", ("order.txt",), ("2025-10-01", "2026-09-30"))


def test_a_file_that_names_no_fiscal_year_is_refused(tmp_path):
    p = tmp_path / "order.txt"
    p.write_bytes(FY26.read_bytes())
    with pytest.raises(DataError, match=r"^order.txt: which fiscal year\?"):
        import_files([p])


def test_detection_by_content_only_by_this_kind():
    for f in sorted(FIX.iterdir()):
        head = f.read_bytes()[:65536]
        scores = {k: parser(k).sniff(f.name, head) for k in KINDS}
        assert scores["icd10cm"] == CONTENT, f.name
        # cpt's MEDU/SHORTU lines also open with five characters and a space: it must not claim these.
        assert all(s == 0 for k, s in scores.items() if k != "icd10cm"), (f.name, scores)
        assert verdict(f.name, head).kind == "icd10cm"
    assert icd.sniff("codes.txt", FY26.read_bytes()) == CONTENT
    assert icd.sniff("icd10cm_order_2026.txt", b"notes\r\n") == NAME_ONLY


def test_a_pcs_order_file_is_not_this_kind(tmp_path):
    # The procedure-code order file has the same columns (these lines are invented in its layout); its codes start
    # with a digit (section 0 comes first).
    pcs = "".join(
        f"{i:05d} {c:<7} {f} {d:<60} {d}\r\n"
        for i, (c, f, d) in enumerate(
            [
                ("001", 0, "Central Nervous System and Cranial Nerves, Bypass"),
                ("00160", 0, "Bypass Cerebral Ventricle"),
                ("0016070", 1, "Bypass Cereb Vent to Nasophar with Autol Sub, Open Approach"),
                ("0016071", 1, "Bypass Cereb Vent to Mastoid Sinus w Autol Sub, Open"),
            ],
            1,
        )
    )
    p = tmp_path / "icd10pcs_order_2026.txt"
    p.write_text(pcs)
    assert icd.sniff(p.name, p.read_bytes()) == 0
    with pytest.raises(UsageError, match="not a file cptcli can import"):
        import_files([p])


def test_check_judges_a_date_by_the_april_update_from_april_and_by_the_october_file_before(tmp_path):
    from cptcli.codesets import releases

    april = tmp_path / "icd10cm-order-April-2026.txt"
    april.write_bytes(FY26.read_bytes()[: FY26.read_bytes().index(b"04301")])  # another set: A00 only
    import_files([FY26, april])
    lookup = store.Lookup()
    try:
        before, after = releases.for_date("2026-03-31", lookup), releases.for_date("2026-04-01", lookup)
        assert before.covers == ("2025-10-01", "2026-09-30") and before.exists("E11.65")
        assert after.covers == ("2026-04-01", "2026-09-30") and not after.exists("E11.65")
        assert "FY2026 April update" in after.authority
    finally:
        lookup.close()
