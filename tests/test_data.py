"""The bundled knowledge base: schema, provenance and the source documents' tables, row for row."""

import re

import jsonschema
import pytest

from conftest import SEEDS
from cptcli import knowledge

S0 = "000_944fcdce29adbcd4.txt"


def test_bundled_file_matches_the_schema(bundled_doc):
    schema = knowledge.load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(bundled_doc))
    assert errors == []
    assert bundled_doc["format_version"] == 1


def test_every_code_the_documents_name_has_a_record(bundled_doc):
    codes = {r["code"] for r in bundled_doc["codes"]}
    assert codes == {"20700", "20701", "20702", "20703", "20704", "20705", "63650", "63655", "64561", "64568", "95970"}
    full = {r["code"] for r in bundled_doc["codes"] if r["completeness"] == "full"}
    assert full == {"20700", "20701", "20702", "20703"}


def test_all_20700_to_20705_are_add_on_codes(bundled_doc):
    by = {r["code"]: r for r in bundled_doc["codes"]}
    for code in ("20700", "20701", "20702", "20703", "20704", "20705"):
        assert by[code]["add_on"]["value"] is True, code
    # The documents do not say whether the neurostimulator codes are add-ons: unknown, not guessed.
    assert by["63650"]["add_on"] is None


def test_official_descriptor_keeps_its_copyright_line(bundled_doc):
    d = {r["code"]: r for r in bundled_doc["codes"]}["20700"]["descriptor"]
    assert d["official"] is True
    assert d["copyright"] == "© Copyright 2026 American Medical Association. All rights reserved."
    others = [r["code"] for r in bundled_doc["codes"] if r.get("descriptor") and r["descriptor"]["official"]]
    assert others == ["20700"], "only 001 prints the AMA descriptor"


def _norm(s):
    return re.sub(r"\s+", " ", s).strip()


def _walk_quotes(node, out):
    """Every (text, sources) pair a source is cited for: facts quote verbatim, rows quote each cell."""
    if isinstance(node, dict) and "sources" in node and node.get("sources"):
        if "kind" in node and "subject" in node:
            return  # data notes are our words about sources, not quotes
        texts = (
            [node["quote"]]
            if node.get("quote")
            else (
                [node["text"]]
                if "text" in node
                else [v for k, v in node.items() if isinstance(v, str) and k not in ("sources",)]
            )
        )
        if node.get("copyright"):
            texts.append(node["copyright"])
        out.extend((t, node["sources"]) for t in texts)
    if isinstance(node, dict):
        for v in node.values():
            _walk_quotes(v, out)
    elif isinstance(node, list):
        for v in node:
            _walk_quotes(v, out)


def test_every_quoted_fact_is_verbatim_in_its_source(bundled_doc):
    if not SEEDS.is_dir():
        pytest.fail(f"source documents not found at {SEEDS}: the provenance check needs data/sources")
    texts = {p.name: _norm(p.read_text()) for p in SEEDS.glob("*.txt")}
    quotes = []
    for rec in bundled_doc["codes"]:
        _walk_quotes(rec, quotes)
    assert len(quotes) > 150
    missing = [(t, s) for t, s in quotes for src in s if _norm(t) not in texts[src]]
    assert missing == []


@pytest.mark.parametrize(
    "table,header,count",
    [
        ("modifiers", "| Modifier | Description | When to Use |", 13),
        ("taxonomy", "| Taxonomy Code | Specialty | Notes |", 5),
        ("diagnoses", "| ICD-10 Code | Description | Clinical Relevance |", 5),
        ("related", "| CPT Code | Description | Relationship to This Procedure |", 5),
    ],
)
def test_20700_tables_are_present_row_for_row(bundled_doc, table, header, count):
    text = (SEEDS / S0).read_text()
    body = text.split(header, 1)[1].split("\n")[2:]
    rows = []
    for line in body:
        if not re.match(r"^[0-9A-Z][0-9A-Z.]*\s*\|", line):
            break
        rows.append([c.strip() for c in line.split("|")][:3])
    rec = {r["code"]: r for r in bundled_doc["codes"]}["20700"]
    key = "modifier" if table == "modifiers" else "code"
    ours = [[r[key]] + [r[k] for k in list(r)[1:3]] for r in rec[table]]
    assert len(rows) == count
    assert ours == rows


def test_truncated_tables_are_kept_and_noted(bundled_doc):
    by = {r["code"]: r for r in bundled_doc["codes"]}
    assert [m["modifier"] for m in by["20702"]["modifiers"]] == ["50", "52"]
    assert by["20702"]["modifiers"][1]["description"] is None
    assert by["20703"]["modifiers"] == [
        {
            "modifier": "11",
            "description": "Normal or routine service",
            "when_to_use": None,
            "sources": ["004_a1a7c79e2f4700b9.txt"],
        }
    ]
    for code in ("20702", "20703"):
        assert any(n["kind"] == "truncation" for n in by[code]["notes"]), code


def test_conflict_between_documents_on_20700_is_recorded(bundled_doc):
    notes = {r["code"]: r for r in bundled_doc["codes"]}["20700"]["notes"]
    conflict = [n for n in notes if n["kind"] == "conflict" and n["subject"] == "descriptor"]
    assert len(conflict) == 1
    assert set(conflict[0]["sources"]) == {S0, "001_596d63048c814939.txt"}


def test_loader_builds_the_typed_model():
    from cptcli.engine import Engine

    engine = Engine.open([knowledge.bundled_path()])
    rec = engine.get("20701")
    assert rec.is_add_on is True and rec.display_code == "+20701"
    assert [x.codes for x in rec.cross_references] == [("20700",), ("20702", "20703"), ("20704", "20705")]
    assert engine.show("63650").named_by == ("20700",)
