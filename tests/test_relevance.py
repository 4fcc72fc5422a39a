"""Relevance: the suite in relevance_queries.py must hold on the bundled
knowledge base, and still hold with thousands of unrelated records around it."""

import random

import pytest

from conftest import searcher_of
from cptcli.knowledge import KnowledgeBase, bundled_path
from relevance_queries import CAUTIONED, NOTHING, PAIRS, QUERIES, evaluate

MIN_TOP1 = 0.95
MIN_TOP3 = 1.0


def _report(label, result):
    top1, top3, mrr, failures = result
    print(f"\n[{label}] {len(QUERIES)} queries: top-1 {top1:.1%}, top-3 {top3:.1%}, MRR {mrr:.3f}")
    for query, expected, got in failures:
        print(f"  not first: {query!r}: expected {expected}, got {got}")


def _assert_good(result):
    top1, top3, _mrr, failures = result
    assert top1 >= MIN_TOP1, failures
    assert top3 >= MIN_TOP3, failures


@pytest.fixture(scope="module")
def searcher():
    return searcher_of([bundled_path()])


def test_suite_is_big_enough():
    assert len(QUERIES) >= 60
    assert len({q for q, _, _ in QUERIES}) == len(QUERIES)
    assert {k for _, _, k in QUERIES} >= {
        "lay",
        "clinical",
        "typo",
        "pair",
        "code",
        "icd",
        "modifier",
        "anatomy",
        "abbreviation",
        "oprnote",
        "intent",
        "official",
    }


@pytest.mark.parametrize("query,code", CAUTIONED)
def test_a_hit_that_stands_on_a_contested_reading_carries_a_caution(searcher, query, code):
    hits = [h for h in searcher.search(query, limit=20, min_score=0) if h.code == code]
    for h in hits:
        assert h.caution and "official descriptor" in h.caution, h
        assert h.score < 70, h


@pytest.mark.parametrize("query", NOTHING)
def test_a_modifier_no_record_lists_finds_nothing(searcher, query):
    assert searcher.search(query, min_score=0) == []


def test_relevance_on_bundled_knowledge_base(searcher):
    result = evaluate(searcher)
    _report("bundled", result)
    _assert_good(result)


@pytest.mark.parametrize("query,first,twin", PAIRS)
def test_intent_word_decides_the_pair(searcher, query, first, twin):
    got = [h.code for h in searcher.search(query, limit=50, min_score=0)]
    assert first in got and (twin not in got or got.index(first) < got.index(twin)), got


# Filler records about other procedures, sharing much of the vocabulary
# (removal, insertion, pump, joint, lead, generator, deep ...). Their codes end
# in "Z", which no CPT code does, so they can never be mistaken for real ones.
_ACTIONS = [
    "Removal",
    "Insertion",
    "Replacement",
    "Revision",
    "Repair",
    "Excision",
    "Injection",
    "Aspiration",
    "Biopsy",
    "Incision and drainage",
    "Exploration",
    "Implantation",
    "Debridement",
    "Manipulation",
    "Fixation",
    "Arthroscopy",
    "Reconstruction",
    "Amputation",
    "Transfer",
]
_OBJECTS = [
    "catheter",
    "foreign body",
    "screw",
    "plate",
    "nail",
    "stent",
    "drain",
    "tube",
    "prosthesis",
    "cyst",
    "lesion",
    "tendon",
    "ligament",
    "graft",
    "implant",
    "wire",
    "pump",
    "shunt",
    "port",
    "valve",
    "electrode",
    "generator",
    "anchor",
    "spacer",
    "tumor",
    "abscess",
    "hardware",
    "device",
]
_SITES = [
    "knee joint",
    "hip joint",
    "shoulder",
    "femur",
    "tibia",
    "humerus",
    "radius",
    "spine",
    "cervical",
    "thoracic",
    "lumbar",
    "skin",
    "subcutaneous tissue",
    "muscle",
    "abdominal wall",
    "chest wall",
    "scalp",
    "hand",
    "foot",
    "ankle",
    "wrist",
    "elbow",
    "pelvis",
    "deep tissue",
    "superficial",
    "bone",
    "cartilage",
    "bladder",
    "kidney",
    "liver",
    "heart",
    "artery",
    "vein",
]
_NARRATIVE = [
    "The surgeon makes an incision and exposes the {site}.",
    "The {obj} is identified and the {act} is completed under anesthesia.",
    "Bleeding is controlled and the wound is closed in layers.",
    "Imaging guidance may be used to localize the {obj}.",
    "Report once per session; see the primary procedure code.",
    "The patient presents with pain, infection or malfunction of the {obj}.",
]


def _filler(n: int, seed: int = 7) -> list[dict]:
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        act, obj, site = rnd.choice(_ACTIONS), rnd.choice(_OBJECTS), rnd.choice(_SITES)
        text = " ".join(rnd.choice(_NARRATIVE).format(act=act.lower(), obj=obj, site=site) for _ in range(3))
        fact = lambda t: {"text": t, "sources": ["filler"]}  # noqa: E731
        out.append(
            {
                "code": f"{i:04d}Z",
                "completeness": "partial",
                "title": fact(f"{act} of {obj}, {site}"),
                "summary": [fact(f"{act} of a {obj} in the {site}.")],
                "clinical_context": [fact(text)],
            }
        )
    return out


def test_relevance_holds_among_thousands_of_unrelated_records(bundled_doc):
    kb = KnowledgeBase()
    kb.add_document({"codes": _filler(5000)}, bundled_path().with_name("filler.json"))
    kb.add_document(bundled_doc, bundled_path())
    result = evaluate(searcher_of(kb))
    _report("bundled + 5000 filler records", result)
    _assert_good(result)
