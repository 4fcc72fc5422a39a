"""Issue 24, classes 3, 6 and 8: what cptcli reads back.

Class 3, trust: one rule for the index and the ICD-10-CM extract in the cache directory, the imported sets in
the data directory, and both directories (owned by you or root, writable by no one else). A data directory or a
set that fails it is refused with one line naming it and the fix (exit 3); a cache directory that fails it is not
used (the index and the extract are built in memory); a derived file that fails it is built again over.
Class 6, damaged stores: a set with a bad row, cut short, grown, or with a directory or a named pipe in its place
gives one stderr line naming the file and `cptcli import --remove SET` or a re-import, exit 3, on every command
that reads it; never a traceback, never the bundled answer as if nothing were imported.
Class 8, old indexes: one index a configuration; a new one replaces those it supersedes, readers of the old one
undisturbed; a set edited in place with its modification time put back is not served stale.

The suite runs as root in CI: another user is an unused uid (12345) given by os.chown; without root those cases
are skipped. What root cannot show: that a set root owns is trusted by another user (a unit test below asks the
rule with another effective uid instead)."""

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys

import pytest
from advkit import BUNDLED, FIXTURE, held, text
from impkit import FIXTURES, HCPCS, data_dir, imported

OTHER = 12345  # a uid no account uses
AS_ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not AS_ROOT, reason="chown to another uid needs root")
MUE = FIXTURES / "ncci-mue" / "MCR_MUE_PractitionerServices_Eff_10-01-2026.csv"
ICD_FY26 = FIXTURES / "icd10cm" / "icd10cm_order_2026.txt"

# Commands that read the imported sets (through the index build, the payer facts or the meta rows): the fast
# path (show without options), the full CLI, each way in.
READERS = {
    "show": ["show", "E0114"],
    "show-json": ["show", "E0114", "--json"],
    "show-bundled-code": ["show", "20700", "--json"],
    "list": ["list", "--json"],
    "search": ["search", "crutches", "--json"],
    "check": ["check", "E0114", "--json"],
    "sources": ["sources", "--json"],
}
# The default run: the fast path and the full CLI; every reader with CPTCLI_ADVERSARIAL_SLOW=1.
_QUICK = {"show-json", "check"}
READER_PARAMS = [c if c in _QUICK else pytest.param(c, marks=pytest.mark.slow) for c in sorted(READERS)]


def refused_with(p, message: str) -> None:
    """The run ended with exit 3 and exactly `message` as its one stderr line, nothing on stdout."""
    problems = held(p)
    assert not problems, (problems, text(p.stderr))
    assert p.returncode == 3, (p.returncode, text(p.stderr))
    assert text(p.stderr) == f"cptcli: error: {message}\n"
    assert p.stdout == b""


def set_fix(name: str) -> str:
    return f"; remove it with 'cptcli import --remove {name}', then import its file again"


def with_hcpcs(home):
    p, _ = imported(home, HCPCS)
    assert p.returncode == 0, text(p.stderr)
    return data_dir(home) / "hcpcs.sqlite"


def sql(path, *statements) -> None:
    con = sqlite3.connect(path)
    for s in statements:
        con.execute(s)
    con.commit()
    con.close()


def planted_copy(home, store) -> None:
    """`store` replaced by a copy whose official text says PLANTED, as someone else would leave it."""
    planted = home.tmp / "planted.sqlite"
    planted.write_bytes(store.read_bytes())
    sql(planted, "UPDATE codes SET doc = replace(doc, 'Crutches', 'PLANTED!')")
    os.replace(planted, store)


# ============================================================================ class 3: trust


@pytest.mark.parametrize(
    ("bits", "why"),
    [
        (0o777, "is writable by others (mode 0777)"),
        (0o1777, "is writable by others (mode 1777)"),
        (0o757, "is writable by others (mode 0757)"),
        (0o775, "is writable by its group (mode 0775)"),
        (0o770, "is writable by its group (mode 0770)"),
    ],
)
def test_c3_a_data_directory_others_can_write_is_refused(home, bits, why):
    store = with_hcpcs(home)
    d = store.parent
    os.chmod(d, bits)
    refused_with(
        home.run(*READERS["show-json"]),
        f"data directory {d} {why}, so the code sets imported there are not trusted; chmod go-w {d}, "
        "or set CPTCLI_DATA_DIR to a directory of your own",
    )
    os.chmod(d, 0o700)
    p = home.run(*READERS["show-json"])
    assert p.returncode == 0 and not held(p), text(p.stderr)


@needs_root
@pytest.mark.parametrize("command", READER_PARAMS)
def test_c3_a_store_planted_in_a_world_writable_data_directory_is_refused(home, command):
    """The issue's case: another user plants a store in a 0777 data directory; it was shown as official text."""
    store = with_hcpcs(home)
    planted_copy(home, store)
    os.chown(store, OTHER, OTHER)
    os.chmod(store.parent, 0o777)
    p = home.run(*READERS[command])
    d = store.parent
    refused_with(
        p,
        f"data directory {d} is writable by others (mode 0777), so the code sets imported there are not trusted; "
        f"chmod go-w {d}, or set CPTCLI_DATA_DIR to a directory of your own",
    )
    # The directory made private again, the planted set is still another user's: refused by name.
    os.chmod(d, 0o700)
    refused_with(
        home.run(*READERS[command]),
        f"imported set {store} is owned by uid {OTHER}, not by you (uid 0), so it is not trusted" + set_fix("hcpcs"),
    )


@needs_root
def test_c3_a_data_directory_owned_by_another_user_is_refused(home):
    d = with_hcpcs(home).parent
    os.chown(d, OTHER, OTHER)
    refused_with(
        home.run("list"),
        f"data directory {d} is owned by uid {OTHER}, not by you (uid 0), so the code sets imported there are not "
        "trusted; set CPTCLI_DATA_DIR to a directory of your own",
    )


@pytest.mark.parametrize(("bits", "why"), [(0o666, "others (mode 0666)"), (0o620, "its group (mode 0620)")])
def test_c3_a_set_others_can_write_is_refused_and_a_new_import_replaces_it(home, bits, why):
    store = with_hcpcs(home)
    planted_copy(home, store)
    os.chmod(store, bits)
    for command in ("show-json", "check"):
        refused_with(
            home.run(*READERS[command]),
            f"imported set {store} is writable by {why}, so it is not trusted" + set_fix("hcpcs"),
        )
    p, _ = imported(home, HCPCS)
    assert p.returncode == 0, text(p.stderr)
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    p = home.run(*READERS["show-json"])
    assert p.returncode == 0 and b"PLANTED" not in p.stdout and b"Crutches" in p.stdout


@needs_root
def test_c3_a_set_another_user_owns_is_refused_and_removed_by_the_fix(home):
    store = with_hcpcs(home)
    planted_copy(home, store)
    os.chown(store, OTHER, OTHER)
    refused_with(
        home.run("show", "E0114"),
        f"imported set {store} is owned by uid {OTHER}, not by you (uid 0), so it is not trusted" + set_fix("hcpcs"),
    )
    p = home.run("import", "--remove", "hcpcs")
    assert p.returncode == 0 and not store.exists(), text(p.stderr)
    p = home.run("show", "E0114")
    assert p.returncode == 1 and b"PLANTED" not in p.stdout + p.stderr  # not imported now, and says so


@needs_root
def test_c3_a_symlink_to_another_users_file_is_refused(home):
    store = with_hcpcs(home)
    theirs = home.tmp / "theirs.sqlite"
    theirs.write_bytes(store.read_bytes())
    os.chown(theirs, OTHER, OTHER)
    store.unlink()
    store.symlink_to(theirs)
    refused_with(
        home.run(*READERS["show-json"]),
        f"imported set {store} is owned by uid {OTHER}, not by you (uid 0), so it is not trusted" + set_fix("hcpcs"),
    )


def test_c3_nothing_is_imported_into_a_data_directory_others_can_write(home):
    d = data_dir(home)
    d.mkdir(parents=True)
    os.chmod(d, 0o777)
    p, _ = imported(home, HCPCS)
    refused_with(
        p,
        f"data directory {d} is writable by others (mode 0777), so the code sets imported there are not trusted; "
        f"chmod go-w {d}, or set CPTCLI_DATA_DIR to a directory of your own",
    )
    assert os.listdir(d) == []


def test_c3_a_file_in_place_of_the_data_directory_is_refused(home):
    d = data_dir(home)
    d.parent.mkdir(parents=True)
    d.write_text("not a directory")
    refused_with(
        home.run(*READERS["show-json"]),
        f"data directory {d} is not a directory, so no code set imported there can be read; move it away, "
        "or set CPTCLI_DATA_DIR to a directory of your own",
    )


def _stat(uid: int, mode: int) -> os.stat_result:
    return os.stat_result((mode, 0, 0, 1, uid, 0, 0, 0, 0, 0))


@pytest.mark.parametrize(
    ("uid", "mode", "why"),
    [
        (1000, 0o100600, None),
        (1000, 0o040755, None),
        (0, 0o100644, None),  # root's: trusted (it could change anything anyway)
        (0, 0o040755, None),
        (OTHER, 0o100600, f"is owned by uid {OTHER}, not by you (uid 1000)"),
        (1000, 0o100666, "is writable by others (mode 0666)"),
        (0, 0o041777, "is writable by others (mode 1777)"),
        (1000, 0o100664, "is writable by its group (mode 0664)"),
    ],
)
def test_c3_the_rule_as_another_user_sees_it(monkeypatch, uid, mode, why):
    """Root cannot run as another user here: the rule asked with another effective uid."""
    from cptcli import places

    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert places.untrusted(_stat(uid, mode)) == why


def test_c3_an_index_others_can_write_is_not_read_and_is_built_again(home):
    assert home.run("show", "20702", "--json").returncode == 0
    (index,) = home.cache.glob("index-*.sqlite")
    sql(index, "UPDATE codes SET show = replace(show, 'Manual', 'PLANTED')")
    os.chmod(index, 0o666)
    p = home.run("show", "20702", "--format", "json")  # the full CLI, which prints the engine's notice
    assert p.returncode == 0 and not held(p) and b"PLANTED" not in p.stdout
    assert (
        text(p.stderr)
        == f"cptcli: warning: index {index} is writable by others (mode 0666), so it was not used; rebuilt\n"
    )
    assert stat.S_IMODE(index.stat().st_mode) == 0o600
    p = home.run("show", "20702", "--format", "json")
    assert p.returncode == 0 and p.stderr == b""


def _extract(home, directory, description: str) -> None:
    """An ICD-10-CM extract under the key of the package installed, M54.50 described as `description`."""
    code = (
        "import sys; from cptcli.codesets import icd10; info = icd10.package_info(); "
        "c = icd10.build_connection([('M54.50', sys.argv[2], True, ())], info.key, info.authority); "
        "open(sys.argv[1] + '/' + icd10.CACHE_NAME, 'wb').write(icd10._database_bytes(c))"
    )
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-c", code, str(directory), description], check=True)


def test_c3_a_planted_extract_is_read_where_the_rule_holds(home):
    """The control for the two below: in a private directory, an extract under the right key is what answers."""
    _extract(home, home.cache, "PLANTED description")
    os.chmod(home.cache, 0o700)
    p = home.run("icd", "M54.50", "--json")
    assert p.returncode == 0 and b"PLANTED description" in p.stdout


def test_c3_the_extract_in_a_cache_directory_others_can_write_is_neither_read_nor_written(home):
    _extract(home, home.cache, "PLANTED description")
    os.chmod(home.cache, 0o777)
    before = sorted(os.listdir(home.cache))
    p = home.run("icd", "M54.50", "--json")
    assert p.returncode == 0 and not held(p), text(p.stderr)
    assert json.loads(p.stdout)["description"] == "Low back pain, unspecified"
    assert text(p.stderr) == (
        f"cptcli: warning: cache directory {home.cache} is writable by others (mode 0777); using an in-memory index\n"
    )
    assert sorted(os.listdir(home.cache)) == before


@pytest.mark.slow
@pytest.mark.parametrize("bits", [0o666, 0o660], ids=["0666", "0660"])
def test_c3_an_extract_others_can_write_is_built_again_over(home, bits):
    _extract(home, home.cache, "PLANTED description")
    os.chmod(home.cache, 0o700)
    os.chmod(home.cache / "icd10cm.sqlite3", bits)
    p = home.run("icd", "M54.50", "--json")
    assert p.returncode == 0 and not held(p) and p.stderr == b"", text(p.stderr)
    assert json.loads(p.stdout)["description"] == "Low back pain, unspecified"
    assert stat.S_IMODE((home.cache / "icd10cm.sqlite3").stat().st_mode) == 0o600


@needs_root
@pytest.mark.slow
def test_c3_an_extract_another_user_owns_is_built_again_over(home):
    _extract(home, home.cache, "PLANTED description")
    os.chmod(home.cache, 0o700)
    os.chown(home.cache / "icd10cm.sqlite3", OTHER, OTHER)
    p = home.run("icd", "M54.50", "--json")
    assert p.returncode == 0 and json.loads(p.stdout)["description"] == "Low back pain, unspecified"
    assert (home.cache / "icd10cm.sqlite3").stat().st_uid == 0


# ============================================================================ class 6: damaged stores


def _truncate(size):
    def damage(path):
        os.truncate(path, size if size >= 0 else path.stat().st_size + size)

    return damage


def _half(path):
    os.truncate(path, path.stat().st_size // 2)


def _append(path):
    with open(path, "ab") as f:
        f.write(b"\0" * 100)


def _header(path):
    with open(path, "r+b") as f:
        f.write(b"not a database!!")


def _pages(path):
    with open(path, "r+b") as f:
        f.seek(4096)
        f.write(bytes(range(256)) * ((path.stat().st_size - 4096) // 256))


def _doc(change):
    def damage(path):
        con = sqlite3.connect(path)
        (doc,) = con.execute("SELECT doc FROM codes WHERE code = 'E0114'").fetchone()
        con.execute("UPDATE codes SET doc = ? WHERE code = 'E0114'", (change(doc),))
        con.commit()
        con.close()

    return damage


def _json_doc(edit):
    def change(doc):
        d = json.loads(doc)
        edit(d)
        return json.dumps(d)

    return _doc(change)


def _sql(*statements):
    return lambda path: sql(path, *statements)


def _replace(make):
    def damage(path):
        path.unlink()
        make(path)

    return damage


DETAIL = {  # damage -> what the line says of the file, after "imported set PATH "
    "bad-json-row": (_doc(lambda d: "{"), "is damaged (row 'E0114' is not JSON)"),
    "row-not-an-object": (_doc(lambda d: "[1, 2]"), "is damaged (row 'E0114' is not of the shape the store writes)"),
    "row-missing-field": (_json_doc(lambda d: d.pop("release")), "is damaged (row 'E0114' has no 'release')"),
    "row-number-for-text": (
        _json_doc(lambda d: d.update(release=2026)),
        "is damaged (row 'E0114' is not of the shape the store writes)",
    ),
    "row-null-descriptor": (
        _json_doc(lambda d: d["descriptors"][0].update(text=None)),
        "is damaged (row 'E0114' is not of the shape the store writes)",
    ),
    "row-of-another-code": (
        _json_doc(lambda d: d.update(code="E0105")),
        "is damaged (row 'E0114' holds the document of another code)",
    ),
    "meta-empty": (_sql("DELETE FROM meta"), "is damaged (its meta table is empty)"),
    "meta-of-another-set": (_sql("UPDATE meta SET kind = 'cpt'"), "is damaged (its meta row is of the set 'cpt')"),
    "meta-files-garbage": (
        _sql("UPDATE meta SET files = 'x'"),
        "is damaged (its meta row does not parse)",
    ),
    "meta-records-text": (
        _sql("UPDATE meta SET records = 'many'"),
        "is damaged (its meta row holds a value of the wrong type)",
    ),
    "no-meta-table": (_sql("DROP TABLE meta"), "is damaged (no such table: meta)"),
    "no-codes-table": (_sql("DROP TABLE codes"), "is damaged (no such table: codes)"),
    "empty": (_truncate(0), "is empty"),
    "cut-50": (_truncate(50), "is not an SQLite database (50 bytes)"),
    "cut-100": (_truncate(100), None),
    "cut-one-page": (_truncate(4096), None),
    "cut-half": (_half, None),
    "cut-one-byte": (_truncate(-1), None),
    "grown": (_append, None),
    "header-overwritten": (_header, None),
    "pages-overwritten": (_pages, None),
    "a-directory": (_replace(lambda p: p.mkdir()), "is a directory, not a file"),
    "a-named-pipe": (_replace(lambda p: os.mkfifo(p)), "is a named pipe, not a file"),
    "a-dangling-symlink": (
        _replace(lambda p: p.symlink_to(p.parent / "gone.sqlite")),
        "is a symlink to a file that does not exist",
    ),
}


def _expected(store, damage: str, size: int) -> str | None:
    detail = DETAIL[damage][1]
    if damage.startswith(("cut-", "grown")) and detail is None:
        now = os.lstat(store).st_size
        detail = (
            f"is damaged (cut short: {now:,} of {size:,} bytes)"
            if now < size
            else f"is damaged ({now:,} bytes, not the {size:,} its header gives)"
        )
    if detail is None:
        return None
    return f"imported set {store} {detail}" + set_fix("hcpcs")


@pytest.mark.parametrize("command", READER_PARAMS)
@pytest.mark.parametrize("damage", sorted(DETAIL))
def test_c6_a_damaged_set_is_one_line_exit_3_on_every_reader(home, damage, command):
    store = with_hcpcs(home)
    assert home.run(*READERS[command]).returncode in (0, 4)  # an index built over the whole set first
    size = store.stat().st_size
    DETAIL[damage][0](store)
    for attempt in (1, 2):  # and again: nothing was cached around the damage
        p = home.run(*READERS[command], timeout=20)
        expected = _expected(store, damage, size)
        if expected is None:  # SQLite's own words for garbage: the file, "is damaged" or "not an SQLite database"
            prefix = f"imported set {store} "
            assert text(p.stderr).startswith(f"cptcli: error: {prefix}"), (attempt, text(p.stderr))
            assert text(p.stderr).endswith(set_fix("hcpcs") + "\n")
            refused_with(p, text(p.stderr)[len("cptcli: error: ") : -1])
        else:
            refused_with(p, expected)


@pytest.mark.parametrize("damage", ["bad-json-row", "cut-half", "a-named-pipe", "a-directory", "meta-empty"])
def test_c6_the_fix_named_works(home, damage):
    store = with_hcpcs(home)
    DETAIL[damage][0](store)
    assert home.run("show", "E0114").returncode == 3
    p = home.run("import", "--remove", "hcpcs")
    assert p.returncode == 0 and not held(p) and not os.path.lexists(store), text(p.stderr)
    p = home.run("show", "E0114")
    assert p.returncode == 1 and not held(p)  # the bundled base has no E0114: not found, and said so
    with_hcpcs(home)
    p = home.run("show", "E0114", "--json")
    assert p.returncode == 0 and b"Crutches" in p.stdout


@pytest.mark.parametrize("damage", ["cut-half", "a-named-pipe", "meta-empty", "header-overwritten"])
def test_c6_an_import_replaces_a_set_it_cannot_open(home, damage):
    """Not "unchanged": a set whose file or meta row cannot be read is no release to compare with."""
    store = with_hcpcs(home)
    DETAIL[damage][0](store)
    p, reports = imported(home, HCPCS)
    assert p.returncode == 0 and reports[0]["unchanged"] is False, text(p.stderr)
    p = home.run("show", "E0114", "--json")
    assert p.returncode == 0 and b"Crutches" in p.stdout


def test_c6_a_directory_holding_files_is_not_emptied_by_remove(home):
    store = with_hcpcs(home)
    store.unlink()
    store.mkdir()
    (store / "keep.txt").write_text("mine")
    p = home.run("import", "--remove", "hcpcs")
    refused_with(p, f"{store} is a directory holding files, not an imported set: move it out of the data directory")
    assert (store / "keep.txt").read_text() == "mine"


def _with(home, *files):
    p, _ = imported(home, *files)
    assert p.returncode == 0, text(p.stderr)


PAYER_ROWS = {  # kind's file, set name, table damage, the command reading the row, what the line says
    "mue-indicator-text": (
        MUE,
        "ncci-mue.practitioner",
        "UPDATE mue SET code = '20700', mai = 'x' WHERE code = '99991'",
        ["show", "20700", "--json"],
        "a mai value of 'x' where its table holds ints",
    ),
    "mue-value-blob": (
        MUE,
        "ncci-mue.practitioner",
        "UPDATE mue SET code = '20700', value = x'00' WHERE code = '99991'",
        ["check", "20700", "--units", "3", "--json"],
        "a value value of b'\\x00' where its table holds ints",
    ),
    "icd-billable-text": (
        ICD_FY26,
        "icd10cm.FY2026",
        "UPDATE icd SET billable = 'yes' WHERE code = 'I10'",
        ["check", "20700", "--dx", "I10", "--date", "2026-05-01", "--json"],
        "a billable value of 'yes' where its table holds ints",
    ),
}


@pytest.mark.parametrize("case", sorted(PAYER_ROWS))
def test_c6_a_bad_row_in_a_payer_or_icd_table_is_damage_where_it_is_read(home, case):
    source, name, statement, command, detail = PAYER_ROWS[case]
    _with(home, source)
    store = data_dir(home) / f"{name}.sqlite"
    sql(store, statement)
    refused_with(home.run(*command), f"imported set {store} is damaged ({detail})" + set_fix(name))


# ============================================================================ class 8: old indexes


def _indexes(home) -> list[str]:
    return sorted(p.name for p in home.cache.glob("index-*.sqlite"))


def test_c8_one_index_per_configuration_through_imports_and_removals(home):
    names = set()
    for step in ("import", "remove", "import", "import-mue", "remove"):
        if step == "import":
            _with(home, HCPCS)
        elif step == "import-mue":
            _with(home, MUE)
        else:
            assert home.run("import", "--remove", "hcpcs").returncode == 0
        p = home.run("show", "E0114", "--json")
        assert p.returncode == (1 if step == "remove" else 0), (step, text(p.stderr))
        assert len(_indexes(home)) == 1, (step, _indexes(home))
        names.update(_indexes(home))
    assert len(names) == 1
    p = home.run("--data", FIXTURE, "show", "20700", "--json")  # another configuration: an index of its own
    assert p.returncode == 0 and len(_indexes(home)) == 2


def _key(path) -> str:
    con = sqlite3.connect(path)
    (key,) = con.execute("SELECT value FROM meta WHERE name = 'key'").fetchone()
    con.close()
    return key


def _legacy(home, source, name: str, stamp: str):
    """A copy of the index `source` as an earlier version named and keyed it: the sets' stamp in its name, no
    data directory in its key."""
    target = home.cache / name
    target.write_bytes(source.read_bytes())
    key = "\n".join(
        ("imported " + stamp) if line.startswith("imported ") else line
        for line in _key(source).splitlines()
        if not line.startswith("data ")
    )
    sql(target, f"UPDATE meta SET value = '{key}' WHERE name = 'key'")
    return target


def test_c8_the_indexes_a_new_one_replaces_are_removed_and_others_are_kept(home):
    assert home.run("show", "20700", "--json").returncode == 0
    (current,) = home.cache.glob("index-*.sqlite")
    legacy = [_legacy(home, current, f"index-{i:08x}.sqlite", f"hcpcs.sqlite:{i}:1:2") for i in range(3)]
    assert home.run("--data", FIXTURE, "show", "20700", "--json").returncode == 0
    (other,) = set(home.cache.glob("index-*.sqlite")) - {current, *legacy}
    junk = home.cache / "index-0000beef.sqlite"
    junk.write_bytes(b"not an index: some other program's file")
    pipe = home.cache / "index-0000f1f0.sqlite"
    os.mkfifo(pipe)
    _with(home, HCPCS)  # a new stamp: the next call builds a new index of the default configuration
    p = home.run("show", "E0114", "--json", timeout=30)
    assert p.returncode == 0 and not held(p)
    left = set(home.cache.glob("index-*.sqlite"))
    assert not any(p in left for p in legacy), "an index the new one replaces was left behind"
    assert {current, other, junk, pipe} <= left and len(left) == 4


def test_c8_a_reader_of_a_replaced_index_is_not_disturbed(home):
    assert home.run("show", "20700", "--json").returncode == 0
    (current,) = home.cache.glob("index-*.sqlite")
    legacy = _legacy(home, current, "index-0badf00d.sqlite", "cpt.sqlite:1:2:3")
    readers = [sqlite3.connect(f"file:{p}?mode=ro", uri=True) for p in (current, legacy)]
    counts = [r.execute("SELECT count(*) FROM codes").fetchone()[0] for r in readers]
    _with(home, HCPCS)
    p = home.run("show", "E0114", "--json")  # renames a new index over `current`, removes `legacy`
    assert p.returncode == 0 and not legacy.exists()
    for r, n in zip(readers, counts, strict=True):
        assert r.execute("SELECT count(*) FROM codes").fetchone()[0] == n
        assert len(r.execute("SELECT code, show FROM codes").fetchall()) == n  # every page still readable
        r.close()


def test_c8_a_set_edited_in_place_with_its_times_put_back_is_not_served_stale(home):
    store = with_hcpcs(home)
    p = home.run("show", "E0114", "--json")
    assert p.returncode == 0 and b"Crutches, underarm" in p.stdout
    before = store.stat()
    sql(store, "UPDATE codes SET doc = replace(doc, 'Crutches, underarm', 'CRUTCHES, UNDERARM')")
    os.utime(store, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = store.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (before.st_size, before.st_mtime_ns, before.st_ino)
    p = home.run("show", "E0114", "--json")
    assert p.returncode == 0 and b"CRUTCHES, UNDERARM" in p.stdout, "served from the index of the old text"


def test_c8_the_name_is_the_configuration_and_the_key_is_the_state(tmp_path, monkeypatch):
    from cptcli.datafiles import name_for
    from cptcli.engine import index_key

    def key(data):
        monkeypatch.setenv("CPTCLI_DATA_DIR", str(data))
        return index_key([BUNDLED])

    a = tmp_path / "a"
    a.mkdir(mode=0o700)
    empty = key(a)
    (a / "hcpcs.sqlite").write_bytes(b"")
    os.chmod(a / "hcpcs.sqlite", 0o600)
    one = key(a)
    assert one != empty and name_for(one) == name_for(empty)
    assert name_for("cptcli 0.0.0-other\n" + empty.split("\n", 1)[1]) == name_for(empty)  # an upgrade
    assert name_for(key(tmp_path / "b")) != name_for(empty)


def test_c8_the_index_of_a_knowledge_base_file_that_is_gone_is_removed_by_the_next_build(home, tmp_path):
    mine = tmp_path / "mine.json"
    shutil.copyfile(FIXTURE, mine)
    assert home.run("--data", str(mine), "show", "20700", "--json").returncode == 0
    assert home.run("show", "20700", "--json").returncode == 0
    assert len(_indexes(home)) == 2
    mine.unlink()
    _with(home, HCPCS)  # the default configuration's next build
    assert home.run("show", "E0114", "--json").returncode == 0
    assert len(_indexes(home)) == 1  # the file's index went with it; the default configuration's stays
