"""Knowledge-base files -> the index: every code's `show` document, the search
corpus (postings, rows, search documents) and the registries, written into one
SQLite database that every command reads (cptcli.engine.Engine).

This module owns the way from a key to a written index (build): the files are
read, validated and layered once (cptcli.knowledge), a file invalid by its
content remembered, the imported code sets joined (cptcli.engine.official), the
index written beside its final place and renamed into it, or, where the cache
directory cannot be written, held in memory for the one call. One function
(index) turns a layered knowledge base into an index for the cache, the
in-memory fallback and `validate` alike, so the three give one answer; nothing
a command prints is ever made from the loaded records directly. A big base's
stem postings are made in a forked child beside the documents (_StemsChild),
the same postings the build makes alone.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import stat

from cptcli.errors import DataError
from cptcli.model import FIELDS, CodeRecord, plain, registry
from cptcli.search.candidates import CONTESTED, LEAD, LEAD_END, NEGATED

TERMS = """CREATE TABLE terms (stem TEXT NOT NULL, bit INTEGER NOT NULL, alpha INTEGER NOT NULL, codes BLOB NOT NULL,
                    PRIMARY KEY (stem, bit)) WITHOUT ROWID;"""
SCHEMA = f"""
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE codes (code TEXT PRIMARY KEY, show TEXT NOT NULL, search TEXT NOT NULL);
{TERMS}
CREATE TABLE rows (kind TEXT NOT NULL, key TEXT NOT NULL, code TEXT NOT NULL);
"""
# A crash mid-build leaves a temporary file that is never renamed into place, so the rollback journal and fsyncs
# would buy nothing.
UNJOURNALED = "PRAGMA page_size = 65536; PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
# Made after the rows are in: one sort instead of a B-tree insert per row.
INDEXES = "CREATE INDEX rows_by_key ON rows (kind, key);"

# The searched fields, their weights and bits, from the field registry: stored in
# the index so that search reads them there without importing the model.
# Texts that stand only on a source's reading an official descriptor contradicts are
# searched apart, as one pseudo-field: a hit found only there carries a caution.
SEARCH_FIELDS = {**{s.name: s.weight for s in FIELDS if s.weight is not None}, CONTESTED: 0.3, LEAD: 0.0, NEGATED: 0.1}
_BIT = {name: 1 << i for i, name in enumerate(SEARCH_FIELDS)}


def build(paths, key: str | None, index_path: str | None, invalid_path: str | None, progress=None):
    """(connection, path) of a new index of the files `paths` under `key`:
    written to `index_path` and opened read-only, or in memory (path None) when
    `index_path` is None or cannot be written. Raises DataError for a missing
    or invalid file; one invalid by its content is remembered at
    `invalid_path` (cptcli.engine reports it from there while the files are
    unchanged)."""
    import time

    from cptcli import knowledge

    built_at = time.time_ns()  # before reading: an edit during the build is never certified (racy rule)
    # Forked before the files are read, while this process is small: a child forked from a process holding a
    # loaded base comes to copy most of its memory, as the child's own objects are made in the free places of
    # the pages the base's objects are in.
    stems = _StemsChild.start(index_path, paths)
    try:
        try:
            kb = knowledge.load(paths)
        except DataError as exc:
            if key is not None and invalid_path is not None and exc.of_content:
                _remember_invalid(invalid_path, key, exc.message)
            raise
        assert key is not None  # a file that cannot be stat'ed (no key) cannot be read either
        return index(kb, key, paths, index_path, progress, {"built_at": str(built_at), "digest": kb.digest}, stems)
    finally:
        if stems is not None:
            stems.stop()


def index(kb, key: str, files, index_path: str | None = None, progress=None, stamps=None, stems=None):
    """(connection, path) of the index of the layered knowledge base `kb`
    (changed in place: the imported code sets are joined to it), written to
    `index_path` or, when that is None or cannot be written, in memory (path
    None): the one way from loaded records to answers. `stems`: a started
    _StemsChild, which posts the stems of an index written to `index_path`."""
    from cptcli.cache import sqlite_uri
    from cptcli.engine import official

    official.join(kb)
    tmp = _temporary(index_path) if index_path is not None else None
    if tmp is not None:
        assert index_path is not None
        try:
            con = sqlite3.connect(tmp)
            con.executescript(UNJOURNALED)
            write(con, kb, key, files, progress, stamps, stems)
            con.close()
            os.replace(tmp, index_path)
            tmp = None
            con = sqlite3.connect(sqlite_uri(index_path, "mode=ro"), uri=True)
            remove_replaced(index_path, key)
            return con, index_path
        except (OSError, sqlite3.Error):
            pass  # a full or vanished cache directory: the call is answered from memory
        finally:
            if tmp is not None:
                _unlink(tmp)
    con = sqlite3.connect(":memory:")
    write(con, kb, key, files, progress, stamps)
    return con, None


def remove_replaced(index_path: str, key: str) -> list[str]:
    """Remove the other indexes in `index_path`'s directory that the new one (of `key`) replaces, and those of
    knowledge-base files that no longer exist: those of the same configuration (cptcli.datafiles.name_for) under
    another name, as earlier versions named an index after
    the imported sets' stamp too, one more file (as big as the index) every import. An index of the same
    configuration and name was already replaced by the rename. Returns the names removed; never raises.

    A concurrent reader of a removed index is not disturbed (on POSIX an unlinked file stays readable through
    the descriptors open on it); where unlinking an open file fails (Windows), the file is left for the next
    build. A file whose key cannot be read is left alone: it may be some other program's."""
    from cptcli.cache import sqlite_uri
    from cptcli.datafiles import name_for

    directory, mine = os.path.split(index_path)
    wanted = name_for(key)
    data_line = next((line for line in key.splitlines() if line.startswith("data ")), None)
    removed: list[str] = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    for name in names:
        if name == mine or not (name.startswith("index-") and name.endswith(".sqlite")):
            continue
        path = os.path.join(directory, name)
        try:
            if not stat.S_ISREG(os.lstat(path).st_mode):
                continue  # never opened: a named pipe would block the open
            con = sqlite3.connect(sqlite_uri(path, "mode=ro"), uri=True)
            try:
                row = con.execute("SELECT value FROM meta WHERE name = 'key'").fetchone()
            finally:
                con.close()
        except (OSError, sqlite3.Error):
            continue
        other = row[0] if row and isinstance(row[0], str) else None
        if other is None:
            continue
        if data_line is not None and "\ndata " not in other:
            # An earlier version's key, which did not name the data directory: taken as this one's (at worst,
            # another directory's index is built again).
            other += "\n" + data_line
        if (name_for(other) == wanted or _of_files_gone(other)) and _unlink(path):
            removed.append(name)
    return removed


def _of_files_gone(key: str) -> bool:
    """Whether an index's key names a knowledge-base file that no longer exists: nothing can ask for that index
    again, so the next build removes it."""
    files = [line.rsplit("|", 4)[0] for line in key.splitlines() if line.count("|") >= 4]
    return any(not os.path.exists(f) for f in files)


def _temporary(path: str) -> str | None:
    """A new temporary file beside `path`, created exclusively (never through
    a planted symlink, mode 0600), after removing those that dead builds left;
    None when the directory cannot be written."""
    from cptcli.cache import create_temporary, make_dirs, remove_stale

    directory = os.path.dirname(path)
    try:
        make_dirs(directory)
        remove_stale(directory, "index-", ".tmp")
        fd, tmp = create_temporary(directory, "index-", ".tmp")
        os.close(fd)
    except OSError:
        return None
    return tmp


def _unlink(path: str) -> bool:
    try:
        os.unlink(path)
    except OSError:
        return False
    return True


def _remember_invalid(path: str, key: str, message: str) -> None:
    from cptcli.cache import atomic_write

    try:
        data = json.dumps({"key": key, "message": message}, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return
    atomic_write(path, data)


def show_document(kb, rec: CodeRecord, naming: dict) -> dict:
    """The `show CODE --json` document of one layered record: its fields, plus schema_version,
    display_code, origin, named_by and contributors (results.ShowResult reads them)."""
    d: dict = {"schema_version": 1}
    d.update(rec.to_dict())
    for row in d["related"]:
        other = kb.records.get(row["code"])
        row["in_knowledge_base"] = other.completeness if other is not None else None
    d["display_code"] = rec.display_code
    d["origin"] = rec.origin
    d["named_by"] = naming.get(rec.code, [])
    d["contributors"] = [r.origin for r in kb.layers.get(rec.code, ())] or [rec.origin]
    return d


def field_texts(rec: CodeRecord):
    """(field, text, contested subject) for every searchable text of a record,
    in registry order. A row's official correction is searchable with it:
    "lumbar radiculopathy" must find the M54.16 row whose source says
    "lumbosacral"."""
    fixes = {n.subject: f"[correction: {n.correction}]" for n in rec.notes if n.kind == "correction" and n.correction}
    # A descriptor that is the corrected title again (a source giving one wording as both) is the same claim the
    # correction contradicts: searched as plain text, 000's "peripheral nerve stimulator" would still answer PNS
    # for the sacral nerve array 64561 with no caution.
    corrected = " ".join(rec.title.text.split()).lower() if official_title(rec) else None
    for spec in registry(type(rec)):
        if spec.weight is None:
            continue
        name, value = spec.name, getattr(rec, spec.name)
        if spec.kind == "key":
            yield name, value, None
        elif spec.kind == "scalar":
            if value is None:
                continue
            fixed = official_title(rec) if name == "title" else None
            if fixed:  # the official description is the title searched; the source's stands apart
                yield name, fixed, None
                yield CONTESTED, value.text, name
            elif name == "descriptor" and corrected and " ".join(value.text.split()).lower() == corrected:
                yield CONTESTED, value.text, "title"
            else:
                yield from _text(name, value.text, getattr(value, "contested", None))
        elif spec.kind == "list":
            for item in value:
                yield from _text(name, item.text, item.contested)
        else:
            for row in value:
                cells = (row.key, *row.cells(), fixes.get(f"{name}/{row.key}") if name != "related" else None)
                yield from _text(name, " ".join(c for c in cells if c), row.contested)


def _text(name: str, text: str, contested):
    if contested is None:
        yield name, text, None
    else:
        yield CONTESTED, text, contested.subject


def official_title(rec: CodeRecord) -> str | None:
    """The official description where a correction note says the source's title is wrong."""
    return next((n.correction for n in rec.notes_about("title") if n.kind == "correction" and n.correction), None)


def mined_synonyms(kb) -> list[dict]:
    """The abbreviations the imported code sets define themselves (cptcli.search.abbreviations), as synonym
    groups beside the curated ones; one the curated lexicon already holds is left to it."""
    from cptcli.search.abbreviations import mine

    def pairs():
        for rec in kb.records.values():
            by_kind = {d.kind: d.text for d in rec.official_descriptors}
            if "long" in by_kind:
                yield by_kind["long"], by_kind.get("short", "")

    curated = {t.lower() for s in kb.synonyms for t in s.terms}
    return [
        {"terms": [abbr, phrase], "contested": False}
        for abbr, phrases in sorted(mine(pairs()).items())
        if abbr not in curated
        for phrase in sorted(phrases)
    ]


def search_document(rec: CodeRecord, texts: list) -> list:
    """What search reads of one record (cptcli.search.SearchDoc), as JSON-ready lists; `texts` are its
    field_texts."""
    return [
        rec.code,
        official_title(rec) or rec.title.text,
        rec.completeness,
        rec.is_add_on,
        texts,
        [(r.code, r.description) for r in rec.diagnoses],
        [(r.modifier, r.description) for r in rec.modifiers],
        # cptcli.search.SearchNote's fields, in its order.
        [(n.kind, n.subject, n.correction, n.text, n.authority) for n in rec.notes],
    ]


def is_bare_official(rec: CodeRecord) -> bool:
    """Whether a record is an official file's descriptor and nothing more (an imported code set's row): only
    such a title says by its length how much of the item a query covers. A curated record says more of itself
    than its title (the words a query matched may be in its summary or rows), and a source's paraphrased title
    is as long as its author wrote it."""
    return rec.completeness == "official"


# Words that say how an item is counted, sold or given, not what it is ("per 15 mg", "each", "any type", the
# "Injection, ..." every drug code starts with): a query need not cover them.
_UNCOUNTED = frozenset(
    "per each any all type other than only use used includ mg ml cc iu mcg unit inject infus".split()
)


def title_length(title: str) -> tuple[int, int]:
    """How many distinct words (stems, stop words, numbers and counting words aside) a title and its leading
    name have."""
    from cptcli.search.analysis import stems

    def words(text: str) -> int:
        return sum(1 for s in stems(text) if s.isalpha() and s not in _UNCOUNTED)

    return words(title), words(LEAD_END.split(title, 1)[0])


# What a descriptor says an item is not: "Walker, heavy duty, without wheels", "Crutches underarm, other than wood",
# "infliximab, excludes biosimilar", a short form's "no wheels". "With or without X" leaves X open, and the span
# stops where the descriptor goes on ("without contrast followed by with contrast").
_NEGATED = re.compile(
    r"(?<!\bor )\b(?:without|w/o|excludes?|excluding|except|other than|no)\s+"
    r"([^,;:().]*?)(?=\s+(?:with\b|followed\b|and\b|or\b|w/)|[,;:().]|$)",
    re.I,
)
# The fields whose negated words are indexed apart (cptcli.search.candidates.NEGATED).
_NEGATABLE = frozenset({"title", "descriptor", "official_descriptors"})


class Postings:
    """Stem postings per field (field -> stem -> codes, in code order), made by
    appending: the cheapest way to index 100,000 records' millions of
    (stem, field, code) facts in Python; and the codes of each table row
    (rows)."""

    def __init__(self):
        from collections import defaultdict

        # A missing stem's list is made in C (defaultdict): a million appends a 5,000-code base, most to a list
        # that already exists, each spared a look-up and a test in Python.
        self.by_field: dict[str, dict[str, list[str]]] = {name: defaultdict(list) for name in SEARCH_FIELDS}
        # ("icd" | "modifier", row key) -> codes with such a row
        self.rows: dict[tuple[str, str], list[str]] = {}

    def add(self, code: str, texts) -> None:
        """Post the stems of `texts`, a record's field_texts, under `code` (records in code order)."""
        from cptcli.search.analysis import stems

        by_field: dict[str, list[str]] = {}
        for name, text, _ in texts:
            if name == "title":
                by_field[LEAD] = [LEAD_END.split(text, 1)[0]]
            if name in _NEGATABLE and _NEGATED.search(text):
                by_field.setdefault(NEGATED, []).extend(m.group(1) for m in _NEGATED.finditer(text))
                text = _NEGATED.sub(lambda m: m.group(0)[: m.start(1) - m.start(0)], text)
            by_field.setdefault(name, []).append(text)
        for name, joined in by_field.items():
            lists = self.by_field[name]
            # One tokenising pass per field: words never run across the joining space.
            for k in stems(" ".join(joined)):
                lists[k].append(code)

    def add_rows(self, rec: CodeRecord) -> None:
        """Post the diagnosis and modifier rows of `rec` (records in code order)."""
        code = rec.code
        for kind, keys in (("icd", [r.code for r in rec.diagnoses]), ("modifier", [r.modifier for r in rec.modifiers])):
            for key in dict.fromkeys(keys):
                self.rows.setdefault((kind, key), []).append(code)

    def stored(self):
        """(stem, field bit, alpha, codes blob) rows of the terms table, in the order of its key: each row is
        appended to the table's B-tree, not inserted among the others."""
        rows = [(s, _BIT[name], lists) for name, lists in self.by_field.items() for s in lists]
        rows.sort(key=lambda row: (row[0], row[1]))
        for s, bit, lists in rows:
            yield s, bit, s.isalpha(), "".join(lists[s]).encode("ascii")


# Files of at least this many bytes in all (some 2,000 codes of prose) have their stem postings made in a forked
# child, on a second CPU, while the build writes the documents: the two are most of an index's making and need
# nothing of each other.
PARALLEL_BYTES = 8 << 20


class _StemsChild:
    """A child, forked before the files are read (build), that posts the stems of the texts it is sent
    (Postings.add) and writes them, as the terms table, into a database file of its own, which the build copies
    into the index. It is sent (code, texts) through a pipe and reads nothing of this process's records, so what
    it holds is the postings, which this process then never makes."""

    BATCH = 200

    def __init__(self, pid: int, pipe: int, path: str):
        self.pid, self.path = pid, path
        self.out = os.fdopen(pipe, "wb")
        self.batch: list = []
        self.failed = False

    @classmethod
    def start(cls, index_path: str | None, paths) -> _StemsChild | None:
        """The child of a build of `paths` into `index_path`, or None where there is no fork, one CPU, no index
        file to write, or the files are small."""
        if index_path is None or not hasattr(os, "fork") or (os.cpu_count() or 1) < 2:
            return None
        try:
            if sum(os.path.getsize(p) for p in paths) < PARALLEL_BYTES:
                return None
        except OSError:
            return None  # the build reports the file
        path = _temporary(index_path)  # this process's: never removed as stale while it runs
        if path is None:
            return None
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: post, write, and leave without running the parent's exit code
            status = 1
            try:
                os.close(write_end)
                _post_stems(read_end, path)
                status = 0
            finally:
                os._exit(status)
        os.close(read_end)
        return cls(pid, write_end, path)

    def add(self, code: str, texts) -> None:
        self.batch.append((code, texts))
        if len(self.batch) >= self.BATCH:
            self._send()

    def _send(self) -> None:
        import pickle

        if not self.failed:
            try:
                pickle.dump(self.batch, self.out, protocol=pickle.HIGHEST_PROTOCOL)
            except OSError:  # the child died: the postings are made here instead (copy_into)
                self.failed = True
        self.batch = []

    def copy_into(self, con: sqlite3.Connection) -> bool:
        """Wait for the child and copy its terms table into `con`'s (empty); False where it failed."""
        self._send()
        try:
            self.out.close()
        except OSError:
            self.failed = True
        _, status = os.waitpid(self.pid, 0)
        self.pid = 0
        if self.failed or status != 0:
            return False
        con.commit()  # SQLite attaches no database inside a transaction
        con.execute("ATTACH DATABASE ? AS stems", (self.path,))
        con.execute("INSERT INTO terms SELECT * FROM stems.terms")
        con.commit()
        con.execute("DETACH DATABASE stems")
        return True

    def stop(self) -> None:
        """End the child if it is still running, and remove its file."""
        if self.pid:
            import signal

            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except OSError:
                pass
            self.pid = 0
        try:
            self.out.close()
        except OSError:
            pass
        _unlink(self.path)


def _post_stems(pipe: int, path: str) -> None:
    """The stems child's work (_StemsChild): post what the pipe brings until it closes, then write the terms."""
    import gc
    import pickle

    from cptcli.knowledge import _die_with_parent

    # Nothing made here is garbage, and a collection would walk (and so copy) every object of the parent's.
    gc.disable()
    _die_with_parent()
    postings = Postings()
    with os.fdopen(pipe, "rb") as f:
        while True:
            try:
                batch = pickle.load(f)  # a new unpickler each batch, as each was pickled with a new memo
            except EOFError:
                break
            for code, texts in batch:
                postings.add(code, texts)
    con = sqlite3.connect(path)
    con.executescript(UNJOURNALED + TERMS)
    con.executemany("INSERT INTO terms VALUES (?, ?, ?, ?)", postings.stored())
    con.commit()
    con.close()


def write(con: sqlite3.Connection, kb, key: str, files, progress=None, stamps=None, stems=None) -> None:
    """Write the whole index of the layered knowledge base `kb` into `con` (an
    empty database), ending with its key: a database without the key row is
    never trusted (cptcli.engine). `stems`: a started _StemsChild that posts
    the stems (used once: it is sent every code's texts)."""
    postings = Postings()
    naming = kb.naming()
    # One encoder for every document (json.dumps makes one a call); documents made here hold no cycles.
    encode = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode
    # code -> how many distinct words its title and the title's leading name have: search weighs how much of
    # them a query covers.
    title_lengths: dict[str, tuple[int, int]] = {}

    def documents():
        if progress is not None:
            progress.phase(f"indexing {len(kb.records):,} codes", len(kb.records))
        for i, code in enumerate(sorted(kb.records), 1):
            rec = kb.records[code]
            texts = list(field_texts(rec))
            (stems or postings).add(rec.code, texts)
            postings.add_rows(rec)
            if is_bare_official(rec):
                title_lengths[rec.code] = title_length(official_title(rec) or rec.title.text)
            yield (
                rec.code,
                encode(show_document(kb, rec, naming)),
                encode(search_document(rec, texts)),
            )
            if progress is not None and i % 1000 == 0:
                progress.advance(1000)

    con.executescript(SCHEMA)
    con.executemany("INSERT INTO codes VALUES (?, ?, ?)", documents())
    if stems is None or not stems.copy_into(con):
        if stems is not None:  # the child failed: its part is done here
            for code in sorted(kb.records):
                postings.add(code, list(field_texts(kb.records[code])))
        con.executemany("INSERT INTO terms VALUES (?, ?, ?, ?)", postings.stored())
    con.executemany(
        "INSERT INTO rows VALUES (?, ?, ?)",
        ((kind, k, code) for (kind, k), codes in postings.rows.items() for code in codes),
    )
    con.executescript(INDEXES)
    registry = {
        "sources": [plain(s) for s in kb.sources.values()],
        "modifiers": [plain(m) for m in kb.modifiers.values()],
        "taxonomy_codes": [plain(t) for t in kb.taxonomy_codes.values()],
        **kb.extra,
    }
    search = {
        "n": len(kb.records),
        "fields": SEARCH_FIELDS,
        "synonyms": [{"terms": list(s.terms), "contested": bool(s.contested)} for s in kb.synonyms]
        + mined_synonyms(kb),
        "modifiers": sorted(kb.modifiers),
        # code -> the date its official file ends it: search ranks codes still valid first.
        "ended": {r.code: r.termination.value for r in kb.records.values() if r.termination is not None},
    }
    meta = {
        # Each file as named, with how many records it gave (their own layer of a code counts).
        "files": json.dumps(
            [[str(p), sum(1 for layers in kb.layers.values() for r in layers if r.origin == str(p))] for p in files],
            ensure_ascii=False,
        ),
        "registry": json.dumps(registry, ensure_ascii=False),
        "title_lengths": json.dumps(title_lengths, separators=(",", ":")),
        "search": json.dumps(search, ensure_ascii=False),
        # When the build began reading, and the digest of the bytes it read (datafiles' racy-timestamp rule).
        **(stamps or {}),
    }
    con.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
    con.execute("INSERT INTO meta VALUES ('key', ?)", (key,))
    con.commit()
