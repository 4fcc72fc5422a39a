"""Long output on a terminal goes through a pager, as git does: `less -FRX` unless CPTCLI_PAGER, then PAGER,
name another (an empty value or `cat` means none); `--no-pager` turns it off. Never when stdout is not a
terminal, so pipes, files and scripts get the text as it is."""

from __future__ import annotations

import os
import shlex
import subprocess

DEFAULT = "less -FRX"


def command(environ=os.environ) -> list[str] | None:
    """The pager to run, as argv; None for none."""
    chosen = environ.get("CPTCLI_PAGER")
    if chosen is None:
        chosen = environ.get("PAGER")
    if chosen is None:
        chosen = DEFAULT
    argv = shlex.split(chosen)
    if not argv or argv == ["cat"]:
        return None
    return argv


def page(text: str, env, height: int | None = None) -> bool:
    """Send `text` through the pager when it is taller than the terminal; True when the pager took it (its
    exit status is the reader's business: quitting early is no error)."""
    argv = command()
    if argv is None or not env.is_tty:
        return False
    if height is None:
        try:
            height = os.get_terminal_size(env.stdout.fileno()).lines
        except (OSError, AttributeError, ValueError):
            height = 0
    if height and text.count("\n") < height:
        return False
    environ = dict(os.environ)
    # As git does: less shows colours (R), leaves the screen as it was (X) and quits when one screen holds
    # everything (F), unless the user's LESS says otherwise.
    environ.setdefault("LESS", "FRX")
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, env=environ)
    except OSError:
        return False  # no such pager: the text is written as it is
    try:
        assert proc.stdin is not None
        proc.stdin.write(text.encode(env.encoding, "replace"))
        proc.stdin.close()
    except BrokenPipeError:
        pass  # the reader quit the pager before the end
    proc.wait()
    return True
