"""Read, validate and layer knowledge-base files into a KnowledgeBase: the
input of the index build (cptcli.engine.build) and of `validate`. No command
answers from it; every answer comes from the index (cptcli.engine).

Every failure here is a DataError naming the file, and where it applies the
record and field (or the line and column of a JSON syntax error), so a hand-
edited file can be fixed from the one error line.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from cptcli.errors import DataError
from cptcli.model import CodeRecord, Modifier, Note, Source, Synonym, TaxonomyCode, cited_sources, registry

# Paths are str or os.PathLike here, handled with os.path: pathlib is not
# imported on the look-up path for what its import costs there.
SCHEMA_PATH = os.path.join(os.path.dirname(os.path.realpath(__file__)), "schema.json")


def bundled_path():
    """The bundled data file as a pathlib.Path (for tests and tools; the
    commands use datafiles.bundled_file)."""
    from pathlib import Path

    from cptcli.datafiles import bundled_file

    return Path(bundled_file())


def load_schema() -> dict:
    with open(SCHEMA_PATH, encoding="utf-8") as f:
        return json.load(f)


def read_document(path) -> dict:
    """Read and parse one file (cptcli.datafiles, the one reader of their bytes)."""
    from cptcli.datafiles import read_document as read

    return read(path)


def _where(doc: dict, path: Iterable, records=None) -> str:
    """Turn a JSON path into 'record 20700, field modifiers[3].description'; `records` (index -> record), where
    given, are the records the path may point into (a streamed file's `doc` holds none)."""
    parts = list(path)
    if len(parts) >= 2 and parts[0] == "codes" and isinstance(parts[1], int):
        rec = (doc["codes"] if records is None else records)[parts[1]]
        code = rec.get("code") if isinstance(rec, dict) else None
        label = f"record {code}" if isinstance(code, str) else f"record #{parts[1] + 1}"
        rest = parts[2:]
    else:
        label, rest = "top level", parts
    text = ""
    for p in rest:
        text += f"[{p}]" if isinstance(p, int) else (f".{p}" if text else str(p))
    return f"{label}, field {text}" if text else label


_fast_validator = None


def validate_document(doc, path) -> None:
    """Apply the JSON Schema. fastjsonschema (the schema compiled to Python
    once a process) decides: it checks a big file about ten times faster than
    jsonschema does. Only an invalid document meets jsonschema, which
    words the error as users and tests know it; it stops at its first error,
    so a broken 100 MB file is reported as fast as a valid one is accepted:
    where fastjsonschema names the record at fault, jsonschema words the error
    from that one record, not by walking every record before it."""
    global _fast_validator
    import fastjsonschema

    if _fast_validator is None:
        _fast_validator = _compiled(load_schema(), keep=".codes[")
    try:
        _fast_validator(doc)
        return
    except fastjsonschema.JsonSchemaValueException as exc:
        at = _record_at(doc, getattr(exc, "path", None))
    message = _record_error(doc, at, doc["codes"][at], path) if at is not None else None
    if message is None:
        import jsonschema  # slow to import: only for an invalid file

        error = next(jsonschema.Draft202012Validator(load_schema()).iter_errors(doc), None)
        if error is None:
            return  # the two disagree: jsonschema, the reference implementation, accepts it
        from cptcli.textsafe import visible

        where = _where(doc, error.absolute_path) if isinstance(doc, dict) else "top level"
        message = visible(f"{path}: {where}: {error.message}")
    raise DataError(message)


def _record_error(doc: dict, at: int, record, path) -> str | None:
    """validate_document's error for a document whose first record the schema refuses, `record`, is number
    `at`: jsonschema's first error over that one record in the document otherwise as it is (`doc`, whose
    "codes" need not hold the records: a streamed file's do not), or None where jsonschema finds none there."""
    import jsonschema  # slow to import: only for an invalid file

    error = next(jsonschema.Draft202012Validator(load_schema()).iter_errors({**doc, "codes": [record]}), None)
    if error is None:
        return None
    from cptcli.textsafe import visible

    parts = list(error.absolute_path)
    if parts[:1] == ["codes"]:
        parts[1:2] = [at]
    return visible(f"{path}: {_where(doc, parts, {at: record})}: {error.message}")


def _record_at(doc, path) -> int | None:
    """The index of the record a fastjsonschema error path ('data', 'codes', '7', ...) points into."""
    if isinstance(doc, dict) and isinstance(doc.get("codes"), list) and path and len(path) > 2:
        at = str(path[2])
        if path[1] == "codes" and at.isdigit() and int(at) < len(doc["codes"]):
            return int(at)
    return None


@dataclass
class KnowledgeBase:
    """Knowledge-base files read, validated and layered: what the engine builds
    its index from (cptcli.engine.build), never what a command answers from."""

    records: dict[str, CodeRecord] = field(default_factory=dict)
    sources: dict[str, Source] = field(default_factory=dict)
    modifiers: dict[str, Modifier] = field(default_factory=dict)
    taxonomy_codes: dict[str, TaxonomyCode] = field(default_factory=dict)
    synonyms: tuple[Synonym, ...] = ()
    # Registries the model does not type (modifier_combinations, invalid_modifiers, ...) as the files
    # give them, concatenated in load order: the engine stores them for the rules.
    extra: dict[str, list] = field(default_factory=dict)
    files: tuple = ()
    # sha256 of the bytes the files were parsed from (datafiles.bytes_digest): what the index certifies.
    digest: str = ""
    # Each file's own record for a code, in load order: the merged record
    # cannot say which file a row came from, and errors must name that file.
    layers: dict[str, tuple[CodeRecord, ...]] = field(default_factory=dict)

    # -- building -------------------------------------------------------
    def add_document(self, doc: dict, path, codes: Iterable[dict] | None = None) -> None:
        """Layer one file over those already loaded. A later file adds codes,
        rows, list facts and notes; where it gives a different title,
        descriptor, add-on status or completeness for a code already loaded,
        the earlier value stays and an "override" note naming the file records
        the disagreement. Only a value the earlier files leave empty (no
        descriptor, add-on status not stated) is filled in, with its sources.
        A title or descriptor (layering "correctable") whose `override` names
        the reason replaces the earlier value instead, and the override note
        gives the reason and the value replaced.

        `codes`, when given, are the file's records as a stream (a big file
        parsed a record at a time, load): `doc` then holds the rest of the
        file once the stream has ended."""
        seen: set[str] = set()
        for i, raw in enumerate(doc["codes"] if codes is None else codes):
            code = raw["code"]
            if code in seen:
                raise DataError(f"{path}: record {code}, field code: duplicate code (record #{i + 1})")
            seen.add(code)
            layer = CodeRecord.from_dict(raw, origin=str(path))
            base = self.records.get(code)
            self.records[code] = layer if base is None else self._layer(base, layer, _reasons(raw))
            self.layers[code] = self.layers.get(code, ()) + (layer,)
        # Registries: the first file to define an entry keeps it, as for record facts.
        for s in doc.get("sources", ()):
            self.sources.setdefault(s["file"], Source.from_dict(s))
        for m in doc.get("modifiers", ()):
            self.modifiers.setdefault(m["modifier"], Modifier.from_dict(m))
        for t in doc.get("taxonomy_codes", ()):
            self.taxonomy_codes.setdefault(t["code"], TaxonomyCode.from_dict(t))
        self.synonyms += tuple(Synonym.from_dict(s) for s in doc.get("synonyms", ()))
        for name, value in doc.items():
            if name not in _TYPED and isinstance(value, list):
                self.extra.setdefault(name, []).extend(value)
        self.files += (path,)

    def _layer(self, base: CodeRecord, add: CodeRecord, reasons: dict[str, str] | None = None) -> CodeRecord:
        """`base` with the record `add` of a later file layered over it; `reasons`: the fields whose value in
        the later file says why it replaces the earlier one (its `override`)."""
        changes: dict = {}
        overrides = []
        for spec in registry(type(base)):
            name = spec.name
            old, new = getattr(base, name), getattr(add, name)
            if spec.layering == "append":
                changes[name] = old + tuple(x for x in new if x not in old)
                continue
            if spec.layering not in ("keep-first", "correctable") or new is None or _same(old, new):
                continue
            if old is None:
                changes[name] = new
                continue
            kept_from = next(
                (r.origin for r in self.layers.get(base.code, ()) if _same(getattr(r, name), old)), base.origin
            )
            reason = (reasons or {}).get(name) if spec.layering == "correctable" else None
            if reason:
                changes[name] = new
                overrides.append(
                    Note(
                        "override",
                        name,
                        f"{add.origin} corrects the {name} ({reason}): {_describe(new)} replaces the value from "
                        f"{kept_from} ({_describe(old)}).",
                        tuple(getattr(new, "sources", ())),
                    )
                )
                continue
            overrides.append(
                Note(
                    "override",
                    name,
                    f"{_overridden_by(add.origin)}{name} {_describe(new)}; the value from {kept_from} "
                    f"({_describe(old)}) is kept.",
                    tuple(getattr(new, "sources", ())),
                )
            )
        changes["notes"] += tuple(overrides)
        return replace(base, **changes)

    def reference_problems(self, origin: str | None = None) -> Iterable[str]:
        """Cross-record rules the schema cannot express: every code a table or
        cross-reference names has a record, and every cited source is listed.
        Checked file by file, so each problem names the file that has it;
        `origin` limits the check to one file's records."""
        for layers in self.layers.values():
            for rec in layers:
                path = rec.origin
                if origin is not None and path != origin:
                    continue
                for row in rec.related:
                    if row.code not in self.records:
                        yield f"{path}: record {rec.code}, field related: names unknown code {row.code}"
                for xref in rec.cross_references:
                    for code in xref.codes:
                        if code not in self.records:
                            yield (f"{path}: record {rec.code}, field cross_references: names unknown code {code}")
                if self.sources:
                    for src in cited_sources(rec):
                        if src not in self.sources:
                            yield (f"{path}: record {rec.code}: cites source {src!r}, which is not in the sources list")

    def check_references(self) -> None:
        for problem in self.reference_problems():
            raise DataError(problem)
        self.records = dict(sorted(self.records.items()))

    def naming(self) -> dict[str, list[str]]:
        """code -> codes whose related table or cross-references list it, in
        code order, built in one pass over every record."""
        naming: dict[str, list[str]] = {}
        for rec in self.records.values():
            named = {r.code for r in rec.related}
            named.update(c for x in rec.cross_references for c in x.codes)
            named.discard(rec.code)
            for c in named:
                naming.setdefault(c, []).append(rec.code)
        return naming


# Top-level keys the model types; any other list is kept as the files give it (KnowledgeBase.extra).
_TYPED = frozenset(("format_version", "codes", "sources", "modifiers", "taxonomy_codes", "synonyms"))


def _same(old, new) -> bool:
    """Whether two values of one fact agree; the same words from other sources agree."""
    if old is None or new is None or isinstance(old, str):
        return old == new
    key = {"AddOn": ("value",), "Descriptor": ("text", "official")}.get(type(old).__name__, ("text",))
    return all(getattr(old, k) == getattr(new, k) for k in key)


# The fields whose value a later file may replace by naming why (Spec layering "correctable": title, descriptor).
_CORRECTABLE = frozenset(s.name for s in registry(CodeRecord) if s.layering == "correctable")


def _reasons(raw: dict) -> dict[str, str]:
    """The correctable fields of a file's record whose value names, in its `override`, why it replaces an
    earlier file's."""
    found = {}
    for name in _CORRECTABLE:
        reason = raw[name].get("override") if isinstance(raw.get(name), dict) else None
        if isinstance(reason, str) and reason.strip():
            found[name] = reason
    return found


def _overridden_by(origin: str) -> str:
    return f"{origin} gives "


def _describe(value) -> str:
    if isinstance(value, str):
        return repr(value)
    if hasattr(value, "value"):
        return "yes" if value.value else "no"
    official = getattr(value, "official", None)
    suffix = " (official)" if official is True else " (not official)" if official is False else ""
    return repr(value.text) + suffix


def load(paths: list) -> KnowledgeBase:
    """The validated, layered knowledge base of `paths`: the engine's build
    input (and `validate`'s); commands answer from the engine."""
    import gc

    # Millions of containers are made here and none is garbage: the cyclic
    # collector would rescan them all again and again (a 100,000-code base
    # loads twice as fast without it).
    enabled = gc.isenabled()
    gc.disable()
    try:
        from cptcli.progress import Progress

        with Progress(paths) as progress:
            progress.phase("reading and checking data files")
            from cptcli import datafiles

            blobs: list = [datafiles.read_bytes(path) for path in paths]
            digest = datafiles.bytes_digest(blobs)
            kb = None
            if sum(map(len, blobs)) >= STREAM_BYTES:
                try:
                    kb = _streamed(paths, blobs)
                except _Unstreamable as exc:
                    message = exc.message
                    if message is None:
                        # Invalid somewhere: read again, and worded as the whole parse words it.
                        blobs = [datafiles.read_bytes(path) for path in paths]
                        digest = datafiles.bytes_digest(blobs)
                        if exc.schema:  # a record the schema refuses: its error, without assembling the rest
                            try:
                                message = _schema_error(paths, blobs)
                            except _Unstreamable:
                                pass
                    if message is not None:
                        error = DataError(message)
                        error.of_content = True
                        raise error from None
                    if exc.schema:
                        kb = _parsed_whole(paths, blobs, validate_only=True)
            if kb is None:
                kb = _parsed_whole(paths, blobs)
        kb.digest = digest
        return kb
    finally:
        if enabled:
            gc.enable()


def _parsed_whole(paths, blobs: list, validate_only: bool = False):
    """Every document parsed whole, validated (beside the assembling, for big
    ones) and assembled; an invalid document raises its DataError.
    `validate_only`: the documents are only validated, in order (None when
    they are valid)."""
    from cptcli import datafiles

    documents = [(path, datafiles.parse_document(raw, path)) for path, raw in zip(paths, blobs, strict=True)]
    blobs.clear()
    try:
        if validate_only:
            for path, doc in documents:
                validate_document(doc, path)
            return None
        verdict = _validation(documents)
        try:
            kb = _assemble(documents)
        except Exception:
            verdict()  # an invalid document explains any failure to assemble it
            raise
        verdict()
    except DataError as exc:
        exc.of_content = True  # the files' own fault, not the reading's: the engine remembers it
        raise
    return kb


# Files of at least this many bytes in all are parsed a record at a time (_streamed): parsed whole,
# a document's objects take several times its size, beside the records made from them.
STREAM_BYTES = 8 << 20


class _Unstreamable(Exception):
    """Something a record-at-a-time parse does not word: the whole parse says
    what. `schema`: a record or the top level failed the schema; `message`:
    the error as the whole parse words it, where the stream could word it."""

    def __init__(self, schema: bool = False, message: str | None = None):
        super().__init__()
        self.schema = schema
        self.message = message


class _Refused(Exception):
    """The checker's child found a record the schema refuses, and worded its error (`message`)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _schema_error(paths, blobs: list, valid: Callable | None = None) -> str | None:
    """The error the whole parse gives files of which a record fails the schema (validate_document's, the files
    in order), read a record at a time, or None where they are valid after all. Raises _Unstreamable(schema=True)
    where the fault is not one record's alone (the record's file is invalid elsewhere too, or jsonschema finds
    nothing wrong with the record), and _Unstreamable() where a file is not such JSON: the whole parse words
    those. Every file is read to its end: the whole parse reports a later syntax error first. `valid`: the
    record check (_record_validator), where one is at hand."""
    import fastjsonschema

    from cptcli.datafiles import _Duplicate

    valid = valid or _record_validator()
    refused = None
    for raw, path in zip(blobs, paths, strict=True):
        top: dict = {}
        try:
            for at, record in enumerate(_records(_Window(raw), top, _unchecked)):
                if refused is None:
                    try:
                        valid(record)
                    except fastjsonschema.JsonSchemaValueException:
                        refused = (top, at, record, path)
        except (DataError, ValueError, IndexError, RecursionError, MemoryError, _Duplicate):  # a lone surrogate
            raise _Unstreamable from None
        if refused is None or refused[0] is top:
            try:
                validate_document({**top, "codes": []}, path)
            except DataError:
                raise _Unstreamable(schema=True) from None
    if refused is None:
        return None
    message = _record_error(*refused)
    if message is None:
        raise _Unstreamable(schema=True)
    return message


def _streamed(paths, blobs: list) -> KnowledgeBase:
    """The knowledge base of valid files, each decoded a piece at a time and
    parsed and checked one record at a time, the record made at once: neither
    a file's whole text nor its parsed objects are ever held (its bytes are
    until its records end; `blobs` is emptied as they are). Raises
    _Unstreamable at anything invalid (UTF-8, JSON, schema, references, a lone
    surrogate), with the error worded where the checker's child words it (a
    record the schema refuses); the caller words the rest as the whole parse
    does."""
    import fastjsonschema

    from cptcli.datafiles import _Duplicate

    record_valid = _record_validator()
    checker = _Checker.start(blobs, paths, record_valid)
    kb = KnowledgeBase()
    try:
        for i, path in enumerate(paths):
            window, blobs[i] = _Window(blobs[i]), None
            top: dict = {}
            if checker is None:
                kb.add_document(top, path, _records(window, top, record_valid))
            else:
                kb.add_document(top, path, checker.watching(_records(window, top, _unchecked)))
            del window
            validate_document({**top, "codes": []}, path)
        kb.check_references()
        if checker is not None:
            checker.verdict()
    except _Refused as exc:
        raise _Unstreamable(schema=True, message=exc.message) from None
    except fastjsonschema.JsonSchemaException:  # before ValueError, which it is
        raise _Unstreamable(schema=True) from None
    except (
        DataError,
        ValueError,
        IndexError,
        RecursionError,
        MemoryError,
        _Duplicate,
    ):
        raise _Unstreamable from None
    finally:
        if checker is not None:
            checker.stop()
    return kb


# A call of a sub-schema's function in fastjsonschema's code passes the place it checks, formatted from
# `locals()` (a dict of every local of a function of hundreds) at each of a record's thirty-odd facts and rows,
# valid or not: more than half of the check's time. The place only words an error.
_PLACE_FORMATTED = re.compile(r"^(\s*validate_\w+\(.*)\.format\(\*\*locals\(\)\)\)$", re.M)


def _compiled(definition: dict, keep: str | None = None) -> Callable:
    """fastjsonschema's check of `definition`, judging as fastjsonschema.compile's does, with the places of
    its sub-schema calls left unformatted but those whose place starts `keep` (".codes[": the record an error
    is in, which validate_document reads from the error's path; the rest of a place it never reads)."""
    import fastjsonschema

    def unformatted(call: re.Match) -> str:
        return call.group(0) if keep is not None and f'"{keep}{{' in call.group(1) else call.group(1) + ")"

    namespace: dict = {}
    code = _PLACE_FORMATTED.sub(unformatted, fastjsonschema.compile_to_code(definition))
    # The schema's own function comes first, named from its $id. Code of another shape (a later fastjsonschema)
    # is not guessed at: its own compile judges, as fast as it is.
    root = re.search(r"^def (\w+)\(", code, re.M)
    if root is None:
        return fastjsonschema.compile(definition)
    exec(compile(code, "<knowledge-base schema>", "exec"), namespace)  # noqa: S102
    return namespace[root.group(1)]


def _record_validator() -> Callable:
    """The schema's check of one record (its `code` definition): the stream needs only whether a record is
    valid (an invalid file is parsed whole again, and its error worded from there)."""
    schema = load_schema()
    return _compiled({"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": "#/$defs/code"})


def _unchecked(record) -> None:
    """Records the checker's child validates are not validated again here."""


# Files of at least this many bytes in all are validated beside the build, in a forked child.
PARALLEL_BYTES = 32 << 20


class _Checker:
    """The schema check of streamed files in a forked child, on a second CPU:
    it parses the same bytes (shared with the parent until either writes
    them) a record at a time and only validates, so it finishes, and finds an
    invalid record, well before the build that makes the records does. It
    words a refused record's error itself (_schema_error), so the file is
    never parsed whole to report it."""

    def __init__(self, pid: int, pipe: int):
        self.pid, self.pipe = pid, pipe
        self.report: bytes | None = None

    @classmethod
    def start(cls, blobs: list, paths, valid: Callable) -> _Checker | None:
        """The checker of `blobs`, or None where there is no fork, one CPU, or the files are small."""
        if sum(map(len, blobs)) < PARALLEL_BYTES or not hasattr(os, "fork") or (os.cpu_count() or 1) < 2:
            return None
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: check, report, and leave without running the parent's exit code
            try:
                _die_with_parent()
                os.close(read_end)
                try:
                    message = _schema_error(paths, blobs, valid)
                    report = b"valid" if message is None else b"invalid:" + message.encode("utf-8", "surrogatepass")
                except _Unstreamable as exc:
                    report = b"schema" if exc.schema else b"other"
                except BaseException:  # noqa: BLE001 - the parent words every failure
                    report = b"other"
                with os.fdopen(write_end, "wb") as out:
                    out.write(report)
            finally:
                os._exit(0)
        os.close(write_end)
        return cls(pid, read_end)

    def _read(self, block: bool) -> bytes | None:
        if self.report is None:
            if not block:
                import select

                if not select.select([self.pipe], [], [], 0)[0]:
                    return None
            with os.fdopen(self.pipe, "rb") as pipe:
                self.report = pipe.read()
            os.waitpid(self.pid, 0)
        return self.report

    def _judge(self, report: bytes | None) -> None:
        if report is not None and report.startswith(b"invalid:"):
            raise _Refused(report[len(b"invalid:") :].decode("utf-8", "surrogatepass"))
        if report == b"schema":
            import fastjsonschema

            raise fastjsonschema.JsonSchemaValueException("a record the schema refuses")
        if report not in (None, b"valid"):  # invalid otherwise, or the child died: the whole parse decides
            raise ValueError("the check did not pass")

    def watching(self, records):
        """`records`, stopping at the child's first verdict against them."""
        for n, record in enumerate(records):
            if n % 1000 == 0 and self.report is None:
                self._judge(self._read(block=False))
            yield record

    def verdict(self) -> None:
        """Return when the child found the files valid; raise as it says otherwise."""
        self._judge(self._read(block=True))

    def stop(self) -> None:
        """End the child if it has not reported (the build failed or was interrupted before its verdict)."""
        if self.report is None:
            import signal

            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except OSError:
                pass
            os.close(self.pipe)
            self.report = b"stopped"


class _Window:
    """A file's text decoded a piece at a time: `text` holds what is being
    parsed, from a little before the parse's place to some way past it."""

    PIECE = 1 << 20

    def __init__(self, raw: bytes):
        import codecs

        self.raw = memoryview(raw)
        self.pos = 3 if raw.startswith(b"\xef\xbb\xbf") else 0
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.text = ""
        # A lone surrogate can only come from a "\\u" escape: values are walked for one only then.
        self.escapes = b"\\u" in raw

    def more(self) -> bool:
        """Decode the next piece onto the text; False at the end of the bytes (UnicodeDecodeError if not UTF-8)."""
        if self.pos >= len(self.raw):
            return False
        piece = self.raw[self.pos : self.pos + self.PIECE]
        self.pos += len(piece)
        self.text += self.decoder.decode(piece, final=self.pos >= len(self.raw))
        return True

    def ahead(self, at: int) -> int:
        """`at`, with the text reaching a piece past it (or to the end), and
        what is before it forgotten once that is a piece long (the new `at`)."""
        if at > self.PIECE:
            self.text, at = self.text[at:], 0
        while len(self.text) < at + self.PIECE and self.more():
            pass
        return at

    def read(self, parse, at: int):
        """parse(text, at), with more text decoded while it fails for want of it (a value longer than a piece)."""
        while True:
            try:
                return parse(self.text, at)
            except ValueError:
                if not self.more():
                    raise


def _records(window: _Window, top: dict, valid: Callable):
    """The records of the "codes" array of the JSON object in `window`, one at
    a time, each checked by `valid`; every other top-level value is put in
    `top` as it is met, so `top` is whole when the records end. Raises
    ValueError (json's, or _Duplicate's) or IndexError where the text is not
    such JSON."""
    import json.decoder

    from cptcli.datafiles import _check_strings, _constant, _unique_pairs

    # Undeclared in typeshed, present in every CPython json since 2.6.
    ws = getattr(json.decoder, "WHITESPACE").match  # noqa: B009
    scanstring = getattr(json.decoder, "scanstring")  # noqa: B009
    json_decode = json.JSONDecoder(object_pairs_hook=_unique_pairs, parse_constant=_constant).raw_decode

    def decode(at: int):
        value, at = window.read(json_decode, at)
        if window.escapes:
            _check_strings(value, "")
        return value, skip(at)

    def skip(at: int) -> int:
        """Past the whitespace at `at` (the text reaching a piece past it)."""
        at = window.ahead(at)
        return window.ahead(ws(window.text, at).end())

    def char(at: int) -> str:
        return window.text[at]

    at = skip(0)
    if char(at) != "{":
        raise ValueError("not an object")
    at = skip(at + 1)
    while char(at) != "}":
        if char(at) != '"':
            raise ValueError("a key expected")
        key, at = window.read(lambda text, at: scanstring(text, at + 1), at)
        if key in top:
            raise ValueError("a duplicate key")
        at = skip(at)
        if char(at) != ":":
            raise ValueError("':' expected")
        at = skip(at + 1)
        if key == "codes" and char(at) == "[":
            top[key] = []  # the records are the stream's, not the document's
            at = skip(at + 1)
            while char(at) != "]":
                record, at = decode(at)
                valid(record)
                yield record
                if char(at) == ",":
                    at = skip(at + 1)
                elif char(at) != "]":
                    raise ValueError("',' or ']' expected")
            at = skip(at + 1)
        else:
            top[key], at = decode(at)
        if char(at) == ",":
            at = skip(at + 1)
            if char(at) == "}":
                raise ValueError("a key expected")
        elif char(at) != "}":
            raise ValueError("',' or '}' expected")
    if skip(at + 1) != len(window.text) or window.more():
        raise ValueError("extra data")


# Documents with at least this many records are validated in a child process.
PARALLEL_VALIDATION = 20_000


def _validation(documents) -> Callable[[], None]:
    """Validate `documents`; returns the verdict: a function that returns when
    they are valid and raises the DataError when not.

    Validation is the largest single step of loading a big base (about a
    quarter of it) and needs nothing the assembling and indexing do, so for big documents
    it runs beside them in a forked child, on a second CPU. Nothing assembled is
    returned, and no index published, before the verdict. Where fork is missing,
    the documents are small or the child fails, it runs here, first."""
    records = sum(len(doc.get("codes") or ()) for _, doc in documents if isinstance(doc, dict))
    if records < PARALLEL_VALIDATION or not hasattr(os, "fork") or (os.cpu_count() or 1) < 2:
        for path, doc in documents:
            validate_document(doc, path)
        return lambda: None
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: validate, report, and leave without running the parent's exit code
        status = 1
        try:
            _die_with_parent()
            os.close(read_end)
            try:
                for path, doc in documents:
                    validate_document(doc, path)
                report = b"valid"
            except DataError as exc:
                report = b"invalid:" + exc.message.encode("utf-8", "surrogatepass")
            with os.fdopen(write_end, "wb") as out:
                out.write(report)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    decided: list = []

    def verdict() -> None:
        if not decided:
            with os.fdopen(read_end, "rb") as pipe:
                report = pipe.read()
            os.waitpid(pid, 0)
            decided.append(report)
        report = decided[0]
        if report.startswith(b"invalid:"):
            raise DataError(report[len(b"invalid:") :].decode("utf-8", "surrogatepass"))
        if report != b"valid":  # the child died (killed, out of memory): validate here
            for path, doc in documents:
                validate_document(doc, path)
            decided[0] = b"valid"

    return verdict


def _die_with_parent() -> None:
    """On Linux, have the kernel end this child when its parent dies (a killed
    build must not leave a validator running on); elsewhere the child ends
    when it finishes, its verdict unread."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _assemble(documents) -> KnowledgeBase:
    kb = KnowledgeBase()
    for path, doc in documents:
        kb.add_document(doc, path)
    kb.check_references()
    return kb


def schema_findings(doc, path) -> list[str]:
    """Every JSON Schema error, in document order, as 'PATH: record X, field Y: message' (controls escaped)."""
    import jsonschema  # only when a file is actually validated: slow to import

    validator = jsonschema.Draft202012Validator(load_schema())
    errors = sorted(validator.iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path])
    from cptcli.textsafe import visible

    where = (lambda e: _where(doc, e.absolute_path)) if isinstance(doc, dict) else (lambda e: "top level")
    return [visible(f"{path}: {where(e)}: {e.message}") for e in errors]


def check_file(path, base: list) -> tuple[list[str], KnowledgeBase | None]:
    """Findings for one user file layered over `base`: schema errors first;
    when there are none, reference problems and values the layering keeps from
    an earlier file; and the layered knowledge base (None when the file could
    not be layered), for the audit rules the caller runs over the file's own
    records. An unreadable file or base raises DataError."""
    doc = read_document(path)
    findings = schema_findings(doc, path)
    if findings:
        return findings, None
    same = os.path.realpath(path)
    kb = load([p for p in base if os.path.realpath(p) != same]) if base else KnowledgeBase()
    try:
        kb.add_document(doc, path)
    except DataError as exc:
        return [exc.message], None
    findings += kb.reference_problems(origin=str(path))
    mine = _overridden_by(str(path))
    for code in dict.fromkeys(r["code"] for r in doc["codes"]):
        for note in kb.records[code].notes:
            if note.kind == "override" and note.text.startswith(mine):
                correctable = note.subject in _CORRECTABLE
                findings.append(
                    f"{path}: record {code}, field {note.subject}: gives {note.text[len(mine) :]} "
                    + (
                        "Give the same value, record the disagreement as a note, or say why yours replaces it "
                        'in the field\'s "override".'
                        if correctable
                        else "Give the same value, or record the disagreement as a note."
                    )
                )
    return findings, kb
