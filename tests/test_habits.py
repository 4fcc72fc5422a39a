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
