"""The ICD-10-CM adapter and its cache, and the `icd` command."""

import io
import json
import os
import sqlite3
import subprocess
import sys

import pytest

from cptcli import cache
from cptcli.codesets import icd10

FAKE_ROWS = [
    ("M54", "Dorsalgia", False, ("M54.5",)),
    ("M54.5", "Low back pain", False, ("M54.50", "M54.51")),
    ("M54.50", "Low back pain, unspecified", True, ()),
    ("M54.51", "Vertebrogenic low back pain", True, ()),
]


class FakePackage:
    """Stands in for simple-icd-10-cm: counts how often the (slow) package is read."""

    def __init__(self, version="1.5.0"):
        self.version = version
        self.reads = 0

    def info(self):
        return icd10.PackageInfo(self.version, ("code-list-April-2026.txt",))

    def rows(self):
        self.reads += 1
        return iter(FAKE_ROWS)

    def load(self, directory):
        return icd10.load(directory, info=self.info, rows=self.rows)


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CPTCLI_CACHE_DIR", str(tmp_path / "cache"))
    icd10.reset()
    yield tmp_path / "cache"
    icd10.reset()


def test_cache_is_built_then_reused(cache_dir):
    pkg = FakePackage()
    first = pkg.load(cache_dir)
    assert (
        pkg.reads == 1 and (cache_dir / icd10.CACHE_NAME).is_file() and first.path == str(cache_dir / icd10.CACHE_NAME)
    )
    assert first.get("M54.5").children == ("M54.50", "M54.51")
    second = pkg.load(cache_dir)
    assert pkg.reads == 1, "a cache with the right key must not read the package again"
    assert second.get("M54.50") == icd10.IcdCode("M54.50", "Low back pain, unspecified", True, ())
    assert second.get("M54.5").is_header and second.get("X99") is None
    assert second.authority == "ICD-10-CM April 2026 release (CDC), via simple-icd-10-cm 1.5.0"


@pytest.mark.parametrize("damage", [b"not a database at all", b"", "truncate"])
def test_corrupt_cache_is_rebuilt(cache_dir, damage):
    pkg = FakePackage()
    pkg.load(cache_dir)
    path = cache_dir / icd10.CACHE_NAME
    path.write_bytes(path.read_bytes()[:1024] if damage == "truncate" else damage)
    again = pkg.load(cache_dir)
    assert again.get("M54.51").description == "Vertebrogenic low back pain"
    assert pkg.reads == 2
    assert pkg.load(cache_dir).get("M54.50").billable and pkg.reads == 2, "the rebuilt cache is whole"


def test_cache_is_rebuilt_when_the_version_key_changes(cache_dir):
    FakePackage("1.5.0").load(cache_dir)
    newer = FakePackage("1.6.0")
    cs = newer.load(cache_dir)
    assert newer.reads == 1 and "simple-icd-10-cm 1.6.0" in cs.key
    with sqlite3.connect(cache_dir / icd10.CACHE_NAME) as con:
        assert dict(con.execute("SELECT k, v FROM meta"))["key"] == cs.key


def test_unwritable_cache_dir_still_answers_in_memory(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("a file where the cache directory should be")
    monkeypatch.setenv("CPTCLI_CACHE_DIR", str(blocker / "cache"))
    pkg = FakePackage()
    cs = pkg.load(cache.cache_dir())
    assert cs.path is None and cs.get("M54.5").children == ("M54.50", "M54.51")


def test_existing_cache_in_a_read_only_dir_is_used(cache_dir, monkeypatch):
    pkg = FakePackage()
    pkg.load(cache_dir)
    # Root ignores permission bits, so refuse writes the way a read-only mount would.
    monkeypatch.setattr(cache, "atomic_write", lambda path, data: None)
    (cache_dir / icd10.CACHE_NAME).chmod(0o444)
    cache_dir.chmod(0o555)
    try:
        assert pkg.load(cache_dir).get("M54.50").billable and pkg.reads == 1
        assert FakePackage("2.0").load(cache_dir).path is None, "a stale key rebuilds in memory"
    finally:
        cache_dir.chmod(0o755)


def test_missing_package_uses_an_existing_cache_or_says_how_to_install(cache_dir):
    FakePackage().load(cache_dir)
    assert icd10.load(cache_dir, info=lambda: None).get("M54.5").is_header
    from cptcli.errors import DataError

    with pytest.raises(DataError, match="simple-icd-10-cm"):
        icd10.load(cache_dir / "empty", info=lambda: None)


def test_package_version_is_read_without_importing_the_package():
    code = (
        "import sys; from cptcli.codesets import icd10; i = icd10.package_info(); "
        "print(i.version, 'simple_icd_10_cm' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["1.5.0", "False"] or (out[1] == "False" and out[0] >= "1.5")


# -- the real release ------------------------------------------------------------


@pytest.fixture(scope="module")
def release():
    icd10.reset()
    return icd10.codeset()  # the session's test cache directory (conftest): built once


def test_real_release_facts(release):
    assert release.get("M54.5").children == ("M54.50", "M54.51", "M54.59")
    assert release.get("M54.5").is_header
    assert release.get("M54.16").description == "Radiculopathy, lumbar region"
    assert release.get("M54.17").description == "Radiculopathy, lumbosacral region"
    assert release.get("G89.29").billable and release.get("G25.3").billable
    assert release.get("Z99.99") is None
    assert release.get("S32.9XXA").billable
    assert [c.code for c in release.billable_under("M54.1")][:2] == ["M54.10", "M54.11"]
    assert 90_000 < len(release) < 110_000
    assert release.authority.startswith("ICD-10-CM ") and "simple-icd-10-cm" in release.authority


def test_icd_command_header(main, release):
    code, out, err = main("icd", "m545", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["schema_version"] == 1 and doc["code"] == "M54.5"
    assert doc["billable"] is False and doc["header"] is True
    assert [c["code"] for c in doc["billable_children"]] == ["M54.50", "M54.51", "M54.59"]
    assert doc["parent"]["code"] == "M54"
    assert [x["code"] for x in doc["listed_by"]] == ["20700"]
    assert doc["listed_by"][0]["notes"][0]["subject"] == "diagnoses/M54.5"


def test_icd_command_shows_the_sources_description_beside_the_official_one(main, release):
    code, out, _ = main("icd", "M54.16")
    assert code == 0
    assert "Radiculopathy, lumbar region" in out  # the panel: one line
    assert "lumbosacral" in out  # the source's wording, in a wrapped table cell
    assert "Billable: yes" in out and "+20700" in out


@pytest.mark.parametrize("arg,status", [("Z99.99", 1), ("M54.99", 1), ("12", 2), ("", 2)])
def test_icd_command_unknown_and_malformed(main, release, arg, status):
    code, out, err = main("icd", arg)
    assert code == status and out == ""
    assert err.startswith("cptcli: error:") and err.count("\n") == 1


def test_icd_not_listed_by_any_code(main, release):
    code, out, _ = main("icd", "M54.50")
    assert code == 0 and "No code in the knowledge base lists M54.50" in out


def _modules_after(args, release):
    code = (
        f"import sys; from cptcli.cli import run; run({args!r}); "
        "sys.stderr.write(repr(sorted(m for m in ('simple_icd_10_cm', 'rich') if m in sys.modules)))"
    )
    env = {**os.environ, "CPTCLI_CACHE_DIR": os.environ["CPTCLI_CACHE_DIR"]}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    return r.stderr.strip().splitlines()[-1]


def test_show_and_cached_icd_never_import_the_package(release):
    assert _modules_after(["show", "20700", "--json"], release) == "[]"
    assert _modules_after(["show", "20700"], release) == "['rich']"
    assert _modules_after(["icd", "M54.5", "--json"], release) == "[]"


CONTESTED_CAUTION = "matched only through a source's reading that the official descriptor contradicts: "


@pytest.mark.parametrize("dx", ["G25.3", "G89.29", "G89.21", "M54.16"])
def test_a_reverse_look_up_carries_the_caution_the_search_hit_carries(main, release, dx):
    """20700 lists these only on source 000's neurostimulator-pocket reading: the pairing is cautioned wherever
    it is shown, in the very words search gives its hit on the row."""
    code, out, _ = main("icd", dx, "--json")
    [row] = json.loads(out)["listed_by"]
    [hit] = [h for h in json.loads(main("search", dx, "--json")[1]) if h["code"] == "20700"]
    assert code == 0 and row["code"] == "20700" and hit["matched_row"] == dx
    assert row["caution"] == hit["caution"] and row["caution"].startswith(CONTESTED_CAUTION)
    assert row["caution"].endswith("[AMA CPT descriptor (001)]")
    _, table, _ = main("icd", dx)
    assert "⚠ cautioned" in table
    assert "⚠ caution (+20700): " + CONTESTED_CAUTION + row["caution"][len(CONTESTED_CAUTION) :] in " ".join(
        table.split()
    )
    _, csv, _ = main("icd", dx, "--format", "csv", "--section", "listed_by")
    assert csv.splitlines()[0] == "code,description,relevance,description_matches,caution,sources"
    assert CONTESTED_CAUTION in csv


def test_a_modifier_row_on_a_contested_reading_is_cautioned_and_one_on_none_is_not(main):
    _, out, _ = main("modifier", "22", "--json")
    [row] = json.loads(out)["listed_by"]
    [hit] = [h for h in json.loads(main("search", "modifier 22", "--json")[1]) if h["code"] == "20700"]
    assert row["caution"] == hit["caution"] and row["caution"].startswith(CONTESTED_CAUTION)
    _, out, _ = main("modifier", "59", "--json")
    [row] = json.loads(out)["listed_by"]
    assert row["code"] == "20700" and row["caution"] is None
    _, table, _ = main("modifier", "59")
    assert "caution" not in table


class _Terminal(io.StringIO):
    """A stderr that says it is a terminal, keeping what is drawn on it."""

    def isatty(self) -> bool:
        return True


def test_the_first_extract_shows_its_phases_on_a_terminal_and_a_cached_run_nothing(cache_dir, monkeypatch):
    monkeypatch.setenv("TERM", "xterm")  # Rich draws nothing live on a dumb terminal (the tests' own TERM)
    shown = _Terminal()
    monkeypatch.setattr(sys, "stderr", shown)
    pkg = FakePackage()
    pkg.load(cache_dir)
    drawn = shown.getvalue()
    assert pkg.reads == 1
    for phase in ("reading ICD-10-CM (first run only)", "indexing 4 ICD-10-CM codes", "writing the ICD-10-CM cache"):
        assert f"cptcli: {phase}" in drawn, drawn
    again = _Terminal()
    monkeypatch.setattr(sys, "stderr", again)
    pkg.load(cache_dir)
    assert pkg.reads == 1 and again.getvalue() == ""


def test_the_first_extract_says_nothing_where_stderr_is_not_a_terminal(cache_dir, capsys):
    pkg = FakePackage()
    pkg.load(cache_dir)
    assert pkg.reads == 1 and capsys.readouterr() == ("", "")
