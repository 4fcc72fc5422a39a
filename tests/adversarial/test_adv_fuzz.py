"""Class 6, command-line and stdin fuzz: whatever the arguments or input lines,
never a traceback, a documented status, one stderr line on an error and stdout
empty on a usage or data error."""

import os
import random

import pytest
from advkit import held

TOKENS = [
    "show",
    "search",
    "list",
    "check",
    "icd",
    "modifier",
    "validate",
    "audit",
    "schema",
    "--json",
    "--format",
    "csv",
    "markdown",
    "jsonl",
    "table",
    "json",
    "xml",
    "-f",
    "--section",
    "-s",
    "facts",
    "notes",
    "bogus",
    "--data",
    "--no-bundled",
    "--with",
    "-w",
    "--modifier",
    "-m",
    "--dx",
    "-d",
    "--limit",
    "-n",
    "--min-score",
    "20700",
    "+20700",
    "20700-50",
    "20701",
    "2070",
    "99999",
    "0000B",
    "M54.5",
    "M54.50",
    "59",
    "XS",
    "ZZ",
    "-",
    "--",
    "-h",
    "--help",
    "-V",
    "--version",
    "",
    " ",
    "drug",
    "drug delivery",
    "\x1b[2J",
    "\u202e",
    "20700\n",
    "a" * 300,
    "0",
    "-1",
    "1e9",
    "99999999999999999999",
    "é",
    "--json=1",
    "--format=csv",
    "--data=/dev/null",
    "/dev/zero",
    "--install-completion=zsh",
]
# Not run: what would write outside the sandbox (completion scripts go to the shell's rc files).
UNSAFE = {"--install-completion=zsh"}


def _corpus(n: int, seed: int) -> list:
    rng = random.Random(seed)
    safe = [t for t in TOKENS if t not in UNSAFE]
    corpus: list = [[]]
    while len(corpus) < n:
        argv = [rng.choice(safe) for _ in range(rng.randint(1, 6))]
        if argv not in corpus:
            corpus.append(argv)
    return corpus


N = int(os.environ.get("CPTCLI_ADVERSARIAL_ARGV", "200" if os.environ.get("CPTCLI_ADVERSARIAL_SLOW") == "1" else "40"))


@pytest.mark.parametrize("argv", _corpus(N, 17), ids=lambda a: repr(a)[:60])
def test_generated_argument_lists(home, argv):
    p = home.run(*argv, input=b"20700\n", timeout=60)
    assert not held(p, usage_text=argv == []), (p.returncode, p.stderr[-500:])


def test_hypothesis_argument_lists(home):
    """Argument lists from hypothesis (derandomised, so reruns try the same)."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    token = st.one_of(
        st.sampled_from([t for t in TOKENS if t not in UNSAFE]),
        st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12),
    )
    slow = os.environ.get("CPTCLI_ADVERSARIAL_SLOW") == "1"
    examples = int(os.environ.get("CPTCLI_ADVERSARIAL_HYPOTHESIS", "300" if slow else "25"))
    failures = []

    @settings(
        max_examples=examples, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(st.lists(token, max_size=6))
    def run(argv):
        p = home.run(*argv, input=b"", timeout=60)
        problems = held(p, usage_text=argv == [])
        if problems:
            failures.append((argv, problems, p.stderr[-200:]))

    run()
    assert failures == []


STDIN = {
    "bom": b"\xef\xbb\xbf20700\n20702\n",
    "crlf": b"20700\r\n20702\r\n",
    "bare-cr": b"20700\r20702\r",
    "nul": b"207\x0000\n",
    "not-utf8": b"20700\n\xff\xfe\n",
    "long-line": b"2" * 1_000_000 + b"\n",
    "escape": b"\x1b[2J20700\n",
    "comments-and-blanks": b"# hi\n\n   \n20700\n",
    "repeated-800": b"20700\n" * 800,
    "empty": b"",
    "only-comments": b"# nothing\n",
}


@pytest.mark.parametrize("fmt", [["--json"], []])
@pytest.mark.parametrize("case", sorted(STDIN))
def test_show_stdin(home, case, fmt):
    p = home.run("show", "-", *fmt, input=STDIN[case], timeout=60)
    # README: on an error in a batch, stdout is "empty or valid": the lines before it may print.
    assert not held(p, partial_stdout=True), (p.returncode, p.stderr[-300:])
    if case in ("bom", "crlf", "comments-and-blanks"):
        assert p.returncode == 0, p.stderr


def test_a_code_repeated_800_times_is_drawn_quickly(home):
    import time

    home.run("show", "20700")
    start = time.monotonic()
    p = home.run("show", *["20700"] * 800, timeout=120)
    assert p.returncode == 0 and time.monotonic() - start < 10
