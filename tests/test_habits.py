"""Issue 27's habits: global options anywhere on the line, one JSON document whatever the hits, pasted code
lists and modifier suffixes, the cache commands, per-command help, show's one-row-a-code CSV."""

import json
from pathlib import Path

import pytest

from cptcli import __version__
from cptcli.cli import app, run

KB = str(Path(__file__).resolve().parent / "fixtures" / "example_user_kb.json")
COMMANDS = [c.name or c.callback.__name__ for c in app.registered_commands] + [
    f"{g.typer_instance.info.name} {c.name}"
    for g in app.registered_groups
    for c in g.typer_instance.registered_commands
]


def help_of(name: str, capsys) -> str:
    assert run([*name.split(), "--help"]) == 0
    return capsys.readouterr().out


# -- global options anywhere on the line ------------------------------------------------


@pytest.mark.parametrize(
    "before,after",
    [
        (["--no-bundled", "show", "20700"], ["show", "20700", "--no-bundled"]),
        (
            ["--data", KB, "--no-bundled", "show", "20700", "--json"],
            ["show", "20700", "--json", "--data", KB, "--no-bundled"],
        ),
        (["--data", KB, "--no-bundled", "list"], ["list", "--no-bundled", "--data", KB]),
        (["--no-pager", "search", "beads", "--limit", "2"], ["search", "beads", "--no-pager", "--limit", "2"]),
        (["--data", KB, "--no-bundled", "show", "20700"], ["--data", KB, "show", "20700", "--no-bundled"]),
    ],
)
def test_a_global_option_after_the_command_is_the_same_as_before_it(main, before, after):
    assert main(*after) == main(*before)


def test_no_bundled_after_the_command_without_data_is_the_usage_error_it_is_before(main):
    assert main("show", "20700", "--no-bundled") == (
        2,
        "",
        "cptcli: error: --no-bundled needs at least one --data PATH or CPTCLI_DATA file\n",
    )


@pytest.mark.parametrize("argv", [["show", "20700", "--version"], ["list", "-V"], ["show", "--version"]])
def test_version_after_the_command_prints_the_version(main, argv):
    assert main(*argv) == (0, f"cptcli {__version__}\n", "")


def test_data_files_keep_the_order_of_the_line(main, tmp_path):
    """--data before the command comes first, then those after it: a later file layers over an earlier one."""
    second = tmp_path / "second.json"
    second.write_text(Path(KB).read_text())
    split = main("--data", KB, "--no-bundled", "show", "20700", "--json", "--data", str(second))
    together = main("--data", KB, "--data", str(second), "--no-bundled", "show", "20700", "--json")
    assert split == together and split[0] == 0
    assert json.loads(split[1])["contributors"] == [KB, str(second)]


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_documents_the_global_options_that_apply_to_it(name, capsys):
    text = help_of(name, capsys)
    assert "--version" in text
    reads_the_knowledge_base = name not in ("schema", "source")
    for option in ("--data PATH", "--no-bundled", "--no-pager"):
        assert (option in text) == reads_the_knowledge_base, option


def test_schema_takes_the_global_options_it_does_not_document(main):
    assert main("schema", "--no-bundled")[0] == 0


# -- every JSON output is one document ----------------------------------------------------

NO_HIT = "cptcli: error: no code matches 'zzzqqq' with a score of at least 40\n"


def test_search_json_with_no_hit_prints_the_empty_array(main):
    assert main("search", "zzzqqq", "--json") == (1, "[]\n", NO_HIT)


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "table"])
def test_search_with_no_hit_in_the_other_formats_prints_nothing(main, fmt):
    assert main("search", "zzzqqq", "--format", fmt) == (1, "", NO_HIT)


def test_list_json_with_no_code_of_the_prefix_prints_the_empty_array(main):
    assert main("list", "--prefix", "9999", "--json") == (
        1,
        "[]\n",
        "cptcli: error: no code in the knowledge base starts with 9999\n",
    )


def test_show_json_of_several_unknown_codes_is_the_empty_array_and_of_one_nothing(main):
    several = main("show", "99999", "99998", "--json")
    assert several[:2] == (1, "[]\n") and several[2].count("is not in the knowledge base") == 2
    assert main("show", "99999", "--json")[:2] == (1, "")
    assert main("show", "99999", "99999", "--json")[:2] == (1, "")  # one code, asked twice


def test_show_stdin_json_over_many_lines_is_one_array(cli):
    r = cli("show", "-", "--json", input="20700\n# a comment\n\nnot-a-code\n20701\n99999\n20700\n")
    assert r.exit_code == 2  # a malformed line
    assert [d["code"] for d in json.loads(r.stdout)] == ["20700", "20701", "20700"]
    lines = cli("show", "-", "--format", "jsonl", input="20700\n20701\n").stdout.splitlines()
    assert [json.loads(line)["code"] for line in lines] == ["20700", "20701"]


# -- pasted lists and modifier suffixes, one parser -------------------------------------


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("20700,20701", [("20700", ()), ("20701", ())]),
        ("20700 20701", [("20700", ()), ("20701", ())]),
        ("20700, 20701-59; J1100", [("20700", ()), ("20701", ("59",)), ("J1100", ())]),
        ("20700-RT-59", [("20700", ("RT", "59"))]),
        ("E0143-NU-RR", [("E0143", ("NU", "RR"))]),
        ("CPT 20700 CPT 20701", [("20700", ()), ("20701", ())]),
        ("20700,", [("20700", ())]),
    ],
)
def test_parse_codes_reads_pasted_lists_and_every_suffix(raw, expected):
    from cptcli.codes import parse_codes

    assert parse_codes(raw) == expected


@pytest.mark.parametrize(
    "raw,message",
    [
        ("2070020701", "malformed code '2070020701': expected"),
        (
            "20700 59",
            "malformed code '59': expected a CPT code such as 20700 or +20700, or an HCPCS Level II code "
            "such as J1100 (in '20700 59')",
        ),
        ("20700,abc", "malformed code 'ABC': expected"),
    ],
)
def test_a_malformed_item_of_a_list_is_named(raw, message):
    from cptcli.codes import parse_codes
    from cptcli.errors import UsageError

    with pytest.raises(UsageError) as exc:
        parse_codes(raw)
    assert exc.value.message.startswith(message)


@pytest.mark.parametrize("args", [["20700,20701"], ["20700 20701"], ["20700", "20701"], ["20700,", "20701"]])
def test_show_takes_pasted_lists(main, args):
    code, out, err = main("show", *args, "--json")
    assert (code, err) == (0, "") and [d["code"] for d in json.loads(out)] == ["20700", "20701"]


def test_show_names_the_modifiers_it_does_not_apply(main):
    code, out, err = main("show", "20702-RT-59", "20700-59", "--json")
    assert code == 0 and [d["code"] for d in json.loads(out)] == ["20702", "20700"]
    assert err == (
        "cptcli: note: 20702-RT-59: show describes 20702 alone; modifiers RT, 59 are not applied "
        "(cptcli check 20702-RT-59 applies them)\n"
        "cptcli: note: 20700-59: show describes 20700 alone; modifier 59 is not applied (cptcli check 20700-59 "
        "applies it)\n"
    )


def test_show_stdin_reads_pasted_lists_and_names_modifiers_once(cli):
    r = cli("show", "-", "--format", "jsonl", input="20700-59\n20701 20702\n20703-LT\n")
    assert r.exit_code == 0
    assert [json.loads(line)["code"] for line in r.stdout.splitlines()] == ["20700", "20701", "20702", "20703"]
    assert r.stderr == (
        "cptcli: note: line 1: 20700-59: show describes 20700 alone; modifier 59 is not applied "
        "(cptcli check 20700-59 applies it)\n"
        "cptcli: note: 1 more code typed with modifiers: not applied by show either\n"
    )


def test_the_pre_typer_path_leaves_suffixed_codes_to_the_cli():
    from cptcli import entry

    assert entry.fast(["show", "20700-59", "--json"]) is None


def test_check_applies_every_suffix_as_a_modifier(main):
    suffixed = json.loads(main("check", "20700-RT-59", "--with", "11012", "--json")[1])
    flagged = json.loads(main("check", "20700", "--modifier", "RT", "--modifier", "59", "--with", "11012", "--json")[1])
    assert suffixed["modifiers"] == ["RT", "59"]
    assert suffixed == flagged


def test_check_takes_pasted_lists_of_with_codes_modifiers_and_diagnoses(main):
    code, out, _ = main(
        "check", "20700", "--with", "11012 20701-59", "--modifier", "RT 59", "--dx", "M54.5; G89.29", "--json"
    )
    doc = json.loads(out)
    assert (doc["with"], doc["modifiers"], doc["diagnoses"]) == (
        ["11012", "20701"],
        ["RT", "59"],
        ["M54.5", "G89.29"],
    )


def test_check_refuses_a_list_as_its_one_code(main):
    assert main("check", "20700,20701") == (
        2,
        "",
        "cptcli: error: check judges one CODE, not 2 (20700, 20701): give the others with --with\n",
    )


def test_search_reads_a_modifier_after_the_double_dash(main):
    code, out, err = main("search", "--json", "--", "-59")
    assert (code, err) == (0, "")
    hits = json.loads(out)
    assert hits and all(h["matched_field"] == "modifiers" for h in hits)


# -- cache info and cache clear ------------------------------------------------------------


def _names(directory) -> list[str]:
    return sorted(p.name for p in Path(directory).iterdir())


def test_cache_info_finds_every_file_the_tool_writes_and_names_the_index_in_use(main, cache, data_dir):
    """An index, the ICD-10-CM extract and an invalid file's verdict are written by real calls: each is claimed
    by a kind (none is "other"), the index of the files in play is the one marked in use."""
    bad = cache.parent / "bad.json"
    bad.write_text("{}")
    assert main("show", "20700", "--json")[0] == 0
    assert main("icd", "M54.5", "--json")[0] == 0
    assert main("--data", str(bad), "show", "20700")[0] == 3
    assert (
        main("import", str(Path(__file__).parent / "fixtures" / "imports" / "nucc" / "nucc_taxonomy_251.csv"))[0] == 0
    )
    written = _names(cache)
    code, out, err = main("cache", "info", "--json")
    assert (code, err) == (0, "")
    doc = json.loads(out)
    assert doc["cache_dir"] == str(cache) and doc["refused"] is None and doc["other_files"] == []
    kinds = {c["kind"]: c for c in doc["caches"]}
    assert list(kinds) == ["index", "icd10cm", "invalid", "temporary"]
    assert sorted(f["name"] for c in doc["caches"] for f in c["files"]) == written
    assert [f["name"] for f in kinds["icd10cm"]["files"]] == ["icd10cm.sqlite3"]
    assert len(kinds["invalid"]["files"]) == 1 and kinds["temporary"]["files"] == []
    assert kinds["index"]["location"] == str(cache / "index-*.sqlite")
    for c in doc["caches"]:
        assert (
            c["bytes"]
            == sum(f["bytes"] for f in c["files"])
            == sum((cache / f["name"]).stat().st_size for f in c["files"])
        )
    in_use = [f["name"] for f in kinds["index"]["files"] if f["in_use"]]
    assert len(in_use) == 1
    from cptcli.engine import Engine
    from cptcli.knowledge import bundled_path

    assert in_use == [Path(Engine.open([str(bundled_path())]).path).name]
    assert doc["data_dir"] == str(data_dir) and [(i["set"], i["name"]) for i in doc["imported"]] == [
        ("nucc", "nucc.sqlite")
    ]


def test_cache_info_table_says_where_what_and_how_big(main, cache, data_dir):
    assert main("show", "20700", "--json")[0] == 0
    code, out, err = main("cache", "info")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == f"Caches in {cache}"
    kinds = ("index", "icd10cm", "invalid", "temporary")
    assert [line.split()[:3] for line in lines if line.split()[:1] and line.split()[0] in kinds] == [
        ["index", "index-*.sqlite", "1"],
        ["icd10cm", "icd10cm.sqlite3", "0"],
        ["invalid", "invalid-*.json", "0"],
        ["temporary", "*.tmp", "0"],
    ]
    index = next(cache.glob("index-*.sqlite"))
    assert f"The knowledge-base files in play use {index.name}" in lines
    assert f"No imported code sets (they would live in {data_dir})" in lines


def test_cache_clear_removes_only_cptcli_caches_and_says_what(main, cache, data_dir):
    assert main("show", "20700", "--json")[0] == 0
    assert (
        main("import", str(Path(__file__).parent / "fixtures" / "imports" / "nucc" / "nucc_taxonomy_251.csv"))[0] == 0
    )
    (cache / "notes.txt").write_text("the user's own file")
    (cache / "index-old.sqlite.99999999-0123456789abcdef.tmp").write_bytes(b"x" * 10)  # a dead run's temporary
    (cache / "index-link.sqlite").symlink_to(cache / "notes.txt")  # cptcli writes regular files only
    ours = sorted(p.name for p in cache.iterdir() if p.name.startswith("index-") and not p.is_symlink())
    sizes = {p.name: p.stat().st_size for p in cache.iterdir() if not p.is_symlink()}
    code, out, err = main("cache", "clear", "--json")
    assert (code, err) == (0, "")
    doc = json.loads(out)
    assert sorted(r["name"] for r in doc["removed"]) == ours
    assert doc["bytes"] == sum(sizes[n] for n in ours) and doc["kept"] == []
    assert _names(cache) == ["index-link.sqlite", "notes.txt"]
    assert (data_dir / "nucc.sqlite").exists()  # imported sets are not a cache
    assert main("cache", "clear") == (0, f"Nothing to remove: no cptcli cache in {cache}\n", "")
    assert main("show", "20700", "--json")[0] == 0  # rebuilt on the next look-up


def test_cache_clear_keeps_a_temporary_a_live_run_is_writing(main, cache):
    import os

    cache.mkdir()
    live = cache / f"index-{os.getpid()}-0123456789abcdef.tmp"
    live.write_bytes(b"")
    code, out, err = main("cache", "clear", "--json")
    assert (code, err) == (0, "")
    assert json.loads(out)["kept"] == [{"name": live.name, "reason": "may be being written by a running cptcli"}]
    assert live.exists()


# -- each command's help documents its own options ----------------------------------------------

FIXTURES = Path(__file__).resolve().parent / "fixtures"
CLAIMS = str(Path(__file__).resolve().parent.parent / "docs" / "examples" / "claims.csv")
# A call of each command that gets as far as rendering its result (where --section is checked).
RENDERING = {
    "show": ["show", "20700"],
    "search": ["search", "beads"],
    "list": ["list"],
    "check": ["check", "20700"],
    "audit": ["audit"],
    "icd": ["icd", "M54.5"],
    "modifier": ["modifier", "59"],
    "validate": ["validate", KB],
    "import": ["import", str(FIXTURES / "imports" / "nucc" / "nucc_taxonomy_251.csv")],
    "sources": ["sources"],
    "cache info": ["cache", "info"],
    "cache clear": ["cache", "clear"],
}


def _accepted(main, argv) -> list[str]:
    code, out, err = main(*argv, "--section", "bogus")
    assert (code, out) == (2, "") and err.startswith("cptcli: error: unknown section 'bogus': choose from "), err
    return err.rstrip("\n").split("choose from ", 1)[1].split(", ")


def _documented(text: str) -> list[str] | None:
    """The names the --section help lists, or None when the help has no --section."""
    import re

    m = re.search(r"--section NAME\s+Only this part of the output \(repeatable\): (.*?)\.\n\s*-", text, re.S)
    if "--section" not in text:
        return None
    assert m, text
    listed = " ".join(m.group(1).split()).replace("with --claims", "").replace("the one table of a line", "")
    return re.findall(r"[a-z_]+", listed)


@pytest.mark.parametrize("name", sorted(RENDERING))
def test_section_help_names_the_sections_the_command_takes(name, main, capsys, data_dir, cache):
    text = help_of(name, capsys)
    flat = " ".join(text.split())
    accepted = _accepted(main, RENDERING[name])
    if name == "check":  # a line's names and the claims' names: both asked, each said once
        accepted = list(dict.fromkeys(accepted + _accepted(main, ["check", "--claims", CLAIMS])))
    documented = _documented(text)
    if len(accepted) == 1:  # one table: --section is taken, changes nothing, and is not documented
        assert documented is None and "csv and tsv hold one table" not in flat
    else:
        assert documented == accepted and "csv and tsv hold one table" in flat


def test_import_help_does_not_describe_shows_sections(capsys):
    text = " ".join(help_of("import", capsys).split())
    assert "diagnoses" not in text and "Only this part of the output (repeatable): imports, skipped." in text


def test_every_printing_command_is_in_the_section_test():
    assert set(RENDERING) == set(COMMANDS) - {"schema", "source"}


# -- show's csv: one row a code, or one row a field (the default) ----------------------------------


def _csv_rows(text: str, delimiter: str = ",") -> list[dict]:
    import csv
    import io

    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))


def test_show_csv_wide_is_one_row_a_code_its_fields_as_columns(main):
    from cptcli.render.flat import WIDE_COLUMNS

    code, out, err = main("show", "20700", "20701", "--format", "csv", "--wide")
    assert (code, err) == (0, "")  # no "csv holds one table" note: the row names every section's keys
    assert out.splitlines()[0] == ",".join(WIDE_COLUMNS)
    assert WIDE_COLUMNS[:8] == (
        "code",
        "display_code",
        "completeness",
        "add_on",
        "title",
        "descriptor",
        "descriptor_official",
        "descriptor_copyright",
    )
    rows = _csv_rows(out)
    assert [r["code"] for r in rows] == ["20700", "20701"]
    first = rows[0]
    assert first["display_code"] == "'+20700"  # a leading + would be a formula to a spreadsheet
    assert (first["add_on"], first["descriptor_official"]) == ("true", "true")
    assert first["descriptor_copyright"] == "© Copyright 2026 American Medical Association. All rights reserved."
    assert first["modifiers"] == "11 22 23 50 52 53 59 62 63 78 79 AS LT"
    assert first["diagnoses"] == "G89.21 G89.29 M54.5 M54.16 G25.3"
    assert first["payers"].split("\n") == [
        "Aetna",
        "Blue Cross Blue Shield",
        "Cigna Health",
        "UnitedHealthcare",
        "Medicare",
        "BUCA",
    ]
    assert "correction (diagnoses/M54.5): M54.5 is a header in ICD-10-CM" in first["data_notes"]
    assert first["sources"] == "001_596d63048c814939.txt 000_944fcdce29adbcd4.txt"
    assert rows[1]["descriptor_official"] == "false" and rows[1]["descriptor_copyright"] == ""


def test_show_csv_long_stays_the_default_and_every_fact_field_is_a_wide_column(main):
    from cptcli.render.flat import WIDE_COLUMNS

    long = main("show", "20700", "20701", "--format", "csv")
    assert long == main("show", "20700", "20701", "--format", "csv", "--long")
    assert long[1].splitlines()[0] == "code,field,value,copyright,sources"
    assert {r["field"] for r in _csv_rows(long[1])} <= set(WIDE_COLUMNS)


def test_show_tsv_wide_streamed_is_what_the_codes_given_at_once_print(cli):
    at_once = cli("show", "20700", "20703", "--format", "tsv", "--wide")
    streamed = cli("show", "-", "--format", "tsv", "--wide", input="20700\n# a comment\n20703\n")
    assert streamed.exit_code == at_once.exit_code == 0 and streamed.stdout == at_once.stdout
    assert [r["code"] for r in _csv_rows(streamed.stdout, "\t")] == ["20700", "20703"]


@pytest.mark.parametrize(
    "extra", [["--json"], ["--format", "markdown"], [], ["--format", "csv", "--section", "modifiers"]]
)
def test_wide_is_only_a_layout_of_csv_and_tsv(main, extra):
    assert main("show", "20700", "--wide", *extra) == (
        2,
        "",
        "cptcli: error: --wide is a layout of --format csv and tsv: one row a code (give no --section)\n",
    )


# -- a user's file corrects a bundled title or descriptor only by naming why -----------------------

BUNDLED_TITLE = "Manual preparation and insertion of drug-delivery device(s), deep"
MINE = "Manual preparation and insertion of deep drug-delivery device(s)"
REASON = "the payer's fee schedule prints this title"


def _user_file(tmp_path, **title) -> str:
    doc = json.loads(Path(KB).read_text())
    doc["codes"][0]["title"] = {"text": MINE, "sources": ["my-payer-policy.pdf"], **title}
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(doc))
    return str(path)


def _title_notes(doc) -> list[str]:
    return [n["text"] for n in doc["notes"] if n["subject"] == "title"]


def test_a_title_with_an_override_reason_replaces_the_bundled_one_with_a_data_note(main, tmp_path):
    from cptcli.knowledge import bundled_path

    mine = _user_file(tmp_path, override=REASON)
    code, out, err = main("--data", mine, "show", "20700", "--json")
    assert (code, err) == (0, "")
    doc = json.loads(out)
    assert doc["title"]["text"] == MINE and doc["title"]["sources"] == ["my-payer-policy.pdf"]
    assert _title_notes(doc) == [
        f"{mine} corrects the title ({REASON}): '{MINE}' replaces the value from {bundled_path()} ('{BUNDLED_TITLE}')."
    ]
    assert [n["kind"] for n in doc["notes"] if n["subject"] == "title"] == ["override"]
    assert main("validate", mine) == (0, f"{mine}: valid\n", "")
    table = main("--data", mine, "show", "20700", "--full")[1]
    assert "corrects the title" in " ".join(table.split())


def test_without_an_override_the_bundled_title_stays_and_validate_says_how_to_correct_it(main, tmp_path):
    from cptcli.knowledge import bundled_path

    mine = _user_file(tmp_path)
    doc = json.loads(main("--data", mine, "show", "20700", "--json")[1])
    assert doc["title"]["text"] == BUNDLED_TITLE
    kept = f"title '{MINE}'; the value from {bundled_path()} ('{BUNDLED_TITLE}') is kept."
    assert _title_notes(doc) == [f"{mine} gives {kept}"]
    assert main("validate", mine) == (
        1,
        f"{mine}: record 20700, field title: gives {kept} Give the same value, record the disagreement as a note, "
        'or say why yours replaces it in the field\'s "override".\n',
        f"cptcli: 1 finding in {mine}\n",
    )


def test_a_descriptor_is_correctable_too(main, tmp_path):
    doc = json.loads(Path(KB).read_text())
    doc["codes"][0]["descriptor"] = {
        "text": "A corrected descriptor",
        "sources": ["my-payer-policy.pdf"],
        "official": False,
        "override": "the bundled text is cut short",
    }
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(doc))
    shown = json.loads(main("--data", str(path), "show", "20700", "--json")[1])
    assert shown["descriptor"]["text"] == "A corrected descriptor" and shown["descriptor"]["official"] is False
    assert [
        n["text"].split(":")[0] for n in shown["notes"] if n["subject"] == "descriptor" and n["kind"] == "override"
    ] == [f"{path} corrects the descriptor (the bundled text is cut short)"]


@pytest.mark.parametrize(
    "field,value",
    [
        ("add_on", {"value": False, "sources": ["my-payer-policy.pdf"], "override": "no reason applies here"}),
        ("title", {"text": MINE, "sources": ["my-payer-policy.pdf"], "override": ""}),
    ],
)
def test_an_override_is_refused_where_it_is_not_a_reason_on_a_correctable_field(main, tmp_path, field, value):
    doc = json.loads(Path(KB).read_text())
    doc["codes"][0][field] = value
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(doc))
    code, out, _ = main("validate", str(path))
    assert code == 1 and out.startswith(f"{path}: record 20700, field {field}")
    assert main("--data", str(path), "show", "20700", "--json")[0] == 3  # the file is refused whole


def test_a_claims_file_code_with_suffixes_has_every_modifier_applied(main, tmp_path):
    claims = tmp_path / "claims.csv"
    claims.write_text("claim,line,code,date\nC1,1,20700-RT-59,2026-06-01\nC1,2,11012,2026-06-01\n")
    code, out, _ = main("check", "--claims", str(claims), "--format", "jsonl")
    line_one = [json.loads(x) for x in out.splitlines() if json.loads(x).get("line") == "1"]
    assert {f["subject"] for f in line_one} >= {"modifiers/RT", "with/11012"}
    assert all(f["code"] == "20700" for f in line_one)
