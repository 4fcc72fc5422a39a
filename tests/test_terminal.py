"""Output that fits a terminal: show --brief, table lines at 80, 100 and 200
columns, and the pager (through a real pseudo-terminal)."""

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
