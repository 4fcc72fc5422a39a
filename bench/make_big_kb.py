"""Write a synthetic knowledge base of N codes in the real format (about 1.2 KB a
record, rows in every table, clinical vocabulary) with the bundled records
planted among them, for scale benchmarks and the relevance suite at scale.

The synthetic codes use the letter Q as fifth character (e.g. 1234Q), which no
CPT category uses, so they can never be mistaken for real codes.

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


def synthetic(rng, i, src):
    code = f"{i:04d}Q"

    def fact(n):
        return {"text": sentence(rng, n), "sources": [src]}

    return {
        "code": code, "completeness": "full",
        "add_on": {"value": rng.random() < 0.2, "sources": [src]},
        "title": fact(6),
        "descriptor": {"text": sentence(rng, 16), "sources": [src], "official": False},
        "summary": [fact(10)], "clinical_context": [fact(16)], "documentation": [fact(6)],
        "modifiers": [{"modifier": m, "description": d, "when_to_use": sentence(rng, 5), "sources": [src]}
                      for m, d in rng.sample(MODS, 2)],
        "diagnoses": [{"code": c, "description": sentence(rng, 4), "relevance": sentence(rng, 5), "sources": [src]}
                      for c in rng.sample(ICD, 2)],
        "taxonomy": [{"code": "207X00000X", "specialty": "Orthopaedic Surgery", "notes": sentence(rng, 3),
                      "sources": [src]}],
        "related": [],
    }


def main():
    out, n = Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    bundled = json.loads((Path(__file__).resolve().parent.parent / "data" / "codes.json").read_text(encoding="utf-8"))
    rng = random.Random(20700)
    src = "synthetic-benchmark.txt"
    records = [synthetic(rng, i, src) for i in range(n - len(bundled["codes"]))]
    records += bundled["codes"]
    records.sort(key=lambda r: r["code"])
    doc = dict(bundled, codes=records)
    doc["sources"] = bundled["sources"] + [{"file": src, "title": "Synthetic benchmark records (not real codes)"}]
    out.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    print(f"{out}: {len(records)} records, {out.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
