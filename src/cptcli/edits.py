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

# MUE adjudication indicators (CMS, "Medically Unlikely Edits", MUE Adjudication Indicator definitions).
MAI = {
    1: "a line edit: the units on this line above the MUE are denied (the same code on separate lines with anatomic "
    "or other modifiers is judged line by line)",
    2: "a date-of-service policy edit: units above the MUE on one date of service are denied, and the MUE is "
    "absolute (not paid on appeal)",
    3: "a date-of-service clinical edit: units above the MUE on one date of service are denied; they may be paid on "
    "appeal with documentation of medical necessity",
}
# PTP modifier indicators (CMS, NCCI PTP edit files' column definitions; NCCI Policy Manual, Chapter I).
PTP_MODIFIER = {
    0: "not allowed: no modifier lets both codes be paid",
    1: "allowed: an NCCI-associated modifier on the column-2 code lets both be paid where the service is distinct",
    9: "not applicable (the edit was deleted retroactively)",
}
# AOC edit types (CMS, "Add-on Code Edits": edit type definitions).
AOC_TYPE = {
    1: "only the listed primary codes",
    2: "CMS lists no primaries: the contractor decides",
    3: "the listed primaries, and others the contractor allows",
}
# PFS status codes the fee schedule pays (CMS, PFS Relative Value File, "Status Code" definitions): A active, C
# carrier priced, R restricted coverage, T paid only if no other service is billed on the date; the rest are not
# paid under the fee schedule.
PFS_PAYABLE = frozenset("A C R T".split())
PFS_STATUS = {
    "A": "active code, paid under the fee schedule",
    "B": "payment bundled into other services: not paid separately",
    "C": "carrier priced",
    "D": "deleted code",
    "E": "excluded from the fee schedule by regulation",
    "F": "deleted code, no grace period",
    "G": "not valid for Medicare purposes: another code is used",
    "H": "deleted modifier combination",
    "I": "not valid for Medicare purposes: Medicare uses another code",
    "J": "anesthesia service: no RVUs",
    "M": "measurement code, for reporting only",
    "N": "non-covered service",
    "P": "bundled or excluded code: no separate payment",
    "R": "restricted coverage",
    "T": "injection: paid only if no other service is paid on the same date",
    "X": "statutory exclusion: not in the fee schedule",
}
GLOBAL_DAYS = {
    "000": "0-day postoperative period (endoscopic or minor procedure)",
    "010": "10-day postoperative period (minor procedure)",
    "090": "90-day postoperative period (major procedure)",
    "MMM": "maternity code: the usual global period does not apply",
    "XXX": "the global concept does not apply",
    "YYY": "the carrier sets the global period",
    "ZZZ": "belongs in the global period of another service (an add-on)",
}
PFS_INDICATORS = {
    "bilateral": {
        "0": "the 150% bilateral adjustment does not apply: 50 is not appropriate",
        "1": "the 150% bilateral adjustment applies",
        "2": "the code is already bilateral: 50 is not appropriate",
        "3": "each side is paid at 100% (no bilateral adjustment)",
        "9": "the bilateral concept does not apply",
    },
    "assistant": {
        "0": "assistants are paid only with documentation of medical necessity",
        "1": "assistants at surgery are not paid (statutory restriction)",
        "2": "assistants at surgery may be paid",
        "9": "the assistant concept does not apply",
    },
    "co_surgeons": {
        "0": "co-surgeons are not permitted",
        "1": "co-surgeons are paid with documentation of medical necessity",
        "2": "co-surgeons are permitted",
        "9": "the co-surgeon concept does not apply",
    },
    "team": {
        "0": "team surgeons are not permitted",
        "1": "a team is paid with documentation of medical necessity",
        "2": "team surgeons are permitted",
        "9": "the team concept does not apply",
    },
    "pctc": {
        "0": "physician service: no professional/technical split",
        "1": "diagnostic test: 26 and TC apply",
        "2": "professional component only",
        "3": "technical component only",
        "4": "global test only",
        "5": "incident-to code",
        "6": "laboratory physician interpretation",
        "7": "physical therapy service",
        "8": "physician interpretation",
        "9": "the PC/TC concept does not apply",
    },
    "mult_proc": {
        "0": "no multiple procedure reduction",
        "1": "standard reduction (before 1996)",
        "2": "standard multiple procedure reduction: 100%, then 50%",
        "3": "endoscopic family reduction",
        "4": "diagnostic imaging reduction",
        "5": "therapy services reduction",
        "6": "diagnostic cardiovascular reduction",
        "7": "diagnostic ophthalmology reduction",
        "9": "the concept does not apply",
    },
}
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


class Edits:
    """The imported payer sets one call reads (cptcli.imports.store.Lookup underneath)."""

    def __init__(self) -> None:
        from cptcli.imports import store

        self.lookup = store.Lookup()

    def release(self, kind: str, slot: str = "") -> Release | None:
        for s in self.lookup.sets(kind):
            if s.slot == slot:
                return Release(s.kind, s.slot, s.release, s.files, s.covers)
        return None

    def rows(self, release: Release, sql: str, args: tuple = ()) -> list[tuple]:
        return self.lookup.rows(release.kind, release.slot, sql, args)

    def close(self) -> None:
        self.lookup.close()

    # -- what `show` gives of a code -----------------------------------------------------------------

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
    nothing more without them."""
    import os

    from cptcli.cache import data_dir
    from cptcli.places import SUFFIX

    try:
        names = os.listdir(data_dir())
    except OSError:
        return False
    return any(n.startswith(PAYER_KINDS) and n.endswith(SUFFIX) for n in names)


PAYER_KINDS = ("ncci-ptp.", "ncci-mue.", "ncci-aoc.", "pfs-rvu.")
