"""Payer-edit sets written straight into the store, in the table shapes the kinds declare, so the check rules are
tested on exact rows apart from the parsers of CMS's files (each kind's own tests read those)."""

from cptcli.imports import store
from cptcli.imports.kind import Table

# The shapes the ncci-ptp, ncci-mue, ncci-aoc, pfs-rvu and icd10cm kinds declare (imports/<kind>.py TABLES).
PTP = Table(
    "ptp",
    (
        "column1 TEXT NOT NULL",
        "column2 TEXT NOT NULL",
        "prior_1996 INTEGER NOT NULL",
        "effective TEXT NOT NULL",
        "ends TEXT",
        "modifier INTEGER NOT NULL",
        "rationale TEXT NOT NULL",
        "part INTEGER NOT NULL",
    ),
    (("column1", "column2"), ("column2",)),
)
MUE = Table(
    "mue",
    ("code TEXT NOT NULL", "value INTEGER NOT NULL", "mai INTEGER NOT NULL", "rationale TEXT NOT NULL"),
    (("code",),),
)
AOC = Table(
    "aoc",
    (
        "addon TEXT NOT NULL",
        "addon_ends TEXT",
        "primary_code TEXT NOT NULL",
        "primary_ends TEXT",
        "effective TEXT NOT NULL",
        "ends TEXT",
        "edit_type INTEGER NOT NULL",
        "notes TEXT NOT NULL",
    ),
    (("addon",), ("primary_code",)),
)
PFS = Table(
    "pfs",
    (
        "code TEXT NOT NULL",
        "modifier TEXT NOT NULL",
        "status TEXT NOT NULL",
        "pctc TEXT",
        "global_days TEXT",
        "mult_proc TEXT",
        "bilateral TEXT",
        "assistant TEXT",
        "co_surgeons TEXT",
        "team TEXT",
    ),
    (("code",),),
)
ICD = Table(
    "icd",
    ("code TEXT NOT NULL", "billable INTEGER NOT NULL", "short TEXT NOT NULL", "long TEXT NOT NULL"),
    (("code",),),
)

TABLES = {"ncci-ptp": PTP, "ncci-mue": MUE, "ncci-aoc": AOC, "pfs-rvu": PFS, "icd10cm": ICD}
QUARTER = ("2026-10-01", "2026-12-31")


def put(kind: str, rows, slot: str = "", release: str = "2026 Q4", covers=QUARTER, files=("fabricated.txt",)):
    """Make `rows` the active set of `kind` in `slot`."""
    table = TABLES[kind]
    return store.write(
        kind,
        release,
        [(f, f"{i:064x}") for i, f in enumerate(files)],
        slot=slot,
        covers=covers,
        tables=[table],
        rows={table.name: list(rows)},
    )


def every_kind(code: str, date_from: str = "2026-10-01", date_to: str = "2026-12-31"):
    """Every payer set imported, none with an edit against `code`: PFS lists it as active, MUE allows 2 units."""
    covers = (date_from, date_to)
    for slot in ("practitioner", "outpatient"):
        put("ncci-ptp", [("99998", "99997", 0, "2000-01-01", None, 0, "fabricated", 0)], slot, covers=covers)
    for slot in ("practitioner", "outpatient", "dme"):
        put("ncci-mue", [(code, 2, 3, "Clinical: Data")], slot, covers=covers)
    put("ncci-aoc", [("99996", None, "99995", None, "2010-01-01", None, 1, "")], covers=covers)
    put("pfs-rvu", [(code, "", "A", "0", "090", "2", "1", "2", "1", "0")], release="RVU26D", covers=covers)
