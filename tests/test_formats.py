"""Output formats and sections: the shape of each format is pinned on real codes, so a change is deliberate."""

import csv
import importlib.metadata
import io
import json

import pytest

from cptcli import __version__
from cptcli.knowledge import bundled_path
from cptcli.render import FORMATS
from cptcli.render import flat as sec

MODIFIERS_CSV_HEAD = [
    "code,modifier,description,when_to_use,data_note,sources",
    "20700,11,Normal/standard service,When 20700 is performed as the primary service without unusual "
    "circumstances,correction: not a modifier in the registry,000_944fcdce29adbcd4.txt",
    "20700,22,Increased procedural services,When significantly greater effort than usual is required to create "
    "the deep subfascial pocket,,000_944fcdce29adbcd4.txt",
]
CSV_HEADERS = [
    "code,field,value,copyright,sources",
    "code,modifier,description,when_to_use,data_note,sources",
    "code,taxonomy_code,specialty,notes,data_note,sources",
    "code,icd10_code,description,relevance,data_note,sources",
    "code,related_code,description,relationship,in_knowledge_base,sources",
    "code,text,codes,sources",
    "code,field,value,meaning,sources",
    "code,kind,subject,text,authority,correction,sources",
    "code,source,title,publisher,kind",
    "code,edit,setting,value,meaning,source",
    "code,setting,column1,column2,effective,ends,modifier_indicator,meaning,rationale,in_force_on_date,source",
]


def test_csv_modifiers_shape(cli):
    r = cli("show", "20700", "--format", "csv", "--section", "modifiers")
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[:3] == MODIFIERS_CSV_HEAD
    rows = list(csv.reader(io.StringIO(r.stdout)))
    assert [row[1] for row in rows[1:]] == [
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


@pytest.mark.parametrize("fmt,delimiter", [("csv", ","), ("tsv", "\t")])
def test_csv_and_tsv_hold_one_table_each_section_its_own(cli, fmt, delimiter):
    r = cli("show", "20700", "--format", fmt)
    assert r.stdout.splitlines()[0] == CSV_HEADERS[0].replace(",", delimiter)
    assert r.stderr == (
        f"cptcli: note: {fmt} holds one table; the others: modifiers, taxonomy, diagnoses, related, "
        "notes, sources (--section NAME)\n"
    )
    blocks = []
    for name in sec.SECTIONS:
        one = cli("show", "20700", "--format", fmt, "--section", name)
        assert one.exit_code == 0 and one.stderr == ""
        blocks.append(one.stdout)
    assert [b.splitlines()[0] for b in blocks] == [h.replace(",", delimiter) for h in CSV_HEADERS]
    for block in blocks:
        for row in list(csv.reader(io.StringIO(block), delimiter=delimiter))[1:]:
            assert row[0] == "20700"
    several = cli("show", "20700", "--format", fmt, "-s", "modifiers", "-s", "notes")
    assert several.exit_code == 2 and several.stdout == ""
    assert several.stderr == f"cptcli: error: {fmt} holds one table: give one --section (modifiers, notes)\n"


def test_csv_facts_rows(cli):
    blocks = [cli("show", "20700", "--format", "csv").stdout]
    facts = list(csv.reader(io.StringIO(blocks[0])))
    assert facts[1] == ["20700", "completeness", "full", "", ""]
    assert facts[2] == ["20700", "add_on", "true", "", "001_596d63048c814939.txt"]
    assert facts[3] == [
        "20700",
        "title",
        "Manual preparation and insertion of drug-delivery device(s), deep",
        "",
        "001_596d63048c814939.txt",
    ]
    descriptor = next(r for r in facts if r[1] == "descriptor")
    assert descriptor[3] == "© Copyright 2026 American Medical Association. All rights reserved."


def test_csv_several_codes_share_one_header(cli):
    out = cli("show", "20700", "20702", "--format", "csv", "--section", "modifiers").stdout
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0][0] == "code" and sum(1 for r in rows if r[0] == "code") == 1
    assert [r[0] for r in rows[1:]][-2:] == ["20702", "20702"]


def test_markdown_shape(cli):
    out = cli("show", "20700", "--format", "markdown", "--section", "modifiers").stdout
    assert out.splitlines()[:5] == [
        "## Modifiers",
        "",
        "| code | modifier | description | when_to_use | data_note | sources |",
        "|---|---|---|---|---|---|",
        "| 20700 | 11 | Normal/standard service | When 20700 is performed as the primary service without unusual "
        "circumstances | correction: not a modifier in the registry | 000_944fcdce29adbcd4.txt |",
    ]
    full = cli("show", "20700", "--format", "markdown").stdout
    assert [x for x in full.splitlines() if x.startswith("## ")] == [f"## {sec.TITLES[s]}" for s in sec.SECTIONS]


def test_markdown_escapes_pipes_and_newlines():
    from cptcli.render.markdown import _cell

    assert _cell("a|b\nc") == "a\\|b c" and _cell(None) == "—" and _cell(True) == "yes"


def test_json_section_keeps_only_its_keys(cli):
    doc = json.loads(cli("show", "20700", "--format", "json", "--section", "modifiers", "-s", "notes").stdout)
    assert set(doc) == {"schema_version", "code", "modifiers", "notes"}
    assert doc["schema_version"] == 1


def test_json_flag_is_format_json(cli):
    assert cli("show", "20700", "--json").stdout == cli("show", "20700", "--format", "json").stdout


def test_every_json_key_belongs_to_a_section(cli):
    doc = json.loads(cli("show", "20700", "--json").stdout)
    owned = set(sec.ALWAYS).union(*sec.JSON_KEYS.values())
    # `payer` is there only with payer edits imported (tests/test_payer_rules.py).
    assert set(doc) == owned - {"payer"}


def test_jsonl_is_one_compact_object_a_line(cli):
    out = cli("show", "20700", "20701", "--format", "jsonl").stdout
    lines = out.splitlines()
    assert len(lines) == 2 and all("\n" not in x and x.startswith('{"schema_version": 1') for x in lines)
    assert [json.loads(x)["code"] for x in lines] == ["20700", "20701"]
    listed = cli("list", "--format", "jsonl").stdout.splitlines()
    assert json.loads(listed[0]) == json.loads(cli("list", "--json").stdout)[0]
    hits = cli("search", "baclofen pump removal", "--format", "jsonl").stdout.splitlines()
    assert json.loads(hits[0])["code"] == "20701"


def test_search_and_list_csv_and_markdown_headers(cli):
    assert cli("list", "--format", "csv").stdout.splitlines()[:2] == [
        "code,display_code,title,add_on,completeness",
        '20700,\'+20700,"Manual preparation and insertion of drug-delivery device(s), deep",true,full',
    ]
    assert (
        cli("search", "baclofen pump removal", "--format", "csv").stdout.splitlines()[0]
        == "code,title,score,matched_field,snippet,completeness,add_on,matched_row,data_note,caution,family,missing"
    )
    assert cli("list", "--format", "markdown").stdout.splitlines()[:2] == [
        "| code | display_code | title | add_on | completeness |",
        "|---|---|---|---|---|",
    ]


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_a_cautioned_hit_keeps_its_caution_and_its_note_in_flat_formats(cli, fmt):
    # A contested reading read in a spreadsheet is as contested as on a terminal.
    out = cli("search", "baclofen pump removal", "-n", "1", "--format", fmt).stdout
    (row,) = list(csv.DictReader(io.StringIO(out), delimiter="," if fmt == "csv" else "\t"))
    (hit,) = json.loads(cli("search", "baclofen pump removal", "-n", "1", "--json").stdout)
    assert row["code"] == hit["code"] == "20701"
    assert row["caution"] == hit["caution"] and "62365" in row["caution"]
    out = cli("search", "20700 pocket", "-n", "1", "--format", fmt).stdout
    (row,) = list(csv.DictReader(io.StringIO(out), delimiter="," if fmt == "csv" else "\t"))
    assert row["data_note"] == "sources conflict on descriptor: see cptcli show 20700"


def test_table_section_cuts_the_terminal_view(cli):
    out = cli("show", "20700", "--section", "modifiers").stdout
    assert "Modifiers" in out and "Provider taxonomy" not in out and "CPT +20700" not in out
    full = cli("show", "20700", "--section", "facts", "--section", "sources").stdout
    assert "CPT +20700" in full and "Sources" in full and "Modifiers" not in full


def test_every_table_part_has_a_section():
    from cptcli.engine import Engine
    from cptcli.render import table

    engine = Engine.open([bundled_path()])
    seen = set()
    for code in engine.codes():
        for name, _ in table.show(engine.show(code), engine.sources):
            assert name in sec.SECTIONS
            seen.add(name)
    # Only imported code sets fill these (test_import_cli, test_payer_rules).
    assert seen == set(sec.SECTIONS) - {"official", "payer", "ptp"}


@pytest.mark.parametrize("args", [["--section", "bogus"], ["--format", "xml"], ["--json", "--format", "csv"]])
def test_bad_format_or_section_is_a_usage_error(main, args):
    code, out, err = main("show", "20700", *args)
    assert (code, out) == (2, "") and err.count("\n") == 1 and err.startswith("cptcli: error: ")


def test_unknown_section_lists_valid_names(main):
    _, _, err = main("show", "20700", "--section", "bogus")
    assert err == f"cptcli: error: unknown section 'bogus': choose from {', '.join(sec.SECTIONS)}\n"


def test_section_help_names_every_section(main):
    _, out, _ = main("show", "--help")
    assert all(s in " ".join(out.split()) for s in sec.SECTIONS)


def test_batch_csv_prints_one_header(cli):
    r = cli("show", "-", "--format", "csv", "--section", "modifiers", input="20700\n20702\n")
    assert r.exit_code == 0 and r.stdout.count("code,modifier,") == 1


def test_code_and_section_completion():
    from conftest import subprocess_cli
    from cptcli.cli import _complete_code

    assert [c for c, _ in _complete_code("2070")] == ["20700", "20701", "20702", "20703", "20704", "20705"]
    assert _complete_code("+20701") == [("20701", "Removal of drug-delivery device(s), deep")]
    # Each command completes its own sections.
    for words, expected in (
        ("cptcli show 20700 --section mod", ["modifiers"]),
        ("cptcli icd M54.5 --section li", ["listed_by"]),
        ("cptcli import x.csv --section s", ["skipped"]),
    ):
        env = {"_CPTCLI_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": "4"}
        assert subprocess_cli(env=env).stdout.decode().split() == expected, words


def test_shell_completion_through_typer():
    from conftest import subprocess_cli

    p = subprocess_cli("--show-completion", "bash")
    assert p.returncode == 0 and b"complete" in p.stdout
    p = subprocess_cli(env={"_CPTCLI_COMPLETE": "complete_bash", "COMP_WORDS": "cptcli show 2070", "COMP_CWORD": "2"})
    assert p.stdout.decode().split() == ["20700", "20701", "20702", "20703", "20704", "20705"]


def test_version_matches_package_metadata():
    from conftest import subprocess_cli

    p = subprocess_cli("--version")
    assert p.stdout.decode() == f"cptcli {importlib.metadata.version('cptcli')}\n"
    assert importlib.metadata.version("cptcli") == __version__


# -- hostile text in every format and every result type -----------------------------------------
# A payload that tries everything at once: a formula, a terminal escape (ESC and C1 CSI), a bidi
# override, a table pipe, a newline and a bare carriage return. RED marks where it landed.
HOSTILE = '=HYPERLINK("x")\x1b[31mRED\u202eevil|pipe\nnew\rcr\x9b1m'
# One command per result type, with where the payload reaches it (a type without reach still has
# its escapes checked on what it prints).
BY_RESULT = {
    "ShowResults": (["show", "20700"], True),
    "Hits": (["search", "drug delivery"], True),
    "CodeList": (["list"], True),
    "CheckReport": (["check", "20700", "--modifier", "59"], True),
    "AuditReport": (["audit"], True),
    # "rows": in the codes that list it, a table a one-table format leaves out.
    "IcdResult": (["icd", "M54.16"], "rows"),
    # ICD-10-CM's own descriptions: the knowledge base's text never reaches them.
    "IcdHits": (["icd", "search", "low back pain"], False),
    "ModifierResult": (["modifier", "22"], "rows"),
    "Validation": (["validate", "{kb}"], True),
    "Sources": (["sources"], True),
    "Imports": (["import", "{nucc}"], True),
    "ClaimsReport": (["check", "--claims", "{claims}"], True),
    # Paths and file names of the test's own directories only.
    "CacheInfo": (["cache", "info"], False),
    "CacheCleared": (["cache", "clear"], False),
}
RAW = ("\x1b", "\x9b", "\u202e")


def test_every_result_type_is_in_the_hostile_text_suite():
    from cptcli.render.flat import tables

    assert set(BY_RESULT) == {t.__name__ for t in tables.registry if t is not object}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """A base of its own: 20700 as bundled, its title, rows and payers carrying HOSTILE; and a
    NUCC fixture under a hostile name."""
    import copy
    import shutil
    from pathlib import Path

    tmp = tmp_path_factory.mktemp("hostile")
    doc = json.loads(bundled_path().read_text(encoding="utf-8"))
    rec = copy.deepcopy(next(r for r in doc["codes"] if r["code"] == "20700"))
    rec["title"]["text"] = "Drug delivery " + HOSTILE
    for name in ("related", "cross_references"):
        rec.pop(name, None)
    rec["notes"] = [n for n in rec.get("notes", []) if n["subject"] != "related"]
    for row in rec["modifiers"] + rec["diagnoses"]:
        row["description"] = HOSTILE
    rec.setdefault("payers", []).append({"text": HOSTILE, "sources": rec["title"]["sources"]})
    doc["codes"] = [rec]
    kb = tmp / f"kb{HOSTILE[15:30]}.json".replace("\n", "").replace("|", "")
    kb.write_text(json.dumps(doc), encoding="utf-8")
    nucc = tmp / "nucc\x1b[31mRED\u202e.csv"
    shutil.copy(Path(__file__).parent / "fixtures" / "imports" / "nucc" / "nucc_taxonomy_251.csv", nucc)
    claims = tmp / "claims.csv"
    one_line = HOSTILE.replace("\n", " ").replace("\r", " ")  # a claim id is one line of the file
    claims.write_text(f'claim,code,date\n"{one_line}",20700,2026-06-01\n', encoding="utf-8")
    return {"kb": str(kb), "nucc": str(nucc), "claims": str(claims)}


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("result", sorted(BY_RESULT))
def test_hostile_text_is_inert_in_every_format(main, hostile, data_dir, cache, result, fmt):
    argv, reaches = BY_RESULT[result]
    code, out, err = main("--no-bundled", "--data", hostile["kb"], *[a.format(**hostile) for a in argv], "-f", fmt)
    assert code in (0, 1, 4) and out, err
    assert not [c for c in RAW if c in out]  # no escape a terminal acts on, no reordering
    shown = reaches is True or (reaches == "rows" and not FORMATS[fmt].one_table)
    # A table may cut a long cell, visibly ("…", issue 27): the escape is then inert by not being there at all.
    assert ("RED" in out) is shown or (fmt == "table" and shown and "…" in out)
    if fmt in ("json", "jsonl"):
        docs = [json.loads(line) for line in out.splitlines()] if fmt == "jsonl" else [json.loads(out)]
        assert docs
    elif fmt in ("csv", "tsv"):
        rows = list(csv.reader(io.StringIO(out, newline=""), delimiter="," if fmt == "csv" else "\t"))
        assert all(len(r) == len(rows[0]) for r in rows)  # a CR or newline never splits a row
        assert [c for r in rows for c in r if c[:1] in ("=", "+", "-", "@", "\t", "\r")] == []
    elif fmt == "markdown":
        assert "\r" not in out
        for block in out.split("\n\n"):
            rows = [r for r in block.split("\n") if r.startswith("|")]
            assert len({len(r.replace("\\\\", "").replace("\\|", "").split("|")) for r in rows}) <= 1, rows
    else:
        assert "\r" not in out


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("result", sorted(r for r, (argv, _) in BY_RESULT.items() if "{" not in " ".join(argv)))
def test_an_unknown_section_is_a_usage_error_in_every_format(main, result, fmt):
    argv, _ = BY_RESULT[result]
    code, out, err = main(*argv, "--section", "bogus", "-f", fmt)
    assert (code, out) == (2, "") and err.startswith("cptcli: error: unknown section 'bogus': choose from ")


@pytest.mark.parametrize("fmt", ["json", "csv", "tsv", "jsonl"])
def test_a_stream_prints_what_the_codes_given_at_once_print(cli, fmt):
    many = cli("show", "20700", "+20701", "20703", "-f", fmt)
    streamed = cli("show", "-", "-f", fmt, input="20700\n+20701\n# a comment\n20703\n")
    assert streamed.exit_code == many.exit_code == 0 and streamed.stdout == many.stdout


def test_a_markdown_stream_keeps_each_records_tables_apart(cli):
    one = [cli("show", c, "-f", "markdown").stdout for c in ("20700", "20701")]
    streamed = cli("show", "-", "-f", "markdown", input="20700\n20701\n").stdout
    assert streamed == one[0] + "\n" + one[1]
    assert "\n\n## Facts\n" in streamed[len(one[0]) - 1 :]  # a blank line before the next record
    listed = cli("show", "-", "-f", "markdown", "-s", "modifiers", input="20700\n20702\n").stdout
    assert listed.count("## Modifiers") == 2


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_hostile_text_is_inert_in_shows_wide_layout(main, hostile, cache, fmt):
    code, out, err = main("--no-bundled", "--data", hostile["kb"], "show", "20700", "-f", fmt, "--wide")
    assert (code, err) == (0, "")
    assert not [c for c in RAW if c in out] and "RED" in out
    rows = list(csv.reader(io.StringIO(out, newline=""), delimiter="," if fmt == "csv" else "\t"))
    assert len(rows) == 2 and len(rows[1]) == len(rows[0])  # a CR or newline never splits the row
    assert [c for r in rows for c in r if c[:1] in ("=", "+", "-", "@", "\t", "\r")] == []


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_an_unknown_section_is_refused_before_a_search_that_finds_nothing(main, fmt):
    # Without the check before the look-up, the empty answer's exit 1 would hide the usage error.
    code, out, err = main("search", "qqqzzz", "--section", "bogus", "-f", fmt)
    assert (code, out, err) == (2, "", "cptcli: error: unknown section 'bogus': choose from hits, icd\n")
