"""Write a full-size ICD-10-CM order file (about 98,000 lines) in CDC's fixed-width layout, for import timing.

    python bench/payer_icd10cm.py OUT_DIR [--seed N]

Codes and long descriptions are real: read from simple-icd-10-cm's data files (the CDC April 2026 code list and
tabular XML; a code with a seventh character takes its parent's description and the character's meaning, as the
tabular list defines it). The order numbers are the lines' positions and the header/valid flag says whether a
code has children in the list, as CDC's file does; the short descriptions are the long ones cut to 60 characters
at a word (CDC abbreviates its own): GENERATED, not CDC's. ``seed`` is accepted for the generators' common
signature; the file is the same for every seed.
"""

from __future__ import annotations

import argparse
import importlib.util
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path


def _data_dir() -> Path:
    # The package's own import parses the whole XML; finding it does not.
    spec = importlib.util.find_spec("simple_icd_10_cm")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("simple-icd-10-cm is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _tabular(xml: Path) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Description of every code the tabular XML names, and the seventh characters each category defines."""
    desc: dict[str, str] = {}
    seventh: dict[str, dict[str, str]] = {}
    for _, el in ET.iterparse(xml, events=("end",)):
        if el.tag != "diag":
            continue
        name = (el.findtext("name") or "").replace(".", "")
        desc[name] = " ".join((el.findtext("desc") or "").split())
        chars = el.find("sevenChrDef")
        if chars is not None:
            seventh[name] = {e.get("char", ""): " ".join((e.text or "").split()) for e in chars.iter("extension")}
    return desc, seventh


def _description(code: str, desc: dict[str, str], seventh: dict[str, dict[str, str]]) -> str:
    if code in desc:
        return desc[code]
    parent = next((code[:n] for n in range(len(code) - 1, 2, -1) if code[:n] in desc), code[:3])
    meaning = next(
        (seventh[code[:n]].get(code[-1], "") for n in range(len(code) - 1, 2, -1) if code[:n] in seventh), ""
    )
    return f"{desc.get(parent, code)}, {meaning}" if meaning else desc.get(parent, code)


def _short(text: str) -> str:
    if len(text) <= 60:
        return text
    cut = text[:60].rsplit(" ", 1)[0]
    return cut or text[:60]


def lines() -> list[str]:
    d = _data_dir()
    # The list names a block spelled as its one category (B10) before the category itself: once in the file.
    codes = list(
        dict.fromkeys(
            c
            for c in (ln.strip() for ln in next(d.glob("code-list-*.txt")).read_text().splitlines())
            if len(c) >= 3 and "-" not in c and c[0].isalpha()
        )
    )
    desc, seventh = _tabular(next(d.glob("icd10c-tabular-*.xml")))
    out = []
    for i, code in enumerate(codes):
        header = i + 1 < len(codes) and codes[i + 1].startswith(code)
        long = _description(code, desc, seventh)
        out.append(f"{i + 1:05d} {code:<7} {0 if header else 1} {_short(long):<60} {long}")
    return out


def write(directory: Path, seed: int = 0) -> list[Path]:
    """icd10cm_order_2026.txt and the zip CDC ships it in, in ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "icd10cm_order_2026.txt"
    path.write_text("".join(ln + "\r\n" for ln in lines()), encoding="utf-8", newline="")
    z = directory / "icd10cm-Code Descriptions-2026.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as f:
        f.write(path, path.name)
    return [path, z]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    for p in write(a.out, a.seed):
        print(p)


if __name__ == "__main__":
    main()
