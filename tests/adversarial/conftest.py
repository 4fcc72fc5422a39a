"""The adversarial suite (issue 17): the installed console script run by
subprocess, as an attacker or an unlucky user would, in seven classes.

Every test here is marked `adversarial`; the heavy ones are marked `slow` as
well and run only with CPTCLI_ADVERSARIAL_SLOW=1, so that the default run stays
short. Select a class with `-k`, or the suite with `-m adversarial`."""

import os
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_configure(config):
    config.addinivalue_line("markers", "adversarial: issue 17's hostile-input suite (tests/adversarial)")
    config.addinivalue_line("markers", "slow: heavy adversarial cases, run with CPTCLI_ADVERSARIAL_SLOW=1")


def pytest_collection_modifyitems(config, items):
    run_slow = os.environ.get("CPTCLI_ADVERSARIAL_SLOW") == "1"
    skip = pytest.mark.skip(reason="slow: set CPTCLI_ADVERSARIAL_SLOW=1")
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.adversarial)
            if "slow" in item.keywords and not run_slow:
                item.add_marker(skip)


@pytest.fixture
def home(tmp_path):
    """A cache directory and a home of the test's own: nothing shared is read."""
    from advkit import Sandbox

    return Sandbox(tmp_path)


@pytest.fixture(scope="session")
def big_kb(tmp_path_factory):
    """A 5,000-code knowledge base (the bench generator's), whose cold build
    takes long enough to be interrupted."""
    import importlib.util
    import sys

    root = HERE.parent.parent
    spec = importlib.util.spec_from_file_location("make_big_kb", root / "bench" / "make_big_kb.py")
    make = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make)
    path = tmp_path_factory.mktemp("bigkb") / "big.json"
    argv = sys.argv
    sys.argv = ["make_big_kb.py", str(path), "5000"]
    try:
        make.main()
    finally:
        sys.argv = argv
    return path
