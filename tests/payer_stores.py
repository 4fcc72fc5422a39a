"""Payer-edit sets written straight into the store, in the table shapes the kinds declare, so the check rules are
tested on exact rows apart from the parsers of CMS's files (each kind's own tests read those)."""

from cptcli.imports import parser, store

# The tables each payer kind declares (imports/<kind>.py TABLES), as the store writes them.
TABLES = {k: parser(k).TABLES[0] for k in ("ncci-ptp", "ncci-mue", "ncci-aoc", "pfs-rvu", "icd10cm")}
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
