"""Bad input, broken data and hostile pipes: one clear stderr line, a documented
exit status, and stdout either empty or valid - never a traceback."""

import hashlib
import json
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import cptcli_exe, subprocess_cli
from cptcli import codes
from cptcli.errors import UsageError
from cptcli.knowledge import bundled_path

STATUSES = {0, 1, 2, 3}


def one_line_error(err: str) -> bool:
    return err.startswith("cptcli: ") and err.count("\n") == 1 and "Traceback" not in err


# -- pasted codes ---------------------------------------------------------------
@pytest.mark.parametrize(
    "raw,code,modifiers",
    [
        ("20700", "20700", ()),
        ("\u00a020700\u00a0", "20700", ()),  # non-breaking spaces from a PDF
        ("\t20700\t", "20700", ()),
        ("20700.", "20700", ()),
        ("２０７００", "20700", ()),  # full-width digits
        ("CPT 20700", "20700", ()),
        ("cpt code: 20700", "20700", ()),
        ("+20701", "20701", ()),
        ("20700-50", "20700", ("50",)),
        ("20700-lt", "20700", ("LT",)),
        ("20700-RT-59", "20700", ("RT", "59")),
        ("e0143-nu-rr", "E0143", ("NU", "RR")),
        ("20700 - RT - 59", "20700", ("RT", "59")),
    ],
)
def test_parse_cpt_folds_pasted_forms(raw, code, modifiers):
    assert codes.parse_code(raw) == (code, modifiers)
    assert codes.parse_codes(raw) == [(code, modifiers)]


@pytest.mark.parametrize(
    "raw", ["", " ", "abc", "2070", "207000", "20700-", "20700-5", "\x1b[31m20700", "20700\x00", "２０７０"]
)
def test_parse_cpt_rejects_malformed(raw):
    with pytest.raises(UsageError):
        codes.parse_code(raw)
    with pytest.raises(UsageError):
        codes.parse_codes(raw)


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("m5416", "M54.16"),
        ("M54.16", "M54.16"),
        ("m54.16.", "M54.16"),
        ("g89.29", "G89.29"),
        ("M545", "M54.5"),
        (" g25.3 ", "G25.3"),
        ("M54", "M54"),
    ],
)
def test_parse_icd10_with_and_without_dot(raw, expected):
    assert codes.parse_icd10(raw) == expected


@pytest.mark.parametrize("raw", ["", "5416", "M", "MM54.16", "M54.16789"])
def test_parse_icd10_rejects_malformed(raw):
    with pytest.raises(UsageError):
        codes.parse_icd10(raw)


# -- hostile arguments through the whole CLI ------------------------------------------
@pytest.mark.parametrize(
    "args,status,needle",
    [
        (["show", ""], 2, "empty code"),
        (["show", "   "], 2, "empty code"),
        (["show", "\x1b[2J20700"], 2, "malformed code '?[2J20700'"),
        (["show", "2070\udcff"], 2, "malformed code '2070?'"),  # invalid UTF-8 in argv
        (["search", ""], 2, "empty query"),
        (["search", " \t "], 2, "empty query"),
        (["search", "x" * 100_000], 2, "query too long: 100000 characters (the limit is 500)"),
        (["search", "\x1b[31mxylophone\x07"], 1, "no code matches '?[31mxylophone?'"),
        (["search", "pump", "--limit", "0"], 2, "Invalid value for '--limit'"),
        (["show"], 2, "Missing argument 'CODE...'"),
        (["frobnicate"], 2, "No such command 'frobnicate'"),
    ],
)
def test_bad_arguments(main, args, status, needle):
    code, out, err = main(*args)
    assert code == status
    assert out == ""
    assert one_line_error(err), err
    assert needle in err
    assert "\x1b" not in err  # escapes are never echoed raw to the terminal


# -- broken knowledge-base files ---------------------------------------------------
GOOD = json.loads(bundled_path().read_text(encoding="utf-8"))


def _variant(mutate):
    doc = json.loads(json.dumps(GOOD))
    mutate(doc)
    return json.dumps(doc, indent=2)


def _drop_title(doc):
    del doc["codes"][0]["title"]


def _duplicate(doc):
    doc["codes"].append(doc["codes"][0])


def _unknown_related(doc):
    doc["codes"][0]["related"][0]["code"] = "99999"


def _bad_modifier_type(doc):
    doc["codes"][0]["modifiers"][2]["modifier"] = 23


BROKEN = [
    ("empty", "", "knowledge base file is empty"),
    ("blank", "  \n", "knowledge base file is empty"),
    ("truncated", bundled_path().read_text(encoding="utf-8")[:5000], "invalid JSON"),
    ("not-json", "codes: 20700\n", ":1:1: invalid JSON: Expecting value"),
    ("wrong-shape", "[1, 2, 3]", "top level: [1, 2, 3] is not of type 'object'"),
    ("missing-field", _variant(_drop_title), "record 20700: 'title' is a required property"),
    ("duplicate", _variant(_duplicate), "record 20700, field code: duplicate code"),
    ("unknown-reference", _variant(_unknown_related), "record 20700, field related: names unknown code 99999"),
    ("bad-type", _variant(_bad_modifier_type), "record 20700, field modifiers[2].modifier: 23 is not of type 'string'"),
    ("latin-1", '{"codes": "\xe9"}'.encode("latin-1"), "not UTF-8 text"),
]


@pytest.mark.parametrize("name,content,needle", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_data_file_exits_3_naming_file_record_field(tmp_path, main, name, content, needle):
    path = tmp_path / f"{name}.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    code, out, err = main("--no-bundled", "--data", str(path), "show", "20700")
    assert (code, out) == (3, "")
    assert one_line_error(err), err
    assert err.startswith(f"cptcli: error: {path}")
    assert needle in err


def test_truncated_json_reports_line_and_column(tmp_path, main):
    path = tmp_path / "cut.json"
    path.write_text('{\n  "format_version": 1,\n  "codes": [\n    {"code": "20700",', encoding="utf-8")
    code, _, err = main("--no-bundled", "--data", str(path), "list")
    assert code == 3 and f"{path}:4:22: invalid JSON: Expecting property name" in err


def test_missing_and_directory_data_paths(tmp_path, main):
    assert main("--data", str(tmp_path / "none.json"), "list")[0] == 3
    code, _, err = main("--data", str(tmp_path), "list")
    assert code == 3 and "is a directory" in err


# -- batch input ------------------------------------------------------------------
def test_show_batch_json_reports_unknown_without_stopping(cli):
    r = cli("show", "-", "--json", input="20700\n\n# a comment\n 99999 \n+20701\n")
    assert [d["code"] for d in json.loads(r.stdout)] == ["20700", "20701"]
    assert r.exit_code == 1
    assert r.stderr == (
        "cptcli: error: code 99999 is not in the knowledge base, which holds 11 codes "
        "(cptcli list shows them; cptcli import adds official code sets)\n"
    )


def test_show_batch_malformed_line_exits_2_and_continues(cli):
    r = cli("show", "-", "--format", "jsonl", input="abc\n20703\n")
    assert [json.loads(x)["code"] for x in r.stdout.splitlines()] == ["20703"]
    assert r.exit_code == 2 and "line 1: malformed code 'abc'" in r.stderr


def test_show_batch_invalid_utf8_on_stdin():
    p = subprocess_cli("show", "-", "--json", input=b"20700\n\xff\xfe\n20702\n")
    assert p.returncode == 2
    assert [d["code"] for d in json.loads(p.stdout)] == ["20700", "20702"]
    assert (
        p.stderr.decode() == "cptcli: error: line 2: malformed code '??': expected a CPT code such as "
        "20700 or +20700, or an HCPCS Level II code such as J1100\n"
    )


def test_show_batch_tables(cli):
    r = cli("show", "-", input="20704\n20705\n")
    assert r.exit_code == 0 and "CPT +20704" in r.stdout and "CPT +20705" in r.stdout


@pytest.mark.parametrize("fmt", [[], ["--format", "jsonl"]], ids=["tables", "jsonl"])
def test_show_batch_draws_a_repeated_code_once_and_prints_it_every_time(cli, monkeypatch, fmt):
    from cptcli import cli as cli_module

    one = {code: cli("show", code, *fmt).stdout for code in ("20700", "20701")}
    drawn = []
    real = cli_module.render
    monkeypatch.setattr(cli_module, "render", lambda result, *a: drawn.append(result[0].code) or real(result, *a))
    r = cli("show", "-", *fmt, input="20700\n20701\n+20700\n20700\n")
    assert r.exit_code == 0 and r.stdout == one["20700"] + one["20701"] + one["20700"] * 2
    assert drawn == ["20700", "20701"]


def test_show_batch_with_no_stdin_at_all():
    p = subprocess.run([cptcli_exe(), "show", "-", "--json"], stdin=subprocess.DEVNULL, capture_output=True)
    assert (p.returncode, p.stdout, p.stderr) == (0, b"[]\n", b"")


# -- pipes and terminals ----------------------------------------------------------
@pytest.mark.parametrize(
    "pipeline",
    [
        "list | head -1",
        "search pump --json | head -c 10",
        "show 20700 | head -3",
        "show 20700 20701 20702 20703 --json | head -c 1",
    ],
)
def test_closed_pipe_is_quiet(pipeline):
    p = subprocess.run(["bash", "-o", "pipefail", "-c", f"'{cptcli_exe()}' {pipeline}"], capture_output=True)
    assert p.stderr == b""
    assert p.returncode == 0


@pytest.mark.parametrize(
    "env",
    [
        {"COLUMNS": "40"},
        {"NO_COLOR": "1"},
        {"TERM": "dumb"},
        {"LC_ALL": "C", "LANG": "C"},
        {"LC_ALL": "C", "PYTHONIOENCODING": "ascii"},
    ],
)
@pytest.mark.parametrize("args", [["show", "20700"], ["search", "baclofen pump removal"], ["list"]])
def test_terminal_environments_stay_readable(env, args):
    p = subprocess_cli(*args, env=env)
    assert p.returncode == 0, p.stderr
    assert p.stderr == b""
    out = p.stdout.decode("utf-8")
    assert "\x1b[" not in out  # never colour into a pipe
    if env.get("COLUMNS") == "40":
        assert max(len(line) for line in out.splitlines()) <= 40


@pytest.mark.parametrize("env", [{"LC_ALL": "C", "PYTHONIOENCODING": "ascii"}, {"LC_ALL": "C"}])
def test_json_parses_in_any_locale(env):
    p = subprocess_cli("show", "20700", "--json", env=env)
    assert p.returncode == 0
    doc = json.loads(p.stdout)
    assert doc["descriptor"]["copyright"].startswith("© Copyright 2026 American Medical Association")


# -- property-based: arbitrary text never escapes as an exception ---------------------------
ANY_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60) | st.sampled_from(
    ["20700", "+20701", "m5416", "modifier 59", "２０７００", "\x1b[0m", "-", "--json", "2070", "  "]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=ANY_TEXT)
def test_property_show_never_crashes(main, text):
    code, out, err = main("show", "--json", "--", text) if text != "-" else (0, "", "")
    assert code in STATUSES
    if out:
        json.loads(out)
    if code:
        assert err.startswith("cptcli: ")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=ANY_TEXT)
def test_property_search_never_crashes(main, text):
    code, out, err = main("search", "--json", "--", text)
    assert code in STATUSES
    if code == 0:
        hits = json.loads(out)
        assert hits and all({"code", "title", "score"} <= set(h) for h in hits)
    else:  # no hit: the empty array, still one JSON document; a usage error: nothing
        assert out == ("[]\n" if code == 1 else "") and err.startswith("cptcli: ")


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=40))
def test_property_normaliser_accepts_or_raises_usage_error(text):
    for parse in (codes.parse_code, codes.parse_codes, codes.parse_icd10, codes.parse_modifier):
        try:
            result = parse(text)
        except UsageError as exc:
            assert "\n" not in exc.message and "\x1b" not in exc.message
        else:
            assert result


# -- the tool never writes its knowledge base ---------------------------------------------
def test_every_command_leaves_the_data_file_byte_identical(main):
    path = bundled_path()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    for args in (
        ["show", "20700"],
        ["show", "20700", "--json"],
        ["search", "pump"],
        ["search", "pump", "--json"],
        ["list"],
        ["list", "--json"],
        ["show", "99999"],
        ["search", ""],
        ["--version"],
    ):
        main(*args)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def _of_many_parts(tmp_path) -> str:
    # os.makedirs climbs a path by recursion: past about a thousand parts it raises RecursionError.
    return str(tmp_path / "/".join(["d"] * 1500))


def test_a_cache_directory_of_too_many_parts_keeps_the_index_in_memory(tmp_path, main, monkeypatch):
    monkeypatch.setenv("CPTCLI_CACHE_DIR", _of_many_parts(tmp_path))
    code, out, err = main("show", "20700", "--json")
    assert code == 0 and json.loads(out)["code"] == "20700", err
    assert "internal error" not in err and "Recursion" not in err


def test_a_data_directory_of_too_many_parts_is_a_one_line_import_error(tmp_path, main, monkeypatch):
    monkeypatch.setenv("CPTCLI_DATA_DIR", _of_many_parts(tmp_path))
    hcpcs = Path(__file__).resolve().parent / "fixtures" / "imports" / "HCPC2026_JAN_ANWEB.txt"
    code, out, err = main("import", str(hcpcs))
    assert (code, out) == (3, "") and err.count("\n") == 1 and len(err) < 600, err
    assert "cannot write the imported HCPCS set ([Errno 36] the path has too many parts)" in err, err
