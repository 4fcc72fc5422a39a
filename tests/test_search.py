"""cptcli search: exact rankings, field weights, highlighting, code / ICD-10 /
modifier queries, and the synonym table it reads from the knowledge base."""

import json
import subprocess
import sys

import pytest

from conftest import searcher_of
from cptcli.errors import UsageError
from cptcli.knowledge import KnowledgeBase, bundled_path
from cptcli.model import Synonym
from cptcli.search.analysis import stem, tokens


@pytest.fixture(scope="module")
def s():
    return searcher_of([bundled_path()])


def codes_of(hits):
    return [h.code for h in hits]


def _kb(records, synonyms=()):
    kb = KnowledgeBase()
    fact = lambda t: {"text": t, "sources": ["x"]}  # noqa: E731
    docs = [
        {"code": c, "completeness": "partial", "title": fact(title), **({"examples": [fact(ex)]} if ex else {})}
        for c, title, ex in records
    ]
    kb.add_document({"codes": docs}, bundled_path())
    kb.synonyms = tuple(Synonym(tuple(t), "test") for t in synonyms)
    return kb


# -- words ------------------------------------------------------------------
def test_a_spinal_cord_stimulator_is_an_epidural_array_not_every_neurostimulator(s):
    # SCS names the epidural arrays (63650, 63655), not the sacral (64561) or cranial (64568) nerve stimulators
    # a bare "neurostimulator" names: "SCS IPG" (63685, in no bundled record) is a partial match, not a 90.
    assert codes_of(s.search("spinal cord stimulator")) == ["63650", "63655"]
    assert codes_of(s.search("SCS electrode percutaneous"))[:1] == ["63650"]
    scs_ipg = s.search("SCS IPG")
    assert codes_of(scs_ipg)[:2] == ["63650", "63655"] and max(h.score for h in scs_ipg) < 60
    assert "64568" in codes_of(s.search("neurostimulator pulse generator"))


def test_typos_on_every_word_still_find_20701(s):
    assert codes_of(s.search("antibotic bead remvl"))[0] == "20701"


def test_typo_insertion_ranks_the_insertion_twin_first(s):
    assert codes_of(s.search("intramedulary insrt"))[:2] == ["20702", "20703"]


@pytest.mark.parametrize(
    "query,first,twin",
    [
        ("drug delivery device removal", "20701", "20700"),
        ("drug delivery device insertion", "20700", "20701"),
        ("intramedullary removal", "20703", "20702"),
        ("intramedullary insertion", "20702", "20703"),
        ("intra-articular removal", "20705", "20704"),
        ("intra-articular insertion", "20704", "20705"),
    ],
)
def test_intent_word_orders_the_twins(s, query, first, twin):
    got = codes_of(s.search(query, limit=20, min_score=0))
    assert got.index(first) < got.index(twin)


def test_lay_words_reach_the_clinical_title_through_synonyms(s):
    hit = s.search("take out the medicine pump")[0]
    assert (hit.code, hit.matched_field) == ("20701", "title")
    assert s.search("remove beads from joint")[0].code == "20705"
    assert s.search("bone marrow canal removal")[0].code == "20703"


def test_run_together_and_split_words(s):
    assert s.search("baclofenpump removal")[0].code == "20701"
    assert s.search("intraarticular insertion")[0].code == "20704"
    assert s.search("intra medullary insertion")[0].code == "20702"


def test_stem_folds_forms_but_keeps_past_participles():
    assert stem("insertion") == stem("insert") == stem("inserts")
    assert stem("removal") == stem("remove") == stem("removes")
    assert stem("inserted") != stem("insertion")  # "previously inserted" is not an insertion
    assert stem("canal") == "canal"
    assert tokens("M54.16 of the (s)") == ["m5416"]


def test_stem_folds_short_plurals_and_ies_but_not_tens_or_plus():
    assert stem("tips") == stem("tip") == "tip" and stem("pads") == "pad" and stem("hips") == "hip"
    assert stem("batteries") == stem("battery") == "battery" and stem("supplies") == stem("supply")
    assert stem("tens") == "tens"  # TENS, the stimulator, is not "ten"
    assert (stem("plus"), stem("axis"), stem("glass")) == ("plus", "axis", "glass")
    assert stem("tension") != stem("tens") and stem("portion") != stem("port")


def test_title_counts_more_than_a_narrative():
    kb = _kb([("1000Z", "Repair of tendon", "a pump was also removed"), ("2000Z", "Removal of pump", None)])
    hits = searcher_of(kb).search("pump removal", min_score=0)
    assert codes_of(hits) == ["2000Z", "1000Z"]
    assert hits[0].score == 100.0 and hits[1].score < 70
    assert (hits[0].matched_field, hits[1].matched_field) == ("title", "examples")


def test_ties_are_broken_by_code():
    kb = _kb(
        [("3000Z", "Removal of pump", None), ("1000Z", "Removal of pump", None), ("2000Z", "Removal of pump", None)]
    )
    hits = searcher_of(kb).search("pump removal")
    assert codes_of(hits) == ["1000Z", "2000Z", "3000Z"] and len({h.score for h in hits}) == 1


def test_synonym_counts_a_little_less_than_the_typed_word():
    kb = _kb(
        [("1000Z", "Removal of pump", None), ("2000Z", "Explantation of pump", None)],
        synonyms=[("removal", "explantation")],
    )
    hits = searcher_of(kb).search("pump removal")
    assert codes_of(hits) == ["1000Z", "2000Z"] and 90 < hits[1].score < 100


def test_unknown_words_find_nothing(s):
    assert s.search("xylophone") == []


def test_snippet_highlights_the_matched_words(s):
    (hit,) = s.search("infected baclofen pump")
    # Only 002's pump story holds "baclofen": the story is the snippet, under the caution naming 62365.
    assert hit.code == "20701" and hit.matched_field == "contested" and "62365" in hit.caution
    words = [hit.snippet[a:b].lower() for a, b in hit.highlights]
    assert words == ["pump", "intrathecal", "delivery", "baclofen", "drug"]
    assert len(hit.snippet) <= 92


def test_table_bolds_the_highlights(s):
    from cptcli.render import table

    hits = s.search("antibiotic bead removal", limit=1)
    cell = table.hits(hits)[0].columns[4]._cells[0]
    bold = [cell.plain[sp.start : sp.end] for sp in cell.spans if sp.style == "bold"]
    assert bold == ["Removal", "drug", "delivery", "device"]  # "antibiotic bead" reached the title as a synonym


def test_json_shape(s):
    d = s.search("antibiotic bead removal")[0].to_dict()
    assert {"code", "title", "score", "matched_field", "snippet", "caution"} <= set(d) and d["caution"] is None
    assert d["matched_terms"] == ["Removal", "drug", "delivery", "device"] and isinstance(d["snippet"], str)
    json.dumps(d)


def test_conflicting_record_carries_a_data_note(s):
    hit = s.search("generator pocket", min_score=0)[0]
    assert hit.code == "20700" and "conflict" in hit.data_note and "official descriptor" in hit.caution


def test_a_hit_names_the_query_words_it_does_not_hold_as_typed(s):
    # Named by the word typed (lower-cased), not its stem: "removal", not "remov".
    hits = s.search("subfascial antibiotic beads removal with irrigation")
    # 20700 inserts the beads: the note's removal is not in it; no record says irrigation.
    assert [(h.code, h.missing) for h in hits[:2]] == [("20701", ("irrigation",)), ("20700", ("removal",))]
    assert [(h.code, h.missing) for h in s.search("Knee PAIN")] == [("20704", ("pain",)), ("20705", ("pain",))]
    (first, *_) = s.search("baclofen pump removal")
    assert (first.code, first.missing, first.to_dict()["missing"]) == ("20701", (), [])
    assert s.search("20701")[0].missing == () and s.search("modifier 59")[0].missing == ()


def test_a_word_only_a_contested_reading_holds_is_answered_with_its_caution(s):
    # No uncontested text holds "pocket": 000's neurostimulator story is the only answer, shown cautioned above
    # the score floor rather than dropped (a coder who types it is the one who needs the caution).
    for query in ("generator pocket", "pocket"):
        hits = s.search(query)
        assert codes_of(hits) == ["20700"] and hits[0].caution and 40 <= hits[0].score <= 60
    # Where uncontested text holds the word, it answers it and the contested reading keeps its discount.
    assert codes_of(s.search("surgery"))[0] == "20701"
    assert s.search("cataract surgery") == []


# -- codes, ICD-10-CM, modifiers --------------------------------------------------
def test_exact_code_first_then_its_family(s):
    hits = s.search("20701")
    assert hits[0].code == "20701" and hits[0].score == 100.0 and hits[0].matched_field == "code"
    assert codes_of(hits[1:]) == ["20700", "20702", "20703", "20704", "20705"]
    assert s.search("+20702")[0].code == "20702"
    assert s.search("CPT 20703")[0].code == "20703"


def test_code_prefix_ranks_prefix_matches_by_code(s):
    assert codes_of(s.search("2070")) == ["20700", "20701", "20702", "20703", "20704", "20705"]
    assert codes_of(s.search("6")) == ["63650", "63655", "64561", "64568"]


def test_code_among_words(s):
    assert s.search("20704 removal")[0].code == "20704"


@pytest.mark.parametrize("query", ["M54.16", "m5416", " m54.16. "])
def test_icd10_query_names_the_row(s, query):
    hits = s.search(query)
    assert codes_of(hits) == ["20700"]
    h = hits[0]
    assert (h.matched_field, h.matched_row, h.score) == ("diagnoses", "M54.16", 100.0)
    assert h.snippet.startswith("M54.16 ")
    assert h.data_note == "correction: Radiculopathy, lumbar region"


def test_icd10_child_of_a_header_row(s):
    h = s.search("M54.50")[0]
    assert (h.code, h.matched_row, h.score) == ("20700", "M54.5", 80.0)


def test_modifier_query(s):
    h = s.search("modifier 59")[0]
    assert (h.code, h.matched_field, h.matched_row) == ("20700", "modifiers", "59")
    assert h.snippet == "59 Distinct procedural service"
    hits = s.search("modifier 11")
    assert codes_of(hits) == ["20700", "20703"]
    assert all(x.data_note == "correction: not a modifier in the registry" for x in hits)
    assert codes_of(s.search("-50")) == ["20700", "20702"]


def test_limit_min_score_and_errors(s):
    assert len(s.search("drug delivery device", limit=2)) == 2
    assert all(h.score >= 90 for h in s.search("drug delivery device", min_score=90))
    with pytest.raises(UsageError):
        s.search("   ")
    with pytest.raises(UsageError):
        s.search("x", limit=0)


def test_deterministic(s):
    a = [h.to_dict() for h in s.search("antibiotic beads", limit=20, min_score=0)]
    b = [h.to_dict() for h in searcher_of([bundled_path()]).search("antibiotic beads", limit=20, min_score=0)]
    assert a == b


# -- the synonym table ------------------------------------------------------
def test_synonyms_are_data_with_reasons(bundled_doc):
    groups = bundled_doc["synonyms"]
    assert len(groups) >= 10
    for g in groups:
        assert len(g["terms"]) >= 2 and g["reason"].strip()
        assert all(tokens(t) for t in g["terms"]), g


def test_search_module_is_light():
    code = "import sys, cptcli.search; print(sorted(m for m in ('rich', 'jsonschema', 'typer') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# -- how many matched -------------------------------------------------------
def test_hits_count_every_match_above_the_lowest_score(s):
    """`total` counts the codes the limit left out: a row query on a big base can tie thousands."""
    every = s.search("drug", limit=1000)
    assert len(every) == every.total == 6
    few = s.search("drug", limit=2)
    assert few == every[:2] and few.total == 6
    assert s.search("drug", limit=2, min_score=every[2].score).total == 3 + sum(
        h.score == every[2].score for h in every[3:]
    )


def test_a_table_cut_by_the_limit_says_how_many_more_match(cli):
    cut = cli("search", "drug", "--limit", "2").stdout.splitlines()
    assert cut[-1].strip() == "2 of 6 matching codes shown: --limit N shows more."
    whole = cli("search", "drug", "--limit", "6").stdout
    assert "matching codes shown" not in whole and whole.count("+207") == 6
    assert len(json.loads(cli("search", "drug", "--limit", "2", "--json").stdout)) == 2  # JSON: the array only


def test_a_row_query_cut_by_the_limit_names_the_reverse_look_up(cli):
    """20700 and 20702 list modifier 50: `cptcli modifier 50` lists every such code."""
    out = " ".join(cli("search", "modifier 50", "--limit", "1").stdout.split())
    assert out.endswith(
        "1 of 2 matching codes shown: --limit N shows more; cptcli modifier 50 lists every code with that row."
    )
    assert "matching codes shown" not in cli("search", "modifier 50").stdout


def test_a_misspelling_keeps_its_first_letter():
    kb = _kb([("1000Z", "Mastectomy, partial", None), ("2000Z", "Nebulizer with compressor", None)])
    s = searcher_of(kb)
    assert codes_of(s.search("vasectomy", min_score=0)) == []  # another operation, not a typo
    assert codes_of(s.search("nebulizor compresser", min_score=0)) == ["2000Z"]
    assert codes_of(s.search("mastectmy", min_score=0)) == ["1000Z"]


def test_a_notes_narrative_and_dose_weigh_little():
    kb = _kb(
        [
            ("J1885", "Injection, ketorolac tromethamine, per 15 mg", None),
            ("Q2035", "Influenza virus vaccine, when administered to individuals 3 years and older", None),
        ]
    )
    hits = searcher_of(kb).search("administered ketorolac 30 mg", min_score=0)
    assert codes_of(hits) == ["J1885", "Q2035"]
    # Ketorolac is a little of its title ("Injection, ketorolac tromethamine"), and "administered" alone no answer.
    assert hits[0].score > 60 and hits[1].score < 20


def test_a_mistyped_word_is_one_typo_not_two_run_together_words():
    from cptcli.search.analysis import Analyzer
    from cptcli.search.candidates import Vocabulary

    class Corpus:
        def has_stem(self, s):
            return s in {"oxygen", "gen", "concentr", "baclofen", "pump"}

        def alpha_stems(self):
            return ["baclofen", "concentr", "gen", "oxygen", "pump"]

        def postings(self, s):
            return {"A0001": 1, "A0002": 1} if self.has_stem(s) else {}

        def stems_from(self, prefix, limit):
            return [w for w in self.alpha_stems() if w.startswith(prefix)][:limit]

    analyzer = Analyzer(Vocabulary(Corpus(), frozenset()), {})
    assert [c.typed for c in analyzer.concepts("oxigen concentrator")] == ["oxigen", "concentr"]
    assert ("oxygen",) in analyzer.concepts("oxigen")[0].alternatives
    assert [c.typed for c in analyzer.concepts("baclofenpump")] == ["baclofen", "pump"]


def test_a_british_spelling_is_the_same_word():
    from cptcli.search.analysis import american, stem

    pairs = {"sulphate": "sulfate", "nebuliser": "nebulizer", "haemodialysis": "hemodialysis"}
    pairs |= {"orthopaedic": "orthopedic", "aluminium": "aluminum", "catheterisation": "catheterization"}
    pairs |= {"centre": "center", "oedema": "edema", "paediatric": "pediatric"}
    for british, us in pairs.items():
        assert american(stem(british)) == stem(us), british
    kb = _kb([("J3475", "Injection, magnesium sulfate, per 500 mg", None), ("E1590", "Hemodialysis machine", None)])
    assert codes_of(searcher_of(kb).search("magnesium sulphate")) == ["J3475"]
    hit = searcher_of(kb).search("haemodialysis machine")[0]
    assert hit.code == "E1590" and hit.score > 95


def _bundled_synonyms():
    import json

    from cptcli.knowledge import bundled_path

    return json.loads(bundled_path().read_text(encoding="utf-8"))["synonyms"]


def _with_bundled_synonyms(kb):
    kb.synonyms = tuple(Synonym.from_dict(g) for g in _bundled_synonyms())
    return kb


def test_a_brand_name_finds_the_established_name_and_its_source_is_kept():
    brands = [g for g in _bundled_synonyms() if "FDA" in g.get("source", "") or "DailyMed" in g.get("source", "")]
    assert len(brands) >= 80 and all(len(g["terms"]) >= 2 for g in brands)
    humira = next(g for g in brands if g["terms"][0] == "Humira")
    assert humira["terms"][1] == "adalimumab" and "DailyMed" in humira["source"]
    records = [("J0135", "Injection, adalimumab, 20 mg", None), ("C9290", "Injection, bupivacaine liposome", None)]
    kb = _kb(records)
    s = searcher_of(_with_bundled_synonyms(kb))
    assert codes_of(s.search("Humira")) == ["J0135"]
    # Marcaine is plain bupivacaine hydrochloride: never the liposomal product (Exparel) that shares a word.
    assert s.search("Marcaine", min_score=0) == []


def test_a_drug_is_an_antibiotic_but_never_another_antibiotic():
    kb = _kb(
        [
            ("J1580", "Injection, garamycin, gentamicin, up to 80 mg", None),
            ("J3260", "Injection, tobramycin sulfate, up to 80 mg", None),
        ]
    )
    s = searcher_of(_with_bundled_synonyms(kb))
    assert codes_of(s.search("gentamicin", min_score=0)) == ["J1580"]
    assert codes_of(s.search("gentamicin sulphate"))[0] == "J1580"


def test_a_dotted_diagnosis_is_never_the_hcpcs_code_its_letters_spell():
    kb = _kb([("E1140", "Wheelchair, detachable arms, desk or full length", None)])
    s = searcher_of(kb)
    assert s.search("E11.40") == [] and s.search("e11.40.") == []
    assert codes_of(s.search("E1140")) == ["E1140"]  # undotted, a code


def test_a_letter_prefix_lists_its_family_nearest_first():
    kb = _kb([(c, f"Injection, drug {c}", None) for c in ("J1000", "J1020", "J1030", "J1040", "J1100", "J9999")])
    hits = searcher_of(kb).search("J103")
    assert codes_of(hits) == ["J1030", "J1020", "J1040", "J1000"]
    assert hits[0].score > hits[1].score


def test_list_prefix_and_an_icd_query_in_search(main):
    code, out, _ = main("list", "--prefix", "2070", "--json")
    assert code == 0 and [r["code"] for r in json.loads(out)] == [f"2070{i}" for i in range(6)]
    assert main("list", "--prefix", "x!")[0] == 2
    code, _, err = main("list", "--prefix", "99")
    assert code == 1 and "no code in the knowledge base starts with 99" in err
    code, out, err = main("search", "E11.40")
    assert (code, out) == (1, "") and "is an ICD-10-CM code and no record lists it: see cptcli icd E11.40" in err


def test_a_word_one_code_has_is_also_read_as_a_typo_of_a_common_word_with_its_first_letter():
    from cptcli.search.analysis import Analyzer, stem
    from cptcli.search.candidates import Vocabulary

    # "remval" stems to "remv", which one code's short descriptor has ("Intent pot remv time placemt"); "removal"
    # is in thousands. "hair" (one code: a wig) is no typo of "air" (a first letter dropped), however common.
    df = {"remv": 1, "remov": 3000, "hair": 1, "air": 400, "wig": 1}

    class Corpus:
        def has_stem(self, s):
            return s in df

        def alpha_stems(self):
            return sorted(df)

        def stems_from(self, prefix, limit):
            return [w for w in self.alpha_stems() if w.startswith(prefix)][:limit]

        def postings(self, s):
            return {f"C{i:04d}": 1 for i in range(df.get(s, 0))}

    analyzer = Analyzer(Vocabulary(Corpus(), frozenset()), {})
    assert stem("remval") == "remv"
    assert analyzer.resolve("remv") == {"remv": 1.0, "remov": pytest.approx(0.889, abs=0.001)}
    assert analyzer.resolve("hair") == {"hair": 1.0}
    assert analyzer.resolve("remov") == {"remov": 1.0}  # a common word is what it is
