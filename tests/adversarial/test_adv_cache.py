"""Class 3, cache damage and hostile cache directories: a damaged index is
discarded and rebuilt (a correct answer, no traceback, on this call and the
next); a cache directory others can write is not used; nothing planted there is
followed; cached files are 0600."""

import os
import sqlite3
import stat
import subprocess
import sys

import pytest
from advkit import held

COMMANDS = {
    "show": ["show", "20702", "--json"],
    "show-table": ["show", "20700"],
    "search": ["search", "drug delivery", "--json"],
    "list": ["list", "--json"],
    "check": ["check", "20700", "--modifier", "59", "--json"],
    "icd": ["icd", "M54.50", "--json"],
    "modifier": ["modifier", "59", "--json"],
}


def _sql(*statements):
    def damage(path):
        con = sqlite3.connect(path)
        for s in statements:
            con.execute(s)
        con.commit()
        con.close()

    return damage


def _truncate(size):
    def damage(path):
        os.truncate(path, size if size >= 0 else os.path.getsize(path) // 2)

    return damage


def _garbage(path):
    with open(path, "r+b") as f:
        f.seek(4096)
        f.write(os.urandom(65536 * 4))


DAMAGE = {
    "empty": _truncate(0),
    "100-bytes": _truncate(100),
    "half": _truncate(-1),
    "garbage-pages": _garbage,
    "no-files-meta": _sql("DELETE FROM meta WHERE name = 'files'"),
    "no-registry-meta": _sql("DELETE FROM meta WHERE name = 'registry'"),
    "registry-wrong-type": _sql("UPDATE meta SET value = '42' WHERE name = 'registry'"),
    "no-codes-table": _sql("DROP TABLE codes"),
    "no-terms-table": _sql("DROP TABLE terms"),
    "no-rows-table": _sql("DROP TABLE rows"),
    "no-search-meta": _sql("DELETE FROM meta WHERE name = 'search'"),
    "codes-json-garbage": _sql("UPDATE codes SET show = '{', search = 'x'"),
}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    from advkit import Sandbox

    box = Sandbox(tmp_path_factory.mktemp("ref"))
    return {name: box.run(*args).stdout for name, args in COMMANDS.items()}


# The fast path (show --json) and the full CLI (check) in the default run; every command with CPTCLI_ADVERSARIAL_SLOW=1.
_QUICK = {"show", "check"}


@pytest.mark.parametrize(
    "command", [c if c in _QUICK else pytest.param(c, marks=pytest.mark.slow) for c in sorted(COMMANDS)]
)
@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_index_gives_the_right_answer(home, reference, damage, command):
    build = home.run("show", "20702", "--json")
    assert build.returncode == 0
    (index,) = home.cache.glob("index-*.sqlite")
    for page in home.cache.glob("pages-*"):
        subprocess.run(["rm", "-rf", str(page)], check=True)
    DAMAGE[damage](index)
    for attempt in (1, 2):  # this call, and the one after (a discarded index rebuilt, not bypassed)
        p = home.run(*COMMANDS[command])
        assert not held(p), (attempt, p.stderr[-400:])
        assert p.stdout == reference[command], attempt


def _probe_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_planted_symlinks_at_temporary_names_are_not_followed(home):
    """Temporaries are created exclusively under random names: symlinks planted at every name a pid
    could give are never written through."""
    victim = home.tmp / "bashrc"
    victim.write_text("echo safe\n")
    base = _probe_pid()
    home.cache.mkdir(parents=True, exist_ok=True)
    os.chmod(home.cache, 0o700)
    for pid in range(base + 1, base + 400):
        for name in (f"index-{pid}.tmp", f"index-{pid}-0000000000000000.tmp"):
            try:
                os.symlink(victim, home.cache / name)
            except FileExistsError:
                pass
    p = home.run("show", "20700")
    assert p.returncode == 0 and not held(p)
    assert victim.read_text() == "echo safe\n"


def test_a_symlink_planted_at_the_final_index_name_is_replaced_not_followed(home):
    victim = home.tmp / "profile"
    victim.write_text("keep\n")
    assert home.run("show", "20702").returncode == 0
    [index] = home.cache.glob("index-*.sqlite")
    index.unlink()
    os.symlink(victim, index)
    assert home.run("show", "20700").returncode == 0
    assert victim.read_text() == "keep\n" and not index.is_symlink()


@pytest.mark.parametrize("bits", [0o777, 0o1777, 0o775])
def test_a_cache_directory_others_can_write_is_not_used(home, bits):
    home.cache.mkdir()
    os.chmod(home.cache, bits)
    p = home.run("show", "20702", "--json")
    assert p.returncode == 0 and not held(p)
    assert sorted(os.listdir(home.cache)) == [], "wrote into a directory others can write"


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to chown")
def test_a_cache_directory_owned_by_another_user_is_not_used(home):
    import pwd

    home.cache.mkdir(mode=0o700)
    os.chown(home.cache, pwd.getpwnam("nobody").pw_uid, -1)
    p = home.run("show", "20702", "--json")
    assert p.returncode == 0 and not held(p)
    assert sorted(os.listdir(home.cache)) == []


def test_a_planted_index_in_a_shared_directory_is_not_trusted(home, tmp_path):
    """Someone else's directory holding an index built from other text."""
    assert home.run("show", "20702", "--json").returncode == 0
    (index,) = home.cache.glob("index-*.sqlite")
    con = sqlite3.connect(index)
    con.execute("UPDATE codes SET show = replace(show, 'Manual', 'PLANTED')")
    con.commit()
    con.close()
    os.chmod(home.cache, 0o777)
    p = home.run("show", "20702", "--json")
    assert b"PLANTED" not in p.stdout


def test_cached_files_are_0600(home):
    assert home.run("show", "20700").returncode == 0
    assert home.run("show", "20700", "--json").returncode == 0
    files = [p for p in home.cache.rglob("*") if p.is_file()]
    assert files
    loose = {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in files if stat.S_IMODE(p.stat().st_mode) != 0o600}
    assert loose == {}
