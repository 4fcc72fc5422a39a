"""Issue 24 class 2, terminal escapes through file names: a file's or a zip
member's name reaches the screen only as visible escapes (the function data
goes through), in import tables, `show`'s official table title, `sources`,
errors and skipped-file lines; a newline in a name never splits an error line."""

import io
import zipfile

import pytest
from advkit import FORBIDDEN, held, text
from impkit import HCPCS, imported

NAMES = {
    "clear-screen": "\x1b[2J\x1b[H",
    "hyperlink": "\x1b]8;;http:evil.example\x07x\x1b]8;;\x07",
    "window-title": "\x1b]0;pwned\x07",
    "cursor-up": "\x1b[5A",
    "newline": "\nforged: line",
    "bidi-override": "\u202e",
    "c1-csi": "\u009b2J",
    "carriage-return": "\rforged",
}
FORMATS = {"table": [], "csv": ["--format", "csv"], "markdown": ["--format", "markdown"]}


def _raw(s: str) -> list:
    return sorted({f"U+{ord(c):04X}" for c in s if c in FORBIDDEN})


def _named(home, payload: str):
    path = home.tmp / f"HCPC2026_JAN_ANWEB{payload}.txt"
    path.write_bytes(HCPCS.read_bytes())
    return path


@pytest.mark.parametrize("payload", sorted(NAMES))
def test_an_imported_file_name_in_the_import_table(home, payload):
    path = _named(home, NAMES[payload])
    p = home.run("import", path)
    assert not held(p) and p.returncode == 0, text(p.stderr)
    out = text(p.stdout)
    assert _raw(out) == [] and ("\\x" in out or "\\u" in out), out
    assert "\nforged" not in out


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("payload", sorted(NAMES))
def test_an_imported_file_name_in_show_and_sources(home, payload, fmt):
    path = _named(home, NAMES[payload])
    p, _ = imported(home, path)
    assert p.returncode == 0, text(p.stderr)
    for args in (["show", "A4216"], ["sources"]):
        p = home.run(*args, *FORMATS[fmt])
        assert not held(p) and p.returncode == 0, text(p.stderr)
        out = text(p.stdout)
        assert _raw(out) == [] and "\nforged" not in out, (args, _raw(out))


@pytest.mark.parametrize("payload", sorted(NAMES))
def test_a_file_name_in_an_error(home, payload):
    cut = _named(home, NAMES[payload])
    data = HCPCS.read_bytes()
    cut.write_bytes(data[: data.rstrip(b"\r\n").rfind(b"\r\n") + 62])  # inside the last record's descriptor
    missing = home.tmp / f"nothing{NAMES[payload]}.txt"
    unknown = home.tmp / f"notes{NAMES[payload]}.txt"
    unknown.write_text("nothing a code set holds\n")
    for path in (cut, missing, unknown):
        p = home.run("import", path)
        assert not held(p) and p.returncode in (2, 3), (path.name, held(p), text(p.stderr))


@pytest.mark.parametrize("payload", sorted(NAMES))
def test_a_zip_member_name_in_skipped_lines_and_the_table(home, payload):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(f"HCPC2026_JAN_ANWEB{NAMES[payload]}.txt", HCPCS.read_bytes())
        z.writestr(f"readme{NAMES[payload]}.pdf", b"%PDF-1.4 not a code set")
    path = home.tmp / "HCPC2026_JAN.zip"
    path.write_bytes(buf.getvalue())
    p = home.run("import", path)
    assert not held(p) and p.returncode == 0, text(p.stderr)
    assert _raw(text(p.stdout)) == [], _raw(text(p.stdout))
    assert "Skipped readme" in text(p.stdout)


@pytest.mark.parametrize("payload", sorted(NAMES))
def test_a_directory_name_in_an_error(home, payload):
    d = home.tmp / f"dir{NAMES[payload]}"
    d.mkdir()
    (d / "notes.pdf").write_bytes(b"%PDF-1.4")
    p = home.run("import", d)
    assert not held(p) and p.returncode in (2, 3), (held(p), text(p.stderr))
