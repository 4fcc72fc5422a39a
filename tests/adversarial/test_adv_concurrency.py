"""Class 1, concurrency: cold builds started together all answer the same,
correctly, and leave one index and no temporary behind."""

import json

import pytest
from advkit import held


@pytest.mark.parametrize("n", [2, 4, 8])
@pytest.mark.parametrize("command", [["show", "20702", "--json"], ["search", "drug delivery", "--json"]])
def test_parallel_cold_builds(home, n, command):
    procs = [home.popen(*command) for _ in range(n)]
    results = [(p.wait(60), *p.communicate()) for p in procs]
    outs = {out for _, out, _ in results}
    for status, _out, err in results:
        assert status == 0 and b"Traceback" not in err, err
    assert len(outs) == 1
    json.loads(outs.pop())
    assert home.leftovers() == []
    assert len(list(home.cache.glob("index-*.sqlite"))) == 1


@pytest.mark.slow
def test_parallel_cold_builds_of_a_big_base(home, big_kb):
    procs = [home.popen("--no-bundled", "--data", big_kb, "show", "20700", "--json") for _ in range(4)]
    results = [(p.wait(120), *p.communicate()) for p in procs]
    assert {s for s, _, _ in results} == {0} and len({o for _, o, _ in results}) == 1
    assert home.leftovers() == []


@pytest.mark.parametrize("edits", [1, 3])
def test_a_file_rewritten_between_calls_is_never_stale(home, edits):
    doc_path = home.write("kb.json", {"format_version": 1, "codes": []})
    from advkit import with_texts

    for i in range(edits):
        home.write("kb.json", with_texts([f"Payer {i:03d}"]))
        p = home.run("--data", doc_path, "show", "20700", "--json")
        assert not held(p) and p.returncode == 0
        assert json.loads(p.stdout)["payers"][-1]["text"] == f"Payer {i:03d}"
