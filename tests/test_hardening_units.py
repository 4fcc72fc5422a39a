"""Units of issue 17's hardening: cache (private directories, exclusive
temporaries, atomic writes, stale leftovers), datafiles (key, racy rule,
digests, the hardened reader) and textsafe (visible escapes, CSV and Markdown
cells). Exact messages: the engine prints them as they are."""

import io
import os
import stat
import subprocess
import sys
import time

import pytest

from cptcli import cache, datafiles, textsafe
from cptcli.errors import DataError, UsageError

ROOT_ONLY = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to chown")


def mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


# ---------------------------------------------------------------- cache_dir


@pytest.mark.parametrize("home", ["", None])
def test_an_empty_or_unset_home_never_gives_slash_cache(monkeypatch, home):
    monkeypatch.delenv("CPTCLI_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    if home is None:
        monkeypatch.delenv("HOME", raising=False)
    else:
        monkeypatch.setenv("HOME", home)
    import pwd

    expected = os.path.join(pwd.getpwuid(os.getuid()).pw_dir, ".cache", "cptcli")
    assert cache.cache_dir() == expected != "/.cache/cptcli"


def test_no_home_at_all_is_refused_with_a_reason(monkeypatch):
    monkeypatch.delenv("CPTCLI_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", "")
    monkeypatch.setattr(cache, "_home", lambda: None)
    with pytest.raises(cache.NoCacheDir) as info:
        cache.cache_dir()
    assert isinstance(info.value, OSError)
    assert str(info.value) == (
        "no home directory is known (HOME is empty or unset); set CPTCLI_CACHE_DIR to keep an index between calls"
    )


def test_the_override_stays(monkeypatch, tmp_path):
    monkeypatch.setenv("CPTCLI_CACHE_DIR", str(tmp_path / "x"))
    monkeypatch.setenv("HOME", "")
    assert cache.cache_dir() == str(tmp_path / "x")


# ---------------------------------------------------------------- private_dir


def test_a_missing_directory_is_created_0700_and_safe(tmp_path):
    d = tmp_path / "a" / "cache"
    assert cache.private_dir(d) is None
    assert d.is_dir() and mode(d) == 0o700


@pytest.mark.parametrize(
    ("bits", "reason"),
    [
        (0o777, "is writable by others (mode 0777)"),
        (0o757, "is writable by others (mode 0757)"),
        (0o1777, "is writable by others (mode 1777)"),
        (0o770, "is writable by its group (mode 0770)"),
    ],
)
def test_a_directory_others_can_write_is_refused(tmp_path, bits, reason):
    d = tmp_path / "shared"
    d.mkdir()
    os.chmod(d, bits)
    assert cache.private_dir(d) == f"cache directory {d} {reason}; using an in-memory index"
    assert mode(d) == bits  # left as it is


@ROOT_ONLY
def test_a_directory_owned_by_another_user_is_refused(tmp_path):
    import pwd

    nobody = pwd.getpwnam("nobody").pw_uid
    d = tmp_path / "theirs"
    d.mkdir(mode=0o700)
    os.chown(d, nobody, -1)
    assert cache.private_dir(d) == (
        f"cache directory {d} is owned by uid {nobody}, not by you (uid 0); using an in-memory index"
    )


def test_a_symlink_to_a_world_writable_directory_is_refused(tmp_path):
    target = tmp_path / "tmp"
    target.mkdir()
    os.chmod(target, 0o777)
    link = tmp_path / "cache"
    link.symlink_to(target)
    assert cache.private_dir(link) == (
        f"cache directory {link} (a symlink to {target}) is writable by others (mode 0777); using an in-memory index"
    )


def test_a_symlink_to_a_private_directory_is_fine(tmp_path):
    target = tmp_path / "real"
    target.mkdir(mode=0o700)
    link = tmp_path / "cache"
    link.symlink_to(target)
    assert cache.private_dir(link) is None


def test_a_file_in_the_way_is_refused(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    assert cache.private_dir(f / "cache") == (
        f"cache directory {f / 'cache'} cannot be created or read (Not a directory); using an in-memory index"
    )
    assert cache.private_dir(f) == f"cache directory {f} is not a directory; using an in-memory index"


def test_control_characters_in_the_directory_name_are_escaped(tmp_path):
    d = tmp_path / "a\x1b]0;pwned\x07b"
    d.mkdir()
    os.chmod(d, 0o777)
    reason = cache.private_dir(d)
    assert reason is not None and "\x1b" not in reason and "\x07" not in reason
    assert f"{tmp_path}/a\\x1b]0;pwned\\x07b is writable" in reason


# ---------------------------------------------------------------- create_temporary


def test_a_temporary_is_0600_exclusive_and_names_its_pid(tmp_path):
    fd, path = cache.create_temporary(tmp_path, "index-", ".tmp")
    os.close(fd)
    name = os.path.basename(path)
    assert name.startswith(f"index-{os.getpid()}-") and name.endswith(".tmp")
    assert len(name) == len(f"index-{os.getpid()}-") + 16 + len(".tmp")
    assert mode(path) == 0o600
    fd2, path2 = cache.create_temporary(tmp_path, "index-", ".tmp")
    os.close(fd2)
    assert path2 != path


def test_a_symlink_at_the_drawn_name_is_never_followed(tmp_path, monkeypatch):
    """Even an attacker who guessed the random part: the name is skipped."""
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    draws = iter([b"\x00" * 8, b"\x11" * 8])
    monkeypatch.setattr(cache.os, "urandom", lambda n: next(draws))
    planted = tmp_path / f"index-{os.getpid()}-{'00' * 8}.tmp"
    planted.symlink_to(victim)
    fd, path = cache.create_temporary(tmp_path, "index-", ".tmp")
    os.write(fd, b"overwrite?")
    os.close(fd)
    assert path == str(tmp_path / f"index-{os.getpid()}-{'11' * 8}.tmp")
    assert victim.read_text() == "keep me" and planted.is_symlink()


def test_a_dangling_symlink_at_the_drawn_name_is_not_created_through(tmp_path, monkeypatch):
    draws = iter([b"\x00" * 8, b"\x22" * 8])
    monkeypatch.setattr(cache.os, "urandom", lambda n: next(draws))
    where = tmp_path / "would-be-created"
    (tmp_path / f"t{os.getpid()}-{'00' * 8}.x").symlink_to(where)
    fd, _ = cache.create_temporary(tmp_path, "t", ".x")
    os.close(fd)
    assert not where.exists()


# ---------------------------------------------------------------- atomic_write


def test_atomic_write_is_0600_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "d" / "page.json"
    assert cache.atomic_write(target, b"data") == str(target)
    assert target.read_bytes() == b"data" and mode(target) == 0o600
    assert os.listdir(target.parent) == ["page.json"]
    assert mode(target.parent) == 0o700


def test_atomic_write_durable(tmp_path):
    assert cache.atomic_write(tmp_path / "f", b"x", durable=True) == str(tmp_path / "f")
    assert (tmp_path / "f").read_bytes() == b"x"


def test_atomic_write_replaces_a_planted_symlink_at_the_final_name(tmp_path):
    victim = tmp_path / "bashrc"
    victim.write_text("echo hi\n")
    os.chmod(victim, 0o644)
    (tmp_path / "cache").mkdir()
    final = tmp_path / "cache" / "20700.table"
    final.symlink_to(victim)
    assert cache.atomic_write(final, b"page") == str(final)
    assert victim.read_text() == "echo hi\n" and not final.is_symlink() and final.read_bytes() == b"page"


def test_atomic_write_never_follows_the_old_predictable_temporary_name(tmp_path):
    """The old `{path}.{pid}.tmp` name, planted as a symlink, is not used."""
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    final = tmp_path / "page"
    (tmp_path / f"page.{os.getpid()}.tmp").symlink_to(victim)
    assert cache.atomic_write(final, b"new") == str(final)
    assert victim.read_text() == "keep me" and final.read_bytes() == b"new"


def test_atomic_write_into_an_unwritable_place_returns_none(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert cache.atomic_write(blocker / "sub" / "page", b"x") is None


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_atomic_write_into_a_read_only_directory_returns_none(tmp_path):
    d = tmp_path / "ro"
    d.mkdir(mode=0o500)
    assert cache.atomic_write(d / "page", b"x") is None


def test_atomic_write_removes_its_temporary_when_the_rename_fails(tmp_path):
    (tmp_path / "page").mkdir()
    (tmp_path / "page" / "inside").write_text("x")  # a non-empty directory cannot be replaced
    assert cache.atomic_write(tmp_path / "page", b"x") is None
    assert sorted(os.listdir(tmp_path)) == ["page"]


# ---------------------------------------------------------------- remove_stale


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_stale_temporaries_go_and_live_ones_stay(tmp_path):
    dead = _dead_pid()
    names = {
        "dead": f"index-{dead}-{'ab' * 8}.tmp",
        "mine": f"index-{os.getpid()}-{'cd' * 8}.tmp",
        "parent": f"index-{os.getppid()}-{'ef' * 8}.tmp",
        "old_style": "index-k2j3h4g5.tmp",
        "old_style_aged": "index-a1b2c3d4.tmp",
        "live_aged": f"index-{os.getpid()}-{'01' * 8}.tmp",
        "index": "index-0badf00d.sqlite",
        "other": f"other-{dead}-{'ab' * 8}.tmp",
    }
    for name in names.values():
        (tmp_path / name).write_bytes(b"x")
    day_ago = time.time() - cache.STALE_AFTER_SECONDS - 60
    for key in ("old_style_aged", "live_aged"):
        os.utime(tmp_path / names[key], (day_ago, day_ago))
    (tmp_path / f"index-{dead}-{'99' * 8}.tmp").mkdir()  # not a regular file: left
    removed = cache.remove_stale(tmp_path, "index-", ".tmp")
    assert sorted(removed) == sorted([names["dead"], names["old_style_aged"], names["live_aged"]])
    left = set(os.listdir(tmp_path))
    assert left == {names[k] for k in ("mine", "parent", "old_style", "index", "other")} | {
        f"index-{dead}-{'99' * 8}.tmp"
    }


def test_stale_pages_temporaries_with_a_wide_prefix(tmp_path):
    dead = _dead_pid()
    (tmp_path / f"20700.table-100-plain.{dead}-{'ab' * 8}.tmp").write_bytes(b"x")
    (tmp_path / f"20700.json.{os.getpid()}-{'ab' * 8}.tmp").write_bytes(b"x")
    assert cache.remove_stale(tmp_path, "", ".tmp") == [f"20700.table-100-plain.{dead}-{'ab' * 8}.tmp"]


def test_remove_stale_of_a_missing_directory(tmp_path):
    assert cache.remove_stale(tmp_path / "none", "index-", ".tmp") == []


def test_sqlite_uri_stays():
    assert cache.sqlite_uri("/a?b#c%d", "mode=ro") == "file:/a%3fb%23c%25d?mode=ro"


# ---------------------------------------------------------------- key, racy rule, digest


def test_the_key_holds_inode_and_ctime(tmp_path):
    f = tmp_path / "kb.json"
    f.write_text("{}")
    st = os.stat(f)
    line = datafiles.key_for([f]).splitlines()[-1]
    assert line == f"{f}|{st.st_size}|{st.st_mtime_ns}|{st.st_ctime_ns}|{st.st_dev}:{st.st_ino}"


def test_a_restored_mtime_still_changes_the_key(tmp_path):
    f = tmp_path / "kb.json"
    f.write_text('{"a": 1}')
    st = os.stat(f)
    key = datafiles.key_for([f])
    time.sleep(0.01)
    f.write_text('{"a": 2}')
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert os.stat(f).st_mtime_ns == st.st_mtime_ns and os.stat(f).st_size == st.st_size
    assert datafiles.key_for([f]) != key


def test_a_replacement_by_rename_changes_the_key(tmp_path):
    f, g = tmp_path / "kb.json", tmp_path / "new.json"
    f.write_text('{"a": 1}')
    g.write_text('{"a": 2}')
    st = os.stat(f)
    os.utime(g, ns=(st.st_atime_ns, st.st_mtime_ns))
    key = datafiles.key_for([f])
    os.replace(g, f)
    assert datafiles.key_for([f]) != key


def test_name_for_ignores_size_times_and_inode(tmp_path):
    f = tmp_path / "kb.json"
    f.write_text("{}")
    before = datafiles.name_for(datafiles.key_for([f]))
    f.write_text('{"a": 1}')
    assert datafiles.name_for(datafiles.key_for([f])) == before
    assert datafiles.name_for(datafiles.key_for([tmp_path / "kb.json", f])) != before


def _at(path, ns: int) -> None:
    os.utime(path, ns=(ns, ns))


@pytest.mark.parametrize(
    ("mtime", "racy"),
    [
        (0, True),
        (10**9, True),
        (-500_000_000, True),  # the same second, truncated
        (-(10**9), True),  # within a 2-second (FAT) tick
        (-2 * 10**9, True),
        (-2 * 10**9 - 1, False),
        (-60 * 10**9, False),
    ],
)
def test_racy_when_modified_in_the_same_second_as_the_build(tmp_path, monkeypatch, mtime, racy):
    """Times relative to a build at x.5 s; the change time is pinned old (the
    kernel sets it to now on utime), so the modification time decides."""
    import types

    built = 1_700_000_000_500_000_000
    f = tmp_path / "kb.json"
    f.write_text("{}")
    real = os.stat
    fake = types.SimpleNamespace(st_mtime_ns=built + mtime, st_ctime_ns=built - 3600 * 10**9)
    monkeypatch.setattr(datafiles.os, "stat", lambda p, *a, **k: fake if str(p) == str(f) else real(p, *a, **k))
    assert datafiles.is_racy([f], built) is racy


def test_racy_with_real_timestamps_in_the_same_second(tmp_path):
    f = tmp_path / "kb.json"
    f.write_text("{}")
    second = (time.time_ns() // 10**9) * 10**9
    _at(f, second)
    assert datafiles.is_racy([f], second + 999_000_000)


def test_a_recent_change_time_makes_it_racy_even_with_an_old_mtime(tmp_path):
    f = tmp_path / "kb.json"
    f.write_text("{}")
    _at(f, 10**18)  # mtime long ago...
    os.utime(f, ns=(10**9, 10**9))
    built = time.time_ns()  # ...but ctime is now
    assert datafiles.is_racy([f], built)
    assert not datafiles.is_racy([f], built + 3 * 10**9)


def test_racy_when_a_file_is_gone(tmp_path):
    assert datafiles.is_racy([tmp_path / "nope"], time.time_ns())


def test_a_same_size_edit_in_the_same_second_is_seen_through_the_digest(tmp_path):
    """A coarse-timestamp filesystem: the edit keeps size and whole-second
    times, so the key matches; the racy rule sends the open to the digest."""
    f = tmp_path / "kb.json"
    f.write_bytes(b'{"a": "1"}')
    second = (time.time_ns() // 10**9) * 10**9
    _at(f, second)
    built_at = time.time_ns()
    raw = datafiles.read_bytes(f)
    stored = datafiles.bytes_digest([raw])
    assert stored == datafiles.content_digest([f])
    f.write_bytes(b'{"a": "2"}')
    _at(f, second)
    assert datafiles.is_racy([f], built_at)
    assert datafiles.content_digest([f]) != stored


def test_digests_of_bytes_and_of_files_agree_and_separate_files(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(b"ab")
    b.write_bytes(b"c")
    assert datafiles.content_digest([a, b]) == datafiles.bytes_digest([b"ab", b"c"])
    assert datafiles.bytes_digest([b"ab", b"c"]) != datafiles.bytes_digest([b"a", b"bc"])
    big = tmp_path / "big"
    big.write_bytes(os.urandom(3 << 20))
    assert datafiles.content_digest([big]) == datafiles.bytes_digest([big.read_bytes()])


def test_digest_refuses_a_fifo_without_hanging(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(OSError):
        datafiles.content_digest([fifo])


def test_data_files_and_bundled_file_keep_working(monkeypatch):
    monkeypatch.setenv("CPTCLI_DATA", f"x.json{os.pathsep}{os.pathsep}y.json")
    assert datafiles.data_files(["a.json"]) == [datafiles.bundled_file(), "a.json", "x.json", "y.json"]
    assert datafiles.data_files(bundled=False) == ["x.json", "y.json"]
    assert os.path.isfile(datafiles.bundled_file())
    assert datafiles.format_stamp()


# ---------------------------------------------------------------- read_document


def _doc(tmp_path, content, name="kb.json"):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def _error(path, **kw) -> str:
    with pytest.raises(DataError) as info:
        datafiles.read_document(path, **kw)
    message = info.value.message
    assert "\n" not in message and info.value.status == 3
    return message


def test_a_valid_document_reads():
    doc = datafiles.read_document(datafiles.bundled_file())
    assert doc["codes"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", "knowledge base file is empty"),
        ("  \n", "knowledge base file is empty"),
        (b"\xef\xbb\xbf", "knowledge base file is empty"),
        (b'{"a": "\xe9"}', "not UTF-8 text (byte 7)"),
        (b'\xef\xbb\xbf{"a": "\xe9"}', "not UTF-8 text (byte 10)"),
        ('{"a" 1}', "1:6: invalid JSON: Expecting ':' delimiter"),
        ('{"a": 1,\n  "a": 2}', '2:3: invalid JSON: duplicate key "a" in one object'),
        (
            '{"codes": [{"code": "20700", "x": {"k": 1, "k": 2}}]}',
            '1:44: invalid JSON: duplicate key "k" in one object',
        ),
        ('{"a\\u001b": 1, "a\\u001b": 2}', '1:16: invalid JSON: duplicate key "a\\x1b" in one object'),
        ('{"a": NaN}', "invalid JSON: NaN is not a JSON value"),
        ('{"a": -Infinity}', "invalid JSON: -Infinity is not a JSON value"),
        ("[" * 50_000 + "]" * 50_000, "invalid JSON: nested too deeply to read"),
        (
            '{"a":\n ' + "7" * 5000 + "}",
            "2:2: invalid JSON: an integer of more than 4,300 digits, which is more than cptcli reads",
        ),
        (
            '{"codes": [{"code": "20700", "title": "a\\ud800"}]}',
            "record 20700, field title: text holds a lone surrogate (\\ud800), which is not a character",
        ),
        (
            '{"codes": [{"title": "\\udfff"}]}',
            "record #1, field title: text holds a lone surrogate (\\udfff), which is not a character",
        ),
        (
            '{"sources": [{"x": ["ok", "\\ude00 tail"]}]}',
            "top level, field sources[0].x[1]: text holds a lone surrogate (\\ude00), which is not a character",
        ),
        ('{"k\\ud800": 1}', "top level: a key holds a lone surrogate (\\ud800), which is not a character"),
    ],
)
def test_every_failure_is_one_exact_line(tmp_path, content, expected):
    path = _doc(tmp_path, content)
    message = _error(path)
    separator = "" if expected[0].isdigit() else " "
    assert message == f"{path}:{separator}{expected}"


def test_a_bom_is_accepted(tmp_path):
    assert datafiles.read_document(_doc(tmp_path, b'\xef\xbb\xbf{"a": 1}')) == {"a": 1}


def test_surrogate_pairs_and_escaped_backslashes_are_fine(tmp_path):
    path = _doc(tmp_path, '{"a": "\\ud83d\\ude00", "b": "\\\\ud800"}')
    assert datafiles.read_document(path) == {"a": "\U0001f600", "b": "\\ud800"}


def test_verify_false_skips_the_duplicate_and_surrogate_checks(tmp_path):
    path = _doc(tmp_path, '{"a": 1, "a": "\\ud800"}')
    assert datafiles.read_document(path, verify=False) == {"a": "\ud800"}


def test_not_found_and_directory(tmp_path):
    assert _error(tmp_path / "nope.json") == f"{tmp_path / 'nope.json'}: knowledge base file not found"
    assert _error(tmp_path) == f"{tmp_path}: is a directory, not a knowledge base file"


def test_a_fifo_is_refused_without_hanging(tmp_path):
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    code = (
        "import sys\nfrom cptcli import datafiles\nfrom cptcli.errors import DataError\n"
        "try:\n    datafiles.read_document(sys.argv[1])\nexcept DataError as e:\n    print(e.message)\n"
    )
    p = subprocess.run([sys.executable, "-c", code, str(fifo)], capture_output=True, text=True, timeout=20)
    assert p.stdout == (
        f"{fifo}: not a regular file (a named pipe), not a knowledge base file; copy it to a file first\n"
    )


def test_dev_zero_is_refused_fast():
    start = time.monotonic()
    assert _error("/dev/zero") == (
        "/dev/zero: not a regular file (a character device), not a knowledge base file; copy it to a file first"
    )
    assert time.monotonic() - start < 1


def test_a_socket_is_refused(tmp_path):
    import socket

    path = tmp_path / "s"
    s = socket.socket(socket.AF_UNIX)
    try:
        s.bind(str(path))
        assert (
            _error(path) == f"{path}: not a regular file (a socket), not a knowledge base file; copy it to a file first"
        )
    finally:
        s.close()


def test_the_size_limit_and_how_to_raise_it(tmp_path, monkeypatch):
    sparse = tmp_path / "sparse.json"
    with open(sparse, "wb") as f:
        f.truncate(2 << 30)
    assert _error(sparse) == (
        f"{sparse}: knowledge base file is 2,147,483,648 bytes, over the limit of 1,073,741,824 "
        "(set CPTCLI_MAX_DATA_BYTES to raise it)"
    )
    small = _doc(tmp_path, '{"a": 1}')
    assert _error(small, max_bytes=7) == (
        f"{small}: knowledge base file is 8 bytes, over the limit of 7 (set CPTCLI_MAX_DATA_BYTES to raise it)"
    )
    monkeypatch.setenv("CPTCLI_MAX_DATA_BYTES", "7")
    assert "over the limit of 7 " in _error(small)
    monkeypatch.setenv("CPTCLI_MAX_DATA_BYTES", "1K")
    assert datafiles.read_document(small) == {"a": 1}
    assert datafiles.max_bytes() == 1024
    monkeypatch.setenv("CPTCLI_MAX_DATA_BYTES", "4G")
    assert datafiles.max_bytes() == 4 << 30


def test_a_bad_size_limit_is_a_usage_error(tmp_path, monkeypatch):
    monkeypatch.setenv("CPTCLI_MAX_DATA_BYTES", "lots")
    with pytest.raises(UsageError) as info:
        datafiles.read_document(_doc(tmp_path, "{}"))
    assert info.value.message == (
        "CPTCLI_MAX_DATA_BYTES must be a number of bytes (such as 4294967296 or 4G), not 'lots'"
    )


def test_control_characters_in_file_names_are_escaped(tmp_path):
    path = tmp_path / "evil\x1b]52;c;cHduZWQ=\x07\n.json"
    message = _error(path)
    assert message == f"{tmp_path}/evil\\x1b]52;c;cHduZWQ=\\x07\\x0a.json: knowledge base file not found"


def test_undecodable_bytes_in_file_names_are_escaped(tmp_path):
    path = os.path.join(os.fsencode(tmp_path), b"bad\xff.json")
    assert _error(path) == f"{tmp_path}/bad\\udcff.json: knowledge base file not found"


def test_a_nul_in_the_name(tmp_path):
    assert _error("a\x00b") == "a\\x00b: cannot read knowledge base file: the name holds a NUL byte"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads anything")
def test_an_unreadable_file(tmp_path):
    path = _doc(tmp_path, "{}")
    os.chmod(path, 0)
    assert _error(path) == f"{path}: cannot read knowledge base file: Permission denied"


# ---------------------------------------------------------------- textsafe


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain 20700 — é 😀", "plain 20700 — é 😀"),
        ("\x1b[2J", "\\x1b[2J"),
        ("\x1b]0;title\x07", "\\x1b]0;title\\x07"),
        ("\x1b]52;c;ZXZpbA==\x1b\\", "\\x1b]52;c;ZXZpbA==\\x1b\\"),
        ("a\x7fb\x9bc\x85", "a\\x7fb\\x9bc\\x85"),
        ("\x00\x08\x0b\x0c\r", "\\x00\\x08\\x0b\\x0c\\x0d"),
        ("20700\u202e", "20700\\u202e"),
        (
            "\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069\u200e\u200f\u061c",
            "\\u202a\\u202b\\u202c\\u202d\\u2066\\u2067\\u2068\\u2069\\u200e\\u200f\\u061c",
        ),
        ("a\u2028b\u2029", "a\\u2028b\\u2029"),
        ("x\ud800y\udfff", "x\\ud800y\\udfff"),
        ("line\nnext\ttab", "line\\x0anext\\x09tab"),
    ],
)
def test_visible(text, shown):
    assert textsafe.visible(text) == shown


def test_visible_keeps_what_the_caller_lays_out():
    assert textsafe.visible("a\nb\tc\x1b\r", keep="\n\t") == "a\nb\tc\\x1b\\x0d"
    assert textsafe.visible("a\nb", keep="\n") == "a\nb"
    plain = "nothing to escape"
    assert textsafe.visible(plain) is plain


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+20700", "'+20700"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("20700", "20700"),
        ("a=b", "a=b"),
        ("", ""),
        ("\x1b[31m=red", "\\x1b[31m=red"),
        ("ok\u202e", "ok\\u202e"),
    ],
)
def test_csv_cell(text, cell):
    assert textsafe.csv_cell(text) == cell


def test_csv_writer_quotes_bare_carriage_returns_and_neutralises_cells():
    buffer = io.StringIO()
    writer = textsafe.csv_writer(buffer)
    writer.writerow(["code", "text"])
    writer.writerows([["20700", "a\rb"], ["20702", "c\nd"], ["+20700", 'say "hi", then'], ["x", 3]])
    assert buffer.getvalue() == ('code,text\n20700,"a\rb"\n20702,"c\nd"\n\'+20700,"say ""hi"", then"\nx,3\n')
    import csv

    rows = list(csv.reader(io.StringIO(buffer.getvalue(), newline="")))
    assert rows[1] == ["20700", "a\rb"] and len(rows) == 5


def test_csv_writer_with_tabs():
    buffer = io.StringIO()
    textsafe.csv_writer(buffer, delimiter="\t").writerow(["a\tb", "c"])
    assert buffer.getvalue() == '"a\tb"\tc\n'


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("a|b", "a\\|b"),
        ("back\\slash", "back\\\\slash"),
        ("trailing\\", "trailing\\\\"),
        ("two\nlines\r\nthree\rfour", "two<br>lines<br>three<br>four"),
        ("\x1b[2J|", "\\x1b[2J\\|"),
        ("rtl\u202e", "rtl\\u202e"),
    ],
)
def test_markdown_cell(text, cell):
    assert textsafe.markdown_cell(text) == cell


def test_textsafe_imports_only_re():
    code = "import re, sys; before = set(sys.modules); import cptcli.textsafe; print(sorted(set(sys.modules) - before))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert set(eval(out)) <= {"__future__", "cptcli", "cptcli.textsafe"}
