"""Drawn pages (cptcli.pages): `show CODE` answered from the page an earlier
call drew, byte for byte the same, and never once anything it was drawn from
has changed."""
import io
import json
import os
import subprocess
import sys

import pytest

from cptcli import datafiles, entry, knowledge
from cptcli.cli import run

from conftest import cptcli_exe


class _Out(io.StringIO):
    encoding = "utf-8"

    def __init__(self, tty=False):
        super().__init__()
        self.tty = tty

    def isatty(self):
        return self.tty


def fast(argv, monkeypatch, tty=False):
    out = _Out(tty)
    monkeypatch.setattr(sys, "stdout", out)
    status = entry.fast(argv)
    return status, out.getvalue()


def typer_output(argv, monkeypatch):
    out = _Out()
    monkeypatch.setattr(sys, "stdout", out)
    assert run(argv) == 0
    return out.getvalue()


def page_files(cache):
    return sorted(p.name for p in cache.glob("pages-*/*") if not p.name.endswith(".tmp"))


@pytest.mark.parametrize("tail", [[], ["--json"]], ids=["tables", "json"])
def test_a_page_is_drawn_once_then_printed_as_drawn(cache, kb_file, monkeypatch, tail):
    argv = ["--no-bundled", "--data", str(kb_file), "show", "20700", *tail]
    knowledge.load([kb_file])  # the index exists, as after any first call
    expected = typer_output(argv, monkeypatch)
    assert fast(argv, monkeypatch) == (0, expected)
    variant = "json" if tail else "table-100-plain"
    assert page_files(cache) == [f"20700.{variant}"]
    [page] = cache.glob("pages-*/*")
    head, _, text = page.read_text(encoding="utf-8").partition("\n")
    assert text == expected and json.loads(head)["key"] == datafiles.key_for([str(kb_file)])
    page.write_text(head + "\n" + "X" * len(text), encoding="utf-8")
    assert fast(argv, monkeypatch) == (0, "X" * len(text)), "the second call prints the page"


def test_each_width_and_colour_has_its_own_page(cache, kb_file, monkeypatch):
    argv = ["--no-bundled", "--data", str(kb_file), "show", "20701"]
    knowledge.load([kb_file])
    narrow = typer_output(argv, monkeypatch)  # COLUMNS=100 in the tests' environment
    fast(argv, monkeypatch)
    monkeypatch.setenv("COLUMNS", "60")
    status, out = fast(argv, monkeypatch)
    assert status == 0 and out != narrow and max(map(len, out.splitlines())) <= 60
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("TERM", "xterm-256color")
    status, coloured = fast(argv, monkeypatch, tty=True)
    assert status == 0 and "\x1b[1m" in coloured
    assert page_files(cache) == ["20701.table-100-plain", "20701.table-60-colour", "20701.table-60-plain"]
    assert fast(argv, monkeypatch, tty=True) == (0, coloured)


def _renderer_edited(head, text):
    head["drawn_by"][0][2] += 1  # a module that drew it has another modification time now
    return "STALE" + text


def _other_files(head, text):
    head["key"] += "x"
    return "STALE" + text


def _files_named_otherwise(head, text):
    head["files"] = ["elsewhere.json"]
    return "STALE" + text


def _other_variant(head, text):
    head["variant"] = "json"
    return "STALE" + text


def _truncated(head, text):
    return text[:-10]


def _malformed(head, text):
    del head["length"]
    return "STALE" + text


@pytest.mark.parametrize("change", [_renderer_edited, _other_files, _files_named_otherwise, _other_variant,
                                    _truncated, _malformed])
def test_a_page_is_never_printed_once_anything_it_was_drawn_from_differs(cache, kb_file, monkeypatch, change):
    argv = ["--no-bundled", "--data", str(kb_file), "show", "20702"]
    knowledge.load([kb_file])
    expected = typer_output(argv, monkeypatch)
    fast(argv, monkeypatch)
    [page] = cache.glob("pages-*/*")
    head, _, text = page.read_text(encoding="utf-8").partition("\n")
    head = json.loads(head)
    text = change(head, text)
    if change is not _truncated and "length" in head:
        head["length"] = len(text)  # a consistent page in every other respect
    page.write_text(json.dumps(head) + "\n" + text, encoding="utf-8")
    assert fast(argv, monkeypatch) == (0, expected)
    assert fast(argv, monkeypatch) == (0, expected), "drawn again and kept"


def test_an_edited_file_is_never_answered_from_an_old_page(cache, kb_file, monkeypatch):
    argv = ["--no-bundled", "--data", str(kb_file), "show", "20700", "--json"]
    knowledge.load([kb_file])
    fast(argv, monkeypatch)
    assert page_files(cache) == ["20700.json"]
    doc = json.loads(kb_file.read_text(encoding="utf-8"))
    doc["codes"][0]["title"]["text"] = "Changed title"
    kb_file.write_text(json.dumps(doc), encoding="utf-8")
    status, out = fast(argv, monkeypatch)
    if status is None:  # no index for the new contents yet: the full CLI answers, and indexes them
        out = typer_output(argv, monkeypatch)
    assert json.loads(out)["title"]["text"] == "Changed title"
    assert page_files(cache) == [], "the rebuilt index took its old pages with it"
    assert json.loads(fast(argv, monkeypatch)[1])["title"]["text"] == "Changed title"
    assert page_files(cache) == ["20700.json"]


def test_an_unwritable_cache_directory_means_no_page_and_the_same_answer(cache, kb_file, monkeypatch):
    argv = ["--no-bundled", "--data", str(kb_file), "show", "20700"]
    knowledge.load([kb_file])
    expected = typer_output(argv, monkeypatch)
    monkeypatch.setattr("cptcli.cache.atomic_write", lambda path, data: None)
    assert fast(argv, monkeypatch) == (0, expected)
    assert fast(argv, monkeypatch) == (0, expected) and page_files(cache) == []


def test_only_single_codes_have_pages(cache, kb_file, monkeypatch):
    argv = ["--no-bundled", "--data", str(kb_file), "show", "20700", "20701", "--json"]
    knowledge.load([kb_file])
    assert fast(argv, monkeypatch) == (0, typer_output(argv, monkeypatch))
    assert page_files(cache) == []


def test_a_page_is_printed_without_importing_rich_the_model_or_sqlite(tmp_path):
    """What the page saves, checked in a fresh process: the third call (the
    first indexes, the second draws) imports none of them."""
    env = {**os.environ, "CPTCLI_CACHE_DIR": str(tmp_path / "cache")}
    for _ in range(2):
        subprocess.run([cptcli_exe(), "show", "20700"], env=env, check=True, capture_output=True,
                       stdin=subprocess.DEVNULL)
    probe = ("import sys\nfrom cptcli import entry\nstatus = entry.fast(['show', '20700'])\n"
             "heavy = [m for m in ('rich', 'cptcli.model', 'sqlite3', 'typer') if m in sys.modules]\n"
             "sys.stderr.write(f'{status} {heavy}')")
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)
    assert done.stderr == "0 []" and "CPT 20700" in done.stdout
