"""The one writer to stdout, shared by the full CLI and the fast path, and what
tables are drawn for (width, colour): decided here, without importing Rich, so
that a drawn page can be matched to the terminal it is read on."""
import os
import sys

# ASCII stand-ins for what a table draws, for a stdout that cannot encode them.
_ASCII = str.maketrans({"─": "-", "━": "-", "│": "|", "╭": "+", "╮": "+", "╰": "+", "╯": "+", "┃": "|",
                        "©": "(c)", "®": "(R)", "…": "...", "⚠": "!", "·": "-", "—": "-", "–": "-"})


def terminal() -> tuple[int, bool]:
    """(width, colour) tables are drawn for. Colour only when stdout is a
    terminal that wants it (not TERM=dumb, not NO_COLOR); width from COLUMNS,
    else the terminal, else 100."""
    is_tty = sys.stdout.isatty()
    colour = is_tty and os.environ.get("TERM") != "dumb" and not os.environ.get("NO_COLOR")
    columns = os.environ.get("COLUMNS")
    if columns and columns.isdigit() and int(columns) > 0:
        return int(columns), colour
    if is_tty:
        return os.get_terminal_size(sys.stdout.fileno()).columns, colour
    return 100, colour


def emit(text: str) -> None:
    """Write a fully rendered output in one go (nothing half-written on failure)."""
    encoding = sys.stdout.encoding or "utf-8"
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        text = text.translate(_ASCII).encode(encoding, "replace").decode(encoding)
    sys.stdout.write(text)
    sys.stdout.flush()
