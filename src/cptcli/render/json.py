"""JSON: one document, indented; `--section` keeps a show document's keys of
those sections. A stream (`show -`) is one array, written as its items come:
what `show A B --json` prints, however many lines the input has (jsonl is the
format of one object a line)."""

from __future__ import annotations

import json as _json
import re


def data(result, options):
    """The JSON-ready data of `result`, cut to the asked sections."""
    d = result.to_dict()
    if options.sections:
        from cptcli.render.flat import cut

        d = cut(result, d, options.sections)
    return d


def render(result, options, env) -> str:
    # Non-ASCII escaped (\u00a9) when stdout cannot carry UTF-8: still valid, lossless JSON.
    return quiet_bidi(_json.dumps(data(result, options), ensure_ascii=not env.utf8, indent=2)) + "\n"


def frame(answers):
    """The pieces of one JSON array of the answers' documents, laid out as
    json.dumps lays out a list (each item indented one level more)."""
    first = True
    for _, text in answers:
        yield ("[\n" if first else ",\n") + "\n".join("  " + line for line in text.rstrip("\n").split("\n"))
        first = False
    yield "[]\n" if first else "\n]\n"


# Characters a terminal acts on that JSON leaves raw: DEL, the C1 controls (U+009B opens an escape
# sequence as ESC [ does) and those that reorder the text around them (U+202E shows "cod" as "doc");
# and the line and paragraph separators, which end a line in JavaScript before ES2019 and in some
# viewers and line-based tools. Written as JSON escapes: the same value to a JSON reader, inert on a
# screen, and a jsonl line stays one line.
_BIDI = re.compile("[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def quiet_bidi(text: str) -> str:
    return _BIDI.sub(lambda m: f"\\u{ord(m.group()):04x}", text) if _BIDI.search(text) else text
