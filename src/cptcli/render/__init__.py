"""Renderers: one module per output format, each a `render(result, options,
env) -> str` over result objects (never raw dicts or the index), picked from
one registry. A new format is one module and one line in FORMATS."""

from __future__ import annotations

from collections import namedtuple

from cptcli.errors import UsageError

# format -> its module; --format's choices, its help and its completion read this.
FORMATS = {
    "table": "cptcli.render.table",
    "json": "cptcli.render.json",
    "jsonl": "cptcli.render.jsonl",
    "csv": "cptcli.render.csv",
    "tsv": "cptcli.render.tsv",
    "markdown": "cptcli.render.markdown",
}


# collections.namedtuple, not typing.NamedTuple: typing costs a share of `show --json`'s budget.
class Options(namedtuple("Options", "format sections brief", defaults=("table", (), False))):
    """What every printing command takes (cli's shared output options): the
    format and the sections asked for; `brief`: show's one-screen table view."""

    __slots__ = ()

    @classmethod
    def parse(cls, fmt: str | None, json_: bool, sections) -> Options:
        name = (fmt or ("json" if json_ else "table")).strip().lower()
        if name not in FORMATS:
            raise UsageError(f"unknown format {fmt!r}: choose from {', '.join(FORMATS)}")
        if json_ and name != "json":
            raise UsageError(f"--json and --format {name} ask for different formats: give one")
        return cls(
            name, tuple(dict.fromkeys(n.strip().lower() for raw in sections or () for n in raw.split(",") if n.strip()))
        )


def render(result, options: Options, env) -> str:
    """The whole text of `result` in the asked format (nothing is written here)."""
    return __import__(FORMATS[options.format], fromlist=["render"]).render(result, options, env)
