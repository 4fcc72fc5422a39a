"""Where cptcli keeps derived files (indexes, code-set extracts), and how it
writes them: atomically, so a crash or a concurrent run never leaves a
half-written cache that a later run would trust."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Optional


def cache_dir() -> Path:
    """CPTCLI_CACHE_DIR, else the platform's user cache directory."""
    override = os.environ.get("CPTCLI_CACHE_DIR")
    if override:
        return Path(override)
    import platformdirs  # ~10 ms: only on the paths that use a cache

    return Path(platformdirs.user_cache_dir("cptcli", appauthor=False))


def atomic_write(path: Path, data: bytes) -> Optional[Path]:
    """Write `data` to `path` via a temporary file and rename. Returns None,
    without raising, when the directory cannot be written: callers then keep
    the result in memory, and the tool still answers."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        return None
    return path
