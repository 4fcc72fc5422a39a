"""One function per command: a typed request in, a result object out. Nothing
here prints or parses argv (cli.py does), and every answer comes from the
engine (cptcli.engine.Engine), the one query path.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

from cptcli.errors import DataError, NotFoundError, UsageError


def data_files(extra: Iterable = (), bundled: bool = True) -> list:
    """The knowledge-base files in play, in layering order: bundled, --data, CPTCLI_DATA."""
    from cptcli.datafiles import data_files as files

    paths = files([str(p) for p in extra], bundled)
    if not paths:
        raise UsageError("--no-bundled needs at least one --data PATH or CPTCLI_DATA file")
    return paths


def open_engine(paths, progress=None):
    from cptcli.engine import Engine

    return Engine.open(paths, progress)


# -- show ------------------------------------------------------------------------


def show(engine, codes: Iterable[str]):
    """(ShowResults of the codes found, in the order asked, each once; the
    NotFoundError of each code not found). `codes` are already parsed."""
    from cptcli.results import ShowResults

    wanted = list(dict.fromkeys(codes))
    found, missing = [], []
    for code in wanted:
        result = engine.show(code)
        if result is None:
            missing.append(engine.not_found(code))
        else:
            found.append(result)
    return ShowResults(found, single=len(wanted) == 1, sources=lambda: engine.sources), missing


def show_lines(engine, lines: Iterable[bytes]) -> Iterator:
    """`show -`: for each line of input that is not blank or a comment, its
    ShowResults (of one record) or the CptcliError for it (a malformed code
    names its line). A stream: one line in, one answer out."""
    from cptcli.codes import parse_code
    from cptcli.results import ShowResults

    for number, raw in enumerate(lines, 1):
        # surrogateescape: a line of invalid UTF-8 becomes a malformed code, not a crash.
        line = raw.decode("utf-8", "surrogateescape").strip()
        if number == 1:
            line = line.lstrip("\ufeff")  # a byte-order mark a spreadsheet export put first
        if not line or line.startswith("#"):
            continue
        try:
            code = parse_code(line).code
        except UsageError as exc:
            yield UsageError(f"line {number}: {exc.message}")
            continue
        result = engine.show(code)
        yield engine.not_found(code) if result is None else ShowResults([result], True, sources=lambda: engine.sources)


# -- search and list ---------------------------------------------------------------


def search(engine, query: str, limit: int, min_score: float):
    """search.Hits; raises NotFoundError when nothing scores at least `min_score`."""
    from cptcli.codes import printable
    from cptcli.search import Searcher

    hits = Searcher(engine.corpus()).search(query, limit=limit, min_score=min_score)
    if not hits:
        raise NotFoundError(f"no code matches {printable(query)!r} with a score of at least {min_score:g}")
    return hits


def list_codes(engine):
    from cptcli.model import CodeList

    return CodeList(tuple(engine.summaries()))


# -- checks ----------------------------------------------------------------------------


def claim_line(code: str, with_=(), modifier=(), dx=()):
    """`check` arguments parsed, before anything is loaded: raises UsageError
    (exit 2) on a malformed code. Lists may be comma-separated
    ('--modifier 50,LT' is '--modifier 50 --modifier LT'): coders paste lists."""
    from cptcli import codes
    from cptcli.rules import ClaimLine

    def split(values):
        return [v for value in values for v in value.split(",") if v.strip()]

    parsed = codes.parse_code(code)
    primaries = tuple(codes.parse_code(p).code for p in split(with_))
    mods = tuple(([parsed.modifier] if parsed.modifier else []) + [codes.parse_modifier(m) for m in split(modifier)])
    return ClaimLine(parsed.code, primaries, mods, tuple(codes.parse_icd10(d) for d in split(dx)))


def check(engine, line):
    from cptcli import rules
    from cptcli.codesets import icd10

    return rules.check(engine, icd10.codeset, line)


def audit(engine):
    from cptcli import rules
    from cptcli.codesets import icd10

    return rules.audit(engine, icd10.codeset)


def icd(engine, raw_code: str):
    from cptcli import codes, rules
    from cptcli.codesets import icd10

    return rules.icd_lookup(engine, icd10.codeset(), codes.parse_icd10(raw_code))


def modifier(engine, raw: str):
    from cptcli import codes, rules

    return rules.modifier_lookup(engine, codes.parse_modifier(raw))


def validate(path, base: list):
    """`validate`: the schema, references and layering findings of one file,
    then the errors the audit rules find in its own records, checked against
    the registries of everything in play (through an in-memory index of them)."""
    from cptcli import knowledge, rules
    from cptcli.codesets import icd10
    from cptcli.engine import Engine
    from cptcli.model import Validation

    findings, kb = knowledge.check_file(path, base)
    if kb is not None:
        own = knowledge.KnowledgeBase(
            records={c: kb.layers[c][-1] for c in kb.layers if kb.layers[c][-1].origin == str(path)},
            sources=kb.sources,
            modifiers=kb.modifiers,
            taxonomy_codes=kb.taxonomy_codes,
            extra=kb.extra,
            files=(path,),
        )
        report = rules.audit(Engine.in_memory(own, [path]), icd10.codeset)
        findings += [
            f"{path}: record {f.code}, field {f.subject}: {f.message}" for f in report.findings if f.severity == "error"
        ]
    return Validation(str(path), tuple(findings))


# -- sources ------------------------------------------------------------------------------


def sources_dir() -> str:
    """The cited source documents, beside the bundled data file (in the package or the repository)."""
    from cptcli.datafiles import bundled_file

    return os.path.join(os.path.dirname(bundled_file()), "sources")


def source_text(name: str) -> str:
    """The text of one cited source document, by its file name or short id ('000')."""
    from cptcli.model import source_label

    directory = sources_dir()
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        raise DataError(f"the source documents are missing ({directory})") from None
    wanted = name.strip()
    found: str | None = next((n for n in names if wanted in (n, source_label(n))), None)
    if found is None:
        from cptcli.codes import printable

        raise NotFoundError(
            f"no source document {printable(wanted)!r}: choose from {', '.join(source_label(n) for n in names)}"
        )
    with open(os.path.join(directory, found), encoding="utf-8") as f:
        return f.read()


# -- official code sets ----------------------------------------------------------------------


def import_files(paths, kind: str | None = None, progress=None, force: bool = False):
    """`import`: each file's kind recognised (or `kind`), parsed and stored as the active release of its set."""
    from cptcli import imports
    from cptcli.results import Imports

    if kind is not None and kind not in imports.KINDS:
        raise UsageError(f"unknown kind {kind!r}: choose from {', '.join(imports.KINDS)}")
    return Imports(imports.import_files(paths, kind=kind, progress=progress, force=force))


def remove_import(name: str) -> bool:
    """`import --remove KIND` (every set of the kind) or `--remove KIND.SLOT` (one set: ncci-ptp.outpatient)."""
    from cptcli import imports

    kind, _, slot = name.partition(".")
    if kind not in imports.KINDS:
        raise UsageError(f"unknown kind {kind!r}: choose from {', '.join(imports.KINDS)}")
    if not imports.remove(kind, slot or None):
        raise NotFoundError(f"no {name} set is imported")
    return True


def sources(engine):
    """`sources`: the knowledge-base files in play and every imported set."""
    import hashlib

    from cptcli import imports
    from cptcli.results import SourceRow, Sources

    rows = []
    counts = engine.records_per_file()
    for path in engine.files:
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        from cptcli.datafiles import bundled_file

        kind = (
            "knowledge base (bundled)"
            if os.path.realpath(path) == os.path.realpath(bundled_file())
            else "knowledge base"
        )
        rows.append(SourceRow(kind, "curated", (path,), counts.get(path, 0), None, {os.path.basename(path): digest}))
    for s in imports.sources():
        # The records the import reported: codes (or rows), with the modifiers counted apart, as import counts them.
        rows.append(SourceRow(s.name, s.release, s.files, s.records, s.imported_at, dict(s.sha256), s.modifiers))
    return Sources(rows)
