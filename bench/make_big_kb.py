"""Write a synthetic knowledge base of N codes in the real format (about 1.2 KB a
record, rows in every table, clinical vocabulary) with the bundled records
planted among them, for scale benchmarks and the relevance suite at scale.

Synthetic codes are four digits and a letter (0000B ... 9999Y): a valid code for
the schema (^[0-9]{4}[0-9A-Z]$), but the letter is one no CPT category uses (not
F, T, U, M or A), nor Z, which the tests' own filler records use, so they can
never be mistaken for real codes or collide with test data. Up to 180,000 codes.

    python bench/make_big_kb.py OUT.json [N]
"""
import json
import random
import sys
from pathlib import Path

WORDS = ("arthroscopy biopsy catheter cervical closure debridement decompression drainage excision fixation "
         "fluoroscopy fusion graft hemostasis implant incision injection irrigation laminectomy lavage lesion "
         "ligament lumbar nerve osteotomy percutaneous plate reconstruction repair resection screw shoulder "
         "spine stent suture tendon thoracic tissue ultrasound vertebral wound knee hip elbow wrist ankle "
         "cartilage meniscus rotator cuff bursa fascia muscle skin abscess cyst tumor fracture dislocation").split()
ICD = ["M17.11", "M75.101", "S72.001A", "M48.06", "G89.29", "M54.50", "L02.416", "T84.50XA", "M86.161"]
MODS = [("22", "Increased procedural services"), ("50", "Bilateral procedure"), ("59", "Distinct procedural service"),
        ("LT", "Left side"), ("RT", "Right side"), ("78", "Return to the operating room for a related procedure")]


def sentence(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


# No CPT category letter (F category II, T category III, U PLA, M MAAA, A), no Z (tests' filler).
LETTERS = "BCDEGHJKLNPQRSVWXY"


def code_for(i):
    """The i-th synthetic code: 0000B, 0001B, ... 9999B, 0000C, ..."""
    if not 0 <= i < 10_000 * len(LETTERS):
        raise ValueError(f"at most {10_000 * len(LETTERS)} synthetic codes")
    return f"{i % 10_000:04d}{LETTERS[i // 10_000]}"


def synthetic(rng, i, src):
    code = code_for(i)

    def fact(n):
        return {"text": sentence(rng, n), "sources": [src]}

    return {
        "code": code, "completeness": "full",
        "add_on": {"value": rng.random() < 0.2, "sources": [src]},
        "title": fact(5),
        "descriptor": {"text": sentence(rng, 8), "sources": [src], "official": False},
        "summary": [fact(5)], "clinical_context": [fact(6)], "documentation": [fact(4)],
        "modifiers": [{"modifier": m, "description": d, "when_to_use": sentence(rng, 3), "sources": [src]}
                      for m, d in rng.sample(MODS, 2)],
        "diagnoses": [{"code": c, "description": sentence(rng, 3), "relevance": sentence(rng, 2), "sources": [src]}
                      for c in rng.sample(ICD, 1)],
        "taxonomy": [{"code": "207X00000X", "specialty": "Orthopaedic Surgery", "notes": sentence(rng, 2),
                      "sources": [src]}],
        "related": [],
    }


def main():
    out, n = Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    bundled = json.loads((Path(__file__).resolve().parent.parent / "data" / "codes.json").read_text(encoding="utf-8"))
    rng = random.Random(20700)
    src = "synthetic.txt"
    records = [synthetic(rng, i, src) for i in range(max(0, n - len(bundled["codes"])))]
    records += bundled["codes"]
    assert len({r["code"] for r in records}) == len(records), "codes must be unique"
    records.sort(key=lambda r: r["code"])
    doc = dict(bundled, codes=records)
    doc["sources"] = bundled["sources"] + [{"file": src, "title": "Synthetic benchmark records (not real codes)"}]
    out.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    print(f"{out}: {len(records)} records, {out.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
