"""Issue 24 class 9: exit statuses. A closed stdout is exit 5 in one line (nothing it printed could be written);
a reader that closes the pipe early (`head -1`) is exit 0, as the README promises; a file's error (a data
directory that cannot be written, a name too long) names the file and its cause, never "cannot write the
output", which is stdout's alone; a pipe or a device given to `import` is said to be one."""

import errno
import os
import subprocess

import pytest
from advkit import EXE, held, text
from impkit import HCPCS, data_dir, imported

CLOSED = "cptcli: error: cannot write the output: standard output is closed\n"


def _closed_stdout(home, *args):
    return subprocess.run(
        [EXE, *args], stdout=None, stderr=subprocess.PIPE, env=home.env(), timeout=60, preexec_fn=lambda: os.close(1)
    )


@pytest.mark.parametrize("args", [["list"], ["show", "20700"], ["show", "20700", "--json"], ["search", "baclofen"]])
def test_a_closed_stdout_is_exit_5_in_one_line(home, args):
    p = _closed_stdout(home, *args)
    assert (p.returncode, text(p.stderr)) == (5, CLOSED)


def test_a_closed_stdout_imports_nothing(home):
    p = _closed_stdout(home, "import", str(HCPCS))
    assert (p.returncode, text(p.stderr)) == (5, CLOSED)
    assert not data_dir(home).exists() or not any(data_dir(home).glob("*.sqlite"))


def test_a_closed_stderr_still_answers(home):
    p = subprocess.run(
        [EXE, "show", "20700", "--json"],
        stdout=subprocess.PIPE,
        env=home.env(),
        timeout=60,
        preexec_fn=lambda: os.close(2),
    )
    assert p.returncode == 0 and b'"code": "20700"' in p.stdout


@pytest.mark.parametrize("fmt", [[], ["--json"], ["--format", "jsonl"], ["--format", "csv"]])
def test_show_dash_piped_into_head_exits_0(home, fmt):
    proc = subprocess.Popen(
        [EXE, "show", "-", *fmt],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=home.env(),
    )
    proc.stdin.write(b"20700\n20702\n" * 3000)
    proc.stdin.close()
    assert proc.stdout.readline()
    proc.stdout.close()  # head -1 goes away
    proc.wait(timeout=120)
    err = proc.stderr.read()
    assert (proc.returncode, err) == (0, b"")


def test_list_piped_into_head_exits_0(home):
    p = subprocess.run(f"'{EXE}' list | head -1", shell=True, capture_output=True, env=home.env(), timeout=60)
    assert p.returncode == 0 and p.stderr == b""


def test_import_remove_that_cannot_unlink_names_the_file_and_its_cause(tmp_path, monkeypatch, capsys):
    # A read-only data directory (root writes anywhere, so the unlink's refusal is made here).
    from cptcli import cli
    from cptcli.imports import import_files, store

    monkeypatch.setenv("CPTCLI_DATA_DIR", str(tmp_path / "data"))
    import_files([HCPCS])

    def refuse(path, *a, **k):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(store.os, "unlink", refuse)
    status = cli.run(["import", "--remove", "hcpcs"])
    err = capsys.readouterr().err
    assert status == 3
    assert err == (
        f"cptcli: error: {tmp_path / 'data' / 'hcpcs.sqlite'}: cannot remove the imported hcpcs set "
        "(Permission denied)\n"
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root removes files from a read-only directory")
def test_import_remove_in_a_read_only_data_directory(home):
    p, _ = imported(home, HCPCS)
    assert p.returncode == 0
    d = data_dir(home)
    os.chmod(d, 0o555)
    try:
        p = home.run("import", "--remove", "hcpcs")
    finally:
        os.chmod(d, 0o755)
    assert p.returncode == 3 and "cannot remove the imported hcpcs set (Permission denied)" in text(p.stderr)
    assert "cannot write the output" not in text(p.stderr)


LONG = "/tmp/" + "a/" * 2500


def test_a_5000_character_path_to_import_is_a_name_too_long(home):
    p = home.run("import", LONG + "HCPC2026_JAN_ANWEB.txt")
    err = text(p.stderr)
    assert not held(p) and p.returncode == 2, err[:300]
    assert "the name is too long for this system" in err and "(5,027 characters)" in err
    assert len(err) < 400 and "cannot write the output" not in err


@pytest.mark.parametrize("args", [["sources"], ["show", "20700"], ["import", "--remove", "hcpcs"]])
def test_a_5000_character_data_directory_is_not_an_output_error(home, args):
    p = home.run(*args, env={"CPTCLI_DATA_DIR": LONG})
    err = text(p.stderr)
    assert not held(p), err[:300]
    assert "cannot write the output" not in err and "Traceback" not in err
    assert p.returncode in (1, 3) and len(err) < 400, err[:300]


def test_a_fifo_given_to_import_is_said_to_be_a_pipe(home):
    fifo = home.tmp / "HCPC2026_JAN_ANWEB.txt"
    os.mkfifo(fifo)
    p = home.run("import", fifo, timeout=30)  # never opened: a FIFO nobody writes would block forever
    assert (p.returncode, text(p.stderr)) == (
        2,
        f"cptcli: error: {fifo}: a pipe (FIFO), not a file: import reads files, directories and .zip files "
        "(save it to a file first)\n",
    )


def test_dev_zero_given_to_import_is_said_to_be_a_device(home):
    p = home.run("import", "/dev/zero", timeout=30)
    assert (p.returncode, text(p.stderr)) == (
        2,
        "cptcli: error: /dev/zero: a character device, not a file: import reads files, directories and .zip "
        "files (save it to a file first)\n",
    )


def test_dev_stdin_from_a_pipe_given_to_import_is_said_to_be_a_pipe(home):
    p = home.run("import", "/dev/stdin", input=HCPCS.read_bytes(), timeout=30)
    assert p.returncode == 2 and "/dev/stdin: a pipe (FIFO), not a file" in text(p.stderr)


def test_a_missing_file_is_still_no_such_file(home):
    missing = home.tmp / "nothere.txt"
    p = home.run("import", missing)
    assert (p.returncode, text(p.stderr)) == (2, f"cptcli: error: {missing}: no such file or directory\n")
