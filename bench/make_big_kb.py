"""Write a knowledge base of N codes in cptcli's format whose prose is real
ICD-10-CM text, with the bundled records planted among them, for the scale
benchmarks (issue 15) and for relevance at scale.

Why real text: a 60-word vocabulary makes every index small and every query
either match everything or nothing; the issue's 347 MB file had ICD-10-CM
prose, a vocabulary of tens of thousands of words, where typo tolerance and
ranking are really tested. Descriptions, inclusion terms and excludes notes
come from the `simple_icd_10_cm` package (the CMS ICD-10-CM tabular list);
diagnosis rows carry real billable codes with their official descriptions.

Codes have the HCPCS Level II shape (A0000 ... V9999): valid for the schema,
never one of the bundled CPT codes. Up to 170,000 codes.

    python bench/make_big_kb.py OUT.json [N]          # N defaults to 100,000
    python bench/make_big_kb.py OUT.json --codes N [--seed S] [--invalid] [--validate]

--invalid writes one bad record (an unknown `completeness`) second from the
end, for the "invalid big file is reported in seconds" figure. The output is
the same for the same N and seed. Records are written one at a time, so the
generator's memory stays far below the file's size.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = "synthetic_icd10cm.txt"
# No CPT category letter (F category II, T category III, U PLA, M MAAA, A), no Z (tests' filler).
# HCPCS Level II shapes (a letter A-V, four digits): valid for the schema, and never a bundled CPT code.
LETTERS = "ABCDEGHJKLMNPQRSV"

DX = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")
ACTIONS = [
    ("Excision", "excision"),
    ("Incision and drainage", "incision and drainage"),
    ("Repair", "repair"),
    ("Debridement", "debridement"),
    ("Biopsy", "biopsy"),
    ("Injection", "injection"),
    ("Aspiration", "aspiration"),
    ("Arthroscopy", "arthroscopy"),
    ("Open treatment", "open treatment"),
    ("Closed treatment", "closed treatment"),
    ("Reconstruction", "reconstruction"),
    ("Removal", "removal"),
    ("Insertion", "insertion"),
    ("Revision", "revision"),
    ("Decompression", "decompression"),
    ("Fixation", "fixation"),
    ("Destruction", "destruction"),
    ("Exploration", "exploration"),
    ("Evaluation and management", "evaluation"),
    ("Imaging guidance", "imaging-guided treatment"),
]
APPROACHES = [
    "open approach",
    "percutaneous approach",
    "endoscopic approach",
    "with imaging guidance",
    "under local anesthesia",
    "under general anesthesia",
    "with fluoroscopic guidance",
    "with ultrasound guidance",
    "each additional lesion",
    "single site",
    "multiple sites",
]
RELATIONS = [
    "Often reported together",
    "Alternative approach",
    "Staged procedure",
    "Bundled; do not report together",
    "Primary procedure for this add-on",
    "Subsequent removal",
]
SETTINGS = [
    "Hospital outpatient department",
    "Ambulatory surgery center",
    "Inpatient hospital",
    "Physician office",
    "Emergency department",
]
PAYERS = ["Medicare", "Medicaid", "Aetna", "Cigna", "UnitedHealthcare", "Blue Cross Blue Shield", "Humana"]


def code_for(i: int) -> str:
    """The i-th synthetic code: A0000, A0001, ... A9999, B0000, ..."""
    if not 0 <= i < 10_000 * len(LETTERS):
        raise ValueError(f"at most {10_000 * len(LETTERS)} synthetic codes")
    return f"{LETTERS[i // 10_000]}{i % 10_000:04d}"


def icd_corpus():
    """(billable codes with descriptions, phrases): the prose every record is made of."""
    import simple_icd_10_cm as cm  # slow to import (a few seconds), so only here

    billable, phrases = [], []
    for code in cm.get_all_codes(True):
        if cm.is_chapter_or_block(code):
            continue
        desc = cm.get_description(code)
        phrases.append(desc)
        phrases.extend(cm.get_inclusion_term(code))
        # Excludes notes end in "(CODE)": keep the words, which are real clinical wording.
        phrases.extend(t.rsplit(" (", 1)[0] for t in cm.get_excludes1(code))
        # A few placeholder codes in the package (QA0.0101 ...) are not ICD-10-CM's shape: the schema refuses them.
        if cm.is_leaf(code) and DX.match(code):
            billable.append((code, desc))
    return billable, phrases


class Writer:
    """Prose from ICD-10-CM phrases, all drawn from one seeded generator."""

    def __init__(self, rng: random.Random, billable, phrases):
        self.rng, self.billable, self.phrases = rng, billable, phrases

    def phrase(self) -> str:
        return self.rng.choice(self.phrases)

    def lower(self) -> str:
        p = self.phrase()
        return p[:1].lower() + p[1:]

    def sentence(self, parts: int) -> str:
        words = ", ".join(self.lower() for _ in range(parts))
        return f"{words[:1].upper()}{words[1:]}."

    def paragraph(self, sentences: int) -> str:
        templates = (
            "The patient presents with {a} and {b}.",
            "The physician documents {a}, with {b} noted on examination.",
            "The procedure is performed for {a} when conservative treatment of {b} has failed.",
            "Imaging confirms {a}; {b} is excluded before the procedure.",
            "Postoperative care addresses {a} and monitors for {b}.",
            "Indications include {a}, {b} and {c}.",
        )
        rng = self.rng
        return " ".join(
            rng.choice(templates).format(a=self.lower(), b=self.lower(), c=self.lower()) for _ in range(sentences)
        )


def synthetic(w: Writer, code: str, title: str, titles, modifiers, taxonomy) -> dict:
    rng = w.rng

    def fact(text):
        return {"text": text, "sources": [SRC]}

    others = [rng.choice(titles) for _ in range(rng.randint(1, 2))]
    age = rng.randint(2, 89)
    example = (
        f"A {age}-year-old patient is seen with {w.lower()}. {w.paragraph(1)} The service is reported with {code}."
    )
    return {
        "code": code,
        "completeness": "full",
        "add_on": {"value": rng.random() < 0.15, "sources": [SRC]},
        "title": fact(title),
        "descriptor": {"text": f"{title}; {w.lower()}, {rng.choice(APPROACHES)}", "sources": [SRC], "official": False},
        "summary": [fact(f"{title} for {w.lower()} or {w.lower()}.")],
        "sites_of_service": [fact(rng.choice(SETTINGS))],
        "specialties": [],
        "payers": [fact(p) for p in rng.sample(PAYERS, rng.randint(1, 2))],
        "clinical_context": [fact(w.paragraph(rng.randint(1, 2)))],
        "examples": [fact(example)],
        "documentation": [fact(f"Record the laterality, the extent of {w.lower()} and any {w.lower()}.")],
        "cross_references": [
            {"text": f"For {w.lower()}, see {c}.", "sources": [SRC], "codes": [c]} for c, _ in others[:1]
        ],
        "modifiers": [
            {
                "modifier": m["modifier"],
                "description": m["name"],
                "when_to_use": f"When {w.lower()} requires {m['name'].lower()}",
                "sources": [SRC],
            }
            for m in rng.sample(modifiers, rng.randint(1, 2))
        ],
        "taxonomy": [
            {"code": t["code"], "specialty": t["name"], "notes": f"Treats {w.lower()}", "sources": [SRC]}
            for t in rng.sample(taxonomy, 1)
        ],
        "diagnoses": [
            {"code": c, "description": d, "relevance": f"Supports the service when {w.lower()}", "sources": [SRC]}
            for c, d in rng.sample(w.billable, rng.randint(1, 3))
        ],
        "related": [
            {"code": c, "description": t, "relationship": rng.choice(RELATIONS), "sources": [SRC]} for c, t in others
        ],
        "notes": (
            [{"kind": "clarification", "subject": "descriptor", "text": w.sentence(2), "sources": [SRC]}]
            if rng.random() < 0.3
            else []
        ),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("n", nargs="?", type=int, help="codes in all, the bundled ones included (default 100,000)")
    ap.add_argument("--codes", type=int, dest="codes")
    ap.add_argument("--seed", type=int, default=20700)
    ap.add_argument("--invalid", action="store_true", help="make the second record from the end invalid")
    ap.add_argument(
        "--validate",
        action="store_true",
        help="check the written file against src/cptcli/schema.json (needs jsonschema, fastjsonschema)",
    )
    args = ap.parse_args(argv)
    n = args.codes or args.n or 100_000
    start = time.perf_counter()
    bundled = json.loads((ROOT / "data" / "codes.json").read_text(encoding="utf-8"))
    billable, phrases = icd_corpus()
    rng = random.Random(args.seed)
    w = Writer(rng, billable, phrases)
    count = max(0, n - len(bundled["codes"]))
    taken = {r["code"] for r in bundled["codes"]}
    codes = [code_for(i) for i in range(count)]
    assert not taken & set(codes), "synthetic codes must not collide with the bundled ones"
    # Titles first, so related rows and cross-references can name other generated codes by their titles.
    titles = []
    for code in codes:
        verb, _ = rng.choice(ACTIONS)
        titles.append((code, f"{verb} for {w.lower()}, {rng.choice(APPROACHES)}"))
    planted = {r["code"]: r for r in bundled["codes"]}
    order = sorted([c for c, _ in titles] + list(planted))
    title_of = dict(titles)
    header = {k: v for k, v in bundled.items() if k != "codes"}
    header["sources"] = bundled["sources"] + [
        {"file": SRC, "title": "Synthetic benchmark records from ICD-10-CM text (not real codes)"}
    ]
    head = json.dumps(header, ensure_ascii=False)
    assert head.endswith("}")
    bad_at = len(order) - 2 if args.invalid else -1
    with open(args.out, "w", encoding="utf-8") as out:
        out.write(head[:-1] + ', "codes": [')
        for k, code in enumerate(order):
            rec = planted.get(code) or synthetic(
                w, code, title_of[code], titles, bundled["modifiers"], bundled["taxonomy_codes"]
            )
            if k == bad_at:
                rec = dict(rec, completeness="sometimes")
            out.write(("," if k else "") + json.dumps(rec, ensure_ascii=False))
        out.write("]}")
    size = args.out.stat().st_size
    print(
        f"{args.out}: {len(order)} records, {size / 1e6:.1f} MB, {time.perf_counter() - start:.1f} s", file=sys.stderr
    )
    if args.validate:
        validate(args.out, args.seed)


def validate(path: Path, seed: int):
    """jsonschema (the reference implementation, slow) on a sample with the planted records, then fastjsonschema
    on the whole file: the sample catches a validator's leniency, the whole file any record the sample missed."""
    import fastjsonschema
    import jsonschema

    schema = json.loads((ROOT / "src" / "cptcli" / "schema.json").read_text(encoding="utf-8"))
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    planted = [r for r in doc["codes"] if r["code"].isdigit()]
    sample = random.Random(seed).sample(doc["codes"], min(500, len(doc["codes"])))
    jsonschema.validate(dict(doc, codes=sample + planted), schema)
    fastjsonschema.compile(schema)(doc)
    print(
        f"{path}: valid (jsonschema on {len(sample) + len(planted)} records, fastjsonschema on all "
        f"{len(doc['codes'])})",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
