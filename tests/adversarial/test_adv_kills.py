"""Class 2, kills during a build: the next call answers correctly, and the
next build removes what the killed one left."""

import json
import signal
import time

import pytest
from advkit import held


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
@pytest.mark.parametrize("delay", [0.6, pytest.param(1.4, marks=pytest.mark.slow)])
def test_a_killed_build_leaves_nothing_once_the_next_build_ran(home, big_kb, sig, delay):
    p = home.popen("--no-bundled", "--data", big_kb, "show", "20700", "--json")
    time.sleep(delay)
    p.send_signal(sig)
    p.communicate(timeout=60)
    # The next build: a different file set, so it builds (and cleans) even if the killed one finished.
    again = home.run("--no-bundled", "--data", big_kb, "show", "20700", "--json", timeout=120)
    assert not held(again) and again.returncode == 0
    assert json.loads(again.stdout)["code"] == "20700"
    assert home.leftovers() == []


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_a_killed_build_then_a_build_of_other_files_cleans_up(home, big_kb, sig):
    p = home.popen("--no-bundled", "--data", big_kb, "list", "--json")
    time.sleep(0.8)
    p.send_signal(sig)
    p.communicate(timeout=60)
    other = home.run("show", "20702", "--json")
    assert other.returncode == 0 and not held(other)
    assert home.leftovers() == []
