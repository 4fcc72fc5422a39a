"""JSON: one document, indented; `--section` keeps a show document's keys of those sections."""

from __future__ import annotations

import json as _json


def data(result, options):
    """The JSON-ready data of `result`, cut to the asked sections."""
    d = result.to_dict()
    if options.sections:
        from cptcli.render.flat import cut

        d = cut(result, d, options.sections)
    return d


def render(result, options, env) -> str:
    # Non-ASCII escaped (\u00a9) when stdout cannot carry UTF-8: still valid, lossless JSON.
    return _json.dumps(data(result, options), ensure_ascii=not env.utf8, indent=2) + "\n"
