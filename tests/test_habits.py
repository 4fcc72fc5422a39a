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
