"""Write a CMS NCCI add-on code edit file at full size in its real layout, and optionally time its import.

    python bench/payer_ncci_aoc.py OUT_DIR [--measure]

4,000 edits as ``AOC_V2026Q2-MCR.txt``, the fixed-width text ``cptcli.imports.ncci_aoc`` documents: a notice line
and a header line, then records of edit type, add-on code, Julian dates (blank where none), primary code
(``CCCCC`` for type 2), notes; latin-1, CRLF; some edits and codes deleted, as the quarterly file keeps them.
Codes and dates are GENERATED, FABRICATED: not CMS's edits.

``--measure`` imports it in a fresh interpreter (a temporary CPTCLI_DATA_DIR) and prints seconds and peak RSS.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from payer_ncci_mue import codes, main  # noqa: E402

ROWS = 4_000
NOTICE = (
    "CPT\xae codes, descriptions and other data only are copyright 2025 American Medical Association. All rights "
    "reserved. Applicable FARS/DFARS Apply."
)
HEADER = (
    "AOC_Edit_Type Add-On_Code AOC_DelDT Primary_Code Primary_Code_DelDT AOC_Edit_EffDT AOC_Edit_DelDT "
    "Special_Instruction_Notes"
)


def _julian(rng: random.Random, first: int, last: int) -> str:
    year = rng.randint(first, last)
    return f"{year}{rng.randint(1, 365):03d}"


def write(directory: str | Path, seed: int = 0) -> list[Path]:
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    pool = codes(rng, 3000)
    addons = pool[:500]
    primaries = pool[500:]
    lines = [NOTICE, HEADER]
    n = 0
    while n < ROWS:
        addon = rng.choice(addons)
        edit_type = rng.choice((1, 1, 1, 2, 3))
        addon_ends = _julian(rng, 2018, 2025) if rng.random() < 0.02 else ""
        for primary in ["CCCCC"] if edit_type == 2 else rng.sample(primaries, rng.randint(1, 12)):
            ended = rng.random() < 0.08
            fields = (
                f"{edit_type}{addon}",
                addon_ends.ljust(7),
                primary,
                (_julian(rng, 2015, 2025) if ended and rng.random() < 0.5 else "").ljust(7),
                _julian(rng, 2010, 2024),
                (_julian(rng, 2025, 2026) if ended else "").ljust(7),
                "Contractor Defined Primary Codes" if edit_type == 2 else "",
            )
            lines.append("".join(fields).rstrip())
            n += 1
            if n == ROWS:
                break
    p = out / "AOC_V2026Q2-MCR.txt"
    p.write_bytes(("\r\n".join(lines) + "\r\n").encode("latin-1"))
    return [p]


if __name__ == "__main__":
    main(__doc__, write)
