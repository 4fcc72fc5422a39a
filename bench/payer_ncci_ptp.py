"""Write a full-size NCCI PTP release in CMS's layout, and optionally time its import.

    python bench/payer_ncci_ptp.py OUT_DIR [--measure] [--settings practitioner,outpatient]

Each setting: 2.5 million edits over four parts (``ccipra-v321r0-f1.txt`` to ``-f4``, some 45 MB each), as CMS
ships them: the AMA notice, ``Column1/Column2 Edits``, the header wrapped over four lines, then tab-delimited
edits, latin-1, CRLF; ``*`` markers, YYYYMMDD dates, deleted edits beside active ones, and pairs that come back
with other dates. The codes are GENERATED five-character numbers and the pairs FABRICATED: not a CMS release.

``--measure`` imports one setting's four parts in a fresh interpreter (a temporary CPTCLI_DATA_DIR) and prints
seconds and peak RSS; the target is 60 s and 300 MB.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

ROWS = 2_500_000
PARTS = 4
PREFIX = {"practitioner": "ccipra", "outpatient": "ccioph"}
NOTICE = (
    "CPT only copyright 2025 American Medical Association.  All rights reserved.\t\t\t\t\t\t",
    "Column1/Column2 Edits\t\t\t\t\t\t",
    "Column 1\tColumn 2\t*=in existence\tEffective\tDeletion\tModifier\tPTP Edit Rationale",
    "\t\tprior to 1996\tDate\tDate\t0=not allowed\t",
    "\t\t\t\t*=no data\t1=allowed\t",
    "\t\t\t\t\t9=not applicable\t",
)
# CMS's rationale phrases (public domain), in the shares a release might have.
RATIONALES = (
    "Misuse of column two code with column one code",
    "Standards of medical / surgical practice",
    "CPT Manual or CMS manual coding instructions",
    "Mutually exclusive procedures",
    "HCPCS/CPT procedure code definition",
    "More extensive procedure",
    "CPT separate procedure definition",
    "Anesthesia service included in surgical procedure",
    "Laboratory panel",
)
# Effective and deletion dates up to the release's own quarter (2026 Q2, v321r0): a file names no later date.
QUARTERS = tuple(d for d in (f"{y}{m:02d}01" for y in range(1996, 2027) for m in (1, 4, 7, 10)) if d <= "20260401")


def _codes(rng: random.Random, n: int) -> list[str]:
    letters = "AGJ"
    out = {f"{rng.randint(10000, 99999)}" for _ in range(n)}
    out |= {f"{rng.choice(letters)}{rng.randint(0, 9999):04d}" for _ in range(n // 10)}
    return sorted(out)


def write(directory: Path | str, seed: int = 0, settings: tuple[str, ...] = tuple(PREFIX), rows: int = ROWS):
    """Write each setting's four parts under ``directory``; the paths, practitioner's first."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    col1 = _codes(rng, 14000)
    col2 = _codes(rng, 9000)
    paths: list[Path] = []
    for setting in settings:
        per_part = rows // PARTS
        for part in range(1, PARTS + 1):
            p = directory / f"{PREFIX[setting]}-v321r0-f{part}.txt"
            n = per_part if part < PARTS else rows - per_part * (PARTS - 1)
            with p.open("wb") as f:
                f.write(("\r\n".join(NOTICE) + "\r\n").encode("latin-1"))
                f.writelines(_lines(rng, col1, col2, n))
            paths.append(p)
    return paths


def _lines(rng: random.Random, col1: list[str], col2: list[str], n: int):
    rand, choice, choices = rng.random, rng.choice, rng.choices
    chunk: list[str] = []
    done = 0
    while done < n:
        c1, c2 = choice(col1), choice(col2)
        eff = choice(QUARTERS)
        old = eff < "19960102"
        why = choices(RATIONALES, (40, 25, 12, 8, 6, 4, 3, 1, 1))[0]
        if rand() < 0.3 and eff < "20260101":  # deleted, and now and then added again with other dates
            dele = choice([q for q in QUARTERS[-40:] if q > eff] or ["20260401"])
            chunk.append(f"{c1}\t{c2}\t{'*' if old else ''}\t{eff}\t{dele}\t{choice('01')}\t{why}\r\n")
            done += 1
            if rand() < 0.1 and done < n:
                chunk.append(f"{c1}\t{c2}\t\t{dele}\t*\t{choice('01')}\t{why}\r\n")
                done += 1
        else:
            mod = "9" if rand() < 0.01 else choice("0111")
            chunk.append(f"{c1}\t{c2}\t{'*' if old else ''}\t{eff}\t{eff if mod == '9' else '*'}\t{mod}\t{why}\r\n")
            done += 1
        if len(chunk) >= 50_000:
            yield "".join(chunk).encode("latin-1")
            chunk.clear()
    yield "".join(chunk).encode("latin-1")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--measure", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--settings", default="practitioner,outpatient")
    a = ap.parse_args()
    paths = write(a.out, a.seed, tuple(a.settings.split(",")))
    print(f"wrote {len(paths)} parts to {a.out}")
    if a.measure:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from make_codesets import measure

        measure(f"NCCI PTP {paths[0].name[:6]}, {ROWS:,} edits in four parts", paths[:PARTS])


if __name__ == "__main__":
    main()
