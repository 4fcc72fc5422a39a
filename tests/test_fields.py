"""The field registry: a record field is declared once, and reading, layering,
JSON, flattening and search texts all follow the declaration."""

from dataclasses import dataclass, field

from cptcli.engine.build import field_texts
from cptcli.knowledge import KnowledgeBase
from cptcli.model import FIELDS, CodeRecord, Fact, Spec, registry
from cptcli.render import flat
from cptcli.results import ShowResult


# A field as a later issue would add it: this one declaration, nothing else.
@dataclass(frozen=True, slots=True)
class WithGlobalPeriod(CodeRecord):
    global_period: Fact | None = field(
        default=None,
        metadata={"spec": Spec(kind="scalar", item=Fact, layering="keep-first", weight=0.5, title="Global period")},
    )


def _doc(period: str, source: str) -> dict:
    return {
        "code": "20700",
        "completeness": "full",
        "title": {"text": "A title", "sources": ["x"]},
        "global_period": {"text": period, "sources": [source]},
    }


def test_a_field_declared_once_is_read_written_layered_flattened_and_searched():
    rec = WithGlobalPeriod.from_dict(_doc("090 days", "a.pdf"), origin="a.json")
    assert rec.global_period == Fact("090 days", ("a.pdf",))
    assert [s.name for s in registry(WithGlobalPeriod)][-1] == "global_period"
    assert rec.to_dict()["global_period"] == {
        "text": "090 days",
        "sources": ["a.pdf"],
        "quote": None,
        "copyright": None,
        "contested": None,
    }
    # Layering: the registry says keep-first, so a later file's other value is an override note.
    kb = KnowledgeBase()
    later = WithGlobalPeriod.from_dict(_doc("000 days", "b.pdf"), origin="b.json")
    kb.records["20700"], kb.layers["20700"] = rec, (rec,)
    merged = kb._layer(rec, later)
    assert merged.global_period.text == "090 days"
    assert [n.subject for n in merged.notes if n.kind == "override"] == ["global_period"]
    # Flattening (CSV/TSV/Markdown facts rows) and search texts.
    doc = {
        "schema_version": 1,
        **rec.to_dict(),
        "display_code": "20700",
        "origin": "a.json",
        "named_by": [],
        "contributors": ["a.json"],
    }
    result = ShowResult(doc)
    result._record = rec
    assert (("20700", "global_period", "090 days", None, "a.pdf")) in flat._fact_rows(result)
    assert ("global_period", "090 days", None) in list(field_texts(rec))


def test_the_registry_is_where_sections_titles_weights_and_json_keys_come_from():
    assert flat.SECTIONS == (
        "facts",
        "modifiers",
        "taxonomy",
        "diagnoses",
        "related",
        "cross_references",
        "official",
        "notes",
        "sources",
        "payer",
        "ptp",
    )
    assert {s.name for s in FIELDS if s.kind == "table"} == {
        "modifiers",
        "taxonomy",
        "diagnoses",
        "related",
        "official",
    }
    assert flat.TITLES["diagnoses"] == "ICD-10-CM diagnoses"
    assert flat.JSON_KEYS["modifiers"] == ("modifiers",)
    weights = {s.name: s.weight for s in FIELDS if s.weight is not None}
    assert weights["title"] == 1.0 and weights["related"] == 0.3 and "payers" not in weights


def test_a_field_declared_or_a_reader_bumped_changes_the_index_format_by_itself(tmp_path, monkeypatch, cache):
    """The format stamp in every index key is made from the source of the modules that shape the
    index: a copy of them has the same stamp; the copy with one field declared, as above, or one
    reader's version bumped, has another, and the engine builds a new index for it."""
    import os
    import shutil

    from cptcli import datafiles
    from cptcli.engine import Engine
    from cptcli.knowledge import bundled_path

    package = os.path.dirname(datafiles.__file__)
    copy = tmp_path / "cptcli"
    for name in datafiles.SHAPING:
        source, target = os.path.join(package, name), copy / name
        if os.path.isdir(source):
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target)
    stamp = datafiles.format_stamp(str(copy))
    assert stamp == datafiles.format_stamp()
    monkeypatch.setattr(datafiles, "_PACKAGE", str(copy))
    monkeypatch.setattr(datafiles, "_stamps", {})
    first = Engine.open([str(bundled_path())])
    with open(copy / "model.py", "a", encoding="utf-8") as f:
        f.write(
            "\n\n@dataclass(frozen=True, slots=True)\nclass WithGlobalPeriod(CodeRecord):\n"
            "    global_period: Fact | None = field(\n"
            '        default=None, metadata={"spec": Spec(kind="scalar", item=Fact, layering="keep-first")}\n'
            "    )\n"
        )
    datafiles._stamps.clear()
    with_field = datafiles.format_stamp(str(copy))
    assert with_field != stamp
    rebuilt = Engine.open([str(bundled_path())])
    assert rebuilt.key != first.key and f"index format {with_field}" in rebuilt.key
    reader = copy / "imports" / "hcpcs.py"
    reader.write_text(reader.read_text(encoding="utf-8").replace("READER = ", "READER = 1 + "), encoding="utf-8")
    datafiles._stamps.clear()
    assert datafiles.format_stamp(str(copy)) not in (stamp, with_field)


def test_the_table_view_draws_a_field_declared_once():
    """A new field reaches the terminal through the registry: no drawing of its own is needed for a known kind."""
    from cptcli.output import Env
    from cptcli.render import Options, table
    from cptcli.results import ShowResults

    rec = WithGlobalPeriod.from_dict(_doc("090 days", "a.pdf"), origin="a.json")
    doc = {**rec.to_dict(), "display_code": "20700", "origin": "a.json", "named_by": [], "contributors": ["a.json"]}
    result = ShowResult({**doc, "related": []})
    result._record = rec
    sections = [name for name, _ in table.show(result, {})]
    assert sections.count("facts") == 3  # the header, the new field's block, the documentation line
    text = table.render(ShowResults([result], single=True, sources={}), Options(), Env(width=100, colour=False))
    lines = [line.rstrip() for line in text.splitlines()]
    at = lines.index("Global period")
    assert lines[at + 2 : at + 5] == ["  Text       Source", " ───────────────────", "  090 days   a.pdf"]


def test_every_registry_field_has_a_table_drawing():
    from cptcli.render import table

    assert all(callable(table.drawing(s)) for s in FIELDS)


def test_a_field_no_drawing_fits_fails_loudly():
    import pytest

    from cptcli.render import table

    odd = Spec(kind="scalar", item=dict, name="odd")
    with pytest.raises(LookupError, match="no table drawing for the record field 'odd'"):
        table.drawing(odd)
