"""JSON output: the same model objects the tables are drawn from, as plain data."""
from __future__ import annotations

import json as _json
import sys


def _ascii_only() -> bool:
    """Escape non-ASCII (\\u00a9) when stdout cannot carry UTF-8: still valid, lossless JSON."""
    return not (sys.stdout.encoding or "").lower().replace("-", "").startswith("utf")


def dumps(obj, ascii_only: bool | None = None) -> str:
    """One document; `obj` is a model object with to_dict() or a list of them.
    `ascii_only` defaults to what stdout can carry."""
    data = [o.to_dict() for o in obj] if isinstance(obj, (list, tuple)) else obj.to_dict()
    return _json.dumps(data, ensure_ascii=_ascii_only() if ascii_only is None else ascii_only, indent=2) + "\n"


def dumps_lines(objs) -> str:
    """NDJSON: one compact object per line, for streams."""
    ascii_only = _ascii_only()
    return "".join(_json.dumps(o.to_dict(), ensure_ascii=ascii_only) + "\n" for o in objs)
