"""The knowledge base ships inside the wheel: build it, install it somewhere
the source tree cannot be seen, and look a code up."""

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import ROOT


def test_built_wheel_carries_the_data_and_answers_from_it(tmp_path):
    out = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    [wheel] = out.glob("cptcli-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "cptcli/data/codes.json" in names and "cptcli/schema.json" in names
    packaged = json.loads(zipfile.ZipFile(wheel).read("cptcli/data/codes.json"))
    assert packaged == json.loads((ROOT / "data" / "codes.json").read_text(encoding="utf-8"))

    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(wheel)],
        check=True,
        capture_output=True,
    )
    env = {**os.environ, "PYTHONPATH": str(site), "CPTCLI_CACHE_DIR": str(tmp_path / "cache"), "NO_COLOR": "1"}
    env.pop("CPTCLI_DATA", None)
    for argv in (
        ["show", "20701", "--json"],
        ["--data", str(site / "cptcli" / "data" / "codes.json"), "show", "20701", "--json"],
    ):
        p = subprocess.run([sys.executable, "-m", "cptcli", *argv], cwd=tmp_path, env=env, capture_output=True)
        assert p.returncode == 0, p.stderr
        doc = json.loads(p.stdout)
        assert doc["title"]["text"] == "Removal of drug-delivery device(s), deep"
        assert Path(doc["contributors"][0]).resolve() == (site / "cptcli" / "data" / "codes.json").resolve()
