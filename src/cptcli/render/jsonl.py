"""JSON Lines: one compact object a line (a result that is a list gives one line an item), for streams."""

from __future__ import annotations

import json as _json

from cptcli.render.json import data, quiet_bidi


def render(result, options, env) -> str:
    # A result that is a report of many rows (check --claims) gives one line a row.
    d = result.to_lines() if hasattr(result, "to_lines") and not options.sections else data(result, options)
    items = d if isinstance(d, list) else [d]
    return "".join(quiet_bidi(_json.dumps(item, ensure_ascii=not env.utf8)) + "\n" for item in items)
