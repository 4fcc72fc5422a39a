"""The knowledge-base index: an SQLite file built once from validated
knowledge-base files and reused while they are unchanged.

It certifies that the files were valid when built, so that loading them again
skips validation (~50 ms for the bundled file, ~4 s for 100,000 records), and it
holds every code's `show` document and the search corpus (postings, rows,
search documents), so that `show` and `search` answer without loading the
knowledge base at all (seconds for 100,000 records). It is built under the key
of the files in play (cptcli.datafiles: every file's real path, size and
modification time, the tool's version and the format): any change means a
rebuild, never a stale answer.

This module is also imported by the fast path (cptcli.entry), so it imports only
what that path can afford: os, json, sqlite3.
"""
from __future__ import annotations

import json
import os
import sqlite3

from cptcli.cache import cache_dir, sqlite_uri
from cptcli.datafiles import key_for, name_for


def path_for(key: str) -> str:
    """Where the index for `key` lives (see datafiles.name_for)."""
    return os.path.join(cache_dir(), f"index-{name_for(key)}.sqlite")


def open_index(key: str):
    """A read-only connection to the index for `key`, or None when there is
    none, it belongs to other files (name clash), or it is corrupt."""
    path = path_for(key)
    if not os.path.exists(path):
        return None
    try:
        con = sqlite3.connect(sqlite_uri(path, "mode=ro"), uri=True)
        row = con.execute("SELECT value FROM meta WHERE name = 'key'").fetchone()
        if row and row[0] == key:
            return con
        con.close()
    except sqlite3.Error:
        pass
    return None


def show_doc(con, code: str):
    """The `show CODE --json` document, or None if the code is not indexed.

    The index holds each document compact (json's C encoder writes it three
    times faster than the indenting Python one, and a third smaller); the
    caller indents the one or few it prints, in a fraction of a millisecond,
    to exactly the text the JSON renderer prints (JSON values round-trip)."""
    row = con.execute("SELECT show FROM codes WHERE code = ?", (code,)).fetchone()
    return None if row is None else json.loads(row[0])


def show_text(docs) -> str:
    """`show --json` output for indexed documents: one object for one code, else
    an array, indented exactly as the JSON renderer indents (for a UTF-8 stdout)."""
    return json.dumps(docs[0] if len(docs) == 1 else docs, ensure_ascii=False, indent=2) + "\n"


# Keys a show document adds to its record's own (model.ShowResult.to_dict).
_SHOW_KEYS = ("schema_version", "display_code", "origin", "named_by", "contributors")


def named_as_built(con, paths) -> bool:
    """Whether the caller names the files as the index's builder did. The key
    holds real paths, so `data/kb.json` and `/home/me/data/kb.json` share an
    index; but results name files as the caller does (origins, contributors,
    the text of override notes), so a differently named call must not be
    answered from the stored documents: the caller then loads the files."""
    built = [p for (p,) in con.execute("SELECT path FROM files ORDER BY seq")]
    return built == [str(p) for p in paths]


def show_result(con, code: str):
    """kb.show(code) rebuilt from the index without loading the knowledge base
    (100,000 records take seconds to load; this takes a millisecond), or None
    if the code is not indexed. Files are named as the builder named them
    (see named_as_built)."""
    doc = show_doc(con, code)
    if doc is None:
        return None
    from cptcli.model import CodeRecord, LayeredShowResult

    status = {row["code"]: row.pop("in_knowledge_base") for row in doc["related"]}
    record = CodeRecord.from_dict({k: v for k, v in doc.items() if k not in _SHOW_KEYS}, origin=doc["origin"])
    return LayeredShowResult(record, tuple(doc["named_by"]), status, tuple(doc["contributors"]))


def sources(con) -> dict:
    """The knowledge base's merged sources registry (kb.sources)."""
    from cptcli.model import Source

    return {s["file"]: Source.from_dict(s) for s in json.loads(_meta(con, "sources"))}


def modifiers(con) -> dict:
    """The knowledge base's merged modifier registry (kb.modifiers)."""
    from cptcli.model import Modifier

    return {m["modifier"]: Modifier.from_dict(m) for m in json.loads(_meta(con, "modifiers"))}


def _meta(con, name: str) -> str:
    """A value the build always writes; its absence is damage past the key
    check, reported as such, so that callers read the files instead."""
    row = con.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise sqlite3.DatabaseError(f"the index has no {name}")
    return row[0]


# The reverse look-ups' tables and the kind of their rows in the index.
_ROW_KINDS = {"diagnoses": "icd", "modifiers": "modifier"}


def codes_listing(con, table: str, key: str) -> list:
    """The codes whose `table` ("diagnoses" or "modifiers") has a row for
    `key`, in code order (kb.rows_listing's)."""
    return [c for (c,) in con.execute("SELECT code FROM rows WHERE kind = ? AND key = ? ORDER BY code",
                                      (_ROW_KINDS[table], key))]


def summaries(con) -> list:
    """Every code's `list` line (model.CodeSummary), in code order, from the
    search documents, which begin with what it needs (search.SearchDoc)."""
    from cptcli.model import CodeSummary
    from cptcli.search import SearchDoc

    docs = (SearchDoc.from_json(text) for (text,) in con.execute("SELECT search FROM codes ORDER BY code"))
    return [CodeSummary(d.code, d.display_code, d.title, d.add_on, d.completeness) for d in docs]


def all_codes(con) -> list:
    return [c for (c,) in con.execute("SELECT code FROM codes ORDER BY code")]


def open_for(paths):
    """The index for these files as they are now, or None (no index yet, a file
    missing, a corrupt index)."""
    try:
        key = key_for(paths)
    except OSError:
        return None
    return open_index(key)


def discard(paths) -> None:
    """Remove the index of these files: it passed its key check but failed in
    use (a table or row missing), so it is rebuilt by the next load instead of
    being bypassed on every call."""
    try:
        os.unlink(path_for(key_for(paths)))
    except OSError:
        pass


def open_named(paths, key=None):
    """As open_for, and only an index built through these names of the files
    (see named_as_built): for answers that name files. `key`: key_for(paths),
    when the caller has it."""
    con = open_for(paths) if key is None else open_index(key)
    if con is not None and not named_as_built(con, paths):
        con.close()
        con = None
    return con


class IndexCorpus:
    """The search corpus (cptcli.search.MemoryCorpus's questions) answered from
    the index: a query reads the postings of its own words and the documents
    of the codes it prints, never the whole knowledge base.

    Postings are stored one row per stem and field: the codes (all five ASCII
    characters, as the schema requires) concatenated, so a stem held by
    50,000 codes is a few blobs read in one step, not 50,000 rows."""

    def __init__(self, con):
        self.con = con
        meta = json.loads(_meta(con, "search"))
        self.n = meta["n"]
        self.synonyms = tuple(tuple(group) for group in meta["synonyms"])
        self.modifier_names = frozenset(meta["modifiers"])

    def has_stem(self, s: str) -> bool:
        return self.con.execute("SELECT 1 FROM terms WHERE stem = ? LIMIT 1", (s,)).fetchone() is not None

    def alpha_stems(self) -> list:
        return [s for (s,) in self.con.execute("SELECT DISTINCT stem FROM terms WHERE alpha ORDER BY stem")]

    def stems_from(self, prefix: str, limit: int) -> list:
        return [s for (s,) in self.con.execute("SELECT DISTINCT stem FROM terms WHERE stem >= ? AND stem < ? "
                                               "ORDER BY stem LIMIT ?", (prefix, prefix + _TOP, limit))]

    def postings(self, s: str) -> dict:
        from cptcli.search import merge_postings

        def codes(blob: bytes) -> list:
            text = blob.decode("ascii")
            return [text[i:i + 5] for i in range(0, len(text), 5)]

        rows = self.con.execute("SELECT bit, codes FROM terms WHERE stem = ? ORDER BY bit", (s,))
        return merge_postings((bit, codes(blob)) for bit, blob in rows)


    def codes_from(self, prefix: str) -> list:
        return [c for (c,) in self.con.execute("SELECT code FROM codes WHERE code >= ? AND code < ? ORDER BY code",
                                               (prefix, prefix + _TOP))]

    def icd_rows(self, icd: str) -> list:
        heads = [icd[:i] for i in range(1, len(icd))]
        return self.con.execute(
            "SELECT key, code FROM rows WHERE kind = 'icd' AND ((key >= ? AND key < ?) OR key IN (%s))"
            % ",".join("?" * len(heads)), (icd, icd + _TOP, *heads)).fetchall()

    def modifier_codes(self, modifier: str) -> list:
        return [c for (c,) in self.con.execute("SELECT code FROM rows WHERE kind = 'modifier' AND key = ?",
                                               (modifier,))]

    def doc(self, code: str):
        from cptcli.search import SearchDoc

        (text,) = self.con.execute("SELECT search FROM codes WHERE code = ?", (code,)).fetchone()
        return SearchDoc.from_json(text)


# Above every character: `key >= p AND key < p || _TOP` selects the keys starting with p.
_TOP = "\U0010ffff"

SCHEMA = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE files (seq INTEGER PRIMARY KEY, path TEXT NOT NULL);
CREATE TABLE codes (code TEXT PRIMARY KEY, show TEXT NOT NULL, search TEXT NOT NULL);
CREATE TABLE terms (stem TEXT NOT NULL, bit INTEGER NOT NULL, alpha INTEGER NOT NULL, codes BLOB NOT NULL,
                    PRIMARY KEY (stem, bit)) WITHOUT ROWID;
CREATE TABLE rows (kind TEXT NOT NULL, key TEXT NOT NULL, code TEXT NOT NULL);
"""
# Made after the rows are in: one sort instead of a B-tree insert per row.
INDEXES = "CREATE INDEX rows_by_key ON rows (kind, key);"


def _drop_pages(key: str) -> None:
    """Pages drawn from the index this one replaces can never match its key
    again: remove them rather than leave them behind."""
    import shutil

    from cptcli import pages

    shutil.rmtree(pages.directory(key), ignore_errors=True)


def build(kb, documents, key: str, before_publishing=None, progress=None) -> bool:
    """Write the index: the files it certifies valid, as the builder named them
    (their documents are not copied: reading a file again costs what reading a
    copy would, and knowledge.load then skips only validation), every code's
    `show --json` document, and the search corpus made from those documents. Built in a temporary file and renamed into place, so
    a crash leaves no half-written index; `before_publishing` (the loader's
    validation verdict) may still refuse it by raising. Returns False (the caller keeps its
    in-memory copy) when the cache directory cannot be written."""
    import tempfile

    from cptcli.model import plain
    from cptcli.search import MemoryCorpus, SearchDoc

    corpus = MemoryCorpus(kb.synonyms, kb.modifiers)

    def documents_of_codes():
        if progress is not None:
            progress.phase(f"indexing {len(kb.records):,} codes", len(kb.records))
        for i, code in enumerate(sorted(kb.records), 1):
            doc = SearchDoc.of(kb.records[code])
            corpus.add(doc, keep=False)
            yield code, kb.show(code).json_text(), json.dumps(doc, ensure_ascii=False)
            if progress is not None and i % 1000 == 0:
                progress.advance(1000)

    directory = cache_dir()
    try:
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix="index-", suffix=".tmp")
        os.close(fd)
    except OSError:
        return False
    try:
        con = sqlite3.connect(tmp)
        # A crash mid-build leaves a temporary file that is never renamed into
        # place, so the rollback journal and fsyncs would buy nothing.
        con.executescript("PRAGMA page_size = 65536; PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;" + SCHEMA)
        con.executemany("INSERT INTO files VALUES (?, ?)", [(i, str(path)) for i, (path, _) in enumerate(documents)])
        con.executemany("INSERT INTO codes VALUES (?, ?, ?)", documents_of_codes())
        con.executemany("INSERT INTO terms VALUES (?, ?, ?, ?)",
                        ((s, bit, s.isalpha(), "".join(codes).encode("ascii"))
                         for s, bit, codes in corpus.stored_postings()))
        con.executemany("INSERT INTO rows VALUES (?, ?, ?)",
                        ((kind, key, code) for (kind, key), codes in corpus.rows.items() for code in codes))
        con.executescript(INDEXES)
        con.execute("INSERT INTO meta VALUES ('search', ?)",
                    (json.dumps({"n": corpus.n, "synonyms": corpus.synonyms, "modifiers": sorted(corpus.modifier_names)},
                                ensure_ascii=False),))
        con.execute("INSERT INTO meta VALUES ('sources', ?)",
                    (json.dumps([plain(src) for src in kb.sources.values()], ensure_ascii=False),))
        con.execute("INSERT INTO meta VALUES ('modifiers', ?)",
                    (json.dumps([plain(m) for m in kb.modifiers.values()], ensure_ascii=False),))
        con.execute("INSERT INTO meta VALUES ('key', ?)", (key,))
        con.commit()
        con.close()
        if before_publishing is not None:
            before_publishing()
        os.replace(tmp, path_for(key))
        tmp = None
        _drop_pages(key)
        return True
    except (OSError, sqlite3.Error):
        return False
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
