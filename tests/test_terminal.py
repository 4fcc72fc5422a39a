"""Output that fits a terminal: show --brief, table lines at 80, 100 and 200
columns, and the pager (through a real pseudo-terminal)."""

import json

import pytest

from cptcli.render import table


@pytest.mark.parametrize("columns", ["80", "100", "200"])
def test_brief_holds_the_essentials_in_at_most_25_lines(cli, monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", columns)
    out = cli("show", "20700", "--brief").stdout
    lines = out.splitlines()
    assert len(lines) <= table.BRIEF_LINES
    assert lines[0].startswith("╭─ CPT +20700 ─")
    assert "add-on (+): report with a primary procedure code · full record" in out
    assert "Official descriptor: Manual preparation and insertion of drug-delivery" in out
    assert lines[-7:] == [
        "Modifiers: 13 rows (4 corrected, 7 on a contested reading)",
        "Provider taxonomy: 5 rows (5 corrected, 5 on a contested reading)",
        "ICD-10-CM diagnoses: 5 rows (2 corrected, 5 on a contested reading)",
        "Related codes: 5 rows (5 on a contested reading)",
        "Data notes (conflicts, truncations, corrections): 16 rows",
        lines[-2],
        "Everything: cptcli show 20700 --full; one part: --section NAME",
    ]
    assert lines[-2].startswith("Facts: in simple words 2, service type 1")
    cautions = [line for line in lines if line.startswith("⚠ ")]
    assert [c.split(":")[0] for c in cautions] == ["⚠ conflict (descriptor)", "⚠ conflict (add_on)"]
    # One line each: a caution longer than the terminal ends in "…", a shorter one whole.
    assert all(len(line) <= int(columns) for line in lines)
    if columns == "80":
        assert cautions[0].endswith("…")


def test_brief_leaves_what_the_sources_are_silent_on_to_the_full_view(cli):
    brief = cli("show", "64568", "--brief").stdout
    assert "not stated" not in brief.lower() and "none in the sources" not in brief
    full = cli("show", "64568", "--full").stdout
    assert [line for line in full.splitlines() if "tated by the sources" in line] == [
        "Not stated by the sources: add-on status, documentation requirements."
    ]


def test_brief_cuts_cautions_to_fit_and_says_how_many_more(cli, tmp_path, monkeypatch):
    import json

    notes = [
        {"kind": "conflict", "subject": f"thing{i}", "text": f"conflict number {i}", "sources": ["x.pdf"]}
        for i in range(30)
    ]
    doc = {
        "format_version": 1,
        "sources": [{"file": "x.pdf", "title": "X"}],
        "codes": [
            {
                "code": "20999",
                "completeness": "partial",
                "add_on": None,
                "title": {"text": "A", "sources": ["x.pdf"]},
                "notes": notes,
            }
        ],
    }
    path = tmp_path / "many.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    result = cli("--no-bundled", "--data", str(path), "show", "20999", "--brief")
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert len(lines) == table.BRIEF_LINES
    more = [line for line in lines if "more:" in line]
    assert more and more[0].startswith("⚠ ") and more[0].endswith("more: cptcli show 20999 --section notes")


def test_brief_is_a_table_view(main):
    code, out, err = main("show", "20700", "--brief", "--json")
    assert (code, out) == (2, "")
    assert err == (
        "cptcli: error: --brief is a table view: it takes no --format or --section (they pick from the full view)\n"
    )


def test_piped_show_is_the_full_view(cli):
    out = cli("show", "20700").stdout
    assert "Provider taxonomy" in out and "Everything: cptcli show" not in out


WIDTH_COMMANDS = [
    ["show", "20700", "--full"],
    ["audit"],
    ["check", "20700", "--dx", "M54.5"],
    ["icd", "M54.16"],
    ["modifier", "AS"],
    ["search", "beads removal"],
]


@pytest.mark.parametrize("columns", [80, 100, 200])
@pytest.mark.parametrize("args", WIDTH_COMMANDS, ids=lambda a: " ".join(a))
def test_table_lines_end_without_padding_and_fit_the_width(cli, monkeypatch, columns, args):
    from rich.cells import cell_len

    monkeypatch.setenv("COLUMNS", str(columns))
    out = cli(*args).stdout
    lines = out.splitlines()
    assert [line for line in lines if line != line.rstrip()] == []
    assert max(cell_len(line) for line in lines) <= columns


@pytest.mark.parametrize("columns", [80, 100])
def test_no_column_disappears_at_80_and_100(cli, monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", str(columns))
    heads = {
        ("show", "20700", "--section", "modifiers"): ["Modifier", "Description", "When to use", "Data note", "Source"],
        ("audit",): ["Severity", "Code", "About", "Finding", "Auth.", "Source"],
        ("icd", "M54.16"): ["CPT", "Official", "Clinical", "Data note", "Source"],
        ("search", "beads removal"): ["Code", "Title", "Score", "Matched", "Snippet"],
    }
    for args, names in heads.items():
        lines = cli(*args).stdout.splitlines()
        rule = next(i for i, line in enumerate(lines) if line.startswith(" ─"))
        head = " ".join(lines[max(0, rule - 3) : rule])
        assert all(n in head for n in names), (args, head)
        # Every row keeps its source: no cell of the Source column is dropped.
        if args[0] == "show":
            assert sum(1 for line in lines if line.rstrip().endswith(" 000")) == 13


@pytest.mark.parametrize("columns", [80, 100])
def test_a_cell_too_narrow_for_a_word_ends_in_an_ellipsis_never_mid_word(cli, monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", str(columns))
    out = cli("show", "20700", "--section", "taxonomy").stdout
    # The codes stay whole at every width (they are the rows' keys)...
    for code in ("2084P0805X", "207L00000X", "207RH0000X", "2085R0202X", "208D00000X"):
        assert code in out
    out = cli("audit").stdout
    assert "207L0000\n" not in out and "207L0000 " not in out
    # ...and a word no column can hold is cut with "…", not folded onto the next line without a mark.
    lines = cli("icd", "M54.16").stdout.splitlines()
    if columns == 80:
        assert any(cell.endswith("…") for line in lines for cell in line.split("   ") if cell)
        assert not any(line.split()[0:1] == ["y,"] for line in lines)


def test_long_findings_go_below_the_table_as_a_list(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    lines = cli("check", "20700", "--dx", "M54.5").stdout.splitlines()
    table_end = lines.index("In full:")
    cells = " ".join(" ".join(line.split()) for line in lines[:table_end])
    assert "see (1) below" in cells and "see (2) below" in cells
    assert lines[table_end + 1].startswith("(1) add_on: +20700 is an add-on code")
    assert any(line.startswith("(2) diagnoses/M54.5: 000 pairs M54.5 with 20700") for line in lines)
    # No finding cell runs past a few lines any more: a row is its severity line and the lines under it.
    rule = next(i for i, line in enumerate(lines) if line.startswith(" ─"))
    starts = [i for i in range(rule + 1, table_end) if lines[i][:12].strip()] + [table_end - 1]
    assert len(starts) >= 5 and max(b - a for a, b in zip(starts, starts[1:], strict=False)) <= 7


# -- the pager, through a real pseudo-terminal ------------------------------------------------


def _on_a_terminal(args, tmp_path, env=None, rows=24):
    """Run cptcli with stdout on a pseudo-terminal of `rows` lines; its output, and what the fake pager got."""
    import fcntl
    import os
    import pty
    import struct
    import subprocess
    import termios

    from tests.conftest import TEST_ENV, cptcli_exe

    fake = tmp_path / "pager.sh"
    got = tmp_path / "paged.txt"
    fake.write_text('#!/bin/sh\n{ echo "PAGER $LESS"; cat; } > "$FAKE_OUT"\n', encoding="utf-8")
    fake.chmod(0o755)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, 100, 0, 0))
    full = {**os.environ, **TEST_ENV, "CPTCLI_PAGER": str(fake), "FAKE_OUT": str(got), **(env or {})}
    full = {k: v for k, v in full.items() if v is not None and k != "CPTCLI_DATA"}
    proc = subprocess.Popen([cptcli_exe(), *args], stdout=slave, stderr=subprocess.PIPE, env=full)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=60)
    os.close(master)
    shown = b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")
    return proc.returncode, shown, got.read_text(encoding="utf-8") if got.exists() else None


def test_long_output_on_a_terminal_goes_through_the_pager(tmp_path):
    code, shown, paged = _on_a_terminal(["show", "20700", "--full"], tmp_path)
    assert code == 0 and shown == ""
    assert paged.startswith("PAGER FRX\n╭─ CPT +20700 ─")
    assert "Provider taxonomy" in paged


def test_the_brief_view_fits_the_screen_and_is_not_paged(tmp_path):
    code, shown, paged = _on_a_terminal(["show", "20700"], tmp_path)
    assert code == 0 and paged is None
    assert "Everything: cptcli show 20700 --full" in shown and "Provider taxonomy:" in shown


def test_no_pager_and_an_empty_pager_write_straight_to_the_terminal(tmp_path):
    _, shown, paged = _on_a_terminal(["--no-pager", "show", "20700", "--full"], tmp_path)
    assert paged is None and "Provider taxonomy" in shown
    _, shown, paged = _on_a_terminal(["show", "20700", "--full"], tmp_path, env={"CPTCLI_PAGER": ""})
    assert paged is None and "Provider taxonomy" in shown


def test_pager_is_chosen_as_git_does():
    from cptcli import pager

    assert pager.command({}) == ["less", "-FRX"]
    assert pager.command({"PAGER": "most -s"}) == ["most", "-s"]
    assert pager.command({"PAGER": "most", "CPTCLI_PAGER": "less -R"}) == ["less", "-R"]
    assert pager.command({"PAGER": "cat"}) is None
    assert pager.command({"CPTCLI_PAGER": ""}) is None


def test_piped_output_is_never_paged(tmp_path):
    from tests.conftest import subprocess_cli

    got = tmp_path / "paged.txt"
    p = subprocess_cli("show", "20700", env={"CPTCLI_PAGER": "/bin/false", "FAKE_OUT": str(got)})
    assert p.returncode == 0 and b"Provider taxonomy" in p.stdout and not got.exists()


def test_a_long_caution_in_the_search_table_keeps_its_correction_and_points_at_its_authorities(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    out = cli("search", "baclofen pump removal", "--limit", "1").stdout
    text = " ".join(out.split())
    assert "its removal is 62365" in text and "[authorities: cptcli show 20701 --section notes]" in text
    assert "AAPC" not in text
    # JSON keeps every word of it.
    doc = json.loads(cli("search", "baclofen pump removal", "--limit", "1", "--json").stdout)
    assert "AAPC Neurosurgery Coding Alert" in doc[0]["caution"]
