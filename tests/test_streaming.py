"""The record-at-a-time parse of big knowledge-base files (knowledge._streamed):
the same knowledge base as the whole parse, decoded in pieces however the
pieces fall, and every invalid file worded as the whole parse words it."""

import json
from pathlib import Path

import pytest

from cptcli import knowledge
from cptcli.errors import DataError
from cptcli.knowledge import bundled_path

EXAMPLE = Path(__file__).parent / "fixtures" / "example_user_kb.json"


@pytest.fixture(params=["checked-here", "checked-beside"])
def streamed(monkeypatch, request):
    """Every file streamed, in pieces of 61 characters (every boundary falls inside something), its
    schema checked in this process or in the forked child beside the build."""
    monkeypatch.setattr(knowledge, "STREAM_BYTES", 0)
    monkeypatch.setattr(knowledge, "PARALLEL_BYTES", 0 if request.param == "checked-beside" else 1 << 60)
    monkeypatch.setattr(knowledge._Window, "PIECE", 61)
    calls = []
    real, whole = knowledge._streamed, knowledge._parsed_whole
    monkeypatch.setattr(knowledge, "_streamed", lambda *a: calls.append("streamed") or real(*a))
    monkeypatch.setattr(knowledge, "_parsed_whole", lambda *a, **k: calls.append("whole") or whole(*a, **k))
    return calls


def _whole(paths):
    return knowledge._parsed_whole(paths, [open(p, "rb").read() for p in paths])


def test_a_streamed_base_is_the_whole_parse(streamed, tmp_path):
    spaced = tmp_path / "spaced.json"  # another layout: keys in another order, indentation, a BOM
    doc = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    spaced.write_bytes(b"\xef\xbb\xbf" + json.dumps(dict(reversed(doc.items())), indent=3).encode("utf-8"))
    for paths in ([str(bundled_path())], [str(bundled_path()), str(EXAMPLE)], [str(bundled_path()), str(spaced)]):
        kb = knowledge.load(paths)
        assert streamed == ["streamed"] and kb.digest  # valid: never parsed whole
        whole = _whole(paths)
        for name in ("records", "layers", "sources", "modifiers", "taxonomy_codes", "synonyms", "extra"):
            assert getattr(kb, name) == getattr(whole, name), name
        streamed.clear()


@pytest.mark.parametrize(
    "edit",
    [
        lambda t: t[:-30],  # truncated
        lambda t: t.replace('"completeness": "full"', '"completeness": "sort of"', 1),  # schema
        lambda t: t.replace('{"code": "20701"', '{"code": "20701", "code": "20701"', 1),  # duplicate key
        lambda t: t.replace('"format_version": 1', '"format_version": 1, "format_version": 1', 1),
        lambda t: t.rstrip() + " []",  # extra data
        lambda t: t.replace('"text": "', '"text": "\\ud800', 1),  # a lone surrogate
        lambda t: t.replace('"format_version": 1', '"format_version": NaN', 1),
        # A record the schema refuses, and a later fault the whole parse reports first, or beside it.
        lambda t: t.replace('"completeness": "full"', '"completeness": "sort of"', 1)[:-30],
        lambda t: t.replace('"completeness": "full"', '"completeness": "sort of"', 1).rstrip()[:-1] + ', "x": 1}',
        lambda t: t.replace('"completeness": "full"', '"completeness": "sort of"', 1).replace(
            '"format_version": 1', '"format_version": 2', 1
        ),
        lambda t: t.replace('"completeness": "full"', '"completeness": "sort of"', 1)[::-1].replace(
            '"text": "'[::-1], '"text": "\\ud800'[::-1], 1
        )[::-1],
        lambda t: t.replace('"completeness": "full"', '"completeness": "sort of"').replace(
            '"completeness": "partial"', '"completeness": 7'
        ),
    ],
    ids=[
        "truncated",
        "schema",
        "duplicate-key",
        "duplicate-top-key",
        "extra-data",
        "surrogate",
        "nan",
        "schema-then-truncated",
        "schema-and-unknown-top-key",
        "schema-and-top-value",
        "schema-then-surrogate",
        "schema-in-many-records",
    ],
)
def test_an_invalid_streamed_file_is_worded_as_the_whole_parse_words_it(streamed, tmp_path, edit):
    path = tmp_path / "kb.json"
    text = json.dumps(json.loads(bundled_path().read_text(encoding="utf-8")), ensure_ascii=False)
    path.write_text(edit(text), encoding="utf-8")
    with pytest.raises(DataError) as whole:
        _whole([str(path)])
    with pytest.raises(DataError) as got:
        knowledge.load([str(path)])
    assert streamed and (got.value.message, got.value.of_content) == (whole.value.message, whole.value.of_content)


def test_a_record_the_schema_refuses_is_worded_from_the_stream_without_a_whole_parse(streamed, tmp_path):
    """The first report of a big file one record of which is invalid costs one more read of the file, not
    a whole parse (its error as the whole parse words it, above), however many files follow it."""
    path, after = tmp_path / "kb.json", tmp_path / "after.json"
    text = json.dumps(json.loads(bundled_path().read_text(encoding="utf-8")), ensure_ascii=False)
    path.write_text(text.replace('"completeness": "full"', '"completeness": "sort of"', 1), encoding="utf-8")
    after.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(DataError) as got:
        knowledge.load([str(path), str(after)])
    assert streamed == ["streamed"]
    assert got.value.of_content
    assert got.value.message.startswith(f"{path}: record ") and "'sort of' is not one of" in got.value.message
    with pytest.raises(DataError) as whole:
        _whole([str(path), str(after)])
    assert got.value.message == whole.value.message


def test_a_later_file_that_is_not_json_is_reported_before_an_earlier_record_the_schema_refuses(streamed, tmp_path):
    path, after = tmp_path / "kb.json", tmp_path / "after.json"
    text = json.dumps(json.loads(bundled_path().read_text(encoding="utf-8")), ensure_ascii=False)
    path.write_text(text.replace('"completeness": "full"', '"completeness": "sort of"', 1), encoding="utf-8")
    after.write_text(EXAMPLE.read_text(encoding="utf-8")[:-20], encoding="utf-8")
    with pytest.raises(DataError) as got:
        knowledge.load([str(path), str(after)])
    assert got.value.message.startswith(f"{after}:") and "invalid JSON" in got.value.message
    with pytest.raises(DataError) as whole:
        _whole([str(path), str(after)])
    assert got.value.message == whole.value.message


def _mutations(record):
    """Every value of `record`, one at a time, replaced by values of the wrong kind, emptied or removed, and one
    unknown key added at each object: valid records and invalid ones in every place the schema looks."""
    wrong = (None, True, 7, "", "x", [], {}, ["", 7], [{}], {"code": "20700", "subject": ""})

    def places(value, path=()):
        yield path
        if isinstance(value, dict):
            for k, v in value.items():
                yield from places(v, (*path, k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                yield from places(v, (*path, i))

    def edited(path, change):
        copy = json.loads(json.dumps(record))
        *head, last = path
        parent = copy
        for p in head:
            parent = parent[p]
        change(parent, last)
        return copy

    for path in places(record):
        if not path:
            continue
        for value in wrong:
            yield edited(path, lambda parent, last, value=value: parent.__setitem__(last, value))
        if isinstance(path[-1], str):
            yield edited(path, lambda parent, last: parent.pop(last))
            yield edited(path, lambda parent, last: parent.__setitem__(f"{last}_unknown", "x"))


def test_the_stream_check_of_a_record_judges_it_as_the_schema_does():
    """The stream's record check (its error places left unformatted) accepts and refuses exactly the records
    fastjsonschema's own compilation of the schema does, in every place of every kind of record."""
    import fastjsonschema

    schema = knowledge.load_schema()
    reference = fastjsonschema.compile({"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": "#/$defs/code"})
    streamed = knowledge._record_validator()

    def valid(check, record) -> bool:
        try:
            check(record)
        except fastjsonschema.JsonSchemaValueException:
            return False
        return True

    records = json.loads(bundled_path().read_text(encoding="utf-8"))["codes"]
    richest = sorted(records, key=lambda r: -len(json.dumps(r)))[:3]
    judged = {True: 0, False: 0}
    for record in richest:
        for mutated in _mutations(record):
            verdict = valid(reference, mutated)
            assert valid(streamed, mutated) is verdict, json.dumps(mutated)[:300]
            judged[verdict] += 1
    assert judged[True] > 50 and judged[False] > 500  # both verdicts met, many times


def test_the_whole_file_check_names_the_record_at_fault_as_the_schema_does():
    """validate_document's check (places left unformatted but the record's) judges a whole file as
    fastjsonschema's own compilation does and points at the same record, which words the error."""
    import fastjsonschema

    reference = fastjsonschema.compile(knowledge.load_schema())
    whole = knowledge._compiled(knowledge.load_schema(), keep=".codes[")
    doc = json.loads(bundled_path().read_text(encoding="utf-8"))

    def judged(check, d):
        try:
            check(d)
        except fastjsonschema.JsonSchemaValueException as exc:
            return knowledge._record_at(d, exc.path), exc.path[:3]
        return None

    record = max(doc["codes"], key=lambda r: len(json.dumps(r)))
    at = doc["codes"].index(record)
    refused = 0
    for n, mutated in enumerate(_mutations(record)):
        if n % 7:
            continue  # one in seven: each check reads the whole file
        d = {**doc, "codes": [*doc["codes"][:at], mutated, *doc["codes"][at + 1 :]]}
        verdict = judged(reference, d)
        assert judged(whole, d) == verdict, json.dumps(mutated)[:300]
        refused += verdict is not None and verdict[0] == at
    assert refused > 100
