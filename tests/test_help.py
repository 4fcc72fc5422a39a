"""Every example in every command's --help runs as printed: no traceback, no
jq error, and an exit status the help documents."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cptcli.cli import app, run

# Every command, a group's as "group command" (cptcli cache info).
COMMANDS = [c.name or c.callback.__name__ for c in app.registered_commands] + [
    f"{g.typer_instance.info.name} {c.name}"
    for g in app.registered_groups
    for c in g.typer_instance.registered_commands
]


def help_examples():
    out = []
    for name in COMMANDS:
        import io
        from contextlib import redirect_stdout

        buf = io.StringIO()
        with redirect_stdout(buf):
            assert run([*name.split(), "--help"]) == 0
        text = buf.getvalue()
        assert "Examples:" in text, f"{name} --help has no examples"
        block = text.split("Examples:", 1)[1]
        for line in block.splitlines()[1:]:
            if not line.strip().startswith("cptcli"):
                break
            out.append((name, line.strip()))
    return out


EXAMPLES = help_examples()


def test_every_command_has_examples():
    assert {name for name, _ in EXAMPLES} == set(COMMANDS)


@pytest.mark.parametrize("name,example", EXAMPLES, ids=[e for _, e in EXAMPLES])
def test_help_example_runs(name, example, tmp_path):
    for placeholder in ("mine.json", "my-codes.json"):  # the user's own file: use the bundled example
        example = example.replace(placeholder, "tests/fixtures/example_user_kb.json")
    # The official files a user downloads: the fixtures in their layouts (fabricated text).
    fixtures = "tests/fixtures/imports"
    example = example.replace("HCPC2026_JAN_ANWEB.zip", f"{fixtures}/HCPC2026_JAN_ANWEB.txt")
    example = example.replace("nucc_taxonomy_251.csv", f"{fixtures}/nucc/nucc_taxonomy_251.csv")
    for name in ("LONGULT", "MEDU", "SHORTU", "ConsumerDescriptor", "ClinicianDescriptor"):
        example = example.replace(f" {name}.txt", f" {fixtures}/cpt/{name}.txt")
    if "--remove cpt" in example:  # something to remove
        example = f"cptcli import {fixtures}/cpt/LONGULT.txt > /dev/null && {example}"
    example = example.replace("> cptcli-schema.json", f"> {tmp_path / 'schema.json'}")
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "CPTCLI_DATA_DIR": str(tmp_path / "imported"),
    }
    p = subprocess.run(
        ["bash", "-o", "pipefail", "-c", example],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert "Traceback" not in p.stderr and "jq: error" not in p.stderr, p.stderr
    assert p.returncode in ((0, 1, 4) if " check " in f" {example} " else (0, 1)), (p.returncode, p.stderr)
    printed = (tmp_path / "schema.json").read_text() if "schema.json" in example else p.stdout
    assert printed.strip(), "an example should print something"
