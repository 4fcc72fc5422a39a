"""The one writer, and the environment output is made for (httpie's
Environment): the streams, whether stdout is a terminal, colour, width and
encoding, decided once a call and passed down, so that tests replace it
instead of patching module globals."""

from __future__ import annotations

import os
import sys

# ASCII stand-ins for what a table draws, for a stdout that cannot encode them.
_ASCII = str.maketrans(
    {
        "─": "-",
        "━": "-",
        "│": "|",
        "╭": "+",
        "╮": "+",
        "╰": "+",
        "╯": "+",
        "┃": "|",
        "©": "(c)",
        "®": "(R)",
        "…": "...",
        "⚠": "!",
        "·": "-",
        "—": "-",
        "–": "-",
    }
)
# Tables are drawn at least this wide, and at most this: a terminal that reports 0 columns (before
# a resize) or an absurd COLUMNS still gets every code, folded.
MIN_WIDTH, MAX_WIDTH, DEFAULT_WIDTH = 40, 1000, 100


class Env:
    """Where and how a call writes."""

    __slots__ = ("stdin", "stdout", "stderr", "is_tty", "colour", "width", "encoding")

    def __init__(
        self,
        stdin=None,
        stdout=None,
        stderr=None,
        is_tty: bool | None = None,
        colour: bool | None = None,
        width: int | None = None,
    ):
        self.stdin = stdin if stdin is not None else sys.stdin
        self.stdout = stdout if stdout is not None else sys.stdout
        self.stderr = stderr if stderr is not None else sys.stderr
        self.is_tty = _isatty(self.stdout) if is_tty is None else is_tty
        environ = os.environ
        self.colour = (
            (self.is_tty and environ.get("TERM") != "dumb" and not environ.get("NO_COLOR"))
            if colour is None
            else colour
        )
        self.width = width if width is not None else _width(self.stdout, self.is_tty)
        self.encoding = getattr(self.stdout, "encoding", None) or "utf-8"

    @property
    def utf8(self) -> bool:
        return self.encoding.lower().replace("-", "").replace("_", "") == "utf8"

    def write(self, text: str) -> None:
        """Write a fully rendered output in one go (nothing half-written on failure)."""
        try:
            text.encode(self.encoding)
        except UnicodeEncodeError:
            text = text.translate(_ASCII).encode(self.encoding, "replace").decode(self.encoding)
        try:
            self.stdout.write(text)
            self.stdout.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            from cptcli.errors import OutputError

            raise OutputError(f"cannot write the output: {exc.strerror or exc}") from None

    def warn(self, message: str) -> None:
        self.stderr.write(f"cptcli: {message}\n")


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def _width(stream, is_tty: bool) -> int:
    """COLUMNS, else the terminal's, else 100; clamped to a width tables can be drawn at."""
    columns = os.environ.get("COLUMNS", "")
    width = int(columns) if columns.isdigit() and len(columns) < 6 else 0
    if not width and is_tty:
        try:
            width = os.get_terminal_size(stream.fileno()).columns
        except (OSError, AttributeError, ValueError):
            width = 0
    if not width:
        return DEFAULT_WIDTH
    return max(MIN_WIDTH, min(MAX_WIDTH, width))


def closed_stdout() -> int:
    """Point stdout at /dev/null so the interpreter's final flush does not raise again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 0


def output_failed(exc: OSError) -> int:
    """A write that failed (a full disk, /dev/full): one line, nothing more
    tried on stdout, and exit status 5 (errors.ExitStatus.OUTPUT, a literal
    here: this runs before the CLI is imported)."""
    try:
        sys.stderr.write(f"cptcli: error: cannot write the output: {exc.strerror or exc}\n")
    except OSError:
        pass
    closed_stdout()
    return 5


def closed_streams() -> int | None:
    """Exit status 5 when the call starts with stdout closed (`cptcli list >&-`): nothing it prints could be
    written, so it does nothing, and says so on stderr. A closed stderr is replaced by /dev/null, so that an
    error line has somewhere to go. Each closed descriptor is filled with /dev/null first: a file the call opens
    must not become descriptor 1 or 2 and receive its output."""
    if sys.stderr is None:
        fd = os.open(os.devnull, os.O_WRONLY)
        if fd != 2:
            os.dup2(fd, 2)
        sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115  (the process's stderr, for its whole life)
    if sys.stdout is not None:
        return None
    fd = os.open(os.devnull, os.O_WRONLY)
    if fd != 1:
        os.dup2(fd, 1)
    sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
    try:
        sys.stderr.write("cptcli: error: cannot write the output: standard output is closed\n")
    except OSError:
        pass
    return 5


def finish(status: int) -> None:
    """Leave without freeing every object one by one (after a big build that
    teardown alone takes seconds; the OS reclaims the memory at once). Nothing
    of ours runs at exit, so only the streams need flushing."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:
            pass  # a reader that went away is not an error (see run)
        except OSError as exc:
            if stream is sys.stdout and status == 0:
                status = output_failed(exc)
    os._exit(int(status))
