"""The SQLite index: built once, reused while the files are unchanged, rebuilt
on any change (never a stale answer), never trusted when corrupt; and the fast
entry path, which must answer exactly as the Typer path does."""
import io
import json
import sys
from pathlib import Path

import pytest

from cptcli import datafiles, entry, index, knowledge
from cptcli.cli import run


def indexes(cache):
    return sorted(p.name for p in cache.glob("index-*.sqlite")) if cache.exists() else []


def test_index_built_once_then_reused(cache, kb_file):
    kb = knowledge.load([kb_file])
    [name] = indexes(cache)
    mtime = (cache / name).stat().st_mtime_ns
    again = knowledge.load([kb_file])
    assert indexes(cache) == [name] and (cache / name).stat().st_mtime_ns == mtime
    assert again.records.keys() == kb.records.keys()
    assert again.show("20700").to_dict() == kb.show("20700").to_dict()


def test_a_changed_file_means_a_rebuild_never_a_stale_answer(cache, kb_file):
    knowledge.load([kb_file])
    [before] = indexes(cache)
    doc = json.loads(kb_file.read_text(encoding="utf-8"))
    doc["codes"][0]["title"]["text"] = "Changed title"
    doc["codes"][0]["title"]["sources"] = ["000_944fcdce29adbcd4.txt"]
    kb_file.write_text(json.dumps(doc), encoding="utf-8")
    assert knowledge.load([kb_file]).get("20700").title.text == "Changed title"
    # The new index replaced the old one: an edited 100 MB file leaves no 300 MB orphan.
    assert indexes(cache) == [before]
    con = index.open_for([kb_file])
    assert index.show_doc(con, "20700")["title"]["text"] == "Changed title"
    con.close()


def test_a_new_tool_version_means_a_rebuild(cache, kb_file, monkeypatch):
    knowledge.load([kb_file])
    monkeypatch.setattr(datafiles, "__version__", "999.0")
    knowledge.load([kb_file])
    assert len(indexes(cache)) == 2


def test_a_corrupt_index_is_rebuilt_not_trusted(cache, kb_file):
    knowledge.load([kb_file])
    [name] = indexes(cache)
    (cache / name).write_bytes(b"SQLite format 3\x00" + b"\x00garbage" * 100)
    assert index.open_index(datafiles.key_for([kb_file])) is None
    assert knowledge.load([kb_file]).get("20701").code == "20701"
    assert index.open_index(datafiles.key_for([kb_file])) is not None


def test_an_invalid_file_is_never_indexed(cache, tmp_path, main):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format_version": 1, "codes": [{"code": "20700"}]}', encoding="utf-8")
    assert main("--no-bundled", "--data", str(bad), "show", "20700")[0] == 3
    assert indexes(cache) == []


def test_an_unwritable_cache_dir_still_answers(tmp_path, monkeypatch, kb_file, main):
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("x")
    monkeypatch.setenv("CPTCLI_CACHE_DIR", str(blocked / "cache"))
    code, out, err = main("--no-bundled", "--data", str(kb_file), "show", "20702", "--json")
    assert code == 0 and json.loads(out)["code"] == "20702" and err == ""


@pytest.mark.parametrize("env", [{}, {"XDG_CACHE_HOME": "/tmp/xdg-test"}, {"XDG_CACHE_HOME": "relative/path"},
                                 {"HOME": "/tmp/some-home"}])
def test_cache_dir_equals_platformdirs(monkeypatch, env):
    """Computed without importing platformdirs (~10 ms) on Linux, to the same answer."""
    import platformdirs

    from cptcli import cache

    monkeypatch.delenv("CPTCLI_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert cache.cache_dir() == platformdirs.user_cache_dir("cptcli", appauthor=False)


def test_a_cache_dir_with_uri_characters_works(tmp_path, monkeypatch, kb_file):
    """SQLite reads '?', '#' and '%XX' in a URI path as syntax: the index must
    still be found and used in such a directory, not rebuilt on every call."""
    odd = tmp_path / "a?b#c%41d"
    monkeypatch.setenv("CPTCLI_CACHE_DIR", str(odd))
    knowledge.load([kb_file])
    key = datafiles.key_for([kb_file])
    assert Path(index.path_for(key)).is_file() and index.path_for(key).startswith(str(odd))
    con = index.open_index(key)
    assert con is not None
    con.close()


# -- the fast path answers exactly as the Typer path ------------------------------------------
# (served by the fast path?, argv): whatever it serves must match the Typer path byte for byte.
CORPUS = [
    (True, ["--version"]), (True, ["-V"]),
    (True, ["show", "20700", "--json"]), (True, ["show", "+20701", "--json"]), (True, ["show", " 20702 ", "--json"]),
    (True, ["show", "20700", "20703", "63650", "--json"]), (True, ["show", "CPT 20704", "--json"]),
    (True, ["show", "20700-50", "--json"]),
    (True, ["show", "20700"]), (True, ["show", "20701", "20705"]), (True, ["show", "95970"]),
    (True, ["search", "baclofen pump removal", "--json"]), (True, ["search", "intramedulary insrt", "--json"]),
    (True, ["search", "m5416", "--json"]), (True, ["search", "2070", "--json"]),
    (True, ["icd", "M54.5"]), (True, ["icd", "m5416", "--json"]), (True, ["icd", "G25.3", "--json"]),
    (True, ["check", "20700"]), (True, ["check", "20700", "--dx", "M54.16"]),
    (True, ["check", "+20700", "-m", "59", "--dx", "G89.29", "--json"]),
    (True, ["check", "20702-51", "--with", "20700"]), (True, ["check", "20700", "--json", "--modifier", "50,LT"]),
    (True, ["check", "20700", "-w", "20702", "-d", "m545,M54.16", "--json"]),
    (True, ["check", "20700", "--dx", "M54"]), (True, ["check", "20700", "--dx", "Q99.99", "--json"]),
    # everything below must fall through to Typer, having printed nothing
    (False, ["show", "99999", "--json"]), (False, ["show", "abc", "--json"]),
    (False, ["show", "20700", "99999", "--json"]), (False, ["show", "-", "--json"]),
    (False, ["show", "--json", "20700"]), (False, ["show", "99999"]), (False, ["show", ""]),
    (False, ["search", "xylophone", "--json"]), (False, ["search", "", "--json"]),
    (False, ["search", "pump", "--limit", "2", "--json"]), (False, ["search", "pump"]),
    (False, ["icd", "Z99.999"]), (False, ["icd", "5416", "--json"]), (False, ["icd", "M54.5", "--format", "csv"]),
    (False, ["check", "99999"]), (False, ["check", "2070"]), 
    (False, ["check", "20700", "--dx=M54.16"]), (False, ["check", "--dx", "M54.16", "20700"]),
    (False, ["check", "20700", "--dx"]), (False, ["check", "20700", "--json", "--json"]),
    (False, ["check", "20700", "-m", "-59"]),
]


class _Utf8Out(io.StringIO):
    encoding = "utf-8"

    def isatty(self):
        return False


@pytest.mark.parametrize("served,argv", CORPUS, ids=[" ".join(a) or "empty" for _, a in CORPUS])
def test_fast_path_matches_typer_path(served, argv, monkeypatch, capsys):
    run(["list"])  # make sure the index exists, as it does after any first call
    capsys.readouterr()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))
    fast_results = []
    for _ in range(2):  # the second call of a single `show` prints the page the first one drew
        out, err = _Utf8Out(), io.StringIO()
        monkeypatch.setattr(sys, "stdout", out)
        monkeypatch.setattr(sys, "stderr", err)
        fast_results.append((entry.fast(argv), out.getvalue(), err.getvalue()))
    assert fast_results[0] == fast_results[1]
    status, fast_result = fast_results[0][0], fast_results[0]
    out2, err2 = _Utf8Out(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", out2)
    monkeypatch.setattr(sys, "stderr", err2)
    typer_result = (run(argv), out2.getvalue(), err2.getvalue())
    if status is None:
        assert out.getvalue() == "" and err.getvalue() == ""  # fell through having printed nothing
    else:
        assert fast_result == typer_result
    assert (status is not None) == served, "the fast path should serve exactly the plain, answerable calls"


def test_an_index_hit_names_files_as_the_caller_does(cache, kb_file, monkeypatch):
    monkeypatch.chdir(kb_file.parent)
    knowledge.load([kb_file.name])  # built through a relative path
    kb = knowledge.load([kb_file])  # same file, same key, absolute path
    assert kb.get("20700").origin == str(kb_file)
    assert len(indexes(cache)) == 1


def test_indexed_show_documents_equal_the_renderers(cache, kb_file, tmp_path):
    """Every code's indexed document is what `show --json` renders from the
    knowledge base, layered files included, and the one-pass named_by equals a
    scan of every record."""
    from cptcli.render import json as render_json

    extra = tmp_path / "extra.json"
    doc = json.loads(kb_file.read_text(encoding="utf-8"))
    rec = dict(doc["codes"][1], code="1234B", related=[{"code": "20700", "sources": [doc["sources"][0]["file"]]}])
    extra.write_text(json.dumps({"format_version": 1, "codes": [rec]}), encoding="utf-8")
    paths = [kb_file, extra]
    kb = knowledge.load(paths)
    expected = {code: kb.show(code) for code in kb.records}
    assert "1234B" in expected["20700"].named_by
    for code in kb.records:
        scan = tuple(r.code for r in kb.records.values() if r.code != code and (
            any(x.code == code for x in r.related) or any(code in x.codes for x in r.cross_references)))
        assert kb.named_by(code) == scan, code
    con = index.open_index(datafiles.key_for(paths))
    try:
        for code, show in expected.items():
            assert index.show_text([index.show_doc(con, code)]) == render_json.dumps(show, ascii_only=False)
            assert index.show_result(con, code) == show  # `show` tables answer from the index alone
        assert index.sources(con) == kb.sources
        assert index.show_result(con, "99999") is None
    finally:
        con.close()


def test_the_fast_path_names_files_as_the_caller_does(cache, kb_file, monkeypatch, capsys):
    """An index built through one name of a file is not served to a call that
    names it otherwise: results name files as the caller does."""
    monkeypatch.chdir(kb_file.parent)
    knowledge.load([kb_file])  # built through an absolute path
    relative = [kb_file.name]
    con = index.open_index(datafiles.key_for(relative))
    try:
        assert not index.named_as_built(con, relative) and index.named_as_built(con, [kb_file])
    finally:
        con.close()
    monkeypatch.setattr(sys, "stdout", _Utf8Out())
    assert entry.fast(["--no-bundled", "--data", kb_file.name, "show", "20700", "--json"]) is None
    assert sys.stdout.getvalue() == ""
    assert entry.fast(["--no-bundled", "--data", kb_file.name, "show", "20700"]) == 0  # tables: loads the file
    fast_out = sys.stdout.getvalue()
    monkeypatch.setattr(sys, "stdout", _Utf8Out())
    assert run(["--no-bundled", "--data", kb_file.name, "show", "20700"]) == 0
    assert fast_out == sys.stdout.getvalue()


@pytest.mark.parametrize("served,argv", [
    (True, ["--data", "{kb}", "show", "20700", "--json"]), (True, ["--no-bundled", "--data", "{kb}", "show", "20700", "--json"]),
    (True, ["--data", "{kb}", "--no-bundled", "show", "20701", "20702"]), (True, ["--no-bundled", "--data", "{kb}", "show", "95970"]),
    # fall through
    (False, ["--no-bundled", "show", "20700", "--json"]), (False, ["--data", "{kb}/", "show", "20700"]), (False, ["--data"]),
    (False, ["--data", "{kb}", "show", "99999", "--json"]), (False, ["--data", "{kb}", "--json", "show", "20700"]),
])
def test_fast_path_with_data_options_matches_typer_path(served, argv, cache, kb_file, monkeypatch):
    argv = [a.replace("{kb}", str(kb_file)) for a in argv]
    knowledge.load([kb_file])
    knowledge.load([knowledge.bundled_path(), kb_file])
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))
    results = []
    for call in (entry.fast, run):
        out, err = _Utf8Out(), io.StringIO()
        monkeypatch.setattr(sys, "stdout", out)
        monkeypatch.setattr(sys, "stderr", err)
        results.append((call(argv), out.getvalue(), err.getvalue()))
    assert (results[0][0] is not None) == served
    if served:
        assert results[0] == results[1]
    else:
        assert results[0] == (None, "", "")


@pytest.mark.parametrize("argv", [["show", "20700", "--json"], ["show", "20700"]])
def test_an_index_damaged_past_its_key_check_falls_through(argv, cache, monkeypatch, capsys):
    import sqlite3

    knowledge.load()
    [name] = indexes(cache)
    con = sqlite3.connect(cache / name)
    con.execute("DROP TABLE codes")
    con.commit()
    con.close()
    out = _Utf8Out()
    monkeypatch.setattr(sys, "stdout", out)
    assert entry.fast(argv) is None and out.getvalue() == ""
    monkeypatch.setattr(sys, "stdout", _Utf8Out())
    assert run(argv) == 0


@pytest.mark.parametrize("table", ["terms", "codes", "rows", "meta"])
def test_search_through_a_damaged_index_searches_the_files(table, cache):
    import sqlite3

    from cptcli import views

    paths = datafiles.data_files()
    knowledge.load()
    queries = ["baclofen pump removal", "20700", "M54.16", "modifier 59"]
    expected = [views.search_hits(paths, q, 10, 40.0) for q in queries]
    assert [h.code for h in expected[0]][:1] == ["20701"]
    [name] = indexes(cache)
    con = sqlite3.connect(cache / name)
    # meta: only the search row, so the index still passes its key check
    con.execute("DELETE FROM meta WHERE name = 'search'" if table == "meta" else f"DROP TABLE {table}")
    con.commit()
    con.close()
    assert [views.search_hits(paths, q, 10, 40.0) for q in queries] == expected
    assert _indexed_codes(cache) == 11  # rebuilt, not bypassed on every later call


def _indexed_codes(cache) -> int:
    import sqlite3

    [name] = indexes(cache)
    con = sqlite3.connect(cache / name)
    try:
        (n,) = con.execute("SELECT count(*) FROM codes").fetchone()
        meta = {name for (name,) in con.execute("SELECT name FROM meta")}
        return n if meta == {"key", "search", "sources", "modifiers"} else -1
    finally:
        con.close()


def test_stored_show_text_is_the_json_renderer_s_document(tmp_path):
    """The index stores ShowResult.json_text(); it must be to_dict() exactly,
    key order included, layered records (contributors, override notes) too."""
    example = json.loads((Path(__file__).parent / "fixtures" / "example_user_kb.json").read_text(encoding="utf-8"))
    example["codes"][0]["title"]["text"] = "A title that differs from the bundled one"
    user = tmp_path / "user.json"
    user.write_text(json.dumps(example), encoding="utf-8")
    kb = knowledge.load(knowledge.data_paths([str(user)]))
    results = [kb.show(code) for code in kb.records]
    assert any(r.contributors[1:] for r in results)
    assert any(n.kind == "override" for r in results for n in r.record.notes)
    for r in results:
        assert r.json_text() == json.dumps(r.to_dict(), ensure_ascii=False)


def test_search_results_are_identical_with_and_without_the_index():
    """Every relevance query, and code, prefix, ICD-10-CM and modifier queries,
    with every hit kept: the index's corpus and the loaded base's agree exactly
    (scores, fields, snippets, highlights, rows, notes)."""
    sys.path.insert(0, str(Path(__file__).parent))
    from relevance_queries import PAIRS, QUERIES

    from cptcli.search import Searcher

    kb = knowledge.load()
    con = index.open_for(datafiles.data_files())
    assert con is not None
    indexed, memory = Searcher(index.IndexCorpus(con)), Searcher(kb)
    queries = [q for q, _, _ in QUERIES] + [q for q, _, _ in PAIRS] + [
        "20700", "+20702", "2070", "2", "6", "M54", "M54.5", "M54.51", "G89", "modifier 59", "AS", "-51",
        "pump", "lumbar", "neurostim", "antibiotc", "implnt removl", "bonemarrow", "xyzzy"]
    compared = 0
    for q in queries:
        got, expected = indexed.search(q, limit=3, min_score=0), memory.search(q, limit=3, min_score=0)
        assert (got, got.total) == (expected, expected.total), q
        got = indexed.search(q, limit=1000, min_score=0)
        assert got == memory.search(q, limit=1000, min_score=0), q
        compared += len(got)
    con.close()
    assert compared > 500


@pytest.mark.parametrize("breakage, message", [
    (lambda doc: doc["codes"][3].pop("title"), "record 20703: 'title' is a required property"),
    (lambda doc: doc["codes"][0]["modifiers"][0].update(modifier=7), "7 is not of type 'string'"),
    (lambda doc: doc["codes"].append(dict(doc["codes"][0], code="20700")), "duplicate"),
])
def test_validation_beside_the_build_decides_as_validation_first_does(breakage, message, cache, kb_file,
                                                                      monkeypatch):
    """Big documents are validated in a forked child while the parent assembles
    and indexes them: the error is the one the serial path gives, and no index
    is published for an invalid file."""
    import os

    from cptcli.errors import DataError

    doc = json.loads(kb_file.read_text(encoding="utf-8"))
    breakage(doc)
    kb_file.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(DataError) as serial:
        knowledge.load([kb_file])
    assert message in serial.value.message
    forks = []
    real_fork = os.fork

    def counting_fork():
        forks.append(1)
        return real_fork()

    monkeypatch.setattr(knowledge, "PARALLEL_VALIDATION", 1)
    monkeypatch.setattr(os, "fork", counting_fork)
    with pytest.raises(DataError) as parallel:
        knowledge.load([kb_file])
    assert forks == [1]
    assert parallel.value.message == serial.value.message
    assert indexes(cache) == [] and not list(cache.glob("*.tmp"))


def test_validation_beside_the_build_publishes_a_valid_index(cache, kb_file, monkeypatch):
    monkeypatch.setattr(knowledge, "PARALLEL_VALIDATION", 1)
    kb = knowledge.load([kb_file])
    assert len(indexes(cache)) == 1 and kb.get("20701").title.text
    assert knowledge.load([kb_file]).records.keys() == kb.records.keys()


@pytest.mark.parametrize("terminal", [True, False])
def test_a_build_shows_progress_on_a_terminal_only(terminal, cache, kb_file, monkeypatch):
    from cptcli import progress

    class Stderr(io.StringIO):
        def isatty(self):
            return terminal

    err = Stderr()
    monkeypatch.setattr(progress, "MIN_BYTES", 0)  # the bundled file stands in for a big one
    monkeypatch.setenv("TERM", "xterm")  # Rich draws no live display on a dumb terminal
    monkeypatch.setattr(sys, "stderr", err)
    knowledge.load([kb_file])
    shown = err.getvalue()
    if terminal:
        assert "cptcli: reading and checking data files" in shown
        assert "cptcli: indexing 11 codes" in shown
    else:
        assert shown == ""
    err.truncate(0)
    knowledge.load([kb_file])  # indexed: nothing to show
    assert "indexing" not in err.getvalue()


# -- show, check, icd and modifier answered from the index: views.Lookups -----------------
def test_shows_answer_from_the_index_as_the_loaded_base_does(cache, kb_file, monkeypatch):
    from cptcli import views
    from cptcli.errors import NotFoundError

    kb = knowledge.load([kb_file])
    monkeypatch.setattr(knowledge, "load", lambda paths: pytest.fail("the index answers: nothing is loaded"))
    shows = views.Lookups([str(kb_file)])
    assert shows.sources == kb.sources
    for code in kb.records:
        assert shows.show(code) == kb.show(code), code
    monkeypatch.undo()
    with pytest.raises(NotFoundError) as unknown:
        shows.show("99999")
    with pytest.raises(NotFoundError) as from_kb:
        kb.show("99999")
    assert unknown.value.message == from_kb.value.message  # the same words, nearest codes included


def test_lookups_answer_check_and_reverse_lookups_from_the_index_as_the_loaded_base_does(cache, kb_file,
                                                                                           monkeypatch):
    """check, icd and modifier read records, the modifier registry and the
    rows that list a code from the index: a 100,000-code base is not loaded
    for one claim line. Every answer equals the loaded base's."""
    from cptcli import checks, views
    from cptcli.errors import NotFoundError
    from cptcli.model import CodeSummary

    kb = knowledge.load([kb_file])
    monkeypatch.setattr(knowledge, "load", lambda paths: pytest.fail("the index answers: nothing is loaded"))
    lookups = views.Lookups([str(kb_file)])
    assert lookups.modifiers == kb.modifiers and len(kb.modifiers) == 20
    keys = {(table, row.key) for rec in kb.records.values() for table in ("diagnoses", "modifiers")
            for row in getattr(rec, table)}
    assert len(keys) > 15
    for table, key in sorted(keys) + [("diagnoses", "Z99.99"), ("modifiers", "XX")]:
        assert lookups.rows_listing(table, key) == kb.rows_listing(table, key), (table, key)
    for modifier in sorted({key for table, key in keys if table == "modifiers"} | set(kb.modifiers)):
        assert checks.modifier_lookup(lookups, modifier) == checks.modifier_lookup(kb, modifier), modifier
    lines = [("20700", (), (), ()), ("20702", ("20700",), ("59",), ()), ("20702", ("20702",), (), ()),
             ("20701", ("20702", "99213"), ("50", "LT", "AS", "11"), ()), ("20704", (), ("GA",), ())]
    for code, with_, mods, dx in lines:
        assert checks.check(lookups, None, code, with_, mods, dx) == checks.check(kb, None, code, with_, mods, dx)
    assert lookups.find("20703") == kb.find("20703") and lookups.find("20799") is None
    assert lookups.summaries() == [CodeSummary.of(rec) for rec in kb.records.values()]
    for code in ("20799", "99999", "0001T"):
        with pytest.raises(NotFoundError) as indexed:
            lookups.get(code)
        with pytest.raises(NotFoundError) as loaded:
            kb.get(code)
        assert indexed.value.message == loaded.value.message  # nearest codes included


def test_check_list_and_modifier_of_a_big_base_never_load_it(cache, kb_file, monkeypatch, cli):
    knowledge.load([kb_file])
    args = ("--no-bundled", "--data", str(kb_file))
    expected = {cmd: cli(*args, *cmd) for cmd in (("check", "20702", "--with", "20700", "-m", "59", "--json"),
                                                  ("modifier", "59", "--json"), ("modifier", "11"),
                                                  ("list", "--json"), ("list",))}
    monkeypatch.setattr(knowledge, "load", lambda paths: pytest.fail("the index answers: nothing is loaded"))
    for cmd, before in expected.items():
        r = cli(*args, *cmd)
        assert (r.exit_code, r.stdout) == (before.exit_code, before.stdout), cmd
    assert expected[("modifier", "11")].exit_code == 1 and "20700" in expected[("modifier", "59", "--json")].stdout


@pytest.mark.parametrize("damage", ["no index", "dropped table", "registries gone"])
def test_shows_without_a_usable_index_read_the_files(cache, kb_file, damage):
    import sqlite3

    from cptcli import views

    kb = knowledge.load([kb_file])
    [name] = indexes(cache)
    if damage == "no index":
        (cache / name).unlink()
    else:
        with sqlite3.connect(cache / name) as con:
            con.execute("DROP TABLE codes" if damage == "dropped table"
                        else "DELETE FROM meta WHERE name IN ('sources', 'modifiers')")
    shows = views.Lookups([str(kb_file)])
    assert [shows.show(code) for code in kb.records] == [kb.show(code) for code in kb.records]
    assert shows.sources == kb.sources and shows.modifiers == kb.modifiers
    assert [s.code for s in shows.summaries()] == list(kb.records)
    assert shows.rows_listing("diagnoses", "G89.29") == kb.rows_listing("diagnoses", "G89.29") != []
    assert _indexed_codes(cache) == 11  # rebuilt, not bypassed on every later call


def test_batch_show_of_a_big_base_never_loads_it(cache, kb_file, monkeypatch, cli):
    knowledge.load([kb_file])
    expected = cli("--no-bundled", "--data", str(kb_file), "show", "20700", "20703", "--json").stdout
    monkeypatch.setattr(knowledge, "load", lambda paths: pytest.fail("the index answers: nothing is loaded"))
    r = cli("--no-bundled", "--data", str(kb_file), "show", "-", "--json", input="20700\n20703\n")
    assert r.exit_code == 0
    assert [json.loads(line) for line in r.stdout.splitlines()] == json.loads(expected)
