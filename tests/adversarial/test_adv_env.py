"""Class 7, environment: odd terminal widths, no HOME, dumb terminals, a full
or closed stdout, Ctrl-C during a build."""

import signal
import subprocess
import time

import pytest
from advkit import EXE, held, text

WIDTHS = ["0", "1", "10", "30", "-5", "abc", "99999999999999999999", "100000"]


@pytest.mark.parametrize("columns", WIDTHS)
@pytest.mark.parametrize("command", [["show", "20700"], ["search", "drug delivery"], ["list"]])
def test_terminal_widths(home, columns, command):
    p = home.run(*command, env={"COLUMNS": columns})
    assert not held(p) and p.returncode == 0, (p.returncode, text(p.stderr)[-300:])
    assert "20700" in text(p.stdout)


@pytest.mark.parametrize(
    "env",
    [
        {"HOME": ""},
        {"HOME": None},
        {"TERM": "dumb"},
        {"NO_COLOR": None, "TERM": "xterm-256color"},
        {"NO_COLOR": "1", "FORCE_COLOR": "1"},
        {"LANG": "C", "LC_ALL": "C"},
        {"PYTHONIOENCODING": "ascii"},
    ],
    ids=["HOME-empty", "HOME-unset", "TERM-dumb", "colour", "NO_COLOR+FORCE", "C-locale", "ascii-stdout"],
)
def test_environments(home, env):
    p = home.run("show", "20700", env=env)
    assert not held(p) and p.returncode == 0, text(p.stderr)[-300:]
    assert "\x1b[" not in text(p.stdout) or env.get("TERM") == "xterm-256color"


def test_an_empty_home_without_a_cache_override_does_not_use_slash_cache(home):
    xdg = home.tmp / "xdg"
    p = home.run("show", "20700", "--json", env={"HOME": "", "CPTCLI_CACHE_DIR": None, "XDG_CACHE_HOME": str(xdg)})
    assert p.returncode == 0 and not held(p)
    assert (xdg / "cptcli").is_dir()


@pytest.mark.parametrize(
    "command",
    [
        ["show", "20700", "--json"],
        ["show", "20700"],
        ["search", "drug"],
        ["list"],
        ["check", "20700", "--json"],
        ["icd", "M54.50"],
        ["--version"],
        ["schema"],
    ],
)
def test_stdout_to_dev_full(home, command):
    home.run(*command)  # warm: the fast path answers from the index
    with open("/dev/full", "wb") as full:
        p = home.run(*command, stdout=full)
    assert p.returncode != 0, "exit 0 though nothing could be written"
    assert p.returncode == 5 and not held(p, {5}), text(p.stderr)[-400:]  # 5: the output could not be written


@pytest.mark.parametrize("command", [["list"], ["show", "20700"], ["schema"], ["show", "20700", "--json"]])
def test_a_closed_pipe(home, command):
    args = " ".join(f"'{a}'" for a in command)
    script = f"'{EXE}' {args} | head -c1 >/dev/null; echo ${{PIPESTATUS[0]}}"
    p = subprocess.run(["bash", "-c", script], capture_output=True, env=home.env(), timeout=60)
    assert p.stdout.strip() == b"0", p.stdout
    assert b"Traceback" not in p.stderr and p.stderr == b"", p.stderr[-300:]


@pytest.mark.parametrize(
    "command",
    [["show", "20700", "--json"], ["show", "20700"], ["list", "--json"]],
    ids=["fast-path", "typer-path", "list"],
)
def test_ctrl_c_during_a_build(home, big_kb, command):
    p = home.popen("--no-bundled", "--data", big_kb, *command)
    # Interrupted while the index is being written: once its temporary file exists (or after 1 s,
    # for a build that reads longer than it writes), not at a time a fast machine has already passed.
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline and not list(home.cache.glob("index-*.tmp")) and p.poll() is None:
        time.sleep(0.01)
    assert p.poll() is None, "the build ended before it could be interrupted"
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 130, (p.returncode, err[-300:])
    assert b"Traceback" not in err and text(err).strip().endswith("interrupted"), err[-300:]
