"""Every README example shows what the tool prints today, and CI runs exactly
the README's install and test commands.

Examples are ```console blocks: a line starting with "$ " is a command, the lines
after it its output (stdout and stderr as the shell shows them, trailing
spaces trimmed). To refresh them after a deliberate change:
    .venv/bin/python tests/test_readme.py --update
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BLOCK = re.compile(r"```console\n(.*?)```", re.S)


def examples(text):
    """[(command, expected_output)] in README order."""
    out = []
    for block in BLOCK.findall(text):
        current = None
        for line in block.splitlines():
            if line.startswith("$ "):
                current = [line[2:], []]
                out.append(current)
            elif current is not None:
                current[1].append(line)
    return [(cmd, "\n".join(lines)) for cmd, lines in out]


def run(command, cache_dir):
    env = {
        **os.environ,
        "NO_COLOR": "1",
        "COLUMNS": "100",
        "TERM": "dumb",
        "CPTCLI_CACHE_DIR": str(cache_dir),
        "CPTCLI_DATA_DIR": str(cache_dir / "imported"),  # none of the user's imported sets
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    env.pop("CPTCLI_DATA", None)
    p = subprocess.run(
        ["bash", "-c", "{ " + command + "\n} 2>&1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    return "\n".join(line.rstrip() for line in p.stdout.splitlines()).rstrip()


def _ids():
    return [cmd[:60] for cmd, _ in examples(README.read_text(encoding="utf-8"))]


@pytest.mark.parametrize("command,expected", examples(README.read_text(encoding="utf-8")), ids=_ids())
def test_readme_example_prints_what_the_tool_prints(command, expected, tmp_path_factory):
    assert run(command, tmp_path_factory.getbasetemp() / "readme-cache") == expected


def test_readme_has_examples_of_each_command():
    commands = " ".join(cmd for cmd, _ in examples(README.read_text(encoding="utf-8")))
    for name in ("show", "search", "list", "check", "audit", "icd", "modifier", "validate", "--json", "jq"):
        assert name in commands, name


def test_ci_runs_exactly_the_readme_install_and_test_commands():
    text = README.read_text(encoding="utf-8")
    install = re.search(r"<!-- install -->\n```sh\n(.*?)\n```", text, re.S).group(1)
    test = re.search(r"<!-- test -->\n```sh\n(.*?)\n```", text, re.S).group(1)
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert install in ci and test in ci
    assert ci.index(install) < ci.index(test)


if __name__ == "__main__" and sys.argv[1:] == ["--update"]:
    import tempfile

    text = README.read_text(encoding="utf-8")
    cache = Path(tempfile.mkdtemp())

    def refresh(match):
        lines = []
        for cmd, _ in examples(match.group(0)):
            lines += [f"$ {cmd}", run(cmd, cache)]
        return "```console\n" + "\n".join(lines) + "\n```"

    README.write_text(BLOCK.sub(refresh, text), encoding="utf-8")
