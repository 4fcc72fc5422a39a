"""The import-kind protocol: every fixture of every kind is claimed by its own kind only, with confidence, and the
host knows no kind by name (cptcli.imports.kind)."""

from pathlib import Path

import pytest

from cptcli import imports
from cptcli.imports.kind import CONFIDENT

FIXTURES = Path(__file__).parent / "fixtures" / "imports"
# Each kind's fixtures: its folder (named as the kind), and for the first kinds, where they were kept before.
FILES = {
    "hcpcs": [FIXTURES / "HCPC2026_JAN_ANWEB.txt", FIXTURES / "cms" / "HCPC2020_ANWEB_w_disclaimer.txt"],
    "cpt": sorted(p for p in (FIXTURES / "cpt").glob("*.txt") if p.name != "README.txt"),
    "nucc": sorted((FIXTURES / "nucc").glob("*.csv")),
}


def fixtures_of(kind: str) -> list[Path]:
    own = FIXTURES / kind
    found = FILES.get(kind, []) + sorted(
        p for p in own.glob("*") if p.is_file() and p.suffix.lower() != ".md" and not p.name.startswith("README")
    )
    return [p for p in found if p.suffix.lower() != ".zip"]


def test_every_kind_has_fixtures():
    assert {k: bool(fixtures_of(k)) for k in imports.KINDS} == {k: True for k in imports.KINDS}


@pytest.mark.parametrize(
    "kind,path", [(k, p) for k in imports.KINDS for p in fixtures_of(k)], ids=lambda v: getattr(v, "name", v)
)
def test_each_fixture_is_claimed_by_its_own_kind_only(kind, path):
    head = path.read_bytes()[: imports.HEAD_BYTES]
    scores = {k: imports.parser(k).sniff(path.name, head) for k in imports.KINDS}
    assert scores[kind] >= CONFIDENT, scores
    assert {k: s for k, s in scores.items() if k != kind and s >= CONFIDENT} == {}, scores
    # Renamed, a file is still known by its content, except where the head cannot show it (an .xlsx).
    if head[:2] != b"PK":
        assert imports.detect("renamed.dat", head) == kind


def test_the_host_names_no_kind():
    host = (Path(imports.__file__)).read_text(encoding="utf-8")  # the list itself is in cptcli.places
    assert "KINDS: dict" not in host
    body = host
    for kind in imports.KINDS:
        assert f'"{kind}"' not in body, kind


def test_a_document_quoting_a_few_descriptor_lines_is_no_cpt_file():
    readme = (Path(__file__).parent.parent / "README.md").read_bytes()[: imports.HEAD_BYTES]
    assert imports.parser("cpt").sniff("stdin", readme) == 0.0
    assert imports.detect("stdin", readme) is None
