"""Abbreviations a code set defines itself (cptcli.search.abbreviations)."""

from __future__ import annotations

from cptcli.search.abbreviations import mine


def test_spelt_out_before_parentheses_and_used_in_a_short_form():
    found = mine(
        [
            ("An initial preventive physical examination (IPPE) or annual wellness visit (AWV)", ""),
            ("Continuous passive motion exercise device for use on knee only", "Cpm device, knee"),
            ("Thoracic-lumbar-sacral orthosis (TLSO), rigid", "Tlso rigid"),
        ]
    )
    assert found == {
        "ippe": {"initial preventive physical examination"},
        "awv": {"annual wellness visit"},
        "cpm": {"continuous passive motion"},
        "tlso": {"thoracic lumbar sacral orthosis"},
    }


def test_what_is_not_an_abbreviation():
    found = mine(
        [
            ("Wrist hand orthosis (WHO) for patients", ""),  # three letters, but "who" below is a word
            *[(f"Patients who had procedure {i}", "") for i in range(6)],
            ("Hospital bed with side rails", "Hosp bed w sr"),  # "sr": two letters; "hosp" is not initials
            ("Knee orthosis, elastic (KO)", ""),  # two letters
            ("Cane, quad (xyz), adjustable", ""),  # the letters spell no words before them
        ]
    )
    assert found == {}


def test_an_abbreviation_with_two_readings_keeps_both():
    found = mine([("Magnetic resonance imaging (MRI), brain", ""), ("Magnetic resonance image (MRI) guided", "")])
    assert found == {"mri": {"magnetic resonance imaging", "magnetic resonance image"}}
