"""Issue 24 class 1, partial files: a file cut mid-record (a download in
progress, a file still being written) or changing while it is read is refused
with one line naming the file, the line and what is missing (exit 3), and the
active release stays."""

import pytest
from advkit import text
from impkit import CMS, CPT, CPT_NAMES, HCPCS, active, imported, refused


def _cut_line(data: bytes, line: int, keep: int) -> bytes:
    """`data` ending inside its `line`th line (1-based), after `keep` characters of it."""
    lines = data.split(b"\r\n")
    return b"\r\n".join(lines[: line - 1] + [lines[line - 1][:keep]])


# (line, characters kept): inside the last first record (RECID 3), and in a continued
# description (RECID 4) cut mid-word; 11 keeps only code, sequence number and RECID.
HCPCS_CUTS = [(19, 11), (19, 60), (19, 150), (19, 292), (6, 40), (6, 75), (7, 15), (10, 200)]


@pytest.mark.parametrize("line,keep", HCPCS_CUTS, ids=[f"line{a}-col{b}" for a, b in HCPCS_CUTS])
def test_an_anweb_file_cut_mid_record_is_refused_and_the_release_stays(home, line, keep):
    p, _ = imported(home, HCPCS)
    assert p.returncode == 0, text(p.stderr)
    before = active(home)
    cut = home.tmp / "cut" / HCPCS.name
    cut.parent.mkdir()
    cut.write_bytes(_cut_line(HCPCS.read_bytes(), line, keep))
    p, _ = imported(home, cut)
    assert not refused(p), (refused(p), text(p.stderr))
    err = text(p.stderr)
    assert HCPCS.name in err and f"line {line}" in err and "cut short" in err, err
    assert active(home) == before


def test_an_anweb_file_cut_after_its_last_field_is_whole(home):
    # Positions 294-320 are filler: a record that reaches its action code is complete.
    cut = home.tmp / HCPCS.name
    cut.write_bytes(_cut_line(HCPCS.read_bytes(), 19, 293))
    p, doc = imported(home, cut)
    assert p.returncode == 0 and doc[0]["records"] == 5, text(p.stderr)


@pytest.mark.parametrize("fraction", [0.25, 0.5, 0.9, 0.999])
def test_the_real_cms_file_cut_anywhere_inside_a_line_is_refused(home, fraction):
    p, _ = imported(home, CMS)
    assert p.returncode == 0, text(p.stderr)
    before = active(home)
    data = CMS.read_bytes()
    at = int(len(data) * fraction)
    while data[at - 2 : at + 2].count(b"\r\n") or data[at - 1 : at] == b" ":
        at += 1  # inside a line, and mid-word
    cut = home.tmp / "cut" / CMS.name
    cut.parent.mkdir()
    cut.write_bytes(data[:at])
    p, _ = imported(home, cut)
    assert not refused(p), (refused(p), text(p.stderr))
    assert "cut short" in text(p.stderr) and CMS.name in text(p.stderr)
    assert active(home) == before


@pytest.mark.parametrize("name", CPT_NAMES)
@pytest.mark.parametrize("drop", [1, 12])
def test_a_cpt_file_cut_mid_line_is_refused_and_the_release_stays(home, name, drop):
    p, _ = imported(home, *CPT.values())
    assert p.returncode == 0, text(p.stderr)
    before = active(home)
    (home.tmp / "cut").mkdir()
    files = []
    for n, path in CPT.items():
        data = path.read_bytes()
        if n == name:
            data = data[: -(2 + drop)]  # the last line's end and `drop` characters of it
        (home.tmp / "cut" / path.name).write_bytes(data)
        files.append(home.tmp / "cut" / path.name)
    p, _ = imported(home, *files)
    assert not refused(p), (refused(p), text(p.stderr))
    err = text(p.stderr)
    assert f"{name}.txt" in err and "cut short" in err and "line " in err, err
    assert active(home) == before


def test_a_file_that_changes_while_it_is_read_is_refused(tmp_path, monkeypatch):
    """A file still being written (its size grows between the stat before and after the read)."""
    from cptcli import imports
    from cptcli.errors import DataError

    path = tmp_path / HCPCS.name
    path.write_bytes(HCPCS.read_bytes())
    real = imports._read

    def growing(f):
        data = real(f)
        with open(f, "ab") as out:
            out.write(b"P9612005014more text arriving\r\n")
        return data

    monkeypatch.setattr(imports, "_read", growing)
    monkeypatch.setenv("CPTCLI_DATA_DIR", str(tmp_path / "data"))
    with pytest.raises(DataError, match="changed while it was read"):
        imports.import_files([path])
    assert imports.sources() == []
