"""Shared pieces of the adversarial suite: a sandboxed run of the installed
console script, the checks every case makes, and hostile knowledge bases."""

import copy
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
EXE = str(Path(sys.executable).parent / "cptcli")
FIXTURE = ROOT / "tests" / "fixtures" / "example_user_kb.json"
BUNDLED = ROOT / "data" / "codes.json"

# README: 0 ok, 1 not found / findings / check failed, 2 usage, 3 data, 4 check not verified,
# 5 the output could not be written (EIO, ENOSPC), 130 interrupted.
STATUSES = {0, 1, 2, 3, 4, 5, 130}
# Raw bytes that must never reach stdout or stderr from data: C0 controls but
# newline and tab, DEL, C1 controls (as UTF-8), bidi controls.
FORBIDDEN = [chr(c) for c in range(0x20) if c not in (0x0A, 0x09)] + ["\x7f"]
FORBIDDEN += [chr(c) for c in range(0x80, 0xA0)]
FORBIDDEN += [
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    "\u200e",
    "\u200f",
    "\u061c",
]


class Sandbox:
    def __init__(self, tmp_path: Path):
        self.tmp = tmp_path
        self.cache = tmp_path / "cache"
        self.home = tmp_path / "home"
        self.home.mkdir(exist_ok=True)

    def env(self, extra=None) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CPTCLI_", "COLUMNS", "LINES"))}
        env.update(
            {
                "NO_COLOR": "1",
                "COLUMNS": "100",
                "TERM": "dumb",
                "HOME": str(self.home),
                "CPTCLI_CACHE_DIR": str(self.cache),
                "PYTHONDONTWRITEBYTECODE": "1",
            }
        )
        for k, v in (extra or {}).items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        return env

    def run(self, *args, env=None, input=None, timeout=60, stdout=None):
        kw = {"stdout": stdout} if stdout is not None else {"stdout": subprocess.PIPE}
        return subprocess.run(
            [EXE, *map(str, args)], input=input, stderr=subprocess.PIPE, env=self.env(env), timeout=timeout, **kw
        )

    def popen(self, *args, env=None):
        # SIGINT as a terminal gives it: a suite started in the background (nohup, `&`) ignores it,
        # and a child would inherit that and never see the Ctrl-C a test sends.
        return subprocess.Popen(
            [EXE, *map(str, args)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=self.env(env),
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )

    def write(self, name: str, doc) -> Path:
        path = self.tmp / name
        path.write_text(
            doc if isinstance(doc, str) else json.dumps(doc, ensure_ascii=False),
            encoding="utf-8",
            errors="surrogatepass",
        )
        return path

    def leftovers(self) -> list:
        return sorted(p.name for p in self.cache.rglob("*.tmp")) if self.cache.exists() else []


def text(b) -> str:
    return b.decode("utf-8", "replace") if isinstance(b, bytes) else (b or "")


def held(p, statuses=STATUSES, *, error_expected=None, usage_text=False, partial_stdout=False) -> list:
    """The ways a finished run broke the contract (empty: held): a traceback,
    an undocumented status, more than one stderr line on an error, stdout
    written on a usage or data error, raw control characters on stderr.
    `usage_text`: a bare `cptcli` prints its usage on stderr (exit 2), not one
    line. `partial_stdout`: a batch may print the answers before its error."""
    problems = []
    err, out = text(p.stderr), text(p.stdout)
    if "Traceback" in err or re.search(r"(?m)^\w*(Error|Exception|Interrupt)\b", err):
        problems.append("traceback")
    if p.returncode not in statuses:
        problems.append(f"status {p.returncode} not in {sorted(statuses)}")
    if p.returncode in (2, 3, 5) and len(err.rstrip("\n").splitlines()) != 1 and not usage_text:
        problems.append(f"{len(err.splitlines())} stderr lines on an error")
    if p.returncode in (2, 3) and out and not partial_stdout:
        problems.append("stdout not empty on an error")
    if any(c in err for c in FORBIDDEN):
        problems.append("raw control character on stderr")
    if error_expected is True and p.returncode == 0:
        problems.append("exit 0 for a refused input")
    return problems


def user_kb() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def with_texts(texts, field="payers") -> dict:
    """The example user file with `texts` as 20700's `field` entries."""
    doc = user_kb()
    rec = doc["codes"][0]
    rec[field] = [{"text": t, "sources": ["my-payer-policy.pdf"]} for t in texts]
    return doc


def own_record(title: str) -> dict:
    """A base of its own (for --no-bundled): 20700 as bundled, titled `title`."""
    bundled = json.loads(BUNDLED.read_text(encoding="utf-8"))
    rec = copy.deepcopy(next(r for r in bundled["codes"] if r["code"] == "20700"))
    rec["title"]["text"] = title
    # Alone, it may name no other code (the reference rule): its related rows and cross-references go.
    rec.pop("related", None)
    rec.pop("cross_references", None)
    rec["notes"] = [n for n in rec.get("notes", []) if n["subject"] != "related"]
    bundled["codes"] = [rec]
    return bundled
