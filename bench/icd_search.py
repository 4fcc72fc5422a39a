#!/usr/bin/env python3
"""`cptcli icd search` against SQLite FTS5 bm25 over the same texts, on a lay gold set (tests/gold/icd-lay.tsv, the
tuned one, or --gold tests/gold/icd-lay-blind.tsv, the blind one).

The baseline indexes each ICD-10-CM code's description and inclusion terms, from the same cache the tool reads,
with FTS5's porter tokenizer, and ranks the codes holding any query word (the words OR'd: FTS5's default AND
answers most lay queries with nothing) by bm25. Both sides answer in-process; the command's whole time, start-up
included, is measured beside `python -c pass` (the interpreter floor).

    bench/icd_search.py                      # prints the Markdown report
    bench/icd_search.py --out bench/icd-search.md
    bench/icd_search.py --gold tests/gold/icd-lay-blind.tsv
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "tests" / "gold" / "icd-lay.tsv"
ABOUT = {
    "tests/gold/icd-lay.tsv": "MedlinePlus health topic names and five typos; tuned on",
    "tests/gold/icd-lay-blind.tsv": "NHS Health A to Z condition names; blind, never tuned on",
    "tests/gold/icd-lay-blind2.tsv": "Mountain States Health Alliance Conditions & Diseases topic names; blind, never "
    "tuned on",
}


def gold(path: Path = GOLD) -> list[tuple[str, tuple[str, ...], str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            query, expected, source = line.split("\t")
            rows.append((query, tuple(expected.split(",")), source))
    return rows


def right(code: str, expected: tuple[str, ...]) -> bool:
    """A code is right when it is an expected code or a code below one (I21.9 under I21)."""
    return any(code == e or code.startswith(e) for e in expected)


def rank_of(codes: list[str], expected: tuple[str, ...]) -> int | None:
    return next((i + 1 for i, c in enumerate(codes) if right(c, expected)), None)


def fts_baseline(codeset, with_index: bool = False) -> sqlite3.Connection:
    """Each code's description and inclusion terms (and, `with_index`, the Alphabetic Index entries that lead to it,
    as cptcli reads them) in one FTS5 column."""
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(code UNINDEXED, text, tokenize = 'porter unicode61')")
    rows = codeset._conn.execute("SELECT code, text, terms, entries FROM words")
    conn.executemany(
        "INSERT INTO t VALUES (?, ?)",
        (
            (c, " ; ".join([d, *filter(None, t.split("\n")), *(filter(None, e.split("\n")) if with_index else ())]))
            for c, d, t, e in rows
        ),
    )
    return conn


def fts_search(conn: sqlite3.Connection, query: str, limit: int = 10) -> list[str]:
    words = re.findall(r"[a-z0-9]+", query.lower())
    if not words:
        return []
    match = " OR ".join(f'"{w}"' for w in words)
    return [c for (c,) in conn.execute("SELECT code FROM t WHERE t MATCH ? ORDER BY bm25(t) LIMIT ?", (match, limit))]


def wall_ratio(argv: list[str], floor: list[str], runs: int = 11) -> tuple[float, float, float]:
    """The command's median wall time, the floor's, and the median of their ratios run by run: the two are run in
    turn (after one warm-up each), so that a shared machine's drift falls on both alike."""
    took: dict[int, list[float]] = {0: [], 1: []}
    for i in range(runs + 1):
        for side, cmd in enumerate((argv, floor)):
            start = time.perf_counter()
            subprocess.run(cmd, check=False, capture_output=True)
            if i:
                took[side].append(time.perf_counter() - start)
    ratios = [a / b for a, b in zip(took[0], took[1], strict=True)]
    return statistics.median(took[0]), statistics.median(took[1]), statistics.median(ratios)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path)
    ap.add_argument("--gold", type=Path, default=GOLD, help="the gold set (default: the tuned one)")
    args = ap.parse_args()

    sys.path.insert(0, str(ROOT / "src"))
    from cptcli.codesets import icd10, icd_search

    codeset = icd10.codeset()  # the user's cache: built once if missing
    conn = fts_baseline(codeset)
    conn_index = fts_baseline(codeset, with_index=True)
    rows = gold(args.gold)
    results: dict[str, list] = {"cptcli": [], "fts5": [], "fts5+index": []}
    took: dict[str, list] = {"cptcli": [], "fts5": [], "fts5+index": []}
    misses = []
    for query, expected, _ in rows:
        start = time.perf_counter()
        ours = [h.code for h in icd_search.rank(codeset, query, limit=10, min_score=0)]
        took["cptcli"].append(time.perf_counter() - start)
        start = time.perf_counter()
        theirs = fts_search(conn, query)
        took["fts5"].append(time.perf_counter() - start)
        start = time.perf_counter()
        theirs_index = fts_search(conn_index, query)
        took["fts5+index"].append(time.perf_counter() - start)
        results["cptcli"].append(rank_of(ours, expected))
        results["fts5"].append(rank_of(theirs, expected))
        results["fts5+index"].append(rank_of(theirs_index, expected))
        if results["cptcli"][-1] != 1:
            misses.append((query, ",".join(expected), ours[:3], results["cptcli"][-1]))

    def share(name: str, k: int) -> str:
        hit = sum(1 for r in results[name] if r is not None and r <= k)
        return f"{hit}/{len(rows)} ({100 * hit / len(rows):.0f}%)"

    def mrr(name: str) -> str:
        return f"{sum(1 / r for r in results[name] if r) / len(rows):.3f}"

    shown = (
        args.gold.resolve().relative_to(ROOT).as_posix() if args.gold.resolve().is_relative_to(ROOT) else str(args.gold)
    )
    flag = "" if args.gold.resolve() == GOLD else f" --gold {shown}"
    cli, floor, ratio = wall_ratio(
        [sys.executable, "-m", "cptcli", "icd", "search", "low back pain", "--json"], [sys.executable, "-c", "pass"]
    )
    lines = [
        "# ICD-10-CM by words: `cptcli icd search` beside SQLite FTS5 bm25",
        "",
        f"Measured {date.today().isoformat()} on the 2-core machine, on {codeset.authority}; gold set "
        f"`{shown}` ({len(rows)} lay queries: {ABOUT.get(shown, 'its header says where they come from')}; a hit is "
        f"an expected category or a code below it). Regenerate: `bench/icd_search.py{flag} --out FILE`.",
        "",
        "| searcher | top-1 | top-3 | top-10 | MRR | median ms a query (in process) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    labels = (
        ("cptcli", "cptcli icd search"),
        ("fts5", "FTS5 bm25, words OR'd, porter"),
        ("fts5+index", "FTS5 bm25 as above, the Index entries added"),
    )
    for name, label in labels:
        ms = 1000 * statistics.median(took[name])
        lines.append(f"| {label} | {share(name, 1)} | {share(name, 3)} | {share(name, 10)} | {mrr(name)} | {ms:.0f} |")
    lines += [
        "",
        f'Whole command (`python -m cptcli icd search "low back pain" --json`, cache warm, 11 runs in turn with '
        f"`python -c pass`, the interpreter floor): medians {1000 * cli:.0f} ms and {1000 * floor:.0f} ms; the "
        f"median of the run-by-run ratios {ratio:.1f}x.",
        "",
        "Queries whose first hit is not right (first three codes given; rank of the first right one, or none in "
        "the top 10):",
        "",
        "| query | expected | cptcli's first three | rank |",
        "| --- | --- | --- | ---: |",
        *(f"| {q} | {e} | {', '.join(top)} | {r or '—'} |" for q, e, top, r in misses),
        "",
    ]
    report = "\n".join(lines)
    if args.out:
        args.out.write_text(report, encoding="utf-8")
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
