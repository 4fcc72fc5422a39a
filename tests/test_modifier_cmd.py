"""`cptcli modifier`: the registry entry and the code rows that list a modifier."""

import json

import pytest


def test_registry_modifier_with_rows(main):
    code, out, err = main("modifier", "--json", "--", "-50")  # '--': a pasted '-50' is not an option
    assert code == 0, err
    doc = json.loads(out)
    assert doc["schema_version"] == 1 and doc["in_registry"] is True
    assert doc["registry"]["name"] == "Bilateral procedure" and doc["registry"]["kind"] == "CPT"
    assert doc["registry"]["conflicts_with"] == ["LT", "RT"]
    assert [(x["code"], x["name_check"]) for x in doc["listed_by"]] == [("20700", "same"), ("20702", "same")]
    assert doc["listed_by"][0]["when_to_use"].startswith("When identical deep pocket creation")


def test_misdescribed_modifier_shows_the_rows_description_and_the_correction(main):
    code, out, _ = main("modifier", "as")
    assert code == 0
    assert "Physician assistant, nurse practitioner" in out
    assert "NO" in out and "HCPCS" in out
    # The row's description, as the source gives it, in a cell that wraps a word a line at 100 columns.
    _, doc, _ = main("modifier", "as", "--json")
    [row] = json.loads(doc)["listed_by"]
    assert (row["description"], row["name_check"]) == ("Ambulatory surgery center facility service", "different")
    assert all(w in out for w in ("Ambulatory", "surgery", "center", "facility"))


def test_modifier_listed_by_a_source_but_not_in_the_registry(main):
    code, out, err = main("modifier", "modifier 11", "--json")
    assert code == 1
    doc = json.loads(out)
    assert doc["in_registry"] is False and doc["registry"] is None
    assert [(x["code"], x["description"]) for x in doc["listed_by"]] == [
        ("20700", "Normal/standard service"),
        ("20703", "Normal or routine service"),
    ]
    assert "not in cptcli's modifier registry" in err and err.count("\n") == 1


def test_modifier_table_warns_for_11(main):
    code, out, err = main("modifier", "11")
    assert code == 1 and "not in the registry" in out and "warning" in err


def test_registry_modifier_no_row_lists(main):
    code, out, _ = main("modifier", "XE")
    assert code == 0 and "Separate encounter" in out and "No document lists XE" in out


@pytest.mark.parametrize("arg,status", [("ZZ", 1), ("5", 2), ("", 2)])
def test_unknown_and_malformed(main, arg, status):
    code, out, err = main("modifier", arg)
    assert code == status and out == "" and err.count("\n") == 1
