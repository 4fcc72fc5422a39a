"""The engine: one index every command reads, cached or in memory with the
same answers; rebuilt on any change or damage; an invalid file reported once;
the pre-Typer path printing what the CLI prints."""

import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from cptcli import entry, knowledge, service
from cptcli.cli import run
from cptcli.engine import Engine
from cptcli.errors import DataError
from cptcli.knowledge import bundled_path
from cptcli.search import Searcher

EXAMPLE = Path(__file__).parent / "fixtures" / "example_user_kb.json"

QUERIES = [
    "baclofen pump removal",
    "antibiotic beads",
    "intramedulary insrt",
    "20700",
    "207",
    "M54",
    "G89.29",
    "modifier 59",
    "knee",
    "take out the medicine pump",
    "xylophone",
]
LINES = [
    ("20700", (), ("51",), ("M54.5",)),
    ("20702", ("20700",), (), ()),
    ("20700", ("99999",), ("59",), ("G89.29",)),
    ("20703", ("20702",), ("11", "LT", "RT"), ("M54.50",)),
    ("64568", (), (), ()),
]


def answers(engine: Engine) -> dict:
    """Every kind of answer the commands give, as plain data."""
    searcher = Searcher(engine.corpus())
    return {
        "show": [engine.show(c).to_dict() for c in engine.codes()],
        "list": [s.to_dict() for s in service.list_codes(engine).summaries],
        "search": {q: [h.to_dict() for h in searcher.search(q, limit=20, min_score=0)] for q in QUERIES},
        "check": [service.check(engine, service.claim_line(c, w, m, d)).to_dict() for c, w, m, d in LINES],
        "icd": [service.icd(engine, c).to_dict() for c in ("M54.16", "M54.5", "G89.29")],
        "modifier": [service.modifier(engine, m).to_dict() for m in ("59", "11", "AS", "LT")],
        "audit": service.audit(engine).to_dict(),
        "not_found": [engine.not_found(c).message for c in ("20706", "99213", "J1100")],
        "registries": (engine.sources, engine.modifiers, engine.taxonomy_codes),
    }


def test_the_in_memory_fallback_and_a_cached_index_give_the_same_answers(cache, tmp_path, monkeypatch):
    paths = [str(bundled_path())]
    cached = Engine.open(paths)
    assert cached.path is not None and os.path.exists(cached.path)
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("")
    monkeypatch.setenv("CPTCLI_CACHE_DIR", str(blocked / "cache"))  # the cache directory cannot be made
    memory = Engine.open(paths)  # the fallback as a call meets it, not a second constructor
    assert memory.path is None
    assert answers(memory) == answers(cached)


def test_an_unwritable_cache_directory_answers_from_memory(tmp_path, monkeypatch, main):
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("")
    monkeypatch.setenv("CPTCLI_CACHE_DIR", str(blocked / "cache"))  # a directory can never be made there
    engine = Engine.open([str(bundled_path())])
    assert engine.path is None and engine.show("20700").code == "20700"
    code, out, err = main("show", "20701", "--json")
    assert (code, json.loads(out)["code"], err) == (0, "20701", "")


def test_the_index_is_reused_then_rebuilt_when_a_file_changes(cache, kb_file):
    first = Engine.open([str(kb_file)])
    again = Engine.open([str(kb_file)])
    assert again.path == first.path and again.key == first.key
    doc = json.loads(kb_file.read_text(encoding="utf-8"))
    doc["codes"][0]["title"]["text"] = "Changed title, longer than before"
    kb_file.write_text(json.dumps(doc), encoding="utf-8")
    changed = Engine.open([str(kb_file)])
    assert changed.key != first.key and changed.path == first.path  # the new index replaces the old one
    assert changed.get("20700").title.text == "Changed title, longer than before"
    assert len(list(cache.glob("index-*.sqlite"))) == 1


@pytest.mark.parametrize(
    "damage",
    [
        "DROP TABLE codes",
        "DROP TABLE terms",
        "DELETE FROM meta WHERE name = 'registry'",
        "DELETE FROM meta WHERE name = 'search'",
        "DROP TABLE rows",
        # A stored document that does not parse as what the build wrote.
        "UPDATE codes SET search = 'not json' WHERE code = '20700'",
        "UPDATE codes SET search = '[\"20700\"]' WHERE code = '20700'",
        "UPDATE meta SET value = '[]' WHERE name = 'registry'",
        "UPDATE terms SET codes = x'ff' WHERE stem = 'bead'",
    ],
)
def test_an_index_damaged_past_its_key_is_rebuilt_once(cache, kb_file, damage):
    path = Engine.open([str(kb_file)]).path
    con = sqlite3.connect(path)
    con.execute(damage)
    con.commit()
    con.close()
    engine = Engine.open([str(kb_file)])
    assert engine.show("20700").code == "20700"
    assert [s.code for s in service.list_codes(engine).summaries][0] == "20700"
    assert Searcher(engine.corpus()).search("antibiotic beads")[0].code in ("20700", "20701")
    assert engine.modifiers["59"].name == "Distinct procedural service"
    assert engine.rows_listing("modifiers", "59")
    fresh = sqlite3.connect(path)
    assert fresh.execute("SELECT count(*) FROM codes").fetchone()[0] == 11  # rebuilt in place


def test_an_invalid_file_is_reported_once_while_unchanged(cache, kb_file, monkeypatch):
    doc = json.loads(kb_file.read_text(encoding="utf-8"))
    doc["codes"][3]["completeness"] = "sort of"
    kb_file.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(DataError) as first:
        Engine.open([str(kb_file)])
    assert "record 20703, field completeness" in first.value.message
    calls = []
    monkeypatch.setattr(knowledge, "load", lambda paths: calls.append(paths))
    with pytest.raises(DataError) as second:
        Engine.open([str(kb_file)])
    assert second.value.message == first.value.message and calls == []  # not read, not validated again


# The pre-Typer path recognises `--version` and `show CODE... [--json]` only: everything else falls through.
FAST = [
    ["--version"],
    ["-V"],
    ["show", "20700"],
    ["show", "20700", "--json"],
    ["show", "+20701", "20702"],
    ["show", "20703", "20703", "--json"],
    ["show", "CPT 20704", "--json"],
]
FALLS_THROUGH = [
    ["show", "20706"],
    ["show", "2070"],
    ["show", "20700", "--format", "csv"],
    ["show", "-"],
    ["search", "beads"],
    ["--data", "x.json", "show", "20700"],
    ["show", "--json", "20700"],
    ["show"],
    [],
    ["show", "J1100", "--json"],
]


@pytest.mark.parametrize("argv", FAST, ids=" ".join)
def test_the_pre_typer_path_prints_what_the_cli_prints(argv, capsys):
    status = entry.fast(list(argv))
    fast_out = capsys.readouterr()
    code = run(list(argv))
    full_out = capsys.readouterr()
    assert status == code == 0
    assert fast_out.out == full_out.out and fast_out.err == full_out.err == ""


@pytest.mark.parametrize("argv", FALLS_THROUGH, ids=" ".join)
def test_the_pre_typer_path_leaves_everything_else_to_typer(argv, capsys):
    assert entry.fast(list(argv)) is None
    assert capsys.readouterr().out == ""


def test_no_module_of_the_json_show_path_imports_the_model_or_typer(cache):
    import subprocess
    import sys

    code = (
        "import sys; from cptcli import entry; entry.fast(['show', '20700', '--json']); "
        "print(sorted(m for m in sys.modules if m.startswith(('cptcli', 'typer', 'rich', 'dataclasses'))), "
        "file=sys.stderr)"
    )
    Engine.open([str(bundled_path())])  # built here: the call measured finds the index
    p = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, "CPTCLI_CACHE_DIR": str(cache)}
    )
    loaded = eval(p.stderr.strip().splitlines()[-1])
    assert "cptcli.model" not in loaded and "typer" not in loaded and "rich" not in loaded, loaded


def test_a_damaged_cache_file_is_replaced(cache, kb_file):
    path = Engine.open([str(kb_file)]).path
    with open(path, "r+b") as f:
        f.seek(0)
        f.write(b"garbage" * 100)
    assert Engine.open([str(kb_file)]).show("20700").code == "20700"
    shutil.rmtree(cache)
    assert Engine.open([str(kb_file)]).show("20701").code == "20701"


def test_a_bug_while_answering_is_an_internal_error_not_damage(cache, kb_file, main, monkeypatch):
    import cptcli.model

    def broken(*args):
        raise TypeError("injected")

    assert main("--data", str(kb_file), "list")[0] == 0  # the index is built and cached
    path = Engine.open([str(bundled_path()), str(kb_file)]).path
    before = os.stat(path).st_mtime_ns
    monkeypatch.setattr(cptcli.model, "CodeSummary", broken)
    code, out, err = main("--data", str(kb_file), "list")
    assert (code, out) == (70, "")
    assert err == "cptcli: internal error: TypeError: injected (please report it; CPTCLI_DEBUG=1 shows where)\n"
    assert os.stat(path).st_mtime_ns == before  # not removed and rebuilt as if damaged
    monkeypatch.setenv("CPTCLI_DEBUG", "1")
    with pytest.raises(TypeError, match="injected"):
        run(["--data", str(kb_file), "list"])


def test_the_pre_typer_path_answers_show_over_data_files_as_the_cli_does(cache, kb_file, capsys):
    argv = ["--data", str(kb_file), "--data", str(bundled_path()), "show", "20700", "--json"]
    assert entry.fast(list(argv)) == 0
    fast_out = capsys.readouterr()
    assert run(list(argv)) == 0
    full_out = capsys.readouterr()
    assert fast_out.out == full_out.out and json.loads(fast_out.out)["code"] == "20700"
    assert fast_out.err == full_out.err == ""


def _tables(path) -> dict:
    """Every row of every table of an index, in the order a scan reads them, the key and build time aside."""
    con = sqlite3.connect(path)
    try:
        names = [n for (n,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        stamps = ("key", "built_at")
        return {n: [r for r in con.execute(f"SELECT * FROM {n}") if n != "meta" or r[0] not in stamps] for n in names}
    finally:
        con.close()


@pytest.mark.parametrize("child", ["posts", "dies"])
def test_a_big_base_s_stems_posted_in_a_child_make_the_index_the_build_makes_alone(tmp_path, monkeypatch, child):
    """The stem postings of big files are made in a child forked before they are read (build._StemsChild),
    or here where it dies: either way every table is row for row the one a build without the child writes."""
    from cptcli.engine import build

    paths = [str(bundled_path()), str(EXAMPLE)]

    def index(name: str) -> dict:
        path = tmp_path / name
        con, written = build.build(paths, "k", str(path), str(tmp_path / "invalid.json"))
        con.close()
        assert written == str(path) and [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []
        return _tables(path)

    monkeypatch.setattr(build, "PARALLEL_BYTES", 1 << 60)
    alone = index("alone.sqlite")
    copied = []
    real = build._StemsChild.copy_into
    monkeypatch.setattr(build._StemsChild, "copy_into", lambda self, con: copied.append(real(self, con)) or copied[-1])
    monkeypatch.setattr(build, "PARALLEL_BYTES", 0)
    if child == "dies":
        monkeypatch.setattr(build, "_post_stems", lambda pipe, path: os._exit(1))
    beside = index("beside.sqlite")
    assert copied == [child == "posts"]
    assert len(alone["terms"]) > 500 and beside == alone


def test_the_stems_child_is_ended_and_its_file_removed_when_the_files_are_invalid(tmp_path, monkeypatch):
    from cptcli.engine import build

    bad = tmp_path / "bad.json"
    bad.write_text(EXAMPLE.read_text(encoding="utf-8")[:-20], encoding="utf-8")
    started = []
    real = build._StemsChild.start.__func__
    spy = classmethod(lambda cls, *a: started.append(real(cls, *a)) or started[-1])
    monkeypatch.setattr(build._StemsChild, "start", spy)
    monkeypatch.setattr(build, "PARALLEL_BYTES", 0)
    cache = tmp_path / "cache"
    with pytest.raises(DataError):
        build.build([str(bundled_path()), str(bad)], "k", str(cache / "index.sqlite"), str(cache / "invalid.json"))
    assert started[0] is not None and started[0].pid == 0 and not os.path.exists(started[0].path)
    assert [p.name for p in cache.iterdir() if p.suffix == ".tmp"] == []
