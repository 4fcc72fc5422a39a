"""One function per command: a typed request in, a result object out. Nothing
here prints or parses argv (cli.py does), and every answer comes from the
engine (cptcli.engine.Engine), the one query path.
"""

from __future__ import annotations

import os
from collections import namedtuple
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


def show(engine, codes: Iterable[str], ptp_edits: bool = False):
    """(ShowResults of the codes found, in the order asked, each once; the
    NotFoundError of each code not found). `codes` are already parsed. With
    payer edits imported, each result gains their facts on today's date
    (cptcli.edits; `ptp_edits`: every PTP edit of the code too)."""
    from cptcli.results import ShowResults

    wanted = list(dict.fromkeys(codes))
    found: list = []
    missing: list[NotFoundError] = []
    asked, codes_of_ndcs = _ndcs(wanted, missing)
    for code in dict.fromkeys(c for w in wanted for c in codes_of_ndcs.get(w, (w,))):
        result = engine.show(code)
        if result is None:
            missing.append(engine.not_found(code))
        else:
            found.append(result)
    with_payer_facts(found, ptp_edits)
    for r in found:
        if r.code in asked:
            r.doc = {**r.doc, "payer": {"date": _today(), **(r.doc.get("payer") or {}), "ndc": asked[r.code]}}
    return ShowResults(found, single=len(wanted) == 1, sources=lambda: engine.sources), missing


def _today() -> str:
    from cptcli.codes import today

    return today()


def _ndcs(wanted: list[str], missing: list) -> tuple[dict[str, list[dict]], dict[str, tuple[str, ...]]]:
    """The NDCs among the codes asked (codes.ndc_digits), looked up in the imported ASP crosswalk: each code's
    crosswalk rows for the NDCs asked, and the codes each NDC asked stands for. An NDC it does not list, or asked
    with no crosswalk imported, is a NotFoundError in `missing`."""
    from cptcli.codes import ndc_digits

    typed = {w: forms for w in wanted if (forms := ndc_digits(w)) is not None}
    if not typed:
        return {}, {}
    from cptcli import edits

    reader = edits.Edits()
    asked: dict[str, list[dict]] = {}
    codes_of: dict[str, tuple[str, ...]] = {}
    try:
        for w, forms in typed.items():
            release, rows = reader.ndc(forms, _today())
            codes_of[w] = tuple(dict.fromkeys(r["code"] for r in rows))
            for r in rows:
                asked.setdefault(r["code"], []).append(r)
            if release is None:
                missing.append(
                    NotFoundError(
                        f"{w} is an NDC, and no ASP NDC-HCPCS crosswalk is imported (cptcli "
                        "import the CMS file) to say which code it is billed under"
                    )
                )
            elif not rows:
                missing.append(
                    NotFoundError(f"NDC {w} is not in the imported ASP NDC-HCPCS crosswalk ({release.cite()})")
                )
    finally:
        reader.close()
    return asked, codes_of


def with_payer_facts(results, ptp_edits: bool = False) -> None:
    """Add the imported payer edits' facts of each result's code (a `payer` key), when any set is imported."""
    from cptcli import edits

    if not results or not edits.imported():
        return
    from cptcli.codes import today

    reader = edits.Edits()
    try:
        for r in results:
            facts = reader.facts(r.code, today(), ptp_edits)
            if facts is not None:
                r.doc = {**r.doc, "payer": facts}
    finally:
        reader.close()


# `show -`: the modifiers typed on a code of input line `line` (codes.CodeInput `typed`), which show does not
# apply. collections.namedtuple: typing costs a share of `show --json`'s budget, and this module is on its path.
Suffixed = namedtuple("Suffixed", "line typed")


def show_lines(engine, lines: Iterable[bytes]) -> Iterator:
    """`show -`: for each code of each line of input that is not blank or a
    comment (a line may be a pasted list: codes.parse_codes), its ShowResults
    (of one record) or the CptcliError for it (a malformed code names its line);
    a code typed with modifiers is preceded by its Suffixed. A stream: one line
    in, its answers out."""
    from cptcli.codes import ndc_digits, parse_codes
    from cptcli.results import ShowResults

    for number, raw in enumerate(lines, 1):
        # surrogateescape: a line of invalid UTF-8 becomes a malformed code, not a crash.
        line = raw.decode("utf-8", "surrogateescape").strip()
        if number == 1:
            line = line.lstrip("\ufeff")  # a byte-order mark a spreadsheet export put first
        if not line or line.startswith("#"):
            continue
        if ndc_digits(line) is not None:  # an NDC: its code, from the imported ASP crosswalk (show)
            found, missing = show(engine, [line])
            yield from missing
            yield from (ShowResults([r], True, sources=lambda: engine.sources) for r in found)
            continue
        try:
            typed = parse_codes(line)
        except UsageError as exc:
            yield UsageError(f"line {number}: {exc.message}")
            continue
        for one in typed:
            if one.modifiers:
                yield Suffixed(number, one)
            result = engine.show(one.code)
            if result is not None:
                with_payer_facts([result])
            yield (
                engine.not_found(one.code)
                if result is None
                else ShowResults([result], True, sources=lambda: engine.sources)
            )


# -- search and list ---------------------------------------------------------------


def search(engine, query: str, limit: int, min_score: float, diagnoses: bool | None = None):
    """codesets.icd_search.SearchHits: the procedure hits, and the ICD-10-CM codes when the query reads as a
    diagnosis (`diagnoses` None), always (True: the icd section was asked for) or never (False). Raises
    NotFoundError when nothing scores at least `min_score` in either; a result whose procedure hits are empty is
    returned for its ICD-10-CM section, and search_status words the miss."""
    from cptcli.codesets.icd_search import SearchHits
    from cptcli.search import Searcher

    hits = Searcher(engine.corpus()).search(query, limit=limit, min_score=min_score)
    icd = _diagnosis_section(query, hits, limit, min_score, diagnoses)
    if not hits and not icd and not diagnoses:
        raise _no_hit(query, min_score)
    return SearchHits(hits, icd)


def _no_hit(query: str, min_score: float, icd=None) -> NotFoundError:
    from cptcli.codes import printable
    from cptcli.search.scoring import is_dotted_icd

    if is_dotted_icd(query):
        return NotFoundError(
            f"{printable(query)!r} is an ICD-10-CM code and no record lists it: see cptcli icd {printable(query)}"
        )
    said = f"no code matches {printable(query)!r} with a score of at least {min_score:g}"
    if icd:
        said += f"; as a diagnosis, {icd.total:,} ICD-10-CM codes do (--section icd)"
    return NotFoundError(said)


def _diagnosis_section(query: str, hits, limit: int, min_score: float, diagnoses: bool | None):
    """The ICD-10-CM codes of `search`'s section, or None. Not looked for when procedure hits score so well that no
    ICD-10-CM code could clear them by the margin, nor where the ICD-10-CM cache cannot be kept (it would be built
    again, seconds, on every search), nor when the release cannot be read: a search never fails for want of it."""
    from cptcli import cache
    from cptcli.codesets import icd10, icd_search

    best = max((h.score for h in hits), default=0.0)
    if diagnoses is False or (diagnoses is None and best + icd_search.DIAGNOSIS_MARGIN > 100.0):
        return None
    if diagnoses is None and (cache.refused_cache_dir() is not None or not any(c.isalpha() for c in query)):
        return None
    try:
        found = icd_search.rank(icd10.codeset(), query, limit=limit, min_score=min_score)
    except DataError:
        if diagnoses:
            raise
        return None
    return found if diagnoses or icd_search.about_a_diagnosis(found, best) else None


def search_status(result, sections, min_score: float) -> NotFoundError | None:
    """The miss a search's printed result still is: no procedure hit (unless only the ICD-10-CM section was asked
    for and it has codes), or no ICD-10-CM code in a section asked for alone."""
    query = result.query
    if tuple(sections) == ("icd",):
        if result.icd:
            return None
        from cptcli.codes import printable

        return NotFoundError(f"no ICD-10-CM code matches {printable(query)!r} with a score of at least {min_score:g}")
    return None if result else _no_hit(query, min_score, result.icd)


def list_codes(engine, prefix: str | None = None):
    """Every code's summary, or those starting with `prefix` (digits, or an HCPCS letter and digits); raises
    UsageError on a malformed prefix and NotFoundError when no code starts so."""
    import re

    from cptcli.codes import clean, printable
    from cptcli.model import CodeList

    summaries = tuple(engine.summaries())
    if prefix is None:
        return CodeList(summaries)
    wanted = clean(prefix).lstrip("+")
    if not re.fullmatch(r"[0-9]{1,5}|[A-V][0-9]{0,4}", wanted):
        raise UsageError(f"malformed code prefix {printable(prefix)!r}: expected digits or a letter and digits (J10)")
    found = tuple(s for s in summaries if s.code.startswith(wanted))
    if not found:
        raise NotFoundError(f"no code in the knowledge base starts with {wanted}")
    return CodeList(found)


# -- checks ----------------------------------------------------------------------------


def claim_line(code: str, with_=(), modifier=(), dx=(), units: int = 1, date: str | None = None, setting=None):
    """`check` arguments parsed, before anything is loaded: raises UsageError
    (exit 2) on a malformed code, date or setting. Lists may be pasted
    ('--modifier 50,LT' or '50 LT' is '--modifier 50 --modifier LT'; '--with
    "11012,11043-59"'). Every modifier suffix of CODE (20700-RT-59) is applied
    as a --modifier; one typed on a --with code (11043-59) is that code's, for
    the pair edits."""
    from cptcli import codes
    from cptcli.rules import ClaimLine
    from cptcli.rules.payer import SETTINGS

    line = codes.parse_codes(code)
    if len(line) > 1:
        raise UsageError(
            f"check judges one CODE, not {len(line)} ({', '.join(c.code for c in line)}): give the others with --with"
        )
    parsed = line[0]
    others = [c for value in with_ if value.strip(" ,;") for c in codes.parse_codes(value)]
    mods = tuple(parsed.modifiers) + tuple(codes.parse_modifier(m) for m in codes.split_list(modifier))
    if units < 1:
        raise UsageError(f"--units must be 1 or more, not {units}")
    wanted = (setting or "practitioner").strip().lower()
    if wanted not in SETTINGS:
        raise UsageError(f"unknown setting {setting!r}: choose from {', '.join(SETTINGS)}")
    return ClaimLine(
        parsed.code,
        tuple(dict.fromkeys(p.code for p in others)),
        mods,
        tuple(codes.parse_icd10(d) for d in codes.split_list(dx)),
        units=units,
        date=codes.parse_date(date) if date else codes.today(),
        setting=wanted,
        with_modifiers=tuple((p.code, p.modifiers) for p in others if p.modifiers),
    )


def check(engine, line):
    from cptcli import rules
    from cptcli.codesets import releases

    return rules.check(engine, releases.for_date, line)


def check_claims(engine, data: bytes, name: str, setting: str | None = None, piece: int = 0):
    """`check --claims`: every line of a claims file judged as `check` judges one, each claim's lines of one date
    together (cptcli.claims); rows that cannot be read are reported and skipped. One payer-edit reader and one
    ICD-10-CM release serve every line. Yields the report in pieces of `piece` lines (0: whole), the last one with
    the malformed rows and the counts, so that a long file is written as it is judged."""
    from cptcli import claims, codes, rules
    from cptcli.codesets import releases
    from cptcli.edits import Edits
    from cptcli.results import ClaimsReport

    rows, bad = claims.read(claims.decode(data), name, codes.today(), (setting or "practitioner").strip().lower())
    report = ClaimsReport(name)
    report.malformed = bad
    report.claims = len({r.claim or f"row {r.row}" for r in rows})
    edits = Edits()
    kb = _Remembering(engine)
    by_date: dict[str, object] = {}

    def icd(date: str, lookup):
        # One release object a date of service, so that what it has looked up serves the file's later lines.
        if date not in by_date:
            by_date[date] = releases.for_date(date, lookup)
        return by_date[date]

    try:
        for row, line in claims.lines_of(rows):
            try:
                report.add(row, rules.check(kb, icd, line, edits))
            except NotFoundError as exc:
                report.add_unknown(row, exc.message)
            if piece and report.lines % piece == 0:
                yield report.piece()
    finally:
        edits.close()
    yield report


class _Remembering:
    """The engine as the rules read it, remembering each record and registry asked for: a claims file asks for the
    same few codes and the same registries on every line."""

    def __init__(self, engine) -> None:
        self._engine = engine
        self._found: dict[str, object] = {}
        self._registry: dict[str, list] = {}

    def __getattr__(self, name: str):
        return getattr(self._engine, name)

    def find(self, code: str):
        if code not in self._found:
            self._found[code] = self._engine.find(code)
        return self._found[code]

    def get(self, code: str):
        found = self.find(code)
        if found is None:
            raise self._engine.not_found(code)
        return found

    def registry(self, name: str) -> list:
        if name not in self._registry:
            self._registry[name] = self._engine.registry(name)
        return self._registry[name]


def audit(engine):
    from cptcli import rules
    from cptcli.codesets import icd10

    return rules.audit(engine, icd10.codeset)


def icd(engine, raw_code: str):
    from cptcli import codes
    from cptcli.codesets import icd10
    from cptcli.engine import lookups

    return lookups.icd_lookup(engine, icd10.codeset(), codes.parse_icd10(raw_code))


def icd_search(query: str, limit: int, min_score: float):
    """codesets.icd_search.IcdHits; raises UsageError on an empty or overlong query, NotFoundError when nothing scores
    at least `min_score`."""
    from cptcli.codes import printable
    from cptcli.codesets import icd10, icd_search
    from cptcli.search import MAX_QUERY

    if not query.strip():
        raise UsageError('give the words to search ICD-10-CM for: cptcli icd search "low back pain"')
    if len(query) > MAX_QUERY:
        raise UsageError(f"the query is {len(query)} characters; at most {MAX_QUERY} are searched")
    hits = icd_search.rank(icd10.codeset(), query, limit=limit, min_score=min_score)
    if not hits:
        raise NotFoundError(f"no ICD-10-CM code matches {printable(query)!r} with a score of at least {min_score:g}")
    return hits


def modifier(engine, raw: str):
    from cptcli import codes
    from cptcli.engine import lookups

    return lookups.modifier_lookup(engine, codes.parse_modifier(raw))


def validate(path, base: list):
    """`validate`: the schema, references and layering findings of one file,
    then the errors the audit rules find in its own records, checked against
    the registries of everything in play, the imported code sets included
    (through an in-memory index made by the one build, as `--data FILE audit`
    sees them)."""
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
        mine = set(own.records)  # the build joins the imported codes to them: those are not this file's
        report = rules.audit(Engine.of(own, [path]), icd10.codeset)
        findings += [
            f"{path}: record {f.code}, field {f.subject}: {f.message}"
            for f in report.findings
            if f.severity == "error" and f.code in mine
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
    try:
        removed = imports.remove(kind, slot or None)
    except OSError as e:
        from cptcli.textsafe import cut_name

        where = cut_name(os.fsdecode(e.filename)) if e.filename is not None else "the data directory"
        raise DataError(f"{where}: cannot remove the imported {name} set ({e.strerror or e})") from None
    if not removed:
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


# -- cache -------------------------------------------------------------------------------


def cache_info(paths):
    """`cache info`: the cache directory's files by kind (cptcli.cache.CACHED), the index `paths` use, and the
    imported sets. Reads directory listings only: nothing is built or opened."""
    from cptcli import cache
    from cptcli.model import CacheInfo

    directory: str | None = None
    try:
        directory = cache.cache_dir()
    except cache.NoCacheDir as exc:
        refused: str | None = str(exc)
    else:
        refused = cache.private_dir(directory) if os.path.isdir(directory) else None
    found, others = cache.inventory(directory) if directory else ({kind: [] for kind, *_ in cache.CACHED}, [])
    in_use = None
    if directory:
        from cptcli.engine import index_path

        try:
            in_use = os.path.basename(index_path(paths))
        except (OSError, DataError):
            in_use = None  # a --data file that cannot be read has no index
    try:
        data: str | None = cache.data_dir()
    except OSError:
        data = None
    return CacheInfo(directory, refused, found, in_use, others, data, _imported_files(data) if data else [])


def _imported_files(directory: str) -> list[tuple[str, str, int]]:
    """(set, file name, bytes) of each active imported set in `directory` (dot-named temporaries are not)."""
    from cptcli.places import SUFFIX, is_set_name

    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return []
    found = []
    for name in names:
        if is_set_name(name):
            try:
                found.append((name[: -len(SUFFIX)], name, os.stat(os.path.join(directory, name)).st_size))
            except OSError:
                continue
    return found


def clear_cache():
    """`cache clear`: cptcli's cached files removed from the cache directory (cptcli.cache.clear); imported sets
    and every other file are left."""
    from cptcli import cache
    from cptcli.model import CacheCleared

    try:
        directory = cache.cache_dir()
    except cache.NoCacheDir as exc:
        raise UsageError(f"no cache directory: {exc}") from None
    removed, kept = cache.clear(directory)
    return CacheCleared(directory, removed, kept)
