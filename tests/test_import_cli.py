"""`cptcli import` and `cptcli sources`, and every command answering over the imported sets."""

import hashlib
import json
import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures" / "imports"
HCPCS = FIXTURES / "HCPC2026_JAN_ANWEB.txt"
CPT = [
    FIXTURES / "cpt" / f"{n}.txt" for n in ("LONGULT", "MEDU", "SHORTU", "ConsumerDescriptor", "ClinicianDescriptor")
]


pytestmark = pytest.mark.usefixtures("data_dir", "cache")  # a data and a cache directory of its own


def run_json(main, *args):
    code, out, err = main(*args, "--json")
    return code, (json.loads(out) if out else None), err


def test_import_hcpcs_reports_what_it_did(main):
    code, doc, err = run_json(main, "import", str(HCPCS))
    assert code == 0, err
    [report] = doc
    assert (report["kind"], report["release"], report["records"], report["modifiers"]) == (
        "hcpcs",
        "2026 January",
        5,
        2,
    )
    assert report["skipped_count"] == 2 and report["skipped"][0]["line"] == 15
    assert report["sha256"] == {HCPCS.name: hashlib.sha256(HCPCS.read_bytes()).hexdigest()}
    again = run_json(main, "import", str(HCPCS))[1]
    assert again[0]["unchanged"] is True


def test_every_command_answers_over_an_imported_hcpcs_set(main):
    assert main("import", str(HCPCS))[0] == 0
    code, doc, _ = run_json(main, "show", "J1100")
    assert code == 0 and doc["completeness"] == "official" and doc["title"]["text"].startswith("Injection, dexameth")
    assert doc["title"]["sources"] == ["HCPC2026_JAN_ANWEB.txt, 2026 January"]
    coverage = next(a for a in doc["official"] if a["label"] == "Coverage")
    assert (coverage["value"], coverage["meaning"]) == ("C", "Carrier judgment")
    assert [h["code"] for h in run_json(main, "search", "quad cane")[1]][:1] == ["E0105"]
    assert [h["code"] for h in run_json(main, "search", "crutches")[1]][:1] == ["E0114"]
    assert "E0114" in [s["code"] for s in run_json(main, "list")[1]]
    code, report, _ = run_json(main, "check", "E0114", "--modifier", "RT")
    assert code == 4 and report["verdict"] == "unverified" and report["code"] == "E0114"
    code, _, err = main("show", "E0114", "--section", "official")
    assert code == 0 and "Official code set" in _


def test_sources_lists_the_bundled_base_and_each_imported_set(main):
    main("import", str(HCPCS))
    code, rows, _ = run_json(main, "sources")
    assert code == 0 and [r["kind"] for r in rows] == ["knowledge base (bundled)", "hcpcs"]
    assert rows[0]["records"] == 11 and rows[1]["release"] == "2026 January"
    assert rows[1]["sha256"][HCPCS.name] == hashlib.sha256(HCPCS.read_bytes()).hexdigest()


@pytest.mark.parametrize("columns", ["80", "100"])
def test_the_sources_table_prints_each_file_name_and_its_sha256_whole(main, monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", columns)
    main("import", str(HCPCS))
    code, out, _ = main("sources")
    lines = out.splitlines()
    digest = hashlib.sha256(HCPCS.read_bytes()).hexdigest()
    at = lines.index(f"  hcpcs: {HCPCS.name}")
    assert code == 0 and lines[at + 1] == f"      {digest}"
    (row,) = [line for line in lines if line.startswith("  hcpcs ")]
    assert row.split()[:3] == ["hcpcs", "2026", "January"] and row.endswith(" UTC")
    assert "…" not in out and max(len(line) for line in lines) <= int(columns)


def test_remove_a_set_and_its_codes_are_gone(main):
    main("import", str(HCPCS))
    assert main("import", "--remove", "hcpcs")[0] == 0
    code, _, err = main("show", "J1100")
    assert code == 1 and "not in the knowledge base" in err
    code, _, err = main("import", "--remove", "hcpcs")
    assert code == 1 and err == "cptcli: error: no hcpcs set is imported\n"


def test_a_curated_code_and_its_imported_descriptor_stand_side_by_side(main, tmp_path):
    for f in CPT:
        shutil.copy(f, tmp_path / f.name)
    longult = tmp_path / "LONGULT.txt"
    longult.write_text(
        longult.read_text(encoding="utf-8") + "20700\tFabricated long descriptor for 20700, not AMA text\n",
        encoding="utf-8",
    )
    code, _, err = main("import", *[str(tmp_path / f.name) for f in CPT])
    assert code == 0, err
    code, doc, _ = run_json(main, "show", "20700")
    assert doc["completeness"] == "full" and doc["title"]["sources"] == ["001_596d63048c814939.txt"]
    assert [d["text"] for d in doc["official_descriptors"]] == ["Fabricated long descriptor for 20700, not AMA text"]
    [note] = [n for n in doc["notes"] if n["kind"] == "official"]
    assert note["correction"] == "Fabricated long descriptor for 20700, not AMA text" and "LONGULT.txt" in note["text"]


@pytest.mark.parametrize(
    "args,status,message",
    [
        (["import"], 2, "cptcli: error: give at least one FILE to import, or --remove KIND\n"),
        (
            ["import", str(HCPCS), "--kind", "bogus"],
            2,
            "cptcli: error: unknown kind 'bogus': choose from hcpcs, cpt, nucc, ncci-ptp, ncci-mue, ncci-aoc, pfs-rvu, "
            "icd10cm, asp-ndc\n",
        ),
        (
            ["import", str(CPT[0]), "--kind", "hcpcs"],
            2,
            "cptcli: error: LONGULT.txt is a CPT file, not an HCPCS file\n",
        ),
    ],
)
def test_bad_imports_are_one_line(main, args, status, message):
    code, out, err = main(*args)
    assert (code, out, err) == (status, "", message)


def test_imported_modifiers_extend_the_registry_with_the_file_as_authority(main, tmp_path):
    # The fixture's Level II modifiers (GA, LT) are curated too; a fabricated third is the file's alone.
    raw = HCPCS.read_bytes()
    lt = raw.index(b"\r\nLT   008007") + 2
    fabricated = tmp_path / HCPCS.name
    fabricated.write_bytes(raw[:lt] + b"ZB" + raw[lt + 2 :])
    assert main("import", str(fabricated))[0] == 0
    code, doc, err = run_json(main, "modifier", "ZB")
    assert code == 0, err
    assert doc["registry"]["source"] == "HCPC2026_JAN_ANWEB.txt, 2026 January"
    assert doc["registry"]["name"].startswith("Left side")
    code, doc, _ = run_json(main, "modifier", "LT")
    assert doc["registry"]["source"].startswith("CMS HCPCS Level II 2020 annual release")  # curated entry kept


def test_sources_counts_each_knowledge_base_file_s_own_records(main):
    example = Path(__file__).parent / "fixtures" / "example_user_kb.json"
    code, rows, _ = run_json(main, "--data", str(example), "sources")
    own = len(json.loads(example.read_text(encoding="utf-8"))["codes"])
    assert code == 0 and [(r["kind"], r["records"]) for r in rows] == [
        ("knowledge base (bundled)", 11),
        ("knowledge base", own),
    ]


def test_import_builds_the_index_so_the_first_look_up_does_not(main, cache):
    assert main("import", str(HCPCS))[0] == 0
    built = {p.name: p.stat().st_mtime_ns for p in cache.glob("index-*.sqlite")}
    assert len(built) == 1
    code, out, _ = main("show", "E0105", "--json")
    assert code == 0 and json.loads(out)["code"] == "E0105"
    assert {p.name: p.stat().st_mtime_ns for p in cache.glob("index-*.sqlite")} == built


def test_an_unchanged_file_is_said_below_the_table(main):
    assert main("import", str(HCPCS))[0] == 0
    code, out, _ = main("import", str(HCPCS))
    assert code == 0
    assert f"{HCPCS.name}: unchanged, already the active hcpcs release" in out
    assert f"  hcpcs   2026 January   {HCPCS.name}   5 " in out  # the file name on one line


def test_a_release_under_half_the_active_one_is_refused_unless_forced(main, data_dir, cache, tmp_path):
    cms = Path(__file__).parent / "fixtures" / "imports" / "cms" / "HCPC2020_ANWEB_w_disclaimer.txt"
    assert main("import", str(cms))[0] == 0
    # A download cut off a third of the way through: whole records, but far fewer of them.
    lines = cms.read_bytes().split(b"\n")
    short = tmp_path / "HCPC2020_ANWEB_w_disclaimer.txt"
    short.write_bytes(b"\n".join(lines[: len(lines) // 3]) + b"\n")
    code, out, err = main("import", str(short))
    assert (code, out) == (3, "")
    assert "fewer than half of the active HCPCS release's 6,710 (2020): a file cut short?" in err
    assert "The active release stays; --force imports it anyway" in err
    assert json.loads(main("sources", "--json")[1])[1]["records"] == 6710
    code, out, err = main("import", str(short), "--force", "--json")
    assert code == 0 and json.loads(out)[0]["records"] < 3355
