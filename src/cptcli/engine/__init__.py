"""The engine: the SQLite index of the knowledge-base files in play, the one
query path of every command (show, search, list, check, icd, modifier, audit).

The index is built once from the files (cptcli.engine.build) under their key
(cptcli.datafiles: each file as named and its real path, size, modification
time, the tool's version and the format) and reused while it matches: any
change means a rebuild, never a stale answer. It lives in the cache directory;
where that cannot be written, it is built in memory for the one call, by the
same code, so the answers are the same (a test). An index found damaged while
answering is removed and rebuilt once; a file found invalid is remembered under
its key, so a big invalid file is reported once, not re-validated on every call.

Damage is only what damage looks like: a database error, or a stored document
that does not parse as what the build wrote (Damaged). Any other exception met
while answering is a bug of ours and is left to surface as one (cli.run: one
"internal error" line, exit 70, the traceback under CPTCLI_DEBUG=1), never
rebuilt around and reported as a damaged index.

Imports only what `show CODE --json` can afford: os, json, sqlite3.
"""

from __future__ import annotations

import json
import os
import sqlite3
from functools import cached_property

from cptcli.cache import cache_dir, refused_cache_dir, sqlite_uri
from cptcli.datafiles import key_for, name_for
from cptcli.errors import DataError, NotFoundError
from cptcli.results import ShowResult


class Damaged(Exception):
    """A stored document that does not parse as what the build wrote: damage past the key check."""


# The reverse look-ups' tables and the kind of their rows in the index.
_ROW_KINDS = {"diagnoses": "icd", "modifiers": "modifier"}


def index_key(paths) -> str:
    """The files' key plus the names they are given here: answers name files
    as the caller does (origins, contributors, override notes), so a call that
    names the same file differently gets an index of its own."""
    from cptcli.places import index_lines

    return key_for(paths) + "\nnamed " + json.dumps([str(p) for p in paths], ensure_ascii=False) + "\n" + index_lines()


def index_path(paths) -> str:
    """Where the index of `paths` is cached (it may not exist yet): `cache info` marks it in use."""
    return _path(index_key(paths), "index")


def _path(key: str, kind: str) -> str:
    ext = "sqlite" if kind == "index" else "json"
    return os.path.join(cache_dir(), f"{kind}-{name_for(key)}.{ext}")


class Engine:
    """Look-ups over one index. Open with Engine.open(paths)."""

    def __init__(self, con: sqlite3.Connection, paths, key: str, path: str | None, notice: str | None = None):
        self.con = con
        self.paths = list(paths)
        self.key = key
        self.path = path  # None: built in memory for this call
        # Why the cache directory was not used, for the CLI to say once (None: it was, or could not be written).
        self.notice = notice
        self._recovered = False

    # -- opening and building ----------------------------------------------------
    @classmethod
    def open(cls, paths, progress=None) -> Engine:
        """The engine for `paths` as they are now: the cached index when it
        matches, else a new one (cached, or in memory when the cache directory
        cannot be written). Raises DataError for a missing or invalid file."""
        try:
            key = index_key(paths)
        except OSError:
            cls._build(paths, None, progress)  # names the missing file, as reading it would
            raise AssertionError("unreachable: a file that cannot be stat'ed was read") from None
        refused = refused_cache_dir()
        if refused is not None:
            engine = cls._build(paths, key, progress, cache=False)
            engine.notice = refused
            return engine
        path = _path(key, "index")
        distrusted = _distrusted(path)
        con = _open_cached(path, key, paths) if distrusted is None else None
        if con is not None:
            return cls(con, paths, key, path)
        invalid = _remembered_invalid(key)
        if invalid is not None:
            raise DataError(invalid)
        engine = cls._build(paths, key, progress)
        if distrusted is not None:
            engine.notice = (
                f"index {distrusted}, so it was not used; {'rebuilt' if engine.path else 'using an in-memory index'}"
            )
        return engine

    @classmethod
    def _build(cls, paths, key: str | None, progress=None, cache: bool = True) -> Engine:
        """A new index of `paths` under `key` (cptcli.engine.build owns the way there)."""
        from cptcli.engine import build

        index_path = invalid_path = None
        if cache and key is not None:
            index_path, invalid_path = _path(key, "index"), _path(key, "invalid")
        con, path = build.build(paths, key, index_path, invalid_path, progress)
        return cls(con, paths, key or "", path)

    @classmethod
    def of(cls, kb, paths) -> Engine:
        """An in-memory index of an already layered knowledge base, by the same
        build as every other (imported code sets joined): for `validate`, which
        judges one file's own records against the registries of everything in
        play, and for tests of a knowledge base made in code."""
        from cptcli.engine import build

        con, _ = build.index(kb, "in memory", paths)
        return cls(con, paths, "in memory", None)

    def close(self) -> None:
        self.con.close()

    def _ask(self, sql: str, args=(), parse=None):
        """Every row of one query, or `parse(rows)`. A database error, or a
        stored document that does not parse (`parse` raises Damaged), is damage
        past the key check (a table, row or page spoilt): the index is removed
        and rebuilt once, and the query asked again. Anything else `parse`
        raises is a bug and propagates as it is."""
        try:
            rows = self.con.execute(sql, args).fetchall()
            return rows if parse is None else parse(rows)
        except (sqlite3.Error, Damaged):
            self._rebuild_damaged()
        return self._ask(sql, args, parse)

    def _rebuild_damaged(self) -> None:
        if self._recovered:
            raise DataError(f"the index is damaged and could not be rebuilt; remove {self.path or 'it'} and try again")
        self._recovered = True
        self.con.close()
        if self.path is not None:
            try:
                os.unlink(self.path)
            except OSError:
                pass  # already gone: the build writes it anew
        fresh = self._build(self.paths, self.key)
        self.con, self.path = fresh.con, fresh.path

    def meta(self, name: str):
        """A value the build always writes, parsed; its absence, or a value
        that does not parse as what the build wrote, is damage."""
        shape = list if name == "files" else dict

        def parse(rows):
            if not rows:
                raise Damaged(f"the index has no {name} entry")
            return _as(shape, rows[0][0])

        return self._ask("SELECT value FROM meta WHERE name = ?", (name,), parse)

    # -- look-ups ------------------------------------------------------------------
    def show(self, code: str) -> ShowResult | None:
        """The `show` result of `code`, or None when the knowledge base does not hold it."""
        return self._ask(
            "SELECT show FROM codes WHERE code = ?",
            (code,),
            lambda rows: ShowResult(_as(dict, rows[0][0])) if rows else None,
        )

    def find(self, code: str):
        """The record (model.CodeRecord) of `code`, or None."""
        found = self.show(code)
        return found.record if found is not None else None

    def get(self, code: str):
        """The record of `code`; raises NotFoundError naming the nearest codes."""
        found = self.find(code)
        if found is None:
            raise self.not_found(code)
        return found

    def codes(self) -> list[str]:
        return [c for (c,) in self._ask("SELECT code FROM codes ORDER BY code")]

    def not_found(self, code: str) -> NotFoundError:
        """The error for a code the knowledge base does not hold. Nearest codes
        are offered only from the code's own family (its first four
        characters: 20706 -> 20700-20705), where a mistyped last character is
        the likely slip; a code outside every family is said to be absent, with
        how many codes there are."""
        family = [
            c
            for (c,) in self._ask(
                "SELECT code FROM codes WHERE code >= ? AND code < ? ORDER BY code", (code[:4], code[:4] + "\U0010ffff")
            )
        ]
        if family:

            def distance(c: str) -> tuple:
                return abs(ord(c[4]) - ord(code[4])), c

            near = ", ".join(sorted(family, key=distance)[:3])
            return NotFoundError(f"code {code} is not in the knowledge base; nearest: {near}")
        (count,) = self._ask("SELECT count(*) FROM codes")[0]
        return NotFoundError(
            f"code {code} is not in the knowledge base, which holds {count:,} codes "
            f"(cptcli list shows them; cptcli import adds official code sets)"
        )

    def summaries(self) -> list:
        """Every code's `list` line (model.CodeSummary), in code order, from the
        search documents, which begin with what it needs."""
        from cptcli.model import CodeSummary

        def summaries(rows):
            docs = (search_doc(t) for (t,) in rows)
            return [CodeSummary(d.code, d.display_code, d.title, d.add_on, d.completeness) for d in docs]

        return self._ask("SELECT search FROM codes ORDER BY code", (), summaries)

    def records(self):
        """Every record (model.CodeRecord), in code order: for `audit`."""
        return self._ask(
            "SELECT show FROM codes ORDER BY code", (), lambda rows: [ShowResult(_as(dict, t)).record for (t,) in rows]
        )

    def rows_listing(self, table: str, key: str) -> list:
        """Every (record, row) whose `table` ("diagnoses", "modifiers") lists `key`, in code order."""
        found = [
            c
            for (c,) in self._ask(
                "SELECT code FROM rows WHERE kind = ? AND key = ? ORDER BY code", (_ROW_KINDS[table], key)
            )
        ]
        return [(rec, row) for rec in map(self.get, found) for row in getattr(rec, table) if row.key == key]

    def corpus(self):
        from cptcli.engine.corpus import IndexCorpus

        return IndexCorpus(self._ask, self.meta("search"))

    # -- registries ------------------------------------------------------------------
    def registry(self, name: str) -> list:
        """One registry list as the files give it (modifier_combinations, ...); [] when none does."""
        return self.meta("registry").get(name, [])

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(str(p) for p in self.paths)

    def records_per_file(self) -> dict[str, int]:
        """How many records each knowledge-base file gave, as the build counted them."""
        return {path: count for path, count in self.meta("files")}

    @cached_property
    def sources(self) -> dict:
        from cptcli.model import Source

        return {s["file"]: Source.from_dict(s) for s in self.registry("sources")}

    @cached_property
    def modifiers(self) -> dict:
        from cptcli.model import Modifier

        return {m["modifier"]: Modifier.from_dict(m) for m in self.registry("modifiers")}

    @cached_property
    def taxonomy_codes(self) -> dict:
        from cptcli.model import TaxonomyCode

        return {t["code"]: TaxonomyCode.from_dict(t) for t in self.registry("taxonomy_codes")}


def _as(shape: type, text: str):
    """A stored JSON document, which must be of `shape`: anything else is damage (raised as Damaged)."""
    try:
        value = json.loads(text)
    except (TypeError, ValueError) as exc:  # not text, or not JSON
        raise Damaged(f"a stored document does not parse: {exc}") from None
    if not isinstance(value, shape):
        raise Damaged(f"a stored document is not a {shape.__name__}")
    return value


def search_doc(text: str):
    """A stored search document (cptcli.search.SearchDoc): eight items, the last four lists of rows;
    anything else is damage (raised as Damaged)."""
    from cptcli.search import SearchDoc, SearchNote

    value = _as(list, text)
    if (
        len(value) != len(SearchDoc._fields)
        or not all(isinstance(r, list) and all(isinstance(x, list) for x in r) for r in value[4:])
        or any(len(n) != len(SearchNote._fields) for n in value[7])
    ):
        raise Damaged("a stored search document is not of the shape the build writes")
    return SearchDoc.from_list(value)


def _distrusted(path: str) -> str | None:
    """ "PATH is writable by others (mode 0666)" when a derived file fails the rule for every file cptcli reads
    back (cptcli.places.untrusted), else None (a missing file included). Such a file is never read; the build
    renames its new one over it."""
    from cptcli.places import untrusted

    try:
        why = untrusted(os.stat(path))
    except OSError:
        return None
    if why is None:
        return None
    from cptcli.textsafe import visible

    return f"{visible(path)} {why}"


def _open_cached(path: str, key: str, paths) -> sqlite3.Connection | None:
    """A read-only connection to the index at `path` when it holds `key` and
    the files are the ones it was built from, else None. The key is the files'
    times and sizes; where a file's times are too close to the build's to tell
    a same-size edit apart (git's racy-timestamp rule), its bytes are hashed
    and compared with the digest the build stored."""
    from cptcli import datafiles

    if not os.path.exists(path):
        return None
    try:
        con = sqlite3.connect(sqlite_uri(path, "mode=ro"), uri=True)
        meta = dict(con.execute("SELECT name, value FROM meta WHERE name IN ('key', 'built_at', 'digest')"))
        if meta.get("key") != key:
            con.close()
            return None
        if datafiles.is_racy(paths, int(meta.get("built_at", "0"))):
            try:
                same = datafiles.content_digest(paths) == meta.get("digest")
            except OSError:
                same = False
            if not same:
                con.close()
                return None
        return con
    except (sqlite3.Error, ValueError):
        return None


def _remembered_invalid(key: str) -> str | None:
    path = _path(key, "invalid")
    if _distrusted(path) is not None:
        return None  # judged again by the build, which writes its verdict over it
    try:
        with open(path, encoding="utf-8") as f:
            found = json.load(f)
        return found["message"] if found.get("key") == key else None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
