"""Write the three CMS NCCI MUE tables at full size in their real layout, and optionally time their import.

    python bench/payer_ncci_mue.py OUT_DIR [--measure]

15,000 rows a setting (practitioner, outpatient hospital, DME supplier), each as
``MCR_MUE_<Setting>Services_Eff_04-01-2026.csv``: the notice as one quoted multi-line cell padded with empty
cells, the header with a line break inside its first cell, latin-1, CRLF (``cptcli.imports.ncci_mue`` documents
the layout). Codes are GENERATED (five-digit numbers and HCPCS-shaped letters and digits), values and indicators
FABRICATED: not CMS's edits.

``--measure`` imports the three tables in a fresh interpreter (a temporary CPTCLI_DATA_DIR) and prints seconds
and peak RSS.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
from pathlib import Path

ROWS = 15_000
EFFECTIVE = "04-01-2026"
SETTINGS = (
    ("PractitionerServices", "Practitioner Services MUE Values"),
    ("OutpatientHospitalServices", "Outpatient Hospital Services MUE Values"),
    ("DMESupplierServices", "DME Supplier Services MUE Values"),
)
NOTICE = (
    '"CPT\xae codes, descriptions and other data only are copyright 2025 American Medical Association. All rights '
    "reserved.\r\n\r\nApplicable FARS/DFARS Restrictions Apply to Government Use.\r\n\r\nFee schedules, relative value "
    "units, conversion factors and/or related components are not assigned by the AMA, are not part of CPT, and the "
    'AMA is not recommending their use.",,,\r\n'
)
MAI = ("1 Line Edit", "2 Date of Service Edit: Policy", "3 Date of Service Edit: Clinical")
RATIONALES = (
    "CMS Policy",
    "Clinical: Data",
    "Anatomic Consideration",
    "Code Descriptor / CPT Instruction",
    "Nature of Service/Procedure",
    "Prescribing Information",
    "Nature of Analyte",
    "Clinical: CMS Workgroup",
    "Nature of Equipment",
    "Published Contractor Policy",
)


def codes(rng: random.Random, n: int) -> list[str]:
    """``n`` distinct generated codes in file order: numeric ones first, then HCPCS-shaped."""
    numeric = rng.sample(range(10000, 100000), n * 2 // 3)
    letters = "ABCEGJKLQ"
    hcpcs = rng.sample(range(len(letters) * 10000), n - len(numeric))
    return [f"{c:05d}" for c in sorted(numeric)] + sorted(f"{letters[c // 10000]}{c % 10000:04d}" for c in hcpcs)


def write(directory: str | Path, seed: int = 0) -> list[Path]:
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    paths: list[Path] = []
    for name, column in SETTINGS:
        lines = [NOTICE, f'"HCPCS/\r\nCPT Code",{column},MUE Adjudication Indicator,MUE Rationale\r\n']
        for code in codes(rng, ROWS):
            value = rng.choice((1, 1, 2, 3, 4, 6, 10, 30))
            lines.append(f"{code},{value},{rng.choice(MAI)},{rng.choice(RATIONALES)}\r\n")
        p = out / f"MCR_MUE_{name}_Eff_{EFFECTIVE}.csv"
        p.write_bytes("".join(lines).encode("latin-1"))
        paths.append(p)
    return paths


def measure(paths: list[Path]) -> None:
    with tempfile.TemporaryDirectory() as data, tempfile.TemporaryDirectory() as cache:
        code = (
            "import os, resource, sys, time\n"
            f"os.environ['CPTCLI_DATA_DIR'] = {data!r}; os.environ['CPTCLI_CACHE_DIR'] = {cache!r}\n"
            "from cptcli.imports import import_files\n"
            "t = time.perf_counter(); rs = import_files(sys.argv[1:]); s = time.perf_counter() - t\n"
            "print(f'{sum(r.records for r in rs):,} rows in {len(rs)} sets: {s:.2f} s, peak RSS '\n"
            "      f'{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB')\n"
        )
        subprocess.run([sys.executable, "-c", code, *map(str, paths)], check=True)


def main(doc: str | None = __doc__, writer=write) -> None:
    """The command line of a generator: OUT_DIR, --seed, --measure."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--measure", action="store_true")
    args = ap.parse_args()
    paths = writer(args.out, args.seed)
    for p in paths:
        print(p)
    if args.measure:
        measure(paths)


if __name__ == "__main__":
    main()
