#!/usr/bin/env python3
"""Search relevance of cptcli against a plain SQLite FTS5 baseline (bm25) on
the same records, over a gold set (tests/gold/*.tsv).

Why a baseline: a score means little alone. Plain full-text search on the same
texts is what any user could build in an afternoon; the tool's synonyms, typo
handling and intent rules must beat it (issue 18 asks this for HCPCS), and
where the right answer is "nothing confident" (class caution/none), the tool
must not be more confident than the official descriptors allow.

    bench/relevance.py                                  # bundled gold set over the bundled knowledge base
    bench/relevance.py --gold tests/gold/bundled.tsv --data big.json   # the same, planted in a big base
    bench/relevance.py --gold tests/gold/hcpcs.tsv --codeset HCPC2026_ANWEB.txt
    bench/relevance.py --codeset HCPC2020_ANWEB.txt --codeset cpt/ --codeset icd10cm_order_2026.txt  # every set
    bench/relevance.py --python /work/main/.venv/bin/python --out bench/relevance.md

cptcli runs as a subprocess, `PYTHON -m cptcli search Q --json --limit 10`
(the command-line surface is what stays stable while the inside is rewritten),
with a private CPTCLI_CACHE_DIR and CPTCLI_DATA_DIR. With --codeset (repeatable)
the files are first brought in with `cptcli import`; the baselines then index the
bundled records and the imported codes together, as cptcli searches them (an
HCPCS-only baseline would score a bundled gold set at nothing).

Per class and overall: top-1, top-3 and top-10 recall (a hit is any of the
expected codes) and MRR for both searchers; for classes caution and none, the
share of queries answered safely: no hit at all, or (cptcli only) every hit
with a `caution`. FTS5 has no cautions, so only an empty answer is safe for it.
With imported sets a second reading, "safe amid official codes", is reported
too: an official code set's own record (completeness "official") that matches
the words ("infusion pump" is HCPCS C1772) is a right answer, not an unsafe one;
the query is still answered unsafely if a knowledge-base record hits without a
caution, or if a cautioned record outranks a confident official match (one
scoring above 60, the most a cautioned hit may score): the contested reading,
cautioned, may come first only where nothing official answers better. Also
marked per query in the tables of misses. Writes a Markdown report.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAFE_CLASSES = ("caution", "none")
SCALE_NOTE = (
    "With a generated base layered in, classes none and modifier say less: generated records may rightly "
    "hold an unrelated procedure's words, and modifier rows of their own, so a hit there is not always "
    "wrong."
)
LIMIT = 10
CONFIDENT = 60.0  # cptcli.search.scoring.CAUTION_CAP: a cautioned hit never scores above it
# Every prose field of a record and the text of its rows: what a user could full-text search.
FACT_LISTS = (
    "summary",
    "service_type",
    "sites_of_service",
    "specialties",
    "payers",
    "clinical_context",
    "examples",
    "documentation",
    "cross_references",
)
ROW_LISTS = {
    "modifiers": ("modifier", "description", "when_to_use"),
    "diagnoses": ("code", "description", "relevance"),
    "taxonomy": ("code", "specialty", "notes"),
    "related": ("code", "description", "relationship"),
}


def read_gold(path: Path):
    """[(query, expected codes, class, why)] from a tab-separated gold file; '#' lines are comments."""
    rows = []
    with open(path, encoding="utf-8", newline="") as f:
        lines = [line for line in f if line.strip() and not line.startswith("#")]
    reader = csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)
    header = next(reader)
    if header[:3] != ["query", "expected", "class"]:
        raise SystemExit(f"{path}: header must start with query, expected, class")
    for row in reader:
        row += [""] * (4 - len(row))
        query, expected, klass, why = row[:4]
        codes = tuple(c.strip() for c in expected.split("|") if c.strip())
        if klass not in SAFE_CLASSES and not codes:
            raise SystemExit(f"{path}: {query!r}: class {klass} needs expected codes")
        rows.append((query, codes, klass, why))
    return rows


# -- documents for the baseline ---------------------------------------------------------------------------------


def kb_documents(paths):
    """{code: text} from cptcli knowledge-base JSON files; later files add to a code's text (layering)."""
    docs = defaultdict(list)
    for path in paths:
        with open(path, encoding="utf-8") as f:
            kb = json.load(f)
        for rec in kb.get("codes", []):
            parts = [rec.get("title", {}).get("text", "")]
            if rec.get("descriptor"):
                parts.append(rec["descriptor"].get("text", ""))
            for key in FACT_LISTS:
                parts += [fact.get("text", "") for fact in rec.get(key) or []]
            for key, fields in ROW_LISTS.items():
                parts += [str(row.get(field) or "") for row in rec.get(key) or [] for field in fields]
            docs[rec["code"]].append(" ".join(p for p in parts if p))
    # A big file made by make_big_kb.py repeats the bundled records: the same text twice would double its weight.
    return {code: " ".join(dict.fromkeys(texts)) for code, texts in docs.items()}


_ICD_ORDER = re.compile(r"\d{5} ([A-Z][0-9A-Z]{2,6}) *[01] (.*)")


def codeset_documents(paths):
    """{code: text} from imported code-set files (files or folders), as the baseline indexes them."""
    docs: dict[str, str] = {}
    for path in paths:
        for f in sorted(path.iterdir()) if path.is_dir() else [path]:
            for code, text in hcpcs_documents(f).items():
                docs[code] = f"{docs[code]} {text}" if code in docs else text
    return docs


def hcpcs_documents(path: Path):
    """{code: long and short description} from a CMS HCPCS Level II file: the fixed-width ANWEB text (320-byte
    records, RECID 3 then 4 continuing a code's long description, 7 then 8 a modifier's), the .xlsx, or a
    plain code<TAB>description file. Enough for a baseline; cptcli's own importer is the real reader."""
    docs = defaultdict(list)
    if path.suffix.lower() == ".xlsx":
        import openpyxl  # only for this form

        sheet = openpyxl.load_workbook(path, read_only=True).active
        header = None
        for row in sheet.iter_rows(values_only=True):
            cells = [str(c).strip() if c is not None else "" for c in row]
            upper = [c.upper() for c in cells]
            if header is None:
                if "HCPC" in upper or "HCPCS" in upper:
                    header = upper
                continue
            code = cells[header.index("HCPC" if "HCPC" in header else "HCPCS")]
            for name in ("LONG DESCRIPTION", "SHORT DESCRIPTION"):
                if name in header and cells[header.index(name)]:
                    docs[code].append(cells[header.index(name)])
        return {code: " ".join(texts) for code, texts in docs.items() if code}
    raw = path.read_bytes().decode("latin-1").replace("\xa0", " ")
    for line in raw.splitlines():
        icd = _ICD_ORDER.fullmatch(line.rstrip())
        if icd:  # a CDC ICD-10-CM order file: code, header flag, short and long descriptions
            docs[icd.group(1)].append(" ".join(icd.group(2).split()))
            continue
        if "\t" in line:
            code, _, text = line.partition("\t")
            if re.fullmatch(r"[A-Z0-9]{2,5}", code.strip()):
                docs[code.strip()].append(text.strip())
            continue
        if len(line) < 91 or not re.fullmatch(r"[A-Z0-9]{5}|[A-Z0-9]{2}   ", line[:5]):
            continue  # the disclaimer block before the first record
        code, recid = line[:5].strip(), line[10:11]
        if recid in "37":
            docs[code].append(line[11:91].strip())
            docs[code].append(line[91:119].strip())
        elif recid in "48":
            docs[code].append(line[11:91].strip())
    return {code: " ".join(t for t in texts if t) for code, texts in docs.items()}


class Fts5:
    """Plain FTS5 with bm25 over one text column: the query's words OR-ed, each quoted so that punctuation and
    FTS5 operators in user input stay words. With `prefix`, the NLM Clinical Table Search Service's semantics
    (clinicaltables.nlm.nih.gov/apidoc: "more than one partial word can be present in terms, in which case there
    is an implicit AND between them"): every word a prefix, all of them required, still ranked by bm25."""

    def __init__(self, docs, tokenizer="unicode61", prefix=False):
        self.prefix = prefix
        self.db = sqlite3.connect(":memory:")
        self.db.execute(f"CREATE VIRTUAL TABLE doc USING fts5(code UNINDEXED, body, tokenize='{tokenizer}')")
        self.db.executemany("INSERT INTO doc VALUES (?, ?)", docs.items())

    def search(self, query, limit=LIMIT):
        words = re.findall(r"\w+", query)
        if not words:
            return []
        if self.prefix:
            match = " AND ".join('"' + w.replace('"', '""') + '"*' for w in words)
        else:
            match = " OR ".join('"' + w.replace('"', '""') + '"' for w in words)
        rows = self.db.execute("SELECT code FROM doc WHERE doc MATCH ? ORDER BY bm25(doc) LIMIT ?", (match, limit))
        return [(code, False, False, 0.0) for (code,) in rows]


class Cptcli:
    """cptcli's own search, one process per query, as a user runs it (default score cut)."""

    def __init__(self, python, data=(), codesets=(), tmp=None):
        self.python, self.data = str(python), [str(d) for d in data]
        self.env = {k: v for k, v in os.environ.items() if k not in ("CPTCLI_DATA", "CPTCLI_DATA_DIR")}
        self.env.update(
            CPTCLI_CACHE_DIR=os.path.join(tmp, "cache"),
            CPTCLI_DATA_DIR=os.path.join(tmp, "data"),
            NO_COLOR="1",
            COLUMNS="120",
        )
        self.available, self.why = True, ""
        if codesets:
            proc = subprocess.run(
                [self.python, "-m", "cptcli", "import", *map(str, codesets)],
                capture_output=True,
                text=True,
                env=self.env,
            )
            if proc.returncode != 0:
                self.available = False
                self.why = f"`cptcli import` failed or does not exist yet: {proc.stderr.strip()[-200:]}"

    def search(self, query, limit=LIMIT):
        argv = [self.python, "-m", "cptcli"]
        for d in self.data:
            argv += ["--data", d]
        # "--" keeps queries such as "-50" from being read as options.
        proc = subprocess.run(
            [*argv, "search", "--json", "--limit", str(limit), "--", query],
            capture_output=True,
            text=True,
            env=self.env,
        )
        if proc.returncode not in (0, 1):
            raise RuntimeError(f"cptcli search {query!r} exited {proc.returncode}: {proc.stderr.strip()[-300:]}")
        out = proc.stdout.strip()
        if not out:
            return []
        parsed = json.loads(out)
        if isinstance(parsed, dict):  # a future envelope: {"results": [...]} or {"hits": [...]}
            parsed = parsed.get("results") or parsed.get("hits") or []
        return [
            (h.get("code"), bool(h.get("caution")), h.get("completeness") == "official", float(h.get("score") or 0))
            for h in parsed
        ][:limit]


# -- scoring ------------------------------------------------------------------------------------------------------


def score(gold, searcher):
    """{class: figures} and per-query details for one searcher."""
    per = defaultdict(lambda: defaultdict(float))
    details = []
    for query, expected, klass, _why in gold:
        hits = searcher.search(query)
        codes = [h[0] for h in hits]
        fig = per[klass]
        fig["n"] += 1
        if klass in SAFE_CLASSES:
            empty = not hits
            cautioned = bool(hits) and all(h[1] for h in hits)
            fig["empty"] += empty
            fig["cautioned"] += cautioned
            fig["safe"] += empty or cautioned
            amid = safe_amid_official(hits)
            fig["safe amid official"] += amid
            ok = empty or cautioned
            rank = "safe amid official" if amid else "unsafe"
        else:
            rank = next((i + 1 for i, c in enumerate(codes) if c in expected), None)
            for k in (1, 3, 10):
                fig[f"top{k}"] += rank is not None and rank <= k
            fig["mrr"] += 1 / rank if rank else 0.0
            ok = rank == 1
        details.append((query, expected, klass, codes[:3], rank, ok))
    return per, details


def safe_amid_official(hits) -> bool:
    """No knowledge-base hit without its caution, and no cautioned hit above a confident official match (an
    official code set's own record scoring above CONFIDENT, the most a cautioned hit may score): a contested
    reading may rank first with its caution when nothing official answers better ("baclofen pump removal": 20701
    naming 62365, then a dialysis pump), never above an official code that answers the words."""
    first_cautioned = next((i for i, (_, caution, _, _) in enumerate(hits) if caution), len(hits))
    confident = [i for i, (_, caution, official, s) in enumerate(hits) if official and not caution and s > CONFIDENT]
    return all(caution or official for _, caution, official, _ in hits) and all(i < first_cautioned for i in confident)


def summarise(per, classes):
    rows = {}
    ranked = {"n": 0.0, "top1": 0.0, "top3": 0.0, "top10": 0.0, "mrr": 0.0}
    safe = {"n": 0.0, "safe": 0.0, "empty": 0.0, "cautioned": 0.0, "safe amid official": 0.0}
    for klass in classes:
        fig = per[klass]
        n = fig["n"]
        if klass in SAFE_CLASSES:
            rows[klass] = {
                "n": n,
                "safe": fig["safe"] / n,
                "empty": fig["empty"] / n,
                "cautioned": fig["cautioned"] / n,
                "safe amid official": fig["safe amid official"] / n,
            }
            for key in safe:
                safe[key] += fig[key]
        else:
            rows[klass] = {"n": n, **{k: fig[k] / n for k in ("top1", "top3", "top10", "mrr")}}
            for key in ranked:
                ranked[key] += fig[key]
    if ranked["n"]:
        rows["ranked classes"] = {
            "n": ranked["n"],
            **{k: ranked[k] / ranked["n"] for k in ("top1", "top3", "top10", "mrr")},
        }
    if safe["n"]:
        rows["caution + none"] = {
            "n": safe["n"],
            **{k: safe[k] / safe["n"] for k in ("safe", "empty", "cautioned", "safe amid official")},
        }
    return rows


def pct(x):
    return f"{x:.0%}"


def report(gold_path, target, results, classes, notes):
    lines = [
        f"# Search relevance: {gold_path.name} over {target}",
        "",
        "Ranked classes: share of queries whose expected code is first (top-1), in the first 3, in the first 10, "
        "and mean reciprocal rank. Caution/none: share answered safely (no hit, or every hit carrying a "
        "`caution`), with the empty answers and the all-cautioned answers apart; amid official: no knowledge-base "
        "hit without its caution and no cautioned hit above an official code set's own record scoring over 60, "
        "the most a cautioned hit may score (the reading that counts with imported sets, where an official code "
        "rightly matches the words). FTS5 is plain "
        "SQLite FTS5, the query's words OR-ed, ranked by bm25, over each record's text (knowledge base: title, "
        "descriptor, prose and rows; imported files: long and short descriptions), the bundled records and "
        "every imported code together, as cptcli searches them. FTS5-prefix is the NLM Clinical Table Search "
        "Service's semantics on the same table: every word a prefix, all words required, ranked by bm25.",
        "",
    ]
    lines += [f"- {n}" for n in notes] + ([""] if notes else [])
    names = list(results)
    lines += [
        "| class | n | " + " | ".join(f"{s} top-1 | {s} top-3 | {s} top-10 | {s} MRR" for s in names) + " |",
        "| --- | --- | " + " | ".join("--- | --- | --- | ---" for _ in names) + " |",
    ]
    summaries = {name: summarise(per, classes) for name, (per, _) in results.items()}
    first = next(iter(summaries.values()))
    for klass, row in first.items():
        if "top1" not in row:
            continue
        cells = []
        for name in names:
            r = summaries[name][klass]
            cells.append(f"{pct(r['top1'])} | {pct(r['top3'])} | {pct(r['top10'])} | {r['mrr']:.2f}")
        lines.append(f"| {klass} | {row['n']:.0f} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "| class | n | "
        + " | ".join(f"{s} safe | {s} empty | {s} all cautioned | {s} safe amid official" for s in names)
        + " |",
        "| --- | --- | " + " | ".join("--- | --- | --- | ---" for _ in names) + " |",
    ]
    for klass, row in first.items():
        if "safe" not in row:
            continue
        cells = [
            f"{pct(summaries[n][klass]['safe'])} | {pct(summaries[n][klass]['empty'])} | "
            f"{pct(summaries[n][klass]['cautioned'])} | {pct(summaries[n][klass]['safe amid official'])}"
            for n in names
        ]
        lines.append(f"| {klass} | {row['n']:.0f} | " + " | ".join(cells) + " |")
    for name, (_, details) in results.items():
        misses = [d for d in details if not d[5]]
        lines += [
            "",
            f"**{name}: {len(misses)} queries not answered right** (ranked: expected code not first; "
            "caution/none: a hit without a caution; their rank column gives the amid-official reading)",
            "",
        ]
        lines += ["| query | class | expected | got (first 3) | rank |", "| --- | --- | --- | --- | --- |"]
        for query, expected, klass, got, rank, _ in misses:
            lines.append(
                f"| {query} | {klass} | {'/'.join(expected) or '-'} | {', '.join(got) or '-'} | {rank or '-'} |"
            )
    return "\n".join(lines) + "\n", summaries


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gold", type=Path, default=ROOT / "tests" / "gold" / "bundled.tsv")
    ap.add_argument("--python", default=sys.executable, help="interpreter with cptcli installed")
    ap.add_argument(
        "--data",
        action="append",
        default=[],
        type=Path,
        help="knowledge-base file layered over the bundled one (both searchers see it)",
    )
    ap.add_argument(
        "--codeset",
        action="append",
        default=[],
        type=Path,
        help="a code-set file or folder to import and search (CMS HCPCS ANWEB text or .xlsx, AMA CPT data files, "
        "CDC ICD-10-CM order file); repeatable",
    )
    ap.add_argument("--tokenizer", default="unicode61", help="FTS5 tokenizer of the baseline (e.g. 'porter')")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "relevance.md")
    args = ap.parse_args(argv)

    gold = read_gold(args.gold)
    classes = list(dict.fromkeys(k for _, _, k, _ in gold))
    notes = []
    with tempfile.TemporaryDirectory(prefix="cptcli-relevance-") as tmp:
        docs = kb_documents([ROOT / "data" / "codes.json", *args.data])
        target = f"the bundled knowledge base{' + ' + ', '.join(p.name for p in args.data) if args.data else ''}"
        if args.codeset:
            for code, text in codeset_documents(args.codeset).items():
                docs[code] = f"{docs[code]} {text}" if code in docs else text
            target += " + " + ", ".join(p.name for p in args.codeset)
        target += f" ({len(docs)} codes)"
        searchers = {"FTS5": Fts5(docs, args.tokenizer), "FTS5-prefix": Fts5(docs, args.tokenizer, prefix=True)}
        tool = Cptcli(args.python, args.data, args.codeset, tmp)
        if tool.available:
            searchers = {"cptcli": tool, **searchers}
        else:
            notes.append(f"cptcli not run: {tool.why}")
        version = subprocess.run(
            [str(args.python), "-m", "cptcli", "--version"], capture_output=True, text=True, env=tool.env
        ).stdout.strip()
        notes.append(
            f"cptcli: {version or 'unknown version'} ({args.python}); FTS5 tokenizer: {args.tokenizer}; "
            f"{len(gold)} queries; limit {LIMIT}, cptcli's default score cut"
        )
        release = ", ".join(["the bundled knowledge base (data/codes.json)", *(p.name for p in args.codeset)])
        notes.append(f"measured {datetime.datetime.now(datetime.UTC):%Y-%m-%d} (UTC) on {release}")
        if args.data:
            notes.append(SCALE_NOTE)
        results = {name: score(gold, s) for name, s in searchers.items()}
    text, summaries = report(args.gold, target, results, classes, notes)
    args.out.write_text(text, encoding="utf-8")
    for name, rows in summaries.items():
        print(name)
        for klass, r in rows.items():
            figures = ", ".join(f"{k} {v:.2f}" if k == "mrr" else f"{k} {pct(v)}" for k, v in r.items() if k != "n")
            print(f"  {klass:<16} n={r['n']:.0f}  {figures}")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
