"""Find, read and validate knowledge-base files, and answer look-ups from them.

Every failure here is a DataError naming the file, and where it applies the
record and field (or the line and column of a JSON syntax error), so a hand-
edited file can be fixed from the one error line.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional

from cptcli.errors import DataError, NotFoundError
from cptcli.model import (TABLES, CodeRecord, Modifier, ShowResult, Source, Synonym,
                          TaxonomyCode)

PACKAGE_DIR = Path(__file__).resolve().parent
SCHEMA_PATH = PACKAGE_DIR / "schema.json"


def bundled_path() -> Path:
    """The data file inside the installed package; in a source checkout used
    without installing, the repository's data/codes.json."""
    packaged = PACKAGE_DIR / "data" / "codes.json"
    if packaged.is_file():
        return packaged
    return PACKAGE_DIR.parent.parent / "data" / "codes.json"


def load_schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def read_document(path: Path) -> dict:
    """Read and parse one file; syntax errors carry line and column."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: knowledge base file not found") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, not a knowledge base file") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read knowledge base file: {exc.strerror}") from None
    if not raw.strip():
        raise DataError(f"{path}: knowledge base file is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None


def _where(doc: dict, path: Iterable) -> str:
    """Turn a JSON path into 'record 20700, field modifiers[3].description'."""
    parts = list(path)
    if len(parts) >= 2 and parts[0] == "codes" and isinstance(parts[1], int):
        rec = doc["codes"][parts[1]]
        code = rec.get("code") if isinstance(rec, dict) else None
        label = f"record {code}" if isinstance(code, str) else f"record #{parts[1] + 1}"
        rest = parts[2:]
    else:
        label, rest = "top level", parts
    text = ""
    for p in rest:
        text += f"[{p}]" if isinstance(p, int) else (f".{p}" if text else str(p))
    return f"{label}, field {text}" if text else label


def validate_document(doc, path: Path) -> None:
    """Apply the JSON Schema; report the first error in document order."""
    import jsonschema  # only when a file is actually validated: ~65 ms to import

    validator = jsonschema.Draft202012Validator(load_schema())
    errors = sorted(validator.iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path])
    if not errors:
        return
    error = jsonschema.exceptions.best_match(errors) if len(errors) > 1 else errors[0]
    where = _where(doc, error.absolute_path) if isinstance(doc, dict) else "top level"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    raise DataError(f"{path}: {where}: {error.message}{more}")


@dataclass
class KnowledgeBase:
    records: dict[str, CodeRecord] = field(default_factory=dict)
    sources: dict[str, Source] = field(default_factory=dict)
    modifiers: dict[str, Modifier] = field(default_factory=dict)
    taxonomy_codes: dict[str, TaxonomyCode] = field(default_factory=dict)
    synonyms: tuple[Synonym, ...] = ()
    files: tuple[Path, ...] = ()

    # -- building -------------------------------------------------------
    def add_document(self, doc: dict, path: Path) -> None:
        seen: set[str] = set()
        for i, raw in enumerate(doc["codes"]):
            code = raw["code"]
            if code in seen:
                raise DataError(f"{path}: record {code}, field code: duplicate code (record #{i + 1})")
            seen.add(code)
            self.records[code] = CodeRecord.from_dict(raw, origin=str(path))
        for s in doc.get("sources", ()):
            self.sources[s["file"]] = Source.from_dict(s)
        for m in doc.get("modifiers", ()):
            self.modifiers[m["modifier"]] = Modifier.from_dict(m)
        for t in doc.get("taxonomy_codes", ()):
            self.taxonomy_codes[t["code"]] = TaxonomyCode.from_dict(t)
        self.synonyms += tuple(Synonym.from_dict(s) for s in doc.get("synonyms", ()))
        self.files += (path,)

    def check_references(self) -> None:
        """Cross-record rules the schema cannot express: every code a table or
        cross-reference names has a record, and every cited source is listed."""
        for rec in self.records.values():
            path = rec.origin
            for row in rec.related:
                if row.code not in self.records:
                    raise DataError(f"{path}: record {rec.code}, field related: names unknown code {row.code}")
            for xref in rec.cross_references:
                for code in xref.codes:
                    if code not in self.records:
                        raise DataError(f"{path}: record {rec.code}, field cross_references: "
                                        f"names unknown code {code}")
            if self.sources:
                for src in rec.all_sources():
                    if src not in self.sources:
                        raise DataError(f"{path}: record {rec.code}: cites source {src!r}, "
                                        f"which is not in the sources list")
        self.records = dict(sorted(self.records.items()))

    # -- look-ups -------------------------------------------------------
    def get(self, code: str) -> CodeRecord:
        try:
            return self.records[code]
        except KeyError:
            near = ", ".join(self.nearest(code))
            hint = f"; nearest: {near}" if near else ""
            raise NotFoundError(f"code {code} is not in the knowledge base{hint}") from None

    def nearest(self, code: str, limit: int = 3) -> list[str]:
        """Closest codes by numeric distance: coders mistype the last digits."""
        if not code[:4].isdigit():
            return []
        target = int(code[:4]) * 10 + (int(code[4]) if code[4].isdigit() else 0)

        def distance(c: str) -> tuple:
            n = int(c[:4]) * 10 + (int(c[4]) if c[4].isdigit() else 0)
            return abs(n - target), c

        return sorted((c for c in self.records if c[:4].isdigit()), key=distance)[:limit]

    def named_by(self, code: str) -> tuple[str, ...]:
        """Codes whose related table or cross-references list `code`."""
        out = []
        for rec in self.records.values():
            if rec.code != code and (any(r.code == code for r in rec.related)
                                     or any(code in x.codes for x in rec.cross_references)):
                out.append(rec.code)
        return tuple(out)

    def show(self, code: str) -> ShowResult:
        rec = self.get(code)
        status = {r.code: (self.records[r.code].completeness if r.code in self.records else None)
                  for r in rec.related}
        return ShowResult(rec, self.named_by(code), status)

    def rows_listing(self, table: str, key: str) -> list[tuple[CodeRecord, object]]:
        """Every (record, row) whose `table` lists `key`, for reverse look-ups."""
        assert table in TABLES
        return [(rec, row) for rec in self.records.values() for row in getattr(rec, table) if row.key == key]


def data_paths(extra: Optional[Iterable[str]] = None, bundled: bool = True) -> list[Path]:
    paths = [bundled_path()] if bundled else []
    paths += [Path(p) for p in (extra or ())]
    env = os.environ.get("CPTCLI_DATA")
    if env:
        paths += [Path(p) for p in env.split(os.pathsep) if p]
    return paths


def load(paths: Optional[list[Path]] = None) -> KnowledgeBase:
    kb = KnowledgeBase()
    for path in paths if paths is not None else data_paths():
        doc = read_document(path)
        validate_document(doc, path)
        kb.add_document(doc, path)
    kb.check_references()
    return kb
