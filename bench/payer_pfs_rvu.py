"""Write a full-size CMS PPRRVU relative value file (16,000 rows) in its real layout, for import timing.

    python bench/payer_pfs_rvu.py OUT_DIR [--seed N]

The layout of PPRRVU26_APR.csv as it ships in RVU26B.zip: a preamble of eight rows (the release title, the AMA and
ADA notices), the header split over two rows, 31 columns, CRLF. Codes are CPT- and HCPCS-shaped numbers drawn at
random, and every DESCRIPTION and value is GENERATED, FABRICATED DATA: not CMS or AMA content. Codes whose PC/TC
indicator is 1 get their 26 and TC rows, as the real file gives them. ``write`` also zips the CSV as RVU26B.zip.
"""

from __future__ import annotations

import argparse
import csv
import random
import zipfile
from pathlib import Path

ROWS = 16_000
HEADER = (
    ",,,STATUS,MEDICARE,WORK,NON-FAC,NA,FACILITY,NA,MP,NON-FACILITY,FACILITY,PCTC,GLOB,PRE,INTRA,POST,MULT,BILAT,"
    "ASST,CO-,TEAM,ENDO,CONV,DIAGNOSTIC,CALCULATION,FAMILY,PAYMENT,PAYMENT,PAYMENT",
    "HCPCS,MOD,DESCRIPTION,CODE,PAYMENT,RVU,PE RVU,INDICATOR,PE RVU,INDICATOR,RVU,TOTAL,TOTAL,IND,DAYS,OP,OP,OP,"
    "PROC,SURG,SURG,SURG,SURG,BASE,FACTOR,PROCEDURES,FLAG,INDICATOR,AMOUNT,AMOUNT,AMOUNT",
)
PREAMBLE = (
    "2026 National Physician Fee Schedule Relative Value File April Release",
    "CPT codes and descriptions only are copyright 2025 American Medical Association. All Rights Reserved.",
    "Applicable FARS/DFARS Apply.",
    "Dental codes (D codes) are copyright 2025/26 American Dental Association. All Rights Reserved.",
    "GENERATED BENCHMARK FILE for cptcli: codes, descriptions and values are fabricated.",
    "",
    "",
    "",
)
# (weight, status, PC/TC choices, global-day choices): the statuses in rough proportion to a real release.
PROFILES = (
    (55, "A", "0000001", ("000", "010", "090", "XXX", "XXX", "ZZZ")),
    (8, "A", "1", ("XXX",)),
    (6, "I", "9", ("XXX",)),
    (6, "C", "09", ("YYY", "XXX")),
    (5, "X", "9", ("XXX",)),
    (4, "B", "9", ("XXX",)),
    (4, "N", "9", ("XXX",)),
    (3, "M", "9", ("XXX",)),
    (3, "J", "9", ("XXX",)),
    (2, "E", "9", ("XXX",)),
    (2, "R", "9", ("XXX",)),
    (1, "P", "9", ("XXX",)),
    (1, "T", "5", ("XXX",)),
)


def _codes(rng: random.Random, n: int) -> list[str]:
    out: set[str] = set()
    while len(out) < n:
        r = rng.random()
        if r < 0.8:
            out.add(f"{rng.randrange(10000, 99999):05d}")
        elif r < 0.9:
            out.add(f"{rng.randrange(0, 9999):04d}{rng.choice('FT')}")
        else:
            out.add(f"{rng.choice('AGJQ')}{rng.randrange(0, 9999):04d}")
    return sorted(out)


def _rows(rng: random.Random) -> list[list[str]]:
    weights = [p[0] for p in PROFILES]
    rows: list[list[str]] = []
    for i, code in enumerate(_codes(rng, ROWS)):
        if len(rows) >= ROWS:
            break
        _, status, pctcs, globs = rng.choices(PROFILES, weights)[0]
        pctc, glob = rng.choice(pctcs), rng.choice(globs)
        surgical = glob in ("000", "010", "090")
        ind = [
            rng.choice("23") if surgical else rng.choice("09"),
            rng.choice("0112") if surgical else rng.choice("39"),
            rng.choice("0122") if surgical else "9",
            rng.choice("0012") if surgical else "9",
            rng.choice("0012") if surgical else "9",
        ]
        rvu = [f"{rng.uniform(0, 20):.2f}" for _ in range(6)]
        for mod in ("", "26", "TC") if pctc == "1" else ("",):
            rows.append(
                [code, mod, f"GENERATED descriptor {i}", status, "", rvu[0], rvu[1], "", rvu[2], "", rvu[3], rvu[4]]
                + [rvu[5], pctc, glob, "0.10", "0.80", "0.10", *ind, "", "33.4009", "09", "0", "99"]
                + ["0.00", "0.00", "0.00"]
            )
    return rows[:ROWS]


def write(directory: Path, seed: int = 0) -> list[Path]:
    """The CSV (PPRRVU26_APR.csv) and the zip CMS ships it in (RVU26B.zip), in ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "PPRRVU26_APR.csv"
    width = len(HEADER[1].split(","))
    with path.open("w", newline="", encoding="cp1252") as f:
        w = csv.writer(f, lineterminator="\r\n")
        for line in PREAMBLE:
            w.writerow(["", "", line, *[""] * (width - 3)] if line else [""] * width)
        for line in HEADER:
            w.writerow(line.split(","))
        w.writerows(_rows(random.Random(seed)))
    z = directory / "RVU26B.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as f:
        f.write(path, path.name)
    return [path, z]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    for p in write(a.out, a.seed):
        print(p)


if __name__ == "__main__":
    main()
