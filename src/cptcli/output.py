"""The one writer to stdout, shared by the full CLI and the fast path."""
import sys

# ASCII stand-ins for what a table draws, for a stdout that cannot encode them.
_ASCII = str.maketrans({"─": "-", "━": "-", "│": "|", "╭": "+", "╮": "+", "╰": "+", "╯": "+", "┃": "|",
                        "©": "(c)", "®": "(R)", "…": "...", "⚠": "!", "·": "-", "—": "-", "–": "-"})


def emit(text: str) -> None:
    """Write a fully rendered output in one go (nothing half-written on failure)."""
    encoding = sys.stdout.encoding or "utf-8"
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        text = text.translate(_ASCII).encode(encoding, "replace").decode(encoding)
    sys.stdout.write(text)
    sys.stdout.flush()
