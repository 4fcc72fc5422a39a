"""Shared pieces of the import cases (issue 24): the fixtures as bytes, a sandbox
with its own data directory, and what a refused import must leave behind."""

import json
from pathlib import Path

from advkit import ROOT, held, text

FIXTURES = ROOT / "tests" / "fixtures" / "imports"
HCPCS = FIXTURES / "HCPC2026_JAN_ANWEB.txt"
CMS = FIXTURES / "cms" / "HCPC2020_ANWEB_w_disclaimer.txt"
CPT_NAMES = ("LONGULT", "MEDU", "SHORTU", "ConsumerDescriptor", "ClinicianDescriptor")
CPT = {n: FIXTURES / "cpt" / f"{n}.txt" for n in CPT_NAMES}


def data_dir(home) -> Path:
    return home.home / ".local" / "share" / "cptcli"


def imported(home, *files, env=None, args=()):
    """Run `cptcli import FILES --json`; (process, parsed reports or None)."""
    p = home.run("import", *map(str, files), "--json", *args, env=env, timeout=120)
    doc = json.loads(p.stdout) if p.returncode == 0 and p.stdout else None
    return p, doc


def active(home) -> dict:
    """kind -> (release, records) of the active sets, read through `cptcli sources --json`."""
    p = home.run("sources", "--json")
    assert p.returncode == 0, text(p.stderr)
    return {r["kind"]: (r["release"], r["records"]) for r in json.loads(p.stdout) if r["imported_at"]}


def refused(p, status=3) -> list:
    """`held` plus: the import was refused with `status`."""
    problems = held(p)
    if p.returncode != status:
        problems.append(f"status {p.returncode}, not {status}")
    return problems
