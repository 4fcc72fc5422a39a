"""Issue 27's habits: global options anywhere on the line, one JSON document whatever the hits, pasted code
lists and modifier suffixes, the cache commands, per-command help, show's one-row-a-code CSV."""

import json
from pathlib import Path

import pytest

from cptcli import __version__
from cptcli.cli import app, run

KB = str(Path(__file__).resolve().parent / "fixtures" / "example_user_kb.json")
COMMANDS = [c.name or c.callback.__name__ for c in app.registered_commands]


def help_of(name: str, capsys) -> str:
    assert run([name, "--help"]) == 0
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
