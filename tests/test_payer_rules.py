"""`check` on a date of service and in a setting, against the payer edits imported: NCCI PTP, MUE, AOC and the
fee schedule's indicators, each on a date before, on and after an edit's dates (rows written straight into the
store in the kinds' table shapes: tests/payer_stores.py)."""

import json

import pytest

from payer_stores import every_kind, put

ON = "2026-11-02"


@pytest.fixture(autouse=True)
def _own_sets(data_dir, cache):
    """Every test imports its own sets into a data directory (and index) of its own."""


def check(main, *args):
    code, out, err = main("check", *args, "--json")
    return code, (json.loads(out) if out else None), err


def kinds(doc, severity=None):
    return [(i["kind"], i["subject"]) for i in doc["issues"] if severity in (None, i["severity"])]


def messages(doc, kind):
    return [i["message"] for i in doc["issues"] if i["kind"] == kind]


def test_without_payer_sets_the_line_is_not_verified_naming_each_check_that_could_not_run(main):
    code, doc, _ = check(main, "20700", "--with", "99999", "--date", ON)
    assert code == 4 and doc["verdict"] == "unverified"
    # One finding names every edit that could not run, not a row each.
    assert messages(doc, "edit-not-imported") == [
        "NCCI PTP (practitioner), NCCI MUE (practitioner), NCCI AOC, PFS: none imported, so these edits were not "
        "checked (cptcli import the CMS files)"
    ]
    assert [i["subject"] for i in doc["issues"] if i["kind"] == "edit-not-imported"] == ["edits"]
    assert all(i["unverified"] for i in doc["issues"] if i["kind"] == "edit-not-imported")
    assert (doc["date_of_service"], doc["setting"], doc["units"]) == (ON, "practitioner", 1)


def test_an_official_aoc_list_without_the_code_settles_that_it_is_no_add_on(main):
    every_kind("20705", "2025-10-01", "2026-09-30")
    _, doc, _ = check(main, "20705", "--date", "2026-06-01")
    assert ("aoc-not-add-on", "add_on") in kinds(doc, "info")
    assert not [i for i in doc["issues"] if i["subject"] == "add_on" and i["unverified"]]
    assert ("mue-within", "mue/20705") in kinds(doc, "info")
    assert messages(doc, "pfs-global-days") == [
        "PFS RVU26D: global days 090 (Major surgery: a 1-day preoperative period and a 90-day postoperative period "
        "included)"
    ]


@pytest.mark.parametrize(
    "date,applied", [("2008-12-31", False), ("2009-01-01", True), ("2020-12-31", True), ("2021-01-01", False)]
)
def test_a_ptp_edit_applies_only_between_its_dates(main, date, applied):
    every_kind("20702", "2000-01-01", "2026-12-31")
    put(
        "ncci-ptp",
        [("20702", "20703", 0, "2009-01-01", "2020-12-31", 0, "Mutually exclusive procedures", 0)],
        "practitioner",
        covers=("2000-01-01", "2026-12-31"),
        files=("ccipra-v321r0-f1.txt",),
    )
    code, doc, _ = check(main, "20702", "--with", "20703", "--date", date)
    errors = [k for k, s in kinds(doc, "error") if k == "ptp-edit"]
    assert bool(errors) is applied
    if applied:
        (issue,) = [i for i in doc["issues"] if i["kind"] == "ptp-edit"]
        assert issue["subject"] == "ptp/20702+20703" and issue["authority"] == "ccipra-v321r0-f1.txt, 2026 Q4"
        assert issue["message"] == (
            f"NCCI PTP edit (practitioner, in force 2009-01-01 to 2020-12-31, applied on {date}): 20703 is column 2 to "
            "20702 (Mutually exclusive procedures); modifier indicator 0: no modifier allows it, 20703 is not paid "
            "with 20702"
        )
        assert code == 1
    else:
        assert ("ptp-not-in-force", "ptp/20702+20703") in kinds(doc, "info")


def test_indicator_1_is_bypassed_only_by_an_ncci_modifier_on_the_column_2_code(main):
    put(
        "ncci-ptp",
        [("20702", "20703", 0, "2009-01-01", None, 1, "Standards of medical/surgical practice", 0)],
        "practitioner",
    )
    # The line's code is column 1: the modifier must be on the other code.
    _, plain, _ = check(main, "20702", "--with", "20703", "--date", ON)
    _, on_line, _ = check(main, "20702", "--modifier", "59", "--with", "20703", "--date", ON)
    _, on_other, _ = check(main, "20702", "--with", "20703-XS", "--date", ON)
    assert ("ptp-edit", "ptp/20702+20703") in kinds(plain, "error")
    assert ("ptp-edit", "ptp/20702+20703") in kinds(on_line, "error")
    assert ("ptp-bypassed", "ptp/20702+20703") in kinds(on_other, "info")
    assert "bypassed by XS on 20703" in messages(on_other, "ptp-bypassed")[0]
    # The line's code is column 2: its own modifier bypasses.
    _, col2, _ = check(main, "20703", "--modifier", "59", "--with", "20702", "--date", ON)
    assert ("ptp-bypassed", "ptp/20702+20703") in kinds(col2, "info")


def test_indicator_9_is_no_edit_and_each_setting_reads_its_own_edits(main):
    put("ncci-ptp", [("20702", "20703", 0, "2009-01-01", None, 9, "Misuse of column two code", 0)], "practitioner")
    put("ncci-ptp", [("20702", "20703", 0, "2009-01-01", None, 0, "Mutually exclusive procedures", 0)], "outpatient")
    _, prac, _ = check(main, "20702", "--with", "20703", "--date", ON)
    _, hosp, _ = check(main, "20702", "--with", "20703", "--date", ON, "--setting", "outpatient")
    assert not [k for k, _ in kinds(prac) if k.startswith("ptp")]
    assert ("ptp-edit", "ptp/20702+20703") in kinds(hosp, "error")
    _, dme, _ = check(main, "20702", "--with", "20703", "--date", ON, "--setting", "dme")
    assert not [k for k, _ in kinds(dme) if k.startswith("ptp")]
    assert not [m for m in messages(dme, "edit-not-imported") if "PTP" in m]
    assert [m for m in messages(dme, "edit-not-imported") if "NCCI MUE (dme)" in m]


@pytest.mark.parametrize("mai,words", [(1, "Line edit"), (2, "an absolute limit"), (3, "may be paid on appeal")])
def test_units_over_the_mue_are_an_error_whatever_the_indicator_saying_what_follows(main, mai, words):
    put("ncci-mue", [("20702", 1, mai, "Anatomic consideration")], "practitioner")
    put("ncci-mue", [("20702", 4, mai, "Anatomic consideration")], "outpatient")
    code, doc, _ = check(main, "20702", "--units", "2", "--date", ON)
    (msg,) = messages(doc, "mue-exceeded")
    assert code == 1 and "2 units of 20702 exceed its MUE of 1; MAI " + str(mai) in msg and words in msg
    _, hosp, _ = check(main, "20702", "--units", "2", "--date", ON, "--setting", "outpatient")
    assert ("mue-within", "mue/20702") in kinds(hosp, "info")


def test_an_edit_release_that_does_not_cover_the_date_is_not_applied_and_says_so(main):
    put("ncci-mue", [("20705", 1, 2, "Policy")], "practitioner", release="2026 Q4", covers=("2026-10-01", "2026-12-31"))
    code, doc, _ = check(main, "20705", "--with", "99999", "--units", "5", "--date", "2026-09-30")
    assert code == 4 and not messages(doc, "mue-exceeded")
    assert messages(doc, "edit-release-not-in-force") == [
        "NCCI MUE (practitioner) 2026 Q4 applies to dates of service 2026-10-01 to 2026-12-31, not 2026-09-30: not "
        "checked (import the release in force on that date)"
    ]


def test_aoc_type_1_lists_the_primaries(main):
    put(
        "ncci-aoc",
        [
            ("20701", None, "20700", None, "2010-01-01", None, 1, ""),
            ("20701", None, "20702", "2015-12-31", "2010-01-01", None, 1, ""),
        ],
    )
    code, listed, _ = check(main, "20701", "--with", "20700", "--date", ON)
    assert ("aoc-primary-listed", "with/20700") in kinds(listed, "info")
    # The listed primary settles the pairing: nothing about it leaves the line unverified.
    assert not [i for i in listed["issues"] if i["subject"] == "with/20700" and i["unverified"]]
    _, deleted_primary, _ = check(main, "20701", "--with", "20702", "--date", ON)
    assert ("aoc-primary-not-listed", "with/20702") in kinds(deleted_primary, "error")
    _, alone, _ = check(main, "+20701", "--date", ON)
    assert ("aoc-without-primary", "add_on") in kinds(alone, "error")


def test_aoc_types_2_and_3_leave_the_contractor_to_decide(main):
    put("ncci-aoc", [("20701", None, "CCCCC", None, "2010-01-01", None, 2, "")])
    _, t2, _ = check(main, "20701", "--with", "20702", "--date", ON)
    (issue,) = [i for i in t2["issues"] if i["kind"] == "aoc-contractor-primaries"]
    assert issue["severity"] == "warning" and issue["unverified"] and "the contractor decides" in issue["message"]
    put("ncci-aoc", [("20701", None, "20700", None, "2010-01-01", None, 3, "")])
    _, t3, _ = check(main, "20701", "--with", "20702", "--date", ON)
    assert ("aoc-primary-unlisted", "with/20702") in kinds(t3, "warning")


@pytest.mark.parametrize(
    "row,mods,kind,severity",
    [
        (("20702", "", "B", "0", "000", "0", "0", "0", "0", "0"), (), "pfs-not-payable", "error"),
        (("20702", "", "A", "0", "090", "2", "0", "0", "0", "0"), ("50",), "pfs-modifier", "error"),
        (("20702", "", "A", "0", "090", "2", "1", "1", "0", "0"), ("80",), "pfs-modifier", "error"),
        (("20702", "", "A", "0", "090", "2", "1", "0", "0", "0"), ("AS",), "pfs-modifier", "warning"),
        (("20702", "", "A", "0", "090", "2", "1", "2", "0", "0"), ("62",), "pfs-modifier", "error"),
        (("20702", "", "A", "0", "090", "2", "1", "2", "2", "1"), ("66",), "pfs-modifier", "warning"),
    ],
)
def test_fee_schedule_indicators(main, row, mods, kind, severity):
    put("pfs-rvu", [row], release="RVU26D")
    args = [a for m in mods for a in ("--modifier", m)]
    _, doc, _ = check(main, "20702", *args, "--date", ON)
    assert (kind, severity) in [(i["kind"], i["severity"]) for i in doc["issues"]]


def test_a_terminated_hcpcs_code_is_valid_before_its_end_date(main):
    from pathlib import Path

    cms = Path(__file__).parent / "fixtures" / "imports" / "cms" / "HCPC2020_ANWEB_w_disclaimer.txt"
    assert main("import", str(cms))[0] == 0
    _, after, _ = check(main, "C9027", "--date", "2016-01-01")
    _, before, _ = check(main, "C9027", "--date", "2015-06-01")
    assert ("terminated", "code") in kinds(after, "error")
    assert ("terminating", "code") in kinds(before, "warning") and not kinds(before, "error")


def test_icd10cm_is_judged_by_the_fiscal_year_of_the_date(main):
    _, fy26, _ = check(main, "20700", "--with", "99999", "--dx", "M54.16", "--date", "2026-09-30")
    _, fy27, _ = check(main, "20700", "--with", "99999", "--dx", "M54.16", "--date", "2026-10-01")
    assert not messages(fy26, "icd-release-not-in-force")
    (msg,) = messages(fy27, "icd-release-not-in-force")
    assert "applies to dates of service 2025-10-01 to 2026-09-30, not 2026-10-01" in msg and "fiscal year 2027" in msg
    put(
        "icd10cm",
        [("M54.16", 1, "Radiculopathy, lumbar region", "Radiculopathy, lumbar region")],
        "FY2027",
        release="FY2027",
        covers=("2026-10-01", "2027-09-30"),
        files=("icd10cm_order_2027.txt",),
    )
    _, imported, _ = check(main, "20700", "--with", "99999", "--dx", "M54.16", "--date", "2026-10-01")
    assert not messages(imported, "icd-release-not-in-force")
    assert imported["authorities"]["icd10cm"] == "ICD-10-CM FY2027, icd10cm_order_2027.txt"


@pytest.mark.parametrize(
    "args", [["--date", "2026-13-01"], ["--date", "tomorrow"], ["--units", "0"], ["--setting", "hospital"]]
)
def test_malformed_date_units_or_setting_exit_2(main, args):
    code, out, err = main("check", "20700", *args)
    assert (code, out) == (2, "") and err.count("\n") == 1 and err.startswith("cptcli: error: ")


def test_show_gives_the_payer_facts_of_a_code_and_section_ptp_lists_its_edits(main):
    def show(*args):
        code, out, _ = main("show", "20705", *args)
        assert code == 0
        return out

    assert "payer" not in json.loads(show("--json"))  # nothing imported: show is unchanged
    every_kind("20705", "2025-10-01", "2030-12-31")
    put(
        "ncci-ptp",
        [
            ("20705", "20704", 0, "2009-01-01", None, 1, "Mutually exclusive procedures", 0),
            ("20702", "20705", 0, "2009-01-01", "2010-01-01", 0, "Misuse of column two code", 0),
        ],
        "practitioner",
    )
    payer = json.loads(show("--json"))["payer"]
    assert payer["fee_schedule"]["status"] == "A" and payer["fee_schedule"]["payable"] is True
    bilateral = payer["fee_schedule"]["indicators"]["bilateral"]
    assert bilateral["value"] == "1" and bilateral["meaning"].startswith("150% bilateral adjustment applies")
    assert [(m["setting"], m["value"], m["mai"]) for m in payer["mue"]] == [
        ("practitioner", 2, 3),
        ("outpatient", 2, 3),
        ("dme", 2, 3),
    ]
    assert payer["add_on_edits"]["is_add_on"] is False
    # Counted as in force today: the deleted edit is not.
    assert [(t["setting"], t["as_column1"], t["as_column2"]) for t in payer["ptp"]] == [
        ("practitioner", 1, 0),
        ("outpatient", 0, 0),
    ]
    assert "edits" not in payer["ptp"][0]
    rows = show("--section", "ptp", "--format", "csv").splitlines()
    assert rows[0].startswith("code,setting,column1,column2,effective,ends,modifier_indicator,meaning")
    assert [r.split(",")[2:6] for r in rows[1:]] == [
        ["20702", "20705", "2009-01-01", "2010-01-01"],
        ["20705", "20704", "2009-01-01", ""],
    ]
    table = show("--section", "payer")
    assert "Payer edits (imported CMS files)" in table and "Active code:" in table


def test_of_a_pairs_rows_in_force_the_latest_decides_and_a_code_no_descriptor_set_holds_is_still_judged(main):
    from pathlib import Path

    ptp = sorted((Path(__file__).parent / "fixtures" / "imports" / "ncci-ptp").glob("ccipra-v322r0-f*.txt"))
    assert main("import", *map(str, ptp))[0] == 0
    # The fixture holds 29881/29877 twice: indicator 0 from 2012, and indicator 1 from 2026-07-01.
    code, doc, _ = check(main, "29881", "--with", "29877-59", "--date", "2026-08-01")
    assert ("ptp-bypassed", "ptp/29881+29877") in kinds(doc, "info") and not kinds(doc, "error")
    assert ("code-not-in-descriptor-sets", "code") in kinds(doc, "info") and code == 4
    _, before, _ = check(main, "29881", "--with", "29877-59", "--date", "2026-06-30")
    assert [m for m in messages(before, "ptp-edit") if "modifier indicator 0" in m]
    # A code no imported set mentions is still unknown.
    assert main("check", "29999")[0] == 1


def test_anesthesia_status_is_named_not_failed_and_status_t_with_other_codes_is_a_warning(main):
    put("pfs-rvu", [("20705", "", "J", "0", "XXX", "0", "0", "0", "0", "0")], release="RVU26D")
    _, j, _ = check(main, "20705", "--date", ON)
    assert ("pfs-anesthesia", "info") in [(i["kind"], i["severity"]) for i in j["issues"]]
    assert not [i for i in j["issues"] if i["kind"] == "pfs-not-payable"]
    put("pfs-rvu", [("20705", "", "T", "0", "XXX", "0", "0", "0", "0", "0")], release="RVU26D")
    _, alone, _ = check(main, "20705", "--date", ON)
    _, paired, _ = check(main, "20705", "--with", "99999", "--date", ON)
    assert not messages(alone, "pfs-paid-alone")
    assert messages(paired, "pfs-paid-alone")[0].endswith("the claim has 99999 on the same date")
