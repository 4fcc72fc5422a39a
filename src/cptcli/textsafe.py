"""Text from knowledge-base files and from the command line, made safe to put
on a terminal, into a spreadsheet or into a Markdown table.

A knowledge-base file is someone else's text. Printed raw, an escape sequence
in it can clear the screen, retitle the window, write the clipboard (OSC 52)
or plant a hyperlink; a bidi override (U+202E) makes "20700" read as another
code; a cell starting with "=" runs as a formula when the CSV is opened in a
spreadsheet. Every renderer therefore passes data text through one of these
functions, and errors pass file names through `visible`.

Imported by the fast path: only `re` at import time (csv and io are imported by
`csv_writer`, which only the CSV renderer calls).
"""

from __future__ import annotations

import re

# C0 controls, DEL and C1 controls; the bidi embeddings, overrides, isolates and
# marks (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069); the line and
# paragraph separators, which some viewers break lines at; lone surrogates,
# which no encoder can write (a valid astral character is one code point, so it
# never matches).
_UNSAFE_CLASS = "\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff"

_patterns: dict[str, re.Pattern[str]] = {}


def _pattern(keep: str) -> re.Pattern[str]:
    pattern = _patterns.get(keep)
    if pattern is None:
        if keep:
            kept = "".join(re.escape(c) for c in keep)
            pattern = re.compile(f"(?![{kept}])[{_UNSAFE_CLASS}]")
        else:
            pattern = re.compile(f"[{_UNSAFE_CLASS}]")
        _patterns[keep] = pattern
    return pattern


def _escape(match: re.Match[str]) -> str:
    c = ord(match.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def visible(text: str, keep: str = "") -> str:
    """`text` with every control character shown as a visible escape: `\\x1b`
    for ESC, `\\x7f` for DEL, `\\u202e` for a right-to-left override, `\\ud800`
    for a lone surrogate. `keep` names the characters a caller can lay out
    itself and wants left as they are (a table cell keeps "\\n"; a one-line
    error keeps nothing).

    Escapes are shown, not dropped: dropping ESC would still leave "[2J" and
    hide that the file held something odd, and a reader fixing the file needs
    to see where. A backslash already in the text is left as it is, so a
    literal "\\x1b" and an escaped ESC look alike; that is harmless, since
    neither reaches the terminal as a control."""
    if text.isascii() and text.isprintable():
        return text  # no control character at all: the common case, answered without the pattern
    pattern = _pattern(keep)
    if pattern.search(text) is None:
        return text
    return pattern.sub(_escape, text)


def cut_name(text: str, limit: int = 160) -> str:
    """A name (a path, a file name) made visible for a one-line message, and cut in the middle when it is longer
    than ``limit``: a path of thousands of characters still makes one readable line, its start and its end kept."""
    shown = visible(text)
    if len(shown) <= limit:
        return shown
    return f"{shown[: limit // 2]}…{shown[-(limit // 2 - 20) :]} ({len(text):,} characters)"


# OWASP's list: a spreadsheet reads a cell starting with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(text: str, terminal: bool = False) -> str:
    """A CSV cell that a spreadsheet shows as the text it is (OWASP's CSV
    injection advice): a cell starting with "=", "+", "-", "@", a tab or a
    carriage return gets a leading single quote, so "=HYPERLINK(...)" is not
    run and "+20700" shows as the text "+20700" rather than becoming the
    number 20700, which is what a coder reading codes wants. Other control
    characters become visible escapes; newline, tab and carriage return stay,
    since the CSV writer quotes them.

    The writer must quote a cell holding a bare carriage return, which the csv
    module does not do with QUOTE_MINIMAL and lineterminator "\\n" (a reader
    would split the row there): write with `csv_writer`, which does. For a
    terminal (`terminal`), a carriage return is made visible too: quoted or
    not, it sends the cursor to the line's start and the rest of the cell
    overwrites what the row showed before it."""
    text = visible(text, keep="\n\t" if terminal else "\n\t\r")
    if text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


# How many distinct cells a writer remembers having made safe.
CELL_MEMORY = 50_000


class CsvWriter:
    """A csv.writer-like object (writerow, writerows) whose every str cell goes
    through `csv_cell`, and that quotes any cell holding a carriage return,
    a newline, the delimiter or a double quote. Lines end with "\\n"."""

    def __init__(self, buffer, delimiter: str = ",", terminal: bool = False):
        import csv
        import io

        self._terminal = terminal
        self._out = buffer
        self._line = io.StringIO()
        # With lineterminator "\r\n" the csv module quotes a cell holding either
        # character; each line's "\r\n" is then written as "\n".
        self._writer = csv.writer(
            self._line, delimiter=delimiter, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL, doublequote=True
        )
        # A claims report repeats its codes, kinds and messages on thousands of rows: each is made safe once.
        self._cells: dict[str, str] = {}

    def _cell(self, text: str) -> str:
        safe = self._cells.get(text)
        if safe is None:
            safe = csv_cell(text, self._terminal)
            if len(self._cells) < CELL_MEMORY:
                self._cells[text] = safe
        return safe

    def writerow(self, row) -> None:
        self._line.seek(0)
        self._line.truncate()
        self._writer.writerow([self._cell(c) if isinstance(c, str) else c for c in row])
        self._out.write(self._line.getvalue()[:-2] + "\n")

    def writerows(self, rows) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(buffer, delimiter: str = ",", terminal: bool = False) -> CsvWriter:
    """The CSV writer every CSV output uses (see CsvWriter and csv_cell)."""
    return CsvWriter(buffer, delimiter, terminal)


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def markdown_cell(text: str) -> str:
    """One GitHub-flavoured Markdown table cell: a backslash and a pipe are
    escaped (a raw pipe would end the cell, a trailing backslash would escape
    the next one), each line break becomes "<br>" (a raw one ends the table),
    and other control characters become visible escapes."""
    text = text.replace("\\", "\\\\").replace("|", "\\|")
    text = _LINE_BREAK.sub("<br>", text)
    return visible(text)
