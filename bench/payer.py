#!/usr/bin/env python3
"""The payer-edit figures (issue 23, and the claims batch of issue 27), measured as whole processes.

    python bench/payer.py [--python .venv/bin/python] [--runs 11] [--lines 100000] [--out bench/payer.md]

Every kind is written at full size in its real layout by its generator (bench/payer_<kind>.py: PTP 2.5 million
edits over four parts, MUE 15,000 rows a setting, AOC 4,000 edits, PFS 16,000 rows, an ICD-10-CM order file) into
a temporary directory, and imported one kind at a time into a private CPTCLI_DATA_DIR, each import's wall time and
peak RSS (os.wait4) beside its target. Then, with every kind imported (the CMS 2020 HCPCS release too):

- `check` of a line with three codes (a PTP column-1 code and two of its column-2 codes, --date inside the
  releases), as a ratio to the interpreter floor (`python -c "import json"`), runs interleaved;
- `show 20700 --json` with every kind imported against the same call with none, interleaved;
- `check --claims` of a generated claims file (--lines lines, codes drawn from the generated sets) to /dev/null.

Only the standard library is used; the figures go to --out as Markdown. Exit status 0 even when a target is not
met: it is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
HCPCS = ROOT / "tests" / "fixtures" / "imports" / "cms" / "HCPC2020_ANWEB_w_disclaimer.txt"
KINDS = ("ncci_ptp", "ncci_mue", "ncci_aoc", "pfs_rvu", "icd10cm")


def run(argv: list[str], env: dict, stdout=subprocess.DEVNULL) -> tuple[float, float, int]:
    """(wall seconds, peak RSS MiB, exit status) of one whole process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=stdout, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - t0, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def paired(a: list[str], b: list[str], env_a: dict, env_b: dict, runs: int) -> tuple[float, float, float, float]:
    """(median ratio a/b, median a s, median b s, peak RSS of a) over interleaved runs, after one untimed run each."""
    run(a, env_a)
    run(b, env_b)
    ratios, ta, tb, peak = [], [], [], 0.0
    for i in range(runs):
        first, second = ((a, env_a), (b, env_b)) if i % 2 == 0 else ((b, env_b), (a, env_a))
        r1, m1, _ = run(*first)
        r2, m2, _ = run(*second)
        wa, wb = (r1, r2) if first[0] is a else (r2, r1)
        peak = max(peak, m1 if first[0] is a else m2)
        ratios.append(wa / wb)
        ta.append(wa)
        tb.append(wb)
    return statistics.median(ratios), statistics.median(ta), statistics.median(tb), peak


def claims_file(path: Path, lines: int, codes: list[str], seed: int = 0) -> None:
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as f:
        f.write("claim_id,line,code,modifiers,units,dx,date_of_service\n")
        n = claim = 0
        while n < lines:
            claim += 1
            for line in range(1, rng.randint(1, 4) + 1):
                mod = rng.choice(("", "", "59", "RT", "LT", "XS"))
                f.write(f"C{claim},{line},{rng.choice(codes)},{mod},{rng.randint(1, 3)},M54.16,2026-05-04\n")
                n += 1
                if n == lines:
                    break


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("--lines", type=int, default=100_000)
    ap.add_argument("--out", default=str(HERE / "payer.md"))
    args = ap.parse_args()
    py = str(Path(args.python).absolute())
    exe = str(Path(py).parent / "cptcli")
    work = Path(tempfile.mkdtemp(prefix="cptcli-payer-bench-"))
    rows: list[tuple[str, str, str, str]] = []
    try:
        # Timed as an installed package runs: compiled bytecode on disk (pip writes it; an editable install or a
        # PYTHONDONTWRITEBYTECODE shell would have every start compile the sources again).
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        package = subprocess.run(
            [py, "-c", "import cptcli, os; print(os.path.dirname(cptcli.__file__))"],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        ).stdout.strip()
        subprocess.run([py, "-m", "compileall", "-q", package], check=True, env=env)
        base = {**env, "CPTCLI_CACHE_DIR": str(work / "cache"), "NO_COLOR": "1"}
        imported = {**base, "CPTCLI_DATA_DIR": str(work / "imported")}
        bare = {**base, "CPTCLI_DATA_DIR": str(work / "none")}
        files: dict[str, list[Path]] = {}
        for kind in KINDS:
            # Written by a child: a parent that held the files' lines would lend its peak to every child it starts.
            out = work / kind
            setting = ", settings=('practitioner',)" if kind == "ncci_ptp" else ""
            code = (
                f"import sys; sys.path.insert(0, {str(HERE)!r}); import payer_{kind} as m; "
                f"print('\\n'.join(map(str, m.write({str(out)!r}{setting}))))"
            )
            out_text = subprocess.run([py, "-c", code], capture_output=True, text=True, check=True).stdout
            written = [p for p in out_text.splitlines() if p and Path(p).is_file()]
            files[kind] = [Path(p) for p in written if not p.lower().endswith(".zip")]
        wall, peak, status = run([exe, "import", str(HCPCS)], imported)
        rows.append(("`import` of the CMS 2020 HCPCS release", "(issue 18: ≤5 s)", f"{wall:.1f} s", f"{peak:.0f}"))
        targets = {"ncci_ptp": (60, 300), "ncci_mue": (60, 300), "ncci_aoc": (60, 300), "pfs_rvu": (60, 300)}
        for kind, paths in files.items():
            wall, peak, status = run([exe, "import", *map(str, paths)], imported)
            size = sum(p.stat().st_size for p in paths) / 2**20
            goal = targets.get(kind)
            target = f"≤{goal[0]} s, ≤{goal[1]} MB" if goal else "—"
            verdict = "" if not goal else (" met" if wall <= goal[0] and peak <= goal[1] else " NOT met")
            rows.append(
                (
                    f"`import` {kind.replace('_', '-')}: {len(paths)} file(s), {size:.0f} MiB (exit {status})",
                    target,
                    f"{wall:.1f} s{verdict}",
                    f"{peak:.0f}",
                )
            )
        # A line with three codes: the first PTP edit's column-1 code and two of its column-2 codes.
        pairs: dict[str, list[str]] = {}
        with open(files["ncci_ptp"][0], encoding="latin-1") as f:
            for line in f:
                cells = line.split("\t")
                if len(cells) >= 7 and cells[0].isalnum() and len(cells[0]) == 5 and cells[5].strip() in "019":
                    if cells[1] not in pairs.setdefault(cells[0], []):  # three distinct codes on the line
                        pairs[cells[0]].append(cells[1])
                    if len(pairs[cells[0]]) >= 2:
                        col1 = cells[0]
                        break
        three = ["check", col1, "--with", pairs[col1][0], "--with", pairs[col1][1], "--date", "2026-05-04", "--json"]
        floor = [py, "-c", "import json"]
        ratio, a, b, peak = paired([exe, *three], floor, imported, imported, args.runs)
        rows.append(
            (
                f"`{' '.join(three)}` ({a * 1000:.0f} ms) vs the floor ({b * 1000:.0f} ms)",
                "≤6×",
                f"{ratio:.2f}×",
                f"{peak:.0f}",
            )
        )
        show = [exe, "show", "20700", "--json"]
        run([exe, "list", "--json"], bare)  # build the index of the bare configuration first
        ratio, a, b, peak = paired(show, show, imported, bare, args.runs)
        rows.append(
            (
                f"`show 20700 --json` with every kind imported ({a * 1000:.0f} ms) vs none ({b * 1000:.0f} ms)",
                "≤1.5×",
                f"{ratio:.2f}×",
                f"{peak:.0f}",
            )
        )
        search = [exe, "search", "baclofen pump removal", "--json"]
        run(search, bare)
        ratio, a, b, peak = paired(search, search, imported, bare, args.runs)
        rows.append(
            (
                f"`search 'baclofen pump removal' --json` with every kind imported ({a * 1000:.0f} ms) vs none "
                f"({b * 1000:.0f} ms)",
                "≤1.5× (issue 25)",
                f"{ratio:.2f}×",
                f"{peak:.0f}",
            )
        )
        # A claims file names many codes, as a practice's month does: 2,000 of the edits' codes and a few HCPCS.
        pool: dict[str, None] = {}
        with open(files["ncci_ptp"][0], encoding="latin-1") as f:
            for line in f:
                cells = line.split("\t")
                if len(cells) >= 7 and cells[0].isalnum() and len(cells[0]) == 5:
                    pool.update(dict.fromkeys(cells[:2]))
                    if len(pool) >= 2000:
                        break
        codes = [col1, *pairs[col1], *pool, "E0110", "A4253", "L1832", "J1100", "99213"]
        claims = work / "claims.csv"
        claims_file(claims, args.lines, codes)
        wall, peak, status = run([exe, "check", "--claims", str(claims), "--format", "csv"], imported)
        rows.append(
            (
                f"`check --claims` of {args.lines:,} lines, every kind imported, CSV to /dev/null (exit {status})",
                "≤60 s, ≤300 MB",
                f"{wall:.1f} s",
                f"{peak:.0f}",
            )
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    head = (
        f"Machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()} ({args.python}). "
        f"Measured {time.strftime('%Y-%m-%d')} on generated files in CMS's layouts (GENERATED codes and pairs)."
    )
    table = ["| figure | target | measured | peak RSS MiB |", "| --- | --- | --- | --- |"]
    table += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    text = "# cptcli payer-edit benchmark\n\n" + head + "\n\n" + "\n".join(table) + "\n"
    print(text)
    Path(args.out).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
