import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cptcli.cli import app, run
from cptcli.knowledge import bundled_path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "data" / "sources"
BIN = Path(sys.executable).parent
# Fixed, colourless, non-interactive output for every test.
TEST_ENV = {"NO_COLOR": "1", "COLUMNS": "100", "TERM": "dumb", "CPTCLI_DATA": ""}


@pytest.fixture(scope="session", autouse=True)
def _own_cache_dir(tmp_path_factory):
    """Tests never read or write the user's real cache."""
    TEST_ENV["CPTCLI_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    os.environ["CPTCLI_CACHE_DIR"] = TEST_ENV["CPTCLI_CACHE_DIR"]
    # Nor the sets the user imported: every test starts with none.
    TEST_ENV["CPTCLI_DATA_DIR"] = str(tmp_path_factory.mktemp("imported"))
    os.environ["CPTCLI_DATA_DIR"] = TEST_ENV["CPTCLI_DATA_DIR"]


@pytest.fixture(autouse=True)
def _plain_env(monkeypatch):
    for k, v in TEST_ENV.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("CPTCLI_DATA")


@pytest.fixture
def cli():
    """Invoke the Typer app in-process (Typer's runner), stdout and stderr apart."""
    runner = CliRunner()

    def invoke(*args, input=None):
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    return invoke


@pytest.fixture
def main(capsys):
    """The real entry point (cli.run), which also turns usage errors into one line."""

    def invoke(*args):
        code = run(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


def cptcli_exe() -> str:
    exe = BIN / "cptcli"
    assert exe.exists(), f"the installed console script is missing: {exe}"
    return str(exe)


def subprocess_cli(*args, input=None, env=None, **kw):
    full_env = {**os.environ, **TEST_ENV, **(env or {})}
    full_env.pop("CPTCLI_DATA", None) if not (env or {}).get("CPTCLI_DATA") else None
    return subprocess.run([cptcli_exe(), *args], input=input, capture_output=True, env=full_env, **kw)


def searcher_of(source):
    """A Searcher over the index of knowledge-base files, or of a KnowledgeBase built in a test (in memory)."""
    from cptcli.engine import Engine
    from cptcli.knowledge import KnowledgeBase
    from cptcli.search import Searcher

    engine = Engine.of(source, ["test"]) if isinstance(source, KnowledgeBase) else Engine.open(list(source))
    return Searcher(engine.corpus())


@pytest.fixture(scope="session")
def bundled_doc():
    return json.loads(bundled_path().read_text(encoding="utf-8"))


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A cache directory of the test's own (indexes, pages, code-set extracts)."""
    d = tmp_path / "cache"
    monkeypatch.setenv("CPTCLI_CACHE_DIR", str(d))
    return d


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """A user data directory of the test's own, not yet made (imported code sets)."""
    d = tmp_path / "imported"
    monkeypatch.setenv("CPTCLI_DATA_DIR", str(d))
    return d


def kill_import_half_way(paths, data_dir) -> list[str]:
    """Import ``paths`` in a child that sleeps after each row, kill it once it writes, and return the temporary
    files it left in ``data_dir`` (the store's slow-import hook makes the moment reachable)."""
    import signal
    import time

    from cptcli.imports import store

    env = {**os.environ, "CPTCLI_DATA_DIR": str(data_dir), store.SLOW_ENV: "0.5"}
    code = f"from cptcli.imports import import_files; import_files({[str(p) for p in paths]!r})"
    proc = subprocess.Popen([sys.executable, "-c", code], env=env)
    try:
        deadline = time.monotonic() + 30
        while not any(n.endswith(".tmp") for n in os.listdir(data_dir)):
            assert time.monotonic() < deadline, "the import never started writing"
            assert proc.poll() is None, "the import finished before it could be killed"
            time.sleep(0.02)
        time.sleep(0.3)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    return [n for n in os.listdir(data_dir) if n.endswith(".tmp")]


@pytest.fixture
def kb_file(tmp_path):
    """A copy of the bundled knowledge base, free to edit."""
    path = tmp_path / "kb.json"
    shutil.copy(bundled_path(), path)
    return path


# -- the adversarial suite (tests/adversarial, issue 17) -------------------------------------
# The installed console script run by subprocess, as an attacker or an unlucky user would, in
# seven classes. Its tests are marked `adversarial`; the heavy ones `slow` as well, run only
# with CPTCLI_ADVERSARIAL_SLOW=1, so that the default run stays short. Its hooks and fixtures
# live here: a second conftest module would shadow this one for `from conftest import ...`.
ADVERSARIAL = ROOT / "tests" / "adversarial"


def pytest_configure(config):
    config.addinivalue_line("markers", "adversarial: issue 17's hostile-input suite (tests/adversarial)")
    config.addinivalue_line("markers", "slow: heavy adversarial cases, run with CPTCLI_ADVERSARIAL_SLOW=1")


def pytest_collection_modifyitems(config, items):
    run_slow = os.environ.get("CPTCLI_ADVERSARIAL_SLOW") == "1"
    skip = pytest.mark.skip(reason="slow: set CPTCLI_ADVERSARIAL_SLOW=1")
    for item in items:
        if ADVERSARIAL in Path(str(item.fspath)).resolve().parents:
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

    root = ROOT
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
