"""Issue 24 classes 5, 7 and 10: small files that would cost gigabytes or minutes (zip bombs, overlapping and
nested zips, endless lines, a workbook declaring a million rows), files a parser would misread (line ends inside
a descriptor, a stray byte in a UTF-8 file), and the smaller output faults (a flood of skipped members, U+2028
in JSON, a carriage return on a terminal).

Every bomb runs in a child under a memory limit (RLIMIT_AS): it must be refused in one line with exit 2, never
a MemoryError, an internal error or a traceback. The limits are cptcli.limits' (docs/limits.md)."""

import io
import json
import resource
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import pytest
from advkit import EXE, held, text, with_texts
from impkit import CPT, FIXTURES, HCPCS, imported, refused

from cptcli import limits

sys.path.insert(0, str(FIXTURES))
import hcpcs_fixture  # noqa: E402

MiB = 1 << 20
# What a normal import needs is some 300 MB of address space; every bomb below would take several GB.
MEMORY = 1024 * MiB
ICD = FIXTURES / "icd10cm" / "icd10cm_order_2026.txt"


def limited(home, *args, memory=MEMORY, timeout=120, input=None, stdin=None):
    """Run cptcli in a child whose address space is capped at ``memory`` bytes."""

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    kw = {"input": input} if stdin is None else {"stdin": stdin}
    return subprocess.run(
        [EXE, *map(str, args)],
        capture_output=True,
        env=home.env(),
        timeout=timeout,
        preexec_fn=cap,
        **kw,
    )


def one_line(p, status: int, *words: str) -> list:
    """The ways a refusal broke the contract: `held`, the exact status, one stderr line naming `words`."""
    problems = held(p)
    err = text(p.stderr)
    if p.returncode != status:
        problems.append(f"status {p.returncode}, not {status}")
    if len(err.splitlines()) != 1 or not err.startswith("cptcli: error: "):
        problems.append(f"not one error line: {err[:300]!r}")
    if "MemoryError" in err or "internal error" in err:
        problems.append("memory or internal error")
    problems += [f"{w!r} not said" for w in words if w not in err]
    return problems


# -- hand-made zips: what zipfile will not write (lying sizes, shared streams) --------------------------------


def _deflated(data_len: int, byte: bytes = b"\0") -> tuple[bytes, int]:
    """A raw deflate stream of `data_len` bytes of `byte`, and their CRC-32, made a chunk at a time."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = byte * MiB
    out, crc, left = [], 0, data_len
    while left:
        piece = chunk[: min(left, MiB)]
        out.append(comp.compress(piece))
        crc = zlib.crc32(piece, crc)
        left -= len(piece)
    out.append(comp.flush())
    return b"".join(out), crc


def raw_zip(entries, central=None) -> bytes:
    """A zip of `entries` (name, deflated bytes, crc, declared size); `central(i, offset)` may move an entry's
    central-directory offset (to make entries overlap)."""
    body, cd = io.BytesIO(), []
    for i, (name, comp, crc, declared) in enumerate(entries):
        offset = body.tell()
        n = name.encode()
        body.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(comp), declared, len(n), 0))
        body.write(n + comp)
        cd.append((n, crc, len(comp), declared, central(i, offset) if central else offset))
    start = body.tell()
    for n, crc, csize, declared, offset in cd:
        fields = (0x02014B50, 20, 20, 0, 8, 0, 0, crc, csize, declared, len(n), 0, 0, 0, 0, 0, offset)
        body.write(struct.pack("<IHHHHHHIIIHHHHHII", *fields) + n)
    size = body.tell() - start
    body.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(cd), len(cd), size, start, 0))
    return body.getvalue()


@pytest.fixture(scope="module")
def zeros_256():
    """256 MiB of zeros, deflated (about 250 KB), made once."""
    return _deflated(256 * MiB)


def _write(home, name: str, data: bytes) -> Path:
    path = home.tmp / name
    path.write_bytes(data)
    return path


# -- class 5: bombs ------------------------------------------------------------------------------------------


def test_eight_members_of_256_mib_are_refused_under_a_memory_limit(home, zeros_256):
    comp, crc = zeros_256
    bomb = _write(home, "bomb.zip", raw_zip([(f"part{i}.txt", comp, crc, 256 * MiB) for i in range(8)]))
    p = limited(home, "import", bomb)
    assert not one_line(p, 2, "bomb.zip: part0.txt", "256 MiB uncompressed", "128 MiB a member"), text(p.stderr)


def test_a_member_compressed_a_thousand_to_one_is_refused(home):
    comp, crc = _deflated(8 * MiB)
    bomb = _write(home, "ratio.zip", raw_zip([("HCPC2026_JAN_ANWEB.txt", comp, crc, 8 * MiB)]))
    p = limited(home, "import", bomb)
    assert not one_line(p, 2, "ratio.zip: HCPC2026_JAN_ANWEB.txt", "to 1", "ratio of 100 to 1"), text(p.stderr)


def test_overlapping_entries_are_refused_before_any_is_read(home):
    # Fifield's bomb: a thousand central-directory entries, each a 100 MiB member, all one compressed stream.
    comp, crc = _deflated(100 * MiB, b"A")
    one = [("kernel.txt", comp, crc, 100 * MiB)]
    data = raw_zip(one)
    cd_at = data.rindex(struct.pack("<I", 0x02014B50))
    entry = data[cd_at : data.rindex(struct.pack("<I", 0x06054B50))]
    n = 1000
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, len(entry) * n, cd_at, 0)
    bomb = _write(home, "overlap.zip", data[:cd_at] + entry * n + eocd)
    t0 = time.monotonic()
    p = limited(home, "import", bomb)
    assert not one_line(p, 2, "overlap.zip", "entries that overlap"), text(p.stderr)
    assert time.monotonic() - t0 < 30


def test_entries_pointing_into_each_other_are_refused(home):
    comp, crc = _deflated(1 * MiB, b"B")
    entries = [(f"m{i}.txt", comp, crc, 1 * MiB) for i in range(3)]
    # The second entry's central record points inside the first one's data.
    bomb = _write(home, "shared.zip", raw_zip(entries, central=lambda i, off: 40 if i == 1 else off))
    p = limited(home, "import", bomb)
    assert not one_line(p, 2, "shared.zip", "entries that overlap"), text(p.stderr)


def test_a_header_that_understates_a_member_yields_no_more_than_it_declared(home):
    # 64 MiB of zeros declared as 1 KiB: zipfile stops at the declared size, and the CRC of the whole
    # stream then fails to match: damage, said in one line, with nothing more read.
    comp, crc = _deflated(64 * MiB)
    bomb = _write(home, "liar.zip", raw_zip([("HCPC2026_JAN_ANWEB.txt", comp, crc, 1024)]))
    p = limited(home, "import", bomb, memory=512 * MiB)
    assert not one_line(p, 3, "liar.zip: not a readable zip archive", "CRC"), text(p.stderr)


def _nested(depth: int, inner: tuple[str, bytes]) -> bytes:
    name, data = inner
    for level in range(depth):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
            z.writestr(name, data)
        name, data = f"level{level}.zip", buf.getvalue()
    return data


def test_a_zip_nested_1200_deep_is_one_line_not_a_recursion_error(home):
    bomb = _write(home, "deep.zip", _nested(1200, ("HCPC2026_JAN_ANWEB.txt", HCPCS.read_bytes())))
    p = limited(home, "import", bomb)
    assert not one_line(p, 2, "zips nested more than 3 deep", "3 levels"), text(p.stderr)
    assert "RecursionError" not in text(p.stderr)


def test_a_release_zip_inside_a_bundle_zip_still_imports(home):
    bundle = _write(home, "bundle.zip", _nested(3, ("HCPC2026_JAN_ANWEB.txt", HCPCS.read_bytes())))
    p, doc = imported(home, bundle)
    assert p.returncode == 0 and doc[0]["records"] == 5, text(p.stderr)


def test_an_archive_of_more_members_than_the_limit_is_refused(home):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for i in range(limits.MEMBERS + 1):
            z.writestr(f"f{i}.txt", b"")
    p = limited(home, "import", _write(home, "crowd.zip", buf.getvalue()))
    assert not one_line(p, 2, "crowd.zip", "10,001 members", "10,000 members an archive"), text(p.stderr)


def test_a_file_beyond_the_file_limit_is_refused_unread(home):
    big = home.tmp / "HCPC2026_JAN_ANWEB.zip"
    with open(big, "wb") as f:
        f.truncate(limits.FILE_BYTES + 1)  # sparse: its size is all that is read
    p = limited(home, "import", big, memory=512 * MiB)
    assert not one_line(p, 2, "HCPC2026_JAN_ANWEB.zip", "256 MiB a file"), text(p.stderr)


def test_a_file_beyond_its_kinds_limit_is_refused(home):
    data = HCPCS.read_bytes() + b"\r\n" * (17 * MiB)  # 34 MiB: an HCPCS file is at most 32 MiB
    p = limited(home, "import", _write(home, HCPCS.name, data))
    assert not one_line(p, 2, HCPCS.name, "32 MiB an HCPCS file"), text(p.stderr)


def test_a_100_mib_descriptor_line_is_refused_under_a_memory_limit(home):
    data = ICD.read_bytes() + b"00005 A01     1 Typhoid" + b" " * 60 + b"x" * (100 * MiB) + b"\r\n"
    line = ICD.read_bytes().count(b"\n") + 1
    p = limited(home, "import", _write(home, ICD.name, data))
    assert not one_line(p, 2, f"{ICD.name}: line {line}", "longer than 64 KiB", "64 KiB a line"), text(p.stderr)


def test_a_cpt_line_of_one_mib_is_refused_naming_its_line(home):
    lines = CPT["LONGULT"].read_bytes().split(b"\n")
    lines[5] = lines[5].rstrip(b"\r") + b" x" * (MiB // 2) + b"\r"
    p = limited(home, "import", _write(home, "LONGULT.txt", b"\n".join(lines)))
    assert not one_line(p, 2, "LONGULT.txt: line 6", "longer than 64 KiB"), text(p.stderr)


def _with_dimension(xlsx: Path, ref: str, extra_row: str = "") -> bytes:
    """The workbook with its sheet's declared dimension replaced by `ref` (and `extra_row` XML added)."""
    src = zipfile.ZipFile(xlsx)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for i in src.infolist():
            data = src.read(i)
            if i.filename.startswith("xl/worksheets/sheet"):
                import re

                s = data.decode()
                s = re.sub(r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{ref}"/>', s)
                if extra_row:
                    s = s.replace("</sheetData>", extra_row + "</sheetData>")
                data = s.encode()
            out.writestr(i, data)
    return buf.getvalue()


def test_a_workbook_declaring_a1_xfd1048576_is_read_in_seconds(home):
    xlsx = hcpcs_fixture.write_xlsx(home.tmp / "src.xlsx")
    path = _write(home, "HCPC2026_JAN_ANWEB.xlsx", _with_dimension(xlsx, "A1:XFD1048576"))
    t0 = time.monotonic()
    p, doc = imported(home, path)
    took = time.monotonic() - t0
    assert p.returncode == 0 and doc[0]["records"] == 5, text(p.stderr)
    assert took < 60, took  # five minutes before: every row padded to 16,384 cells, a million rows


def test_a_workbook_declaring_fewer_rows_than_it_holds_is_read_whole(home):
    # openpyxl stopped at the declared last row: a sheet declaring A1:B2 lost every record after row 2.
    xlsx = hcpcs_fixture.write_xlsx(home.tmp / "src.xlsx")
    path = _write(home, "HCPC2026_JAN_ANWEB.xlsx", _with_dimension(xlsx, "A1:B2"))
    p, doc = imported(home, path)
    assert p.returncode == 0 and (doc[0]["records"], doc[0]["modifiers"]) == (5, 2), text(p.stderr)


def test_a_workbook_row_numbered_past_a_sheets_last_is_refused(home):
    xlsx = hcpcs_fixture.write_xlsx(home.tmp / "src.xlsx")
    row = '<row r="2000000"><c r="A2000000" t="inlineStr"><is><t>x</t></is></c></row>'
    path = _write(home, "HCPC2026_JAN_ANWEB.xlsx", _with_dimension(xlsx, "A1:B2", row))
    p = limited(home, "import", path)
    assert not one_line(p, 2, "beyond 1,048,576", "1,048,576 rows a sheet"), text(p.stderr)


def test_show_dash_from_dev_zero_is_refused_under_a_memory_limit(home):
    with open("/dev/zero", "rb") as zero:
        p = limited(home, "show", "-", stdin=zero, memory=512 * MiB, timeout=60)
    assert not one_line(p, 2, "standard input, line 1", "without a line end", "4 KiB a line"), text(p.stderr)
    assert p.stdout == b""


def test_show_dash_answers_the_lines_before_an_endless_one(home):
    p = limited(home, "show", "-", "--json", input=b"20700\n" + b"2" * (64 * 1024))
    assert p.returncode == 2 and json.loads(p.stdout + b"]")[0]["code"] == "20700", text(p.stderr)
    assert "line 2: more than 4 KiB without a line end" in text(p.stderr)


@pytest.mark.parametrize("source", ["/dev/zero", "-"])
def test_check_claims_from_dev_zero_is_refused_under_a_memory_limit(home, source):
    with open("/dev/zero", "rb") as zero:
        p = limited(home, "check", "--claims", source, stdin=zero, timeout=60)
    name = "standard input" if source == "-" else source
    assert not one_line(p, 2, f"{name}: more than 128 MiB", "128 MiB a claims file"), text(p.stderr)


def test_standard_input_stops_at_its_line_limit():
    lines = limits.bounded_lines(io.BytesIO(b"1\n" * 5), lines=3)
    assert [next(lines) for _ in range(3)] == [b"1\n"] * 3
    with pytest.raises(Exception, match="more than 3 lines"):
        next(lines)


def test_the_bytes_of_one_call_are_capped(monkeypatch, tmp_path):
    from cptcli import imports
    from cptcli.errors import UsageError

    monkeypatch.setattr(limits, "TOTAL_BYTES", 5500)
    monkeypatch.setenv("CPTCLI_DATA_DIR", str(tmp_path / "data"))
    with pytest.raises(UsageError, match="read in all by this import, beyond the 5.4 KiB a call"):
        imports.import_files([HCPCS, CPT["LONGULT"]])
    assert imports.sources() == []


def test_long_line_finds_the_first_line_over_the_limit():
    assert limits.long_line(b"ab\ncd\n", 2) is None
    assert limits.long_line(b"abc\ncd\n", 2) == 1
    assert limits.long_line(b"ab\ncd\nefg", 2) == 3
    assert limits.long_line(b"", 2) is None


# -- class 7: parser mismatches ------------------------------------------------------------------------------


def _cpt_with(home, replace: dict[bytes, bytes], name="LONGULT") -> Path:
    data = CPT[name].read_bytes()
    for a, b in replace.items():
        assert a in data
        data = data.replace(a, b)
    d = home.tmp / "cpt"
    d.mkdir(exist_ok=True)
    return _write(home, f"cpt/{name}.txt", data)


BREAKS = {"form feed": "\x0c", "FS": "\x1c", "GS": "\x1d", "RS": "\x1e", "NEL": "\x85", "U+2028": "\u2028"}


@pytest.mark.parametrize("char", list(BREAKS.values()), ids=list(BREAKS))
def test_a_line_break_splitlines_knows_inside_a_descriptor_ends_no_record(home, char):
    # "99991<TAB>...<char>99992<TAB>phantom" read with str.splitlines() gave a phantom code 99992.
    path = _cpt_with(home, {b"two for test code 99991": f"two{char}99992\tphantom".encode()})
    p, doc = imported(home, path)
    assert p.returncode == 0, text(p.stderr)
    assert doc[0]["records"] == 5  # 99990, 99991, 9999F, 9998T, 9997U: no 99992
    assert home.run("show", "99992", "--json").returncode == 1
    one = json.loads(home.run("show", "99991", "--json").stdout)
    assert one["descriptor"]["text"] == f"Fabricated long descriptor two{char}99992\tphantom, not AMA text"


def test_a_stray_latin1_byte_in_a_utf8_file_is_refused_naming_its_line(home):
    path = _cpt_with(
        home,
        {
            b"descriptor one": "descriptor oné, café".encode(),
            b"descriptor two": "descriptor tw\xe9".encode("latin-1"),
            b"Category II style": "Catégorie II style".encode(),
        },
    )
    p, _ = imported(home, path)
    assert not refused(p, 3), text(p.stderr)
    assert "LONGULT.txt: line 5: byte 0xE9 is not UTF-8" in text(p.stderr)


def test_a_file_all_in_windows_1252_is_read_as_it(home):
    path = _cpt_with(home, {b"descriptor one": "descriptor oné – café".encode("cp1252")})
    p, _ = imported(home, path)
    assert p.returncode == 0, text(p.stderr)
    assert "oné – café" in text(home.run("show", "99990", "--json").stdout)


def test_an_icd10cm_order_file_with_a_stray_byte_is_refused(home):
    lines = ICD.read_bytes().split(b"\r\n")
    lines[1] = lines[1] + " (Ménière)".encode()
    lines[2] = lines[2] + " (naïve)".encode()
    lines[3] = lines[3] + b" (caf\xe9)"
    p, _ = imported(home, _write(home, ICD.name, b"\r\n".join(lines)))
    assert not refused(p, 3), text(p.stderr)
    assert f"{ICD.name}: line 4: byte 0xE9 is not UTF-8" in text(p.stderr)


# -- class 10: smaller faults --------------------------------------------------------------------------------


def test_a_zip_of_thousands_of_members_says_a_few_skipped_and_counts_the_rest(home):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr(HCPCS.name, HCPCS.read_bytes())
        for i in range(2000):
            z.writestr(f"notes{i}.pdf", b"%PDF-1.4\n")
    path = _write(home, "many.zip", buf.getvalue())
    p = home.run("import", path, timeout=120)
    assert p.returncode == 0, text(p.stderr)
    out = text(p.stdout)
    assert out.count("Skipped notes") == 5, out[-800:]
    assert "and 1,995 more files skipped (--json lists every one)" in out
    p, doc = imported(home, path)
    assert len(doc[0]["skipped_files"]) == 2000


KIND_FIXTURES = {
    "hcpcs": [HCPCS],
    "cpt": list(CPT.values()),
    "nucc": sorted((FIXTURES / "nucc").glob("*.csv"))[:1],
    "icd10cm": [ICD],
    "ncci-mue": sorted((FIXTURES / "ncci-mue").glob("*Practitioner*.csv")),
    "ncci-aoc": sorted((FIXTURES / "ncci-aoc").glob("*.txt")),
    "ncci-ptp": sorted((FIXTURES / "ncci-ptp").glob("*.txt")),  # both settings: two sets, counted each
    "pfs-rvu": [FIXTURES / "pfs-rvu" / "PPRRVU26_JAN.csv"],
}


@pytest.mark.parametrize("kind", sorted(KIND_FIXTURES))
def test_import_and_sources_count_the_same_records_and_modifiers(home, kind):
    p, doc = imported(home, *KIND_FIXTURES[kind])
    assert p.returncode == 0, text(p.stderr)
    listed = json.loads(home.run("sources", "--json").stdout)
    mine = [r for r in listed if r["kind"].split()[0] == kind]  # "icd10cm FY2026": the kind and its slot
    assert [(r["records"], r["modifiers"]) for r in mine] == [(d["records"], d["modifiers"]) for d in doc]


@pytest.mark.parametrize("fmt", ["--json", "--format=jsonl"])
def test_json_escapes_the_line_and_paragraph_separators(home, fmt):
    kb = home.write("kb.json", with_texts(["payer A\u2028payer B\u2029end"]))
    p = home.run("--data", kb, "show", "20700", *fmt.split())
    out = p.stdout.decode("utf-8")
    assert p.returncode == 0, text(p.stderr)
    assert "\u2028" not in out and "\u2029" not in out
    assert "payer A\\u2028payer B\\u2029end" in out


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_a_carriage_return_in_a_cell_is_visible_on_a_terminal_and_quoted_in_a_file(home, fmt):
    from test_terminal import _on_a_terminal

    kb = home.write("kb.json", with_texts(["OVERWRITTEN\rpayer"]))
    args = ["--no-pager", "--data", str(kb), "show", "20700", "--format", fmt, "--section", "facts"]
    status, shown, _ = _on_a_terminal(args, home.tmp)
    assert status == 0
    assert "\r" not in shown and "OVERWRITTEN\\x0dpayer" in shown, shown
    # To a file, the cell keeps its carriage return, quoted, as a spreadsheet reads it.
    p = home.run(*args[1:])
    assert b'"OVERWRITTEN\rpayer"' in p.stdout
