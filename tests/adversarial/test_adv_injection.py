"""Class 5, CSV and Markdown injection: no cell a spreadsheet would run as a
formula, no bare carriage return splitting a row, no pipe or newline breaking
a Markdown table."""

import csv
import io

import pytest
from advkit import held, own_record, text, with_texts

STARTS = {
    "equals": '=HYPERLINK("http://evil.example","x")',
    "plus": "+20700",
    "minus": "-2+3",
    "at": "@SUM(A1:A9)",
    "tab": "\t=1+1",
    "cr": "\r=1+1",
    "equals-cmd": "=cmd|' /C calc'!A0",
}


def _cells(out: str) -> list:
    return [cell for row in csv.reader(io.StringIO(out, newline="")) for cell in row]


@pytest.mark.parametrize("start", sorted(STARTS))
def test_show_csv_cells_are_never_formulas(home, start):
    path = home.write("kb.json", with_texts([STARTS[start]]))
    p = home.run("--data", path, "show", "20700", "--format", "csv")
    assert not held(p) and p.returncode == 0, p.stderr
    bad = [c for c in _cells(text(p.stdout)) if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert bad == []


@pytest.mark.parametrize("command", [["list"], ["search", "drug delivery"]])
def test_list_and_search_csv_titles_are_never_formulas(home, command):
    path = home.write("kb.json", own_record('=HYPERLINK("http://evil.example","Drug delivery")'))
    p = home.run("--no-bundled", "--data", path, *command, "--format", "csv")
    assert not held(p) and p.returncode == 0, p.stderr
    assert [c for c in _cells(text(p.stdout)) if c[:1] in ("=", "+", "-", "@", "\t", "\r")] == []


def test_the_display_code_is_text_not_a_number(home):
    p = home.run("show", "20700", "--format", "csv")
    assert p.returncode == 0
    assert "+20700" not in _cells(text(p.stdout))  # as text it is '+20700


def test_a_bare_carriage_return_is_quoted(home):
    """A reader must not split the row at the CR: no row may start with the
    text after it."""
    path = home.write("kb.json", with_texts(["first\rsecond half"]))
    p = home.run("--data", path, "show", "20700", "--format", "csv")
    assert p.returncode == 0 and not held(p)
    rows = list(csv.reader(io.StringIO(text(p.stdout), newline="")))
    assert [r for r in rows if r and r[0].startswith("second half")] == []
    assert all(len(r) in (0, len(rows[0])) for r in rows)


@pytest.mark.parametrize("payload", ["pipe | in | text", "new\nline", "back\\slash|", "cr\rhere"])
def test_markdown_tables_keep_their_shape(home, payload):
    path = home.write("kb.json", with_texts([payload]))
    p = home.run("--data", path, "show", "20700", "--format", "markdown")
    assert not held(p) and p.returncode == 0, p.stderr
    out = text(p.stdout)
    assert "\r" not in out
    for block in out.split("\n\n"):
        rows = [r for r in block.split("\n") if r.startswith("|")]
        if rows:
            widths = {len(r.replace("\\\\", "").replace("\\|", "").split("|")) for r in rows}
            assert len(widths) == 1, rows
