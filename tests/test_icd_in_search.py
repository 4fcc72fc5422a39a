"""`cptcli search`'s ICD-10-CM section: a query that reads as a diagnosis lists ICD-10-CM codes after the procedure
hits; JSON keeps its list unless the section is asked for. On the real release (the session's test cache)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from cptcli.codesets import icd10, icd_search


@pytest.fixture(scope="module")
def release():
    icd10.reset()
    return icd10.codeset()


def test_a_diagnosis_with_no_procedure_hit_shows_the_section_and_still_exits_1(main, release):
    code, out, err = main("search", "sciatica", "-n", "3")
    assert code == 1
    assert out.startswith("No procedure code matches 'sciatica'.\n")
    assert "ICD-10-CM diagnoses: sciatica" in out
    rows = [line.split()[0] for line in out.splitlines() if line.startswith("  M54")]
    assert rows == ["M54.32", "M54.31", "M54.30"]
    assert err == (
        "cptcli: error: no code matches 'sciatica' with a score of at least 40; as a diagnosis, 9 ICD-10-CM "
        "codes do (--section icd)\n"
    )


def test_a_diagnosis_a_contested_pairing_lists_answers_that_code_cautioned_before_the_section(main, release):
    # 000 lists M54.5 (low back pain) for +20700, a pairing that stands only on its contested reading: the code is
    # answered, below the confident scores and with the caution, and the diagnoses follow it.
    code, out, err = main("search", "low back pain", "-n", "3", "--json", "--section", "hits,icd")
    doc = json.loads(out)
    assert (code, err) == (0, "")
    ((hit),) = doc["hits"]
    assert (hit["code"], hit["matched_field"]) == ("20700", "contested")
    assert 40 <= hit["score"] <= 60 and "neurostimulator" in hit["caution"]
    assert [h["code"] for h in doc["icd"]] == ["M54.50", "M54.59", "M54.51"]


@pytest.mark.parametrize("query", ["antibiotic beads removal", "wheelchair cushion", "bone marrow", "knee injection"])
def test_a_query_about_a_service_or_a_supply_has_no_section(main, release, query):
    code, out, err = main("search", query)
    assert "ICD-10-CM" not in out and "diagnosis" not in err
    if query == "wheelchair cushion":  # no bundled record: the miss as before
        assert (code, out) == (1, "")
        assert err == "cptcli: error: no code matches 'wheelchair cushion' with a score of at least 40\n"
    else:
        assert code == 0 and out.startswith(f"Search: {query}")


def test_json_keeps_its_list_of_procedure_hits(main, release):
    code, out, err = main("search", "knee pain", "--json")
    doc = json.loads(out)
    assert code == 0 and err == "" and isinstance(doc, list)
    assert [h["code"] for h in doc] == ["20704", "20705"] and set(doc[0]) >= {"title", "snippet", "add_on"}
    assert main("search", "knee pain", "--json", "--section", "hits")[1] == out
    code, out, err = main("search", "sciatica", "--json")
    assert (code, out) == (1, "[]\n") and "9 ICD-10-CM codes do (--section icd)" in err


def test_json_section_icd_is_icd_searchs_list_and_both_sections_an_object(main, release):
    code, out, _ = main("search", "knee pain", "--json", "--section", "icd", "-n", "3")
    assert code == 0
    assert json.loads(out) == json.loads(main("icd", "search", "knee pain", "--json", "-n", "3")[1])
    assert [h["code"] for h in json.loads(out)] == ["M25.562", "M25.561", "M25.569"]
    code, out, _ = main("search", "knee pain", "--json", "--section", "hits,icd", "-n", "1")
    doc = json.loads(out)
    assert code == 0 and list(doc) == ["hits", "icd"]
    assert [h["code"] for h in doc["hits"]] == ["20704"] and [h["code"] for h in doc["icd"]] == ["M25.562"]
    # A diagnosis with no procedure hit: the section asked for alone is a find (exit 0), with both it is not.
    assert main("search", "sciatica", "--json", "--section", "icd", "-n", "1")[0] == 0
    code, out, _ = main("search", "sciatica", "--json", "--section", "hits,icd", "-n", "1")
    assert code == 1 and json.loads(out)["hits"] == [] and json.loads(out)["icd"][0]["code"] == "M54.32"


def test_asking_for_the_section_lists_icd_codes_whatever_the_query(main, release):
    code, out, _ = main("search", "beads", "--section", "icd", "-n", "1", "--json")
    assert code == 0 and [h["code"] for h in json.loads(out)] == ["W44.B1XS"]
    code, out, err = main("search", "xqzvw", "--section", "icd", "--json")
    assert (code, out) == (1, "[]\n")
    assert err == "cptcli: error: no ICD-10-CM code matches 'xqzvw' with a score of at least 40\n"


def test_csv_holds_the_hits_and_names_the_section_or_gives_it(main, release):
    code, out, err = main("search", "knee pain", "-f", "csv")
    assert code == 0 and out.startswith("code,title,score,")
    assert err == "cptcli: note: csv holds one table; the others: icd (--section NAME)\n"
    code, out, err = main("search", "knee pain", "-f", "csv", "--section", "icd", "-n", "2")
    rows = list(csv.reader(io.StringIO(out)))
    assert code == 0 and err == "" and rows[0][:3] == ["code", "description", "billable"]
    assert [r[0] for r in rows[1:]] == ["M25.562", "M25.561"]
    assert main("search", "beads", "-f", "csv")[2] == ""  # no section: nothing to name


def test_markdown_heads_each_section(main, release):
    code, out, _ = main("search", "knee pain", "-f", "markdown", "-n", "1")
    assert code == 0
    assert out.index("## Search: knee pain") < out.index("| 20704 |") < out.index("## ICD-10-CM diagnoses: knee pain")
    assert out.rstrip().endswith("| M25.562 | Pain in left knee | yes | no | 93.3 | description | Pain in left knee |")


def test_the_rule_needs_every_word_and_the_margin(release):
    knee = icd_search.rank(release, "knee pain")
    assert knee[0].score == 93.3
    assert icd_search.about_a_diagnosis(knee, 45.0)  # the bundled best, +20704
    assert not icd_search.about_a_diagnosis(knee, 93.3 - icd_search.DIAGNOSIS_MARGIN + 0.1)
    assert icd_search.about_a_diagnosis(knee, 93.3 - icd_search.DIAGNOSIS_MARGIN)
    cushion = icd_search.rank(release, "wheelchair cushion")
    assert cushion[0].matched_terms == ("wheelchair",) and not icd_search.about_a_diagnosis(cushion, 0.0)
    assert not icd_search.about_a_diagnosis(icd_search.rank(release, "xqzvw"), 0.0)


def test_no_section_where_the_cache_cannot_be_kept_or_the_release_cannot_be_read(main, release, monkeypatch):
    from cptcli import cache
    from cptcli.errors import DataError

    monkeypatch.setattr(cache, "refused_cache_dir", lambda: "not the user's alone")
    code, out, err = main("search", "knee pain")  # the extract would be built again, seconds, on every search
    assert code == 0 and "ICD-10-CM" not in out

    monkeypatch.undo()

    def unreadable():
        raise DataError("the ICD-10-CM code set needs the simple-icd-10-cm package")

    monkeypatch.setattr(icd10, "codeset", unreadable)
    code, out, _ = main("search", "knee pain")
    assert code == 0 and out.startswith("Search: knee pain") and "ICD-10-CM" not in out  # search never fails for it
    code, out, err = main("search", "knee pain", "--section", "icd")  # asked for: the reason is said
    assert (code, out) == (3, "") and "needs the simple-icd-10-cm package" in err
