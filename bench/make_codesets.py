"""Write full-size code sets in their real layouts, and optionally time their import.

    python bench/make_codesets.py OUT_DIR [--measure]

HCPCS: 8,000 codes and 400 modifiers as ANWEB fixed-width text (320-byte records, continuations, disclaimer block,
latin-1, NBSP, CRLF), the same release as .xlsx, and a zip holding both plus a PDF stub, as CMS ships it.
CPT: 11,000 codes in all five AMA data-file layouts. NUCC: 900 taxonomy rows.
Every description is GENERATED, FABRICATED TEXT: not CMS, AMA or NUCC text.

``--measure`` imports each set in a fresh interpreter (a temporary CPTCLI_DATA_DIR) and prints seconds and peak RSS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from cptcli.imports.hcpcs import LAYOUT

N_HCPCS, N_MODS, N_CPT, N_NUCC = 8000, 400, 11000, 900
NOUNS = (
    "crutch",
    "cane",
    "walker",
    "wheelchair",
    "catheter",
    "dressing",
    "ostomy pouch",
    "belt",
    "splint",
    "brace",
    "nebulizer",
    "oxygen concentrator",
    "infusion pump",
    "syringe",
    "needle",
    "test strip",
    "lancet",
    "mask",
    "cushion",
    "mattress",
    "hearing aid",
    "lens",
    "prosthetic foot",
    "socket",
    "liner",
    "electrode",
    "lead",
)
ADJS = (
    "adjustable",
    "fixed",
    "pediatric",
    "adult",
    "disposable",
    "reusable",
    "sterile",
    "non-sterile",
    "heavy duty",
    "lightweight",
    "custom fabricated",
    "prefabricated",
    "each",
    "per pair",
    "per month",
    "with accessories",
)
DRUGS = ("fabrizumab", "testocillin", "mockaprazole", "samplovir", "demodexone", "placeboxetine", "fictimab")
LETTERS = "ABCEGHJKLQV"


def _text(rng: random.Random, lo: int, hi: int) -> str:
    words: list[str] = []
    target = rng.randint(lo, hi)
    while len(" ".join(words)) < target:
        words.append(rng.choice(NOUNS) if rng.random() < 0.4 else rng.choice(ADJS))
    return (" ".join(words)[:1].upper() + " ".join(words)[1:]).replace("  ", " ")


def _split(text: str, width: int = 80) -> list[str]:
    """Word-boundary segments of at most `width` characters, as CMS continues long descriptions."""
    import textwrap

    return textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False) or [""]


def hcpcs_rows(rng: random.Random) -> list[dict[str, str]]:
    rows = []
    seq = 0
    codes = sorted({f"{rng.choice(LETTERS)}{rng.randint(0, 9999):04d}" for _ in range(N_HCPCS * 2)})[:N_HCPCS]
    rng.shuffle(codes)
    mods = sorted(
        {f"{rng.choice('ABCEGKLPQRSTUVX')}{rng.choice('0123456789ABCDEFGHJKLMNPRSTUVWXYZ')}" for _ in range(N_MODS * 3)}
    )[:N_MODS]
    # CMS writes the modifiers first (tests/fixtures/imports/cms, the 2020 release).
    items = [(m, True) for m in mods] + [(c, False) for c in sorted(codes)]
    for code, is_mod in items:
        seq += 100
        if code.startswith("J"):
            long = f"Injection, {rng.choice(DRUGS)}, {rng.choice((1, 5, 10, 50, 100))}\u00a0mg"
        else:
            long = _text(rng, 30, 300)
        segs = _split(long)
        for j, seg in enumerate(segs):
            r = {"HCPC": code, "SEQNUM": f"{(seq + j) % 100000:05d}", "LONG DESCRIPTION": seg}
            r["RECID"] = ("7" if j == 0 else "8") if is_mod else ("3" if j == 0 else "4")
            if j == 0:
                r["SHORT DESCRIPTION"] = long[:28]
                r["ADD_DT"] = f"{rng.randint(1985, 2025)}0101"
                r["ACT_EFF_DT"] = "20260101"
                r["ACTION_CD"] = rng.choice("ABCDFNPRST")
                if not is_mod:
                    r["PRICE1"] = rng.choice(("00", "11", "13", "32", "34", "36", "37", "38", "46", "51", "57"))
                    r["MULT_PI"] = "A"
                    r["COV"] = rng.choice("CDIMS")
                    r["BETOS"] = rng.choice(("D1A", "D1E", "D1F", "O1E", "O1A", "T1G"))
                    r["TOS1"] = rng.choice("19PRS")
            rows.append(r)
    return rows


def write_hcpcs(out: Path, rng: random.Random) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    rows = hcpcs_rows(rng)
    layout = [
        (n.replace("_", " ") if n in ("LONG_DESCRIPTION", "SHORT_DESCRIPTION") else n, s, w) for n, s, w in LAYOUT
    ]
    lines = [
        "GENERATED, FABRICATED benchmark data in the layout of CMS's HCPCS Alpha-Numeric file; not CMS text.",
        "Disclaimer block stand-in \u00a9 none.",
        "",
    ]
    for r in rows:
        buf = [" "] * 320
        for name, start, width in layout:
            v = r.get(name, "")[:width]
            # A modifier stands right-justified in HCPC ("   A1"), as CMS writes it.
            v = v.rjust(width) if name == "HCPC" and len(v) == 2 else v.ljust(width)
            buf[start - 1 : start - 1 + width] = list(v)
        lines.append("".join(buf))
    txt = out / "HCPC2026_JAN_ANWEB.txt"
    txt.write_bytes(("\r\n".join(lines) + "\r\n").encode("latin-1"))

    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("HCPC2026_JAN_ANWEB")
    ws.append(["GENERATED, FABRICATED benchmark data, not CMS text"])
    ws.append([])
    ws.append([n for n, _, _ in layout])
    for r in rows:
        vals: list[object] = []
        for name, _, _ in layout:
            v = r.get(name, "")
            if not v:
                vals.append(None)
            elif name in ("ADD_DT", "ACT_EFF_DT"):
                vals.append(dt.datetime.strptime(v, "%Y%m%d"))
            else:
                vals.append(v)
        ws.append(vals)
    xlsx = out / "HCPC2026_JAN_ANWEB.xlsx"
    wb.save(xlsx)
    z = out / "HCPC2026_JAN_ANWEB.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(txt, txt.name)
        zf.write(xlsx, xlsx.name)
        zf.writestr("HCPC2026_recordlayout.pdf", b"%PDF-1.7 stand-in")
    return {"txt": txt, "xlsx": xlsx, "zip": z}


def write_cpt(out: Path, rng: random.Random) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    codes = [f"{n:05d}" for n in range(10000, 10000 + N_CPT)]
    head = "GENERATED, FABRICATED TEST DATA, not AMA text. Stand-in copyright block, CPT 2026 data files.\r\n\r\n"
    longs = {c: "Fabricated " + _text(rng, 40, 250).lower() for c in codes}
    files = {
        "LONGULT.txt": head + "".join(f"{c}\t{longs[c]}\r\n" for c in codes),
        "MEDU.txt": head.upper() + "".join(f"{c} {longs[c][:48].upper().strip()}\r\n" for c in codes),
        "SHORTU.txt": head.upper() + "".join(f"{c} {longs[c][:28].upper().strip()}\r\n" for c in codes),
        "ConsumerDescriptor.txt": "Concept Id\tCPT Code\tConsumer Friendly Descriptor\r\n"
        + "".join(
            f"{1000000 + i}\t{c}\tFabricated consumer words: {_text(rng, 20, 80).lower()}\r\n"
            for i, c in enumerate(codes)
        ),
        "ClinicianDescriptor.txt": "Concept Id\tCPT Code\tClinician Descriptor Id\tClinician Descriptor\r\n"
        + "".join(
            f"{1000000 + i}\t{c}\t{2000000 + 3 * i + k}\tFabricated clinician words: {_text(rng, 30, 120).lower()}\r\n"
            for i, c in enumerate(codes)
            for k in range(rng.randint(1, 3))
        ),
    }
    paths = []
    for name, text in files.items():
        p = out / name
        p.write_text(text, encoding="utf-8", newline="")
        paths.append(p)
    return paths


def write_nucc(out: Path, rng: random.Random) -> Path:
    import csv

    out.mkdir(parents=True, exist_ok=True)
    p = out / "nucc_taxonomy_251.csv"
    with p.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(
            ["Code", "Grouping", "Classification", "Specialization", "Definition", "Notes", "Display Name", "Section"]
        )
        for i in range(N_NUCC):
            code = f"9{i:03d}{rng.randint(0, 99999):05d}X"
            cls = "Fabricated " + _text(rng, 10, 30).lower()
            w.writerow(
                [
                    code,
                    "Fabricated Grouping",
                    cls,
                    "",
                    "FABRICATED, not NUCC text. " + _text(rng, 50, 400),
                    "",
                    cls,
                    "Individual",
                ]
            )
    return p


def measure(label: str, paths: list[Path]) -> dict[str, object]:
    code = (
        "import json, resource, sys, time; t = time.perf_counter(); "
        "from cptcli.imports import import_files; r = import_files(sys.argv[1:]); "
        "print(json.dumps({'seconds': round(time.perf_counter() - t, 2), "
        "'peak_rss_mb': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1), "
        "'records': [x.records for x in r], 'modifiers': [x.modifiers for x in r]}))"
    )
    with tempfile.TemporaryDirectory() as d:
        env = {**os.environ, "CPTCLI_DATA_DIR": d}
        out = subprocess.run(
            [sys.executable, "-c", code, *map(str, paths)], env=env, capture_output=True, text=True, check=True
        )
    res = {"set": label, **json.loads(out.stdout)}
    print(json.dumps(res))
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--measure", action="store_true")
    ap.add_argument("--seed", type=int, default=18)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    h = write_hcpcs(a.out / "hcpcs", rng)
    c = write_cpt(a.out / "cpt", rng)
    n = write_nucc(a.out / "nucc", rng)
    print(f"wrote {a.out}")
    if a.measure:
        measure("HCPCS ANWEB .txt", [h["txt"]])
        measure("HCPCS .xlsx", [h["xlsx"]])
        measure("HCPCS .zip (txt + xlsx + pdf)", [h["zip"]])
        measure("CPT, five files", c)
        measure("NUCC", [n])


if __name__ == "__main__":
    main()
