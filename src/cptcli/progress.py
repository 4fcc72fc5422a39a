"""Progress on stderr while a big knowledge base is read and indexed (seconds
for 100,000 codes), or while the ICD-10-CM release is first extracted into the
cache (seconds, once), shown only where a person watches: stderr is a terminal.
Scripts, pipes and CI see nothing, and small files (the bundled one takes
~50 ms) never import Rich for it."""

from __future__ import annotations

import os
import sys
from typing import Any

# Files smaller than this load in well under a second: no bar.
MIN_BYTES = 5_000_000


class Progress:
    """Phases of one load, each a line that Rich redraws; a no-op when disabled."""

    def __init__(self, paths=(), slow: bool = False):
        """For reading `paths` (shown when they are big), or for work the caller knows is `slow`."""
        self._rich = None
        try:
            big = slow or sum(os.path.getsize(p) for p in paths) >= MIN_BYTES
        except OSError:
            big = False  # the loader words the missing file
        if big and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import Progress as RichProgress

            self._rich = RichProgress(console=Console(file=sys.stderr), transient=True)
            self._rich.start()
        self._task: Any = None  # a rich.progress.TaskID, once a phase has begun
        self._total: int | None = None

    def phase(self, description: str, total: int | None = None) -> None:
        """Start the next phase (`total` steps, or None for one of unknown length), ending the last."""
        if self._rich is None:
            return
        if self._task is not None:
            self._rich.update(self._task, total=self._total or 1, completed=self._total or 1)
        self._task, self._total = self._rich.add_task(f"cptcli: {description}", total=total), total
        self._rich.refresh()  # drawn now, not at the next tick: short phases are seen too

    def advance(self, n: int = 1) -> None:
        if self._rich is not None and self._task is not None:
            self._rich.advance(self._task, n)

    def close(self) -> None:
        if self._rich is not None:
            self._rich.stop()
            self._rich = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
