"""Look-ups in the payer-edit sets the user imported (NCCI PTP, MUE, AOC; the PFS RVU file): the reader the check
rules judge a line with (cptcli.rules.payer), and the facts `show` gives of one code. Each set is opened on its first
question and asked only what the question names, through its indexes; nothing here imports the typed model, so that
`show CODE --json` can afford it.
"""

from __future__ import annotations

from typing import NamedTuple

# What `show` names each kind's facts by, and the settings a kind keeps apart.
SETTINGS = ("practitioner", "outpatient", "dme")
PTP_SETTINGS = ("practitioner", "outpatient")

# The words of every coded value of the payer files, one home for the kinds that read them, the rules and `show`.

# The modifier indicator in words: CMS's file header ("0=not allowed 1=allowed 9=not applicable") as the Medicare
# NCCI Policy Manual, chapter I, section E ("Modifiers and Modifier Indicators") and CMS's PTP edits page explain it.
PTP_MEANINGS: dict[str, dict[int, str]] = {
    "modifier": {
        0: "not allowed: no modifier bypasses this edit; the column 2 code is not paid with the column 1 code",
        1: "allowed: an NCCI-associated modifier on the column 2 code may bypass this edit where the clinical "
        "circumstances justify it",
        9: "not applicable: the edit was deleted back to its effective date and never applied",
    },
}

# The NCCI-associated modifiers that may bypass an edit whose indicator is 1, as the Medicare NCCI Policy Manual,
# chapter I, section E ("Modifiers and Modifier Indicators") lists them: anatomic, global surgery, and others.
BYPASS_MODIFIERS: tuple[str, ...] = (
    # anatomic
    "E1", "E2", "E3", "E4",
    "FA", "F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9",
    "TA", "T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9",
    "LT", "RT", "LC", "LD", "RC", "LM", "RI",
    # global surgery
    "24", "25", "57", "58", "78", "79",
    # other
    "27", "59", "91", "XE", "XP", "XS", "XU",
)  # fmt: skip

# Words for the MUE Adjudication Indicator, from CMS's "Medicare NCCI Medically Unlikely Edits" page
# (https://www.cms.gov/medicare/coding-billing/national-correct-coding-initiative-ncci-edits/
# medicare-ncci-medically-unlikely-edits) and the MLN booklet "How to Use the Medicare National Correct Coding
# Initiative (NCCI) Tools" (MLN901346): a claim line MUE compares each line's units to the value; a date of
# service MUE sums the code's units over every line of the same date of service.
MUE_MEANINGS: dict[str, dict[int, str]] = {
    "mai": {
        1: "Line edit: the units on each claim line are compared to the MUE value, and all units on a line over "
        "it are denied; the same code reported on separate lines with appropriate modifiers (59 or XE, XP, XS, "
        "XU; 76, 77, 91; anatomic) is judged line by line",
        2: "Date of service edit, policy: the code's units on all lines for the same date of service are summed "
        "and compared to the MUE value; an absolute limit (more would be contrary to statute, regulation or "
        "subregulatory guidance), not paid on appeal",
        3: "Date of service edit, clinical: the code's units on all lines for the same date of service are summed "
        "and compared to the MUE value; based on clinical benchmarks, units over it may be paid on appeal with "
        "documentation of medical necessity",
    },
}

# Words for the AOC edit types, from CMS's "Medicare NCCI Add-on Code Edits" page
# (https://www.cms.gov/ncci-medicare/medicare-ncci-add-code-edits) and the NCCI Policy Manual for Medicare
# Services, Chapter I, section on add-on codes.
AOC_MEANINGS: dict[str, dict[int, str]] = {
    "edit_type": {
        1: "Type 1: the CPT Professional or HCPCS files define all acceptable primary codes; contractors should "
        "not allow other primary codes. The add-on is paid only if a listed primary code is also eligible for "
        "payment to the same practitioner for the same patient on the same date of service",
        2: "Type 2: the CPT Professional and HCPCS files define no primary codes (CCCCC in the file); contractors "
        "develop their own lists of acceptable primary codes",
        3: "Type 3: the CPT Professional or HCPCS files define some, but not all, acceptable primary codes; "
        "contractors should allow the listed primary codes and may develop their own lists of additional "
        "acceptable primary codes",
    },
}

_PFS_DOC = "RVUPUF26 (National Physician Fee Schedule Relative Value File, CY 2026), RVU26A.zip"
PFS_SOURCES = {
    "status": f"{_PFS_DOC}: STATUS CODE; Medicare Claims Processing Manual, Pub. 100-04, ch. 23, §30.2.2",
    "pctc": f"{_PFS_DOC}: PCTC IND; Pub. 100-04, ch. 12, §20.4.2-§20.4.3",
    "global_days": f"{_PFS_DOC}: GLOB DAYS; Pub. 100-04, ch. 12, §40.1",
    "mult_proc": f"{_PFS_DOC}: MULT PROC (modifier 51); Pub. 100-04, ch. 12, §40.6",
    "bilateral": f"{_PFS_DOC}: BILAT SURG (modifier 50); Pub. 100-04, ch. 12, §40.7",
    "assistant": f"{_PFS_DOC}: ASST SURG (modifiers 80, 81, 82, AS); Pub. 100-04, ch. 12, §20.4.3",
    "co_surgeons": f"{_PFS_DOC}: CO-SURG (modifier 62); Pub. 100-04, ch. 12, §40.8",
    "team": f"{_PFS_DOC}: TEAM SURG (modifier 66); Pub. 100-04, ch. 12, §40.8",
}

PFS_MEANINGS: dict[str, dict[str, str]] = {
    "status": {
        "A": "Active code: separately paid under the physician fee schedule if covered (RVUs and payment amounts "
        "are shown; A is not a national coverage determination)",
        "B": "Bundled code: payment is always bundled into payment for other services; no RVUs, no separate "
        "payment is ever made",
        "C": "Contractor-priced code: the Medicare contractor establishes RVUs and payment, generally case by case "
        "after reviewing documentation such as an operative report",
        "D": "Deleted code: deleted effective the beginning of the year (no longer on the file since 2006: the "
        "grace period for deleted codes no longer applies)",
        "E": "Excluded from the physician fee schedule by regulation: no RVUs or payment under the fee schedule; "
        "when covered, paid under reasonable charge procedures",
        "F": "Deleted/discontinued code, not subject to a 90-day grace period (no longer on the file since 2006)",
        "G": "Not valid for Medicare purposes: Medicare uses another code for it; subject to a 90-day grace period "
        "(no longer on the file since 2006)",
        "H": "Deleted modifier: the code's TC or 26 component was deleted this year (no longer on the file since 2006)",
        "I": "Not valid for Medicare purposes: Medicare uses another code for reporting and payment; not subject "
        "to a 90-day grace period",
        "J": "Anesthesia service: no RVUs or payment amounts on the file; the value identifies anesthesia services",
        "M": "Measurement code: used for reporting purposes only",
        "N": "Non-covered service: not covered by Medicare",
        "P": "Bundled/excluded code: no RVUs and no separate fee schedule payment; paid with the physician "
        "service it is incident to, or outside the fee schedule when covered otherwise",
        "R": "Restricted coverage: special coverage instructions apply; if covered, the service is contractor priced",
        "T": "Paid only if no other service payable under the fee schedule is billed on the same date by the same "
        "provider; otherwise bundled into those services",
        "X": "Statutory exclusion: not in the statutory definition of physician services; no RVUs and no payment "
        "under the fee schedule (e.g. ambulance, clinical laboratory services)",
    },
    "pctc": {
        "0": "Physician service: the PC/TC split does not apply; modifiers 26 and TC cannot be used",
        "1": "Diagnostic test with professional and technical components: modifiers 26 and TC can be used",
        "2": "Professional component only: the code itself is the physician's part; modifiers 26 and TC cannot be used",
        "3": "Technical component only: modifiers 26 and TC cannot be used",
        "4": "Global test only: separate codes describe the professional and technical components; modifiers 26 "
        "and TC cannot be used",
        "5": "Incident-to code: services provided by personnel working under a physician's supervision; "
        "modifiers 26 and TC cannot be used",
        "6": "Laboratory physician interpretation: the clinical lab service is paid under the lab fee schedule; "
        "modifier TC cannot be used",
        "7": "Physical therapy service for which payment may not be made to a physician's office when provided "
        "by an independent therapist (no RVUs)",
        "8": "Physician interpretation code: only the professional component is paid under the fee schedule; "
        "modifier TC cannot be used",
        "9": "Not applicable: the PC/TC concept does not apply",
    },
    "global_days": {
        "000": "Endoscopic or minor procedure: related pre- and postoperative work on the day of the procedure "
        "only; evaluation and management on that day generally not payable",
        "010": "Minor procedure: preoperative work on the day and a 10-day postoperative period included; "
        "evaluation and management in that period generally not payable",
        "090": "Major surgery: a 1-day preoperative period and a 90-day postoperative period included",
        "MMM": "Maternity code: the usual global period does not apply",
        "XXX": "The global concept does not apply",
        "YYY": "The contractor decides whether the global concept applies and sets the postoperative period",
        "ZZZ": "Related to another service and always included in that service's global period",
    },
    "mult_proc": {
        "0": "No payment adjustment for multiple procedures applies",
        "1": "Standard payment adjustment rules in effect before 1 January 1996 apply (codes with status D only)",
        "2": "Standard multiple procedure rules apply: 100% for the highest valued procedure, 50% for the next "
        "four, the rest by documentation",
        "3": "Special rules for multiple endoscopic procedures apply (related endoscopies by family)",
        "4": "Multiple procedure reduction of diagnostic imaging applies (technical and professional components)",
        "5": "Multiple procedure reduction of the practice expense of 'always therapy' services applies",
        "6": "Multiple procedure reduction of the technical component of diagnostic cardiovascular services applies",
        "7": "Multiple procedure reduction of the technical component of diagnostic ophthalmology services applies",
        "9": "The multiple procedure concept does not apply",
    },
    "bilateral": {
        "0": "150% bilateral adjustment does not apply: with modifier 50 or RT and LT, both sides are paid as "
        "one (the lower of the total charge or 100% of the fee schedule amount)",
        "1": "150% bilateral adjustment applies: with modifier 50, RT and LT, or 2 units, payment is the lower "
        "of the total charge or 150% of the single-code amount",
        "2": "150% bilateral adjustment does not apply: the RVUs already describe a bilateral procedure; with "
        "modifier 50 both sides are paid at 100% of one",
        "3": "The usual bilateral adjustment does not apply: each side is paid at 100% (radiology and other "
        "diagnostic tests)",
        "9": "The bilateral concept does not apply",
    },
    "assistant": {
        "0": "Payment restriction for an assistant at surgery applies unless supporting documentation "
        "establishes medical necessity",
        "1": "Statutory payment restriction: an assistant at surgery may not be paid",
        "2": "No payment restriction: an assistant at surgery may be paid",
        "9": "The assistant at surgery concept does not apply",
    },
    "co_surgeons": {
        "0": "Co-surgeons not permitted for this procedure",
        "1": "Co-surgeons could be paid; supporting documentation must establish medical necessity",
        "2": "Co-surgeons permitted; no documentation required if the two-specialty requirement is met",
        "9": "The co-surgeon concept does not apply",
    },
    "team": {
        "0": "Team surgeons not permitted for this procedure",
        "1": "Team surgeons could be paid; supporting documentation must establish medical necessity; paid by report",
        "2": "Team surgeons permitted; paid by report",
        "9": "The team surgeon concept does not apply",
    },
}

# Status codes whose services are paid under the fee schedule (on its RVUs, or priced by the contractor). NOT_PAYABLE:
# never paid under it: B (bundled), E (excluded by regulation), I (not valid for Medicare), M (measurement only),
# N (non-covered), P (bundled/excluded), X (statutory exclusion), and the deleted codes D, F, G, H. Neither set: J,
# anesthesia, paid on base units and time with the anesthesia conversion factor, not on this file's RVUs (a rule
# names it, it does not fail it). T is payable only alone (no other payable service that day by the same provider):
# a rule must say so, not pass it silently.
PFS_PAYABLE = frozenset({"A", "C", "R", "T"})
PFS_NOT_PAYABLE = frozenset({"B", "D", "E", "F", "G", "H", "I", "M", "N", "P", "X"})

# The words rules and `show` print, by what they name.
MAI = MUE_MEANINGS["mai"]
PTP_MODIFIER = PTP_MEANINGS["modifier"]
AOC_TYPE = AOC_MEANINGS["edit_type"]
PFS_STATUS = PFS_MEANINGS["status"]
GLOBAL_DAYS = PFS_MEANINGS["global_days"]
PFS_INDICATORS = PFS_MEANINGS

PFS_COLUMNS = (
    "modifier",
    "status",
    "pctc",
    "global_days",
    "mult_proc",
    "bilateral",
    "assistant",
    "co_surgeons",
    "team",
)


class Release(NamedTuple):
    """An imported set an edit is read from, as a finding or a fact cites it."""

    kind: str
    slot: str
    release: str
    files: tuple[str, ...]
    covers: tuple[str, str] | None

    def file(self, part: int = 0) -> str:
        return self.files[part] if 0 <= part < len(self.files) else ", ".join(self.files)

    def cite(self, part: int = 0) -> str:
        return f"{self.file(part)}, {self.release}"

    def applies(self, date: str) -> bool:
        return self.covers is None or self.covers[0] <= date <= self.covers[1]


def in_force(effective: str | None, ends: str | None, date: str) -> bool:
    """Whether an edit applies on a date of service: on or after its effective date and on or before the last day
    it is in force (the kinds store that last day, not the file's deletion date)."""
    return (not effective or effective <= date) and (not ends or date <= ends)


# How many answers an Edits reader keeps (a bound on a claims file's memory, whatever its size).
ANSWERS_KEPT = 200_000


class Edits:
    """The imported payer sets one call reads (cptcli.sets.Lookup underneath)."""

    def __init__(self) -> None:
        from cptcli.sets import Lookup

        self.lookup = Lookup()
        # The answers already given: the sets do not change during a call, and a claims file asks the same
        # questions of its codes line after line.
        self._asked: dict[tuple, list[tuple]] = {}

    def release(self, kind: str, slot: str = "") -> Release | None:
        for s in self.lookup.sets(kind):
            if s.slot == slot:
                return Release(s.kind, s.slot, s.release, s.files, s.covers)
        return None

    def rows(self, release: Release, sql: str, args: tuple = ()) -> list[tuple]:
        """The rows of one query in `release`'s set; the list may be an earlier answer's: read it, never change it."""
        key = (release.kind, release.slot, sql, args)
        found = self._asked.get(key)
        if found is None:
            found = self.lookup.rows(release.kind, release.slot, sql, args)
            if len(self._asked) < ANSWERS_KEPT:
                self._asked[key] = found
        return found

    def close(self) -> None:
        self.lookup.close()

    def mentions(self, code: str) -> Release | None:
        """The first imported payer set that has an edit of `code`, or None: a code no descriptor set holds (a CPT
        code without the AMA's files) can still be judged by the edits CMS publishes for it."""
        for kind, sql in (
            ("pfs-rvu", "SELECT 1 FROM pfs WHERE code = ? LIMIT 1"),
            ("ncci-mue", "SELECT 1 FROM mue WHERE code = ? LIMIT 1"),
            ("ncci-ptp", "SELECT 1 FROM ptp WHERE column1 = ?1 OR column2 = ?1 LIMIT 1"),
            ("ncci-aoc", "SELECT 1 FROM aoc WHERE addon = ?1 OR primary_code = ?1 LIMIT 1"),
        ):
            for s in self.lookup.sets(kind):
                r = Release(s.kind, s.slot, s.release, s.files, s.covers)
                if self.rows(r, sql, (code,)):
                    return r
        return None

    # -- what `show` gives of a code -----------------------------------------------------------------

    def ndc(self, forms: tuple[str, ...], date: str) -> tuple[Release | None, list[dict]]:
        """The imported ASP crosswalk and its rows for an NDC (its possible 11-digit `forms`, codes.ndc_digits),
        each saying whether the crosswalk's quarter covers `date`."""
        r = self.release("asp-ndc")
        if r is None:
            return None, []
        marks = ", ".join("?" * len(forms))
        rows = self.rows(r, f"SELECT {', '.join(NDC_COLUMNS)} FROM ndc WHERE ndc IN ({marks}) ORDER BY code", forms)
        extra = {"source": r.cite(), "in_force_on_date": r.applies(date)}
        return r, [{**dict(zip(NDC_COLUMNS, row, strict=True)), **extra} for row in rows]

    def pfs(self, release: Release, code: str) -> dict[str, dict]:
        """The code's PFS rows by modifier ('' for the global row)."""
        rows = self.rows(release, f"SELECT {', '.join(PFS_COLUMNS)} FROM pfs WHERE code = ?", (code,))
        return {r[0] or "": dict(zip(PFS_COLUMNS, r, strict=True)) for r in rows}

    def facts(self, code: str, date: str, ptp_edits: bool = False) -> dict | None:
        """The payer facts of `code` on `date` from every imported set, or None when none is imported."""
        out: dict = {"date": date}
        found = False
        pfs = self.release("pfs-rvu")
        if pfs is not None:
            found = True
            out["fee_schedule"] = self._fee_schedule(pfs, code)
        mues = []
        for slot in SETTINGS:
            r = self.release("ncci-mue", slot)
            if r is None:
                continue
            found = True
            for value, mai, rationale in self.rows(r, "SELECT value, mai, rationale FROM mue WHERE code = ?", (code,)):
                mues.append(
                    {
                        "setting": slot,
                        "value": value,
                        "mai": mai,
                        "meaning": MAI.get(int(mai)),
                        "rationale": rationale,
                        "source": r.cite(),
                        "in_force_on_date": r.applies(date),
                    }
                )
        if mues or any(self.release("ncci-mue", s) for s in SETTINGS):
            out["mue"] = mues
        aoc = self.release("ncci-aoc")
        if aoc is not None:
            found = True
            out["add_on_edits"] = self._aoc(aoc, code, date)
        ptp = []
        for slot in PTP_SETTINGS:
            r = self.release("ncci-ptp", slot)
            if r is None:
                continue
            found = True
            ptp.append(self._ptp(r, code, date, ptp_edits))
        if ptp:
            out["ptp"] = ptp
        return out if found else None

    def _fee_schedule(self, r: Release, code: str) -> dict | None:
        rows = self.pfs(r, code)
        row = rows.get("")
        if row is None:
            return {"listed": False, "source": r.cite()}
        return {
            "listed": True,
            "status": row["status"],
            "status_meaning": PFS_STATUS.get(row["status"]),
            "payable": row["status"] in PFS_PAYABLE,
            "global_days": row["global_days"],
            "global_days_meaning": GLOBAL_DAYS.get(row["global_days"] or ""),
            "indicators": {
                name: {"value": row[name], "meaning": PFS_INDICATORS[name].get((row[name] or "").strip())}
                for name in ("pctc", "mult_proc", "bilateral", "assistant", "co_surgeons", "team")
            },
            "modifier_rows": sorted(m for m in rows if m),
            "source": r.cite(),
        }

    def _aoc(self, r: Release, code: str, date: str) -> dict:
        rows = self.rows(
            r,
            "SELECT primary_code, effective, ends, edit_type FROM aoc WHERE addon = ? ORDER BY primary_code",
            (code,),
        )
        (as_primary,) = self.rows(r, "SELECT count(DISTINCT addon) FROM aoc WHERE primary_code = ?", (code,))[0]
        live = [x for x in rows if in_force(x[1], x[2], date)]
        return {
            "is_add_on": bool(rows),
            "edit_types": {str(t): AOC_TYPE.get(int(t)) for t in sorted({x[3] for x in live})},
            "primaries": [x[0] for x in live],
            "primary_of_add_ons": as_primary,
            "source": r.cite(),
        }

    def _ptp(self, r: Release, code: str, date: str, listed: bool) -> dict:
        cols = "column1, column2, effective, ends, modifier, rationale, part"
        as1 = self.rows(r, f"SELECT {cols} FROM ptp WHERE column1 = ?", (code,))
        as2 = self.rows(r, f"SELECT {cols} FROM ptp WHERE column2 = ?", (code,))
        live1 = [x for x in as1 if in_force(x[2], x[3], date)]
        live2 = [x for x in as2 if in_force(x[2], x[3], date)]
        out: dict = {
            "setting": r.slot,
            "as_column1": len(live1),
            "as_column2": len(live2),
            "source": r.cite(),
            "in_force_on_date": r.applies(date),
        }
        if listed:
            out["edits"] = [
                {
                    "column1": x[0],
                    "column2": x[1],
                    "effective": x[2],
                    "ends": x[3],
                    "modifier_indicator": x[4],
                    "meaning": PTP_MODIFIER.get(int(x[4])),
                    "rationale": x[5],
                    "in_force_on_date": in_force(x[2], x[3], date),
                    "source": r.cite(x[6]),
                }
                for x in sorted(as1 + as2, key=lambda x: (x[0], x[1], x[2]))
            ]
        return out


def imported() -> bool:
    """Whether any payer set is imported: a directory listing only (no import of the store), so that `show` pays
    nothing more without them. The listing is the one every reader of imported sets makes (cptcli.places): a set
    that cannot be trusted, or is not a file, is refused there (exit 3), not passed over."""
    from cptcli.places import imported_sets

    return any(n.startswith(PAYER_KINDS) for n, _ in imported_sets()[1])


PAYER_KINDS = ("ncci-ptp.", "ncci-mue.", "ncci-aoc.", "pfs-rvu.", "asp-ndc.")
# The columns of the ASP NDC-HCPCS crosswalk's table (cptcli.imports.asp_ndc) a look-up of an NDC answers with.
NDC_COLUMNS = (
    "ndc",
    "ndc_as_filed",
    "code",
    "labeler",
    "drug",
    "dosage",
    "pkg_size",
    "pkg_qty",
    "bill_units",
    "bill_units_pkg",
)
