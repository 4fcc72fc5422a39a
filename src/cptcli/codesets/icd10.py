"""ICD-10-CM: does a code exist, is it billable, what is its official description.

The answers come from simple-icd-10-cm, which ships the CDC release offline but
takes 2-3 s and ~190 MB to import (it parses the whole tabular XML). So the
package is read once into a small SQLite file in the cache directory, keyed by
the package version and its data-file names; later runs answer a code in
milliseconds with one indexed query and never import the package.

The cache is written atomically (a run never sees half a file), rebuilt when
it is corrupt or its key differs, and kept in memory when the cache directory
cannot be written. It is read back only under the rule for every file cptcli
reads back (cptcli.places.untrusted): in a cache directory others can write
(or not the user's) it is neither read nor written, and built in memory for
the call; an extract that others can write, or that is another user's, is
built again over. A planted extract would change `check`'s verdicts.
"""

from __future__ import annotations

import os
import re
import sqlite3
import stat
from collections import namedtuple
from collections.abc import Callable, Iterable, Iterator

from cptcli.errors import DataError

PACKAGE = "simple_icd_10_cm"
DIST = "simple-icd-10-cm"
CACHE_NAME = "icd10cm.sqlite3"
# Bump when the table layout or what is stored changes: old caches are then rebuilt.
# 3: inclusion terms and "Includes" notes, and the stems of every description and term for `icd search`.
# 4: each code's terms and the stems of the name its description leads with beside its stems, and a table of
# stems, so that a search reads only the codes it matches and the stems it asks about.
# 5, 6: the Alphabetic Index's entries that lead to each code (cptcli.codesets.icd_index), and their stems.
# 7: the words the release writes, each with its stem (a typo whose stem is a word's of the release: "migrane").
CACHE_FORMAT = 7

# (code, description, billable, children[, inclusion terms[, Index entries as (entry, reference) pairs]])
Row = tuple


# Named tuples, not dataclasses: importing dataclasses (it imports inspect) costs `icd search` a large share of its
# budget.
class IcdCode(namedtuple("IcdCode", "code description billable children", defaults=((),))):
    """One code as the release has it: its official description, whether it is billable, its direct children."""

    __slots__ = ()

    @property
    def is_header(self) -> bool:
        return not self.billable


class PackageInfo(namedtuple("PackageInfo", "version data_files")):
    """What the cache key is made of, read from the file system without importing the package."""

    __slots__ = ()

    @property
    def key(self) -> str:
        from cptcli.codesets import icd_index

        # The bundled Index table is part of what is extracted: a new one rebuilds the cache, and so does the same
        # release's table made anew (another depth of entries), which its length tells.
        return (
            f"format {CACHE_FORMAT}; {DIST} {self.version}; {', '.join(self.data_files)}; "
            f"{icd_index.table_bytes()} bytes; {icd_index.release()}"
        )

    @property
    def authority(self) -> str:
        # The data file is named after the CDC release, e.g. code-list-April-2026.txt.
        for name in self.data_files:
            m = re.fullmatch(r"code-list-([A-Za-z]+)-(\d{4})\.txt", name)
            if m:
                return f"ICD-10-CM {m.group(1)} {m.group(2)} release (CDC), via {DIST} {self.version}"
        return f"ICD-10-CM, via {DIST} {self.version}"


def package_info() -> PackageInfo | None:
    """Version from the dist-info directory name: importlib.metadata costs more
    than the whole cached look-up, and importing the package costs seconds."""
    import importlib.util

    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    pkg_dir = list(spec.submodule_search_locations)[0]
    versions = sorted(
        name[len(PACKAGE) + 1 : -len(".dist-info")]
        for name in os.listdir(os.path.dirname(pkg_dir))
        if name.startswith(PACKAGE + "-") and name.endswith(".dist-info")
    )
    data_dir = os.path.join(pkg_dir, "data")
    data_files = (
        tuple(sorted(name for name in os.listdir(data_dir) if name.endswith((".txt", ".xml"))))
        if os.path.isdir(data_dir)
        else ()
    )
    return PackageInfo(versions[-1] if versions else "unknown", data_files)


def package_rows() -> Iterator[Row]:
    """Every category and subcategory (not chapters or blocks) with its
    description, billability (a leaf of the tabular list), direct children, inclusion terms and the Alphabetic
    Index's entries that lead to it (cptcli.codesets.icd_index)."""
    import warnings

    from cptcli.codesets import icd_index

    with warnings.catch_warnings():
        # The package calls a deprecated importlib.resources API on import.
        warnings.simplefilter("ignore")
        import simple_icd_10_cm as icd

    index = icd_index.read()
    seen: set[str] = set()
    for code in icd.get_all_codes(with_dots=True):
        # A block holding a single category shares its name and appears twice.
        if code in seen or not icd.is_category_or_subcategory(code):
            continue
        seen.add(code)
        yield (
            code,
            icd.get_description(code),
            icd.is_leaf(code),
            tuple(icd.get_children(code)),
            # What else the code covers: its inclusion terms and its "Includes" note (B02: shingles, zona).
            tuple(dict.fromkeys([*icd.get_inclusion_term(code), *icd.get_includes(code)])),
            tuple(index.get(code, ())),
        )


class CodeSet:
    """Look-ups against one ICD-10-CM release. Build with `load()`."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        key: str,
        authority: str,
        path: str | None,
        rebuild: Callable[[], CodeSet] | None = None,
    ):
        self._conn = conn
        self.key = key
        self.authority = authority
        # Where the cache lives, or None when it is held in memory only.
        self.path = path
        self._rebuild = rebuild
        self._memo: dict[str, IcdCode | None] = {}

    def get(self, code: str) -> IcdCode | None:
        """The code as the release has it (`code` already normalised, with its dot), or None."""
        if code in self._memo:
            return self._memo[code]
        try:
            row = self._conn.execute(
                "SELECT code, description, billable, children FROM codes WHERE code = ?", (code,)
            ).fetchone()
        except sqlite3.DatabaseError:
            # A cache damaged after it was opened (pages missing further in): rebuild once.
            if self._rebuild is None:
                raise DataError("ICD-10-CM cache is unreadable and cannot be rebuilt") from None
            fresh = self._rebuild()
            self._conn, self.path, self._rebuild = fresh._conn, fresh.path, None
            return self.get(code)
        found = IcdCode(row[0], row[1], bool(row[2]), tuple(row[3].split()) if row[3] else ()) if row else None
        self._memo[code] = found
        return found

    def exists(self, code: str) -> bool:
        return self.get(code) is not None

    def billable_under(self, code: str) -> list[IcdCode]:
        """The billable codes below a header, depth first in tabular order."""
        found = self.get(code)
        if found is None:
            return []
        out: list[IcdCode] = []
        for child in found.children:
            c = self.get(child)
            if c is None:
                continue
            if c.billable:
                out.append(c)
            else:
                out.extend(self.billable_under(child))
        return out

    def parent_in(self, code: str, candidates: Iterable[str]) -> str | None:
        """The nearest of `candidates` that is an ancestor of `code` (ICD-10-CM
        codes nest by prefix: M54 > M54.5 > M54.50)."""
        best = None
        for c in candidates:
            if c != code and code.startswith(c) and (best is None or len(c) > len(best)):
                best = c
        return best

    def __len__(self) -> int:
        return self._conn.execute("SELECT count(*) FROM codes").fetchone()[0]

    def matching(
        self, stems: Iterable[str], with_others: Iterable[tuple[str, Iterable[str]]] = ()
    ) -> list[tuple[str, str, int, str, str, str, str, str, str, str]]:
        """Every code whose description, inclusion terms or Index entries hold one of `stems`, or a stem of
        `with_others` together with one of its others: (code, description, billable, the description's stems, the
        stems of the name it leads with, its inclusion terms joined by newlines and their stems joined by ' | ', its
        Index entries and their stems likewise, and how many words each entry names,
        cptcli.codesets.icd_index.size), as stored: the caller splits only what it reads."""
        wanted = sorted({s for s in stems if s.isalnum()})
        pairs = [(s, sorted({o for o in others if o.isalnum()})) for s, others in with_others if s.isalnum()]
        clauses = [f'"{s}"' for s in wanted]
        for s, others in pairs:
            if others:
                either = " OR ".join(f'"{o}"' for o in others)
                clauses.append(f'("{s}" AND ({either}))')
        if not clauses:
            return []
        query = " OR ".join(clauses)
        return self._search(
            "SELECT code, text, billable, description, lead, terms, term_stems, entries, entry_stems, entry_sizes "
            "FROM words "
            "WHERE words MATCH ?",
            (query,),
        )

    def _search(self, sql: str, args: tuple) -> list[tuple]:
        try:
            return self._conn.execute(sql, args).fetchall()
        except sqlite3.DatabaseError as exc:
            raise DataError(f"the ICD-10-CM cache cannot be searched ({exc}); remove {self.path} to rebuild") from None

    def stem_counts(self, stems: Iterable[str]) -> dict[str, int]:
        """Of `stems`, those the descriptions and inclusion terms hold, with how many codes hold each."""
        wanted = sorted(set(stems))
        return dict(
            self._search(
                f"SELECT term, doc FROM vocabulary WHERE term IN ({','.join('?' * len(wanted))})", tuple(wanted)
            )
        )

    def stems_sized(self, shortest: int, longest: int) -> dict[str, int]:
        """The stems of `shortest` to `longest` characters, with how many codes hold each (what a typo of a
        word of about that length may be read as)."""
        return dict(self._search("SELECT term, doc FROM vocabulary WHERE size BETWEEN ? AND ?", (shortest, longest)))

    def stems_starting(self, prefix: str) -> dict[str, int]:
        """The stems that begin with `prefix` (and are longer), with how many codes hold each: what a clipped word
        ("strep") may stand for."""
        return dict(
            self._search("SELECT term, doc FROM vocabulary WHERE term > ? AND term < ?", (prefix, prefix + "\uffff"))
        )

    def written_forms(self, stems: Iterable[str]) -> dict[str, set[str]]:
        """Of `stems`, the words the release writes that have each (what a query word of that stem may be a form
        of)."""
        wanted = sorted(set(stems))
        found: dict[str, set[str]] = {}
        for word, stem in self._search(
            f"SELECT word, stem FROM written WHERE stem IN ({','.join('?' * len(wanted))})", tuple(wanted)
        ):
            found.setdefault(stem, set()).add(word)
        return found

    def words_sized(self, shortest: int, longest: int) -> dict[str, str]:
        """The words the release writes of `shortest` to `longest` letters, each with its stem."""
        return dict(self._search("SELECT word, stem FROM written WHERE size BETWEEN ? AND ?", (shortest, longest)))

    def vocabulary(self) -> dict[str, int]:
        """Every stem the descriptions and inclusion terms hold, with how many codes hold it."""
        return dict(self._search("SELECT term, doc FROM vocabulary", ()))


_SCHEMA = """
CREATE TABLE meta (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE codes (code TEXT PRIMARY KEY, description TEXT NOT NULL, billable INTEGER NOT NULL,
                    children TEXT NOT NULL) WITHOUT ROWID;
-- What a search reads of each code, beside the stems it matches (description, term_stems): one row a code.
CREATE VIRTUAL TABLE words USING fts5(code UNINDEXED, text UNINDEXED, billable UNINDEXED, description,
                                      lead UNINDEXED, terms UNINDEXED, term_stems, entries UNINDEXED, entry_stems,
                                      entry_sizes UNINDEXED,
                                      tokenize = 'unicode61', detail = none);
CREATE VIRTUAL TABLE words_vocabulary USING fts5vocab(words, 'row');
-- Every stem with how many codes hold it, and its length: a query's stems are looked up, not all read.
CREATE TABLE vocabulary (term TEXT PRIMARY KEY, doc INTEGER NOT NULL, size INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX vocabulary_size ON vocabulary (size);
-- Every word the descriptions, inclusion terms and Index entries write, with its stem and its length.
CREATE TABLE written (word TEXT PRIMARY KEY, stem TEXT NOT NULL, size INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX written_stem ON written (stem);
CREATE INDEX written_size ON written (size);
"""


# A description names the condition first and qualifies it after ("Pneumonia, unspecified organism", "Anemia in
# chronic kidney disease"), as HCPCS descriptors name the thing first (cptcli.search.candidates.LEAD): what comes
# before the first qualifier is the name `icd search` weighs a query against (cptcli.codesets.icd_search).
_LEAD_END = re.compile(
    r"[,;:\[(]| (?:of|with|without|due|in|on|by|and|or|following|complicating|associated|affecting|involving|from)\b",
    re.IGNORECASE,
)


def lead_name(description: str) -> str:
    """The name a description leads with: "Low back pain" of "Low back pain, unspecified"."""
    return _LEAD_END.split(description, maxsplit=1)[0]


def build_connection(rows: Iterable[Row], key: str, authority: str, progress=None) -> sqlite3.Connection:
    """The cache's database, in memory; `progress` (cptcli.progress.Progress) is told each phase."""
    from cptcli.codesets import icd_index
    from cptcli.search.analysis import stemmed, tokens

    if progress is not None:
        progress.phase("reading ICD-10-CM (first run only)")
    conn = sqlite3.connect(":memory:")
    conn.executescript(_SCHEMA)
    rows = [(r[0], r[1], r[2], r[3], r[4] if len(r) > 4 else (), r[5] if len(r) > 5 else ()) for r in rows]
    if progress is not None:
        progress.phase(f"indexing {len(rows):,} ICD-10-CM codes")
    conn.executemany(
        "INSERT OR REPLACE INTO codes VALUES (?, ?, ?, ?)", ((c, d, int(b), " ".join(ch)) for c, d, b, ch, _, _ in rows)
    )
    # The stems search matches, in the tokens search's own analysis makes (cptcli.search.analysis), not FTS5's.
    conn.executemany(
        "INSERT INTO words VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            (
                c,
                d,
                int(b),
                " ".join(tokens(d)),
                " ".join(tokens(lead_name(d))),
                "\n".join(t),
                " | ".join(" ".join(tokens(x)) for x in t),
                "\n".join(f"{entry}\t{ref}" for entry, ref in e),
                " | ".join(" ".join(tokens(entry)) for entry, _ in e),
                " ".join(str(icd_index.size(entry, tokens)) for entry, _ in e),
            )
            for c, d, b, _, t, e in rows
        ),
    )
    conn.execute("INSERT INTO vocabulary SELECT term, doc, length(term) FROM words_vocabulary")
    written: dict[str, str] = {}
    for _, d, _, _, t, e in rows:
        for text in (d, *t, *(entry for entry, _ in e)):
            written.update(stemmed(text))
    conn.executemany(
        "INSERT INTO written VALUES (?, ?, ?)", ((w, s, len(w)) for w, s in written.items() if s and w.isalpha())
    )
    count = conn.execute("SELECT count(*) FROM codes").fetchone()[0]
    if count == 0:
        raise DataError(f"{DIST} returned no ICD-10-CM codes; cannot build the code-set cache")
    conn.executemany("INSERT INTO meta VALUES (?, ?)", [("key", key), ("authority", authority), ("count", str(count))])
    conn.commit()
    return conn


def _open_cached(path: str) -> tuple[sqlite3.Connection, str, str] | None:
    """The cache's connection, key and authority, or None if it is missing or not a readable cache."""
    from cptcli.cache import sqlite_uri
    from cptcli.places import untrusted

    try:
        st = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode) or untrusted(st) is not None:
        return None  # built again, and renamed over it
    try:
        # Read-only and immutable: works in a read-only directory and takes no
        # locks; safe because the file is only ever replaced whole, never edited.
        conn = sqlite3.connect(sqlite_uri(path, "mode=ro&immutable=1"), uri=True)
        meta = dict(conn.execute("SELECT k, v FROM meta").fetchall())
        conn.execute("SELECT code FROM codes LIMIT 1").fetchone()
    except sqlite3.DatabaseError:
        return None
    if "key" not in meta or "authority" not in meta:
        conn.close()
        return None
    return conn, meta["key"], meta["authority"]


def _database_bytes(conn: sqlite3.Connection) -> bytes:
    """The database as one file's bytes. Connection.serialize is Python 3.11+;
    on 3.10 the database is copied into a temporary file by SQLite's backup."""
    serialize = getattr(conn, "serialize", None)
    if serialize is not None:
        return serialize()
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        target = sqlite3.connect(os.path.join(tmp, "copy.sqlite3"))
        conn.backup(target)
        target.close()
        with open(os.path.join(tmp, "copy.sqlite3"), "rb") as f:
            return f.read()


def load(
    cache_dir,
    info: Callable[[], PackageInfo | None] = package_info,
    rows: Callable[[], Iterable[Row]] = package_rows,
) -> CodeSet:
    """The ICD-10-CM code set: from the cache in `cache_dir` when its key
    matches the installed package, else built from the package (seconds) and
    cached there; `cache_dir` None: built in memory, nothing read or written."""
    from cptcli import cache

    path = os.path.join(cache_dir, CACHE_NAME) if cache_dir is not None else None
    pkg = info()

    def rebuild() -> CodeSet:
        from cptcli.progress import Progress

        if pkg is None:
            raise DataError(f"the ICD-10-CM code set needs the {DIST} package: pip install '{DIST}>=1.5'")
        # Seconds, once: a person at a terminal is told what the wait is (a script is told nothing).
        with Progress(slow=True) as progress:
            conn = build_connection(rows(), pkg.key, pkg.authority, progress)
            if path is not None:
                progress.phase("writing the ICD-10-CM cache")
            written = cache.atomic_write(path, _database_bytes(conn)) if path is not None else None
        return CodeSet(conn, pkg.key, pkg.authority, written)

    cached = _open_cached(path) if path is not None else None
    if cached is not None:
        conn, key, authority = cached
        # Without the package the cache is still a faithful copy of the release it names.
        if pkg is None or key == pkg.key:
            return CodeSet(conn, key, authority, path, rebuild)
        conn.close()
    return rebuild()


_loaded: dict[str | None, CodeSet] = {}


def codeset() -> CodeSet:
    """The code set for the current cache directory, loaded once per process;
    built in memory where the cache directory is refused (cptcli.cache.
    refused_cache_dir: none can be named, or it is not the user's alone), as
    the index is: the engine's warning has said so."""
    from cptcli import cache

    directory = None if cache.refused_cache_dir() is not None else cache.cache_dir()
    if directory not in _loaded:
        _loaded[directory] = load(directory)
    return _loaded[directory]


def reset() -> None:
    """Forget loaded code sets (tests switch cache directories)."""
    _loaded.clear()
