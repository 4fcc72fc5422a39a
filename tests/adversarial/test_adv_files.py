"""Class 4, hostile knowledge-base files through --data: escapes and bidi
controls never reach the output raw, in any format; files `validate` calls
valid never crash a command; every unreadable or hostile file is one error
line with exit 3, fast, even a FIFO or /dev/zero."""

import json
import os

import pytest
from advkit import FORBIDDEN, held, own_record, text, with_texts

PAYLOADS = {
    "clear-screen": "\x1b[2J\x1b[HPayer",
    "window-title": "\x1b]0;pwned\x07Payer",
    "osc52-clipboard": "\x1b]52;c;ZWNobyBwd25lZA==\x07Payer",
    "hyperlink": "\x1b]8;;http://evil.example/\x1b\\Payer\x1b]8;;\x1b\\",
    "bidi-override": "Payer \u202e00702\u202c",
    "c1-csi": "Payer\u009b2J",
    "del-and-bs": "Pay\x08\x08er\x7f",
}
FORMATS = {
    "table": [],
    "csv": ["--format", "csv"],
    "markdown": ["--format", "markdown"],
    "json": ["--json"],
    "jsonl": ["--format", "jsonl"],
}


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("payload", sorted(PAYLOADS))
def test_escapes_and_bidi_never_reach_the_output_raw(home, payload, fmt):
    path = home.write("kb.json", with_texts([PAYLOADS[payload]]))
    p = home.run("--data", path, "show", "20700", *FORMATS[fmt])
    assert not held(p) and p.returncode == 0, p.stderr
    out = text(p.stdout)
    raw = sorted({f"U+{ord(c):04X}" for c in out if c in FORBIDDEN})
    assert raw == [], raw


@pytest.mark.parametrize("fmt", ["table", "csv", "markdown"])
def test_escapes_in_a_title_in_list_and_search(home, fmt):
    path = home.write("kb.json", own_record("Drug \x1b[2J\u202edelivery"))
    for args in (["list"], ["search", "drug delivery"]):
        p = home.run("--no-bundled", "--data", path, *args, *FORMATS[fmt])
        assert not held(p) and p.returncode == 0, p.stderr
        assert not any(c in text(p.stdout) for c in FORBIDDEN)


LONE = '{"format_version": 1, "codes": [{"code": "20700", "payers": [{"text": "x\\ud800", "sources": []}]}]}'


@pytest.mark.parametrize("args", [["validate"], ["show-data"], ["search-data"]])
def test_a_lone_surrogate_is_one_data_error(home, args):
    path = home.write("kb.json", LONE)
    if args == ["validate"]:
        p = home.run("validate", path)
    elif args == ["show-data"]:
        p = home.run("--data", path, "show", "20700")
    else:
        p = home.run("--data", path, "search", "drug")
    assert not held(p, {3}), p.stderr


@pytest.mark.parametrize("command", ["validate", "show", "search", "list"])
def test_a_code_with_a_trailing_newline_is_refused(home, command):
    doc = own_record("Drug delivery device")
    doc["codes"][0]["code"] = "20700\n"
    path = home.write("kb.json", doc)
    if command == "validate":
        p = home.run("validate", path)
    else:
        p = home.run(
            "--no-bundled",
            "--data",
            path,
            *({"show": ["show", "20700"], "search": ["search", "drug"], "list": ["list"]}[command]),
        )
    assert not held(p, {1, 3}, error_expected=True), p.stderr


def _deep(home):
    return home.write("kb.json", "[" * 50_000 + "]" * 50_000)


HOSTILE = {
    "deep-50000": (_deep, "nested"),
    "bigint-5000": (lambda h: h.write("kb.json", '{"format_version": ' + "9" * 5000 + "}"), "digits"),
    "duplicate-keys": (
        lambda h: h.write("kb.json", '{"format_version": 1, "format_version": 1, "codes": []}'),
        "duplicate",
    ),
    "nan": (lambda h: h.write("kb.json", '{"format_version": NaN, "codes": []}'), "NaN"),
    "not-utf8": (lambda h: ((h.tmp / "kb.json").write_bytes(b'{"codes": "\xe9"}'), h.tmp / "kb.json")[1], "UTF-8"),
    "empty": (lambda h: h.write("kb.json", ""), "empty"),
    "directory": (lambda h: h.tmp, "directory"),
    "missing": (lambda h: h.tmp / "nope.json", "not found"),
    "dev-zero": (lambda h: "/dev/zero", "regular"),
    "dev-null": (lambda h: "/dev/null", ""),
    "fifo": (lambda h: (os.mkfifo(h.tmp / "fifo.json"), h.tmp / "fifo.json")[1], "regular"),
    "sparse-2g": (
        lambda h: (os.truncate(h.write("big.json", ""), 2 << 30), h.tmp / "big.json")[1],
        "CPTCLI_MAX_DATA_BYTES",
    ),
    "escape-in-name": (lambda h: h.tmp / "evil\x1b]0;pwned\x07.json", "not found"),
    "newline-in-name": (lambda h: h.tmp / "two\nlines.json", "not found"),
}


@pytest.mark.parametrize("via", ["show", "validate"])
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_file_is_one_line_and_exit_3(home, case, via):
    make, word = HOSTILE[case]
    path = make(home)
    args = ["validate", path] if via == "validate" else ["--data", path, "show", "20700"]
    p = home.run(*args, timeout=20)
    assert not held(p, {3}), text(p.stderr)[-300:]
    assert word in text(p.stderr)


def test_a_bom_is_accepted(home):
    path = home.tmp / "kb.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(with_texts(["BOM payer"])).encode())
    p = home.run("--data", path, "show", "20700", "--json")
    assert not held(p) and p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["payers"][-1]["text"] == "BOM payer"


def test_the_size_limit_can_be_raised(home):
    path = home.write("kb.json", with_texts(["Sized payer"]))
    small = home.run("--data", path, "show", "20700", "--json", env={"CPTCLI_MAX_DATA_BYTES": "100"})
    assert not held(small, {3}) and b"CPTCLI_MAX_DATA_BYTES" in small.stderr
    raised = home.run("--data", path, "show", "20700", "--json", env={"CPTCLI_MAX_DATA_BYTES": "1G"})
    assert raised.returncode == 0 and not held(raised)


def test_a_process_substitution_does_not_leave_an_index_per_call(home):
    """`--data <(...)` names a pipe under /dev/fd: refused or read, it must not
    leave a new index behind on every call."""
    import subprocess

    from advkit import EXE

    path = home.write("kb.json", with_texts(["Piped payer"]))
    script = f"for i in 1 2 3; do '{EXE}' --data <(cat '{path}') show 20700 --json >/dev/null 2>&1; done"
    subprocess.run(["bash", "-c", script], env=home.env(), timeout=120)
    assert len(list(home.cache.glob("index-*.sqlite"))) <= 1
