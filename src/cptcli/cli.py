"""The command line: Typer is the one grammar. Each command parses its
options, calls one service function (cptcli.service), renders the result in
the asked format (cptcli.render) and writes it through the Env
(cptcli.output). No logic lives here.

Errors of any kind end as one line on stderr and an ExitStatus (run() maps
them); output is rendered whole before it is written, so a failure never
leaves half a table or half a JSON document on stdout.
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
from pathlib import Path
from typing import Any

import typer

from cptcli import __version__
from cptcli.errors import CptcliError, ExitStatus, UsageError
from cptcli.output import Env, closed_stdout, finish, output_failed
from cptcli.render import FORMATS, Options, frame, others, render

EXIT_CODES_HELP = """
\b
Exit status:
  0  found / no findings / check passed
  1  not found, no search result, or findings (check failed)
  2  usage error or malformed input
  3  knowledge base missing or invalid
  4  check: not verified (nothing to check part of the line against)
  5  output could not be written
  130 interrupted (Ctrl-C)"""

app = typer.Typer(
    name="cptcli",
    help="Offline look-up of CPT and HCPCS procedure codes: descriptors, modifiers, ICD-10-CM pairings and "
    "their sources.\n\nThe options below (--data, --no-bundled, --no-pager, --version) may also follow the "
    "command: 'cptcli show 20700 --no-bundled' is 'cptcli --no-bundled show 20700'.\n\n" + EXIT_CODES_HELP,
    # Plain help, plain errors: Rich is imported only to draw result tables.
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    add_completion=True,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class State:
    """Options given before the command, shared by every command."""

    data: list[Path] = []
    no_bundled: bool = False
    no_pager: bool = False
    env: Env | None = None


def env() -> Env:
    """The Env of this call: made anew when the streams change (a test runner swaps them between calls)."""
    if State.env is None or State.env.stdout is not sys.stdout or State.env.stderr is not sys.stderr:
        State.env = Env()
    return State.env


def _version(value: bool) -> None:
    if value:
        env().write(f"cptcli {__version__}\n")
        raise typer.Exit(ExitStatus.OK)


# The options every command takes, before or after its name (`cptcli show 20700 --no-bundled` is
# `cptcli --no-bundled show 20700`). click has no global options: they are declared once here, on the
# app's callback and again on each command (`command` adds them), rather than argv being reordered before
# click parses it, which would have to guess which words are option values. Given in both places, the
# flags add up and the --data files keep the order of the line (those before the command first).
_GLOBAL_OPTIONS = {
    "version": (
        bool,
        lambda hidden: typer.Option(
            False,
            "--version",
            "-V",
            callback=_version,
            is_eager=True,
            help="Print the version and exit.",
            hidden=hidden,
        ),
    ),
    "data": (
        list[Path],
        lambda hidden: typer.Option(
            [],
            "--data",
            hidden=hidden,
            metavar="PATH",
            help="Extra knowledge-base file layered over the bundled one (repeatable; also CPTCLI_DATA, "
            "separated by ':'). Before or after the command.",
        ),
    ),
    "no_bundled": (
        bool,
        lambda hidden: typer.Option(
            False,
            "--no-bundled",
            help="Use only the --data / CPTCLI_DATA files. Before or after the command.",
            hidden=hidden,
        ),
    ),
    "no_pager": (
        bool,
        lambda hidden: typer.Option(
            False,
            "--no-pager",
            hidden=hidden,
            help="Never page long output (default on a terminal: CPTCLI_PAGER, PAGER, less -FRX). "
            "Before or after the command.",
        ),
    ),
}


def _take_globals(data=(), no_bundled: bool = False, no_pager: bool = False, **_) -> None:
    State.data = [*State.data, *data]
    State.no_bundled = State.no_bundled or no_bundled
    State.no_pager = State.no_pager or no_pager


def _root(**options) -> None:
    State.data, State.no_bundled, State.no_pager = [], False, False
    _take_globals(**options)


_root.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
    [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=kind, default=option(False))
        for name, (kind, option) in _GLOBAL_OPTIONS.items()
    ]
)
_root.__annotations__ = {name: kind for name, (kind, _) in _GLOBAL_OPTIONS.items()}
app.callback()(_root)


def _with_globals(fn, shown):
    """`fn` taking the global options too, under names of their own (g_data...): what a command is given
    after its name joins what the callback was given before it. Those not in `shown` are taken but left out
    of the command's help, where they change nothing (`schema --data x` prints the same schema)."""
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        _take_globals(**{name: kwargs.pop(f"g_{name}") for name in _GLOBAL_OPTIONS if f"g_{name}" in kwargs})
        return fn(*args, **kwargs)

    extra = [
        inspect.Parameter(
            f"g_{name}", inspect.Parameter.KEYWORD_ONLY, annotation=kind, default=option(name not in shown)
        )
        for name, (kind, option) in _GLOBAL_OPTIONS.items()
    ]
    wrapper.__signature__ = signature.replace(parameters=[*signature.parameters.values(), *extra])  # type: ignore[attr-defined]
    wrapper.__annotations__ = {
        **getattr(fn, "__annotations__", {}),
        **{f"g_{name}": kind for name, (kind, _) in _GLOBAL_OPTIONS.items()},
    }
    return wrapper


def _paths() -> list:
    from cptcli import service

    return service.data_files(State.data, bundled=not State.no_bundled)


def _engine():
    from cptcli import service
    from cptcli.progress import Progress

    paths = _paths()
    with Progress(paths) as progress:
        engine = service.open_engine(paths, progress)
    if engine.notice:
        warn(f"warning: {engine.notice}")
    return engine


def warn(message: str) -> None:
    env().warn(message)


# -- the shared output options (sqlite-utils' output_options) ----------------------------


def _complete_format(incomplete: str) -> list[str]:
    return [f for f in FORMATS if f.startswith(incomplete)]


def _output_parameters(sections: tuple[str, ...], section_help: str) -> list[inspect.Parameter]:
    """--format, --json and --section, their help saying what applies to the command: the names of its own
    sections, and, for a command of one table, no --section in its help (it is taken, and changes nothing)."""
    several = len(sections) > 1

    def complete_section(incomplete: str) -> list[str]:
        return [s for s in sections if s.startswith(incomplete.lower())]

    one_table = " csv and tsv hold one table: the first, or the one --section names." if several else ""
    return [
        inspect.Parameter(
            "fmt",
            inspect.Parameter.KEYWORD_ONLY,
            annotation=str | None,
            default=typer.Option(
                None,
                "--format",
                "-f",
                metavar="FORMAT",
                autocompletion=_complete_format,
                help=f"Output format: {', '.join(FORMATS)} (default table). --json is short for --format json."
                + one_table,
            ),
        ),
        inspect.Parameter(
            "json_",
            inspect.Parameter.KEYWORD_ONLY,
            annotation=bool,
            default=typer.Option(False, "--json", help="Print JSON (--format json)."),
        ),
        inspect.Parameter(
            "section",
            inspect.Parameter.KEYWORD_ONLY,
            annotation=list[str],
            default=typer.Option(
                [],
                "--section",
                "-s",
                metavar="NAME",
                autocompletion=complete_section,
                help=section_help or f"Only this part of the output (repeatable): {', '.join(sections)}.",
                hidden=not several,
            ),
        ),
    ]


def printing(*sections: str, section_help: str = ""):
    """Give a command the output options, declared once above, with its own `sections` (the names --section
    takes: its result's tables, cptcli.render.flat); the command receives them as one `out: Options`. A test
    holds each command's names to those its result accepts."""
    parameters = _output_parameters(sections, section_help)

    def decorate(fn):
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def wrapper(*args, fmt=None, json_=False, section=(), **kwargs):
            out = Options.parse(fmt, json_, section)
            if out.sections:
                from cptcli.render.flat import check_names

                check_names(sections, out.sections)
            return fn(*args, out=out, **kwargs)

        params = [p for name, p in signature.parameters.items() if name != "out"]
        wrapper.__signature__ = signature.replace(parameters=params + parameters)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {
            **{k: v for k, v in fn.__annotations__.items() if k != "out"},
            **{p.name: p.annotation for p in parameters},
        }
        return wrapper

    return decorate


def emit(result, out: Options) -> None:
    """Render `result` in the asked format and write it; for a one-table
    format, say on stderr which other tables there are."""
    text = render(result, out, env())
    if not _paged(text):
        env().write(text)
    left_out = others(result, out)
    if left_out:
        warn(f"note: {out.format} holds one table; the others: {', '.join(left_out)} (--section NAME)")


class _empty_list:
    """Around a look-up answered with a list: when nothing is found (NotFoundError, exit 1), the format's empty
    list is printed first (`[]` for --json: every JSON output is one document), then the error as always."""

    def __init__(self, out: Options) -> None:
        self.out = out

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, exc, tb) -> None:
        from cptcli.errors import NotFoundError
        from cptcli.render import nothing

        if isinstance(exc, NotFoundError):
            env().write(nothing(self.out))


def _paged(text: str) -> bool:
    """Whether the pager took `text` (only on a terminal, and not with --no-pager)."""
    if State.no_pager or not env().is_tty:
        return False
    from cptcli import pager

    return pager.page(text, env())


def command(*args, shown=tuple(_GLOBAL_OPTIONS), on=None, **kwargs):
    """app.command (or the command of group `on`), plus the mapping every command shares: a CptcliError becomes
    one stderr line and its exit status (so Typer's test runner sees it too); and the global options, of which
    `shown` are in the command's help."""

    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*a, **kw):
            try:
                return fn(*a, **kw)
            except CptcliError as exc:
                warn(f"error: {exc.message}")
                raise typer.Exit(exc.status) from None
            except BrokenPipeError:
                # The reader (head, a closed jq) went away: what it read was whole, and the README promises 0.
                # Caught here, before Click, which would make it exit 1.
                closed_stdout()
                raise typer.Exit(ExitStatus.OK) from None

        return (on or app).command(*args, **kwargs)(_with_globals(wrapper, shown))

    return decorate


def _complete_code(incomplete: str) -> list[tuple]:
    """Codes of the knowledge base with their titles; this runs on every Tab press."""
    prefix = incomplete.strip().lstrip("+").upper()
    try:
        from cptcli import service

        summaries = service.list_codes(service.open_engine(_paths())).summaries
    except (CptcliError, OSError):
        return []
    return [(s.code, s.title) for s in summaries if s.code.startswith(prefix)]


# -- commands ---------------------------------------------------------------------------


@command(
    epilog="""\b
Examples:
  cptcli show 20700
  cptcli show +20701 20702
  cptcli show "20700, 20701"
  cptcli show 20700 --json | jq '.modifiers[].modifier'
  cptcli show 20700 --format csv --section diagnoses
  cptcli show 20700 20701 --format csv --wide
  cut -f1 codes.tsv | cptcli show - --json
"""
    + EXIT_CODES_HELP
)
# render.flat.SECTIONS, written out: importing the registry here would cost every call (a test holds them equal).
@printing(*"facts modifiers taxonomy diagnoses related cross_references official notes sources payer ptp".split())
def show(
    code: list[str] = typer.Argument(
        ...,
        metavar="CODE...",
        help="CPT or HCPCS codes, or lists pasted as one: 20700, +20700, J1100, '20700,20701', '20700 20701'; "
        "an NDC (00006-3026-02, 10 or 11 digits) with the ASP NDC-HCPCS crosswalk imported. "
        "Modifier suffixes (20700-RT-59) are named on stderr, not applied: check applies them.",
        autocompletion=_complete_code,
    ),
    brief: bool | None = typer.Option(
        None,
        "--brief/--full",
        help="--brief: the essentials of each code on one screen (at most 25 lines); --full: everything. "
        "Default: --brief on a terminal, --full otherwise (a pipe, a file, any --format or --section).",
    ),
    wide: bool = typer.Option(
        False,
        "--wide/--long",
        help="csv and tsv: --wide prints one row a code, its fields as columns (a spreadsheet's layout; a table "
        "section's keys, such as the modifiers, apart by spaces); --long (the default) one row a field "
        "(code,field,value,copyright,sources), the sections' tables by --section.",
    ),
    out: Options = Options(),
) -> None:
    """Show everything the knowledge base holds on one or more codes.

    Give '-' to read codes from standard input, one per line or a pasted list
    a line (blank lines and '#' comments skipped); each answer is written as its line is read (--json:
    one array; --format jsonl: one object a line).
    Unknown codes are reported on stderr and the rest still print (exit 1)."""
    from cptcli import codes, service

    if brief and (out.format != "table" or out.sections):
        raise UsageError("--brief is a table view: it takes no --format or --section (they pick from the full view)")
    if wide and (out.format not in ("csv", "tsv") or out.sections):
        raise UsageError("--wide is a layout of --format csv and tsv: one row a code (give no --section)")
    if brief is None:
        brief = env().is_tty and out.format == "table" and not out.sections
    out = out._replace(brief=brief, wide=wide)
    if code == ["-"]:
        raise typer.Exit(_show_batch(out))
    # Malformed input fails before any output; an NDC is looked up in the imported ASP crosswalk (service.show).
    typed = [[raw.strip()] if codes.ndc_digits(raw) else codes.parse_codes(raw) for raw in code]
    wanted = [c if isinstance(c, str) else c.code for parsed in typed for c in parsed]
    for parsed in typed:
        for c in parsed:
            if not isinstance(c, str) and c.modifiers:
                warn(_suffixes_note(c))
    results, missing = service.show(_engine(), wanted, ptp_edits="ptp" in out.sections)
    for exc in missing:
        warn(f"error: {exc.message}")
    if results:
        emit(results, out)
    elif len(set(wanted)) > 1:  # the array the codes' documents would have filled (one code: its object, or nothing)
        from cptcli.render import nothing

        env().write(nothing(out))
    if missing:
        raise typer.Exit(ExitStatus.NOT_FOUND)


def _suffixes_note(typed, where: str = "") -> str:
    """What `show` says of the modifiers typed on a code: named, not dropped unsaid, and where they apply."""
    many = len(typed.modifiers) > 1
    as_typed = "-".join((typed.code, *typed.modifiers))
    return (
        f"note: {where}{as_typed}: show describes {typed.code} alone; modifier{'s' if many else ''} "
        f"{', '.join(typed.modifiers)} {'are' if many else 'is'} not applied "
        f"(cptcli check {as_typed} applies {'them' if many else 'it'})"
    )


def _show_batch(out: Options) -> int:
    """Stream codes from stdin: each answer is written as its line is read, a
    bad line reported and skipped, never fatal."""
    from cptcli import service
    from cptcli.errors import NotFoundError
    from cptcli.limits import bounded_lines

    stdin = env().stdin
    if stdin is None:
        raise UsageError("'show -' reads codes from standard input, but there is none")
    engine = _engine()
    drawn: dict[str, str] = {}  # a claims export repeats a few codes thousands of times: draw each once
    counts = {"missing": 0, "malformed": 0, "suffixed": 0}

    def answers():
        # Each line read no further than a code list's lines go, and no more lines than a claims year has.
        for answer in service.show_lines(engine, bounded_lines(stdin.buffer)):
            if isinstance(answer, service.Suffixed):  # a claims export gives every line a modifier: noted once
                counts["suffixed"] += 1
                if counts["suffixed"] == 1:
                    warn(_suffixes_note(answer.typed, f"line {answer.line}: "))
                continue
            if isinstance(answer, CptcliError):
                warn(f"error: {answer.message}")
                counts["malformed"] += isinstance(answer, UsageError)
                counts["missing"] += isinstance(answer, NotFoundError)
                continue
            code = answer[0].code
            text = drawn.get(code)
            if text is None:
                text = render(answer, out, env())
                if len(drawn) < 4096:
                    drawn[code] = text
            yield answer, text

    # The format frames the stream (separators, one JSON array, a header once); each piece is written as it comes.
    for piece in frame(answers(), out):
        env().write(piece)
    if counts["suffixed"] > 1:
        more = counts["suffixed"] - 1
        warn(f"note: {more:,} more code{'s' if more > 1 else ''} typed with modifiers: not applied by show either")
    malformed, missing = counts["malformed"], counts["missing"]
    if malformed:
        return ExitStatus.USAGE
    return ExitStatus.NOT_FOUND if missing else ExitStatus.OK


@command(
    epilog="""\b
Examples:
  cptcli search "antibiotic beads removal"
  cptcli search "intramedullary insert" --limit 3
  cptcli search M54.16
  cptcli search "modifier 59" --json | jq -r '.[].code'
  cptcli search "low back pain" --section icd --json
\b
A query that reads as a diagnosis (the best ICD-10-CM code holds all its words
and scores 20 points above every procedure hit) shows the ICD-10-CM codes after
the procedure hits, as `cptcli icd search` ranks them: in a table and Markdown;
in CSV and TSV with --section icd. JSON keeps its list of procedure hits:
--section icd gives the ICD-10-CM codes' list (icd search's shape), both
sections an object {"hits": [...], "icd": [...]}; asking for the section
lists the codes whatever the query.
"""
    + EXIT_CODES_HELP
)
@printing("hits", "icd")
def search(
    query: str = typer.Argument(..., help="Words, a code or code prefix, an ICD-10-CM code, or 'modifier 59'."),
    limit: int = typer.Option(10, "--limit", "-n", min=1, max=1000, help="Most results to print."),
    min_score: float = typer.Option(40.0, "--min-score", min=0, max=100, help="Lowest score (0-100) to print."),
    out: Options = Options(),
) -> None:
    """Rank codes by how well they match a query; typo-tolerant. No hit: exit 1 (--json prints [])."""
    from cptcli import service

    with _empty_list(out):
        found = service.search(_engine(), query, limit, min_score, diagnoses=True if "icd" in out.sections else None)
    emit(found, out)
    miss = service.search_status(found, out.sections, min_score)
    if miss is not None:
        raise miss


@command(
    "list",
    epilog="""\b
Examples:
  cptcli list
  cptcli list --prefix 2070
  cptcli list --json | jq -r '.[] | select(.completeness == "full") | .code'
"""
    + EXIT_CODES_HELP,
)
@printing("codes")
def list_codes(
    prefix: str | None = typer.Option(None, "--prefix", help="Only codes starting so (2070, J10, E014)."),
    out: Options = Options(),
) -> None:
    """List every code in the knowledge base with its title, add-on flag and completeness."""
    from cptcli import service

    with _empty_list(out):
        found = service.list_codes(_engine(), prefix)
    emit(found, out)


@command(
    epilog="""\b
Examples:
  cptcli check 20700 --with 11012-59 --date 2026-11-02
  cptcli check +20700 --with 11012 --modifier 59 --dx M86.161
  cptcli check 20705 --units 3 --setting outpatient
  cptcli check 20702-51 --with 20700
  cptcli check 20700-RT-59 --with "11012, 20701"
  cptcli check 20700 --dx M54.5 --json | jq -r '.verdict, .issues[].message'
  cptcli check --claims docs/examples/claims.csv --format csv
\b
Verdicts: pass (every part checked: no errors), fail (an error), not verified
(no error, but something could not be checked: a payer edit set not imported
or not in force on the date of service, a primary code or diagnosis nothing
pairs with the code, a pairing that stands only on a source's reading the
official descriptor contradicts, a modifier cptcli does not know).
\b
Payer edits, from the CMS files imported (cptcli import): NCCI PTP pairs
among the line's codes (indicator 0 never paid together; 1 only with an
NCCI-associated modifier such as 59 or XS on the column-2 code:
--with 11043-59), MUE unit limits in the setting, add-on code primaries (AOC),
and the fee schedule's status, bilateral, assistant, co-surgeon and team
indicators (PFS). Each is applied as in force on --date (default today);
the codes' own added and terminated dates and the ICD-10-CM fiscal year are
judged on that date too.
\b
Errors: an add-on code without --with, a known-invalid modifier, modifiers not
reported together, 51 on an add-on code, an ICD-10-CM code that does not exist
or is a header (its billable codes are listed), a PTP or MUE edit, a code not
payable under the fee schedule, a code not valid on the date.
\b
Exit status:
  0  pass
  1  fail, or CODE not in the knowledge base
  2  malformed CODE, PRIMARY, modifier, ICD-10-CM code, date, units or setting
  3  knowledge base, code set or imported file missing or invalid
  4  not verified"""
)
@printing(
    "issues",
    "findings",
    "malformed",
    "summary",
    section_help="Only this part of the output (repeatable): issues (the one table of a line); with --claims: "
    "findings, malformed, summary.",
)
def check(
    code: str = typer.Argument(
        None,
        metavar="CODE",
        help="The code on the claim line: 20700, +20700, 20700-RT-59 (every suffix is applied as a --modifier; "
        "not with --claims).",
    ),
    with_: list[str] = typer.Option(
        [],
        "--with",
        "-w",
        metavar="CODE",
        help="Other codes on the claim for the same date: primary procedures, pairs (repeatable, or a pasted list: "
        "'11012,11043-59'; CODE-59 gives that code its modifier).",
    ),
    modifier: list[str] = typer.Option(
        [],
        "--modifier",
        "-m",
        metavar="M",
        help="Modifier(s) appended to CODE (repeatable, or a list: 50,LT or '50 LT').",
    ),
    dx: list[str] = typer.Option(
        [],
        "--dx",
        "-d",
        metavar="ICD10",
        help="ICD-10-CM diagnosis code(s) (repeatable, or a list: 'M54.5, G89.29').",
    ),
    units: int = typer.Option(1, "--units", "-u", metavar="N", help="Units of service on the line (default 1)."),
    date: str = typer.Option(
        None, "--date", metavar="YYYY-MM-DD", help="Date of service (default today): the edits in force on it apply."
    ),
    setting: str = typer.Option(
        None,
        "--setting",
        metavar="SETTING",
        help="practitioner (default), outpatient (hospital outpatient) or dme (DME supplier): which NCCI edits apply.",
    ),
    claims_file: str = typer.Option(
        None,
        "--claims",
        metavar="FILE",
        help="A claims file (CSV, TSV or JSON Lines; '-' reads standard input): every line checked. Columns by "
        "header: claim, line, code, modifiers, units, dx, date, setting (docs/claims.md).",
    ),
    out: Options = Options(),
) -> None:
    """Check one claim line, or every line of a claims file, against the payer edits, the knowledge base, the
    modifier registry and ICD-10-CM."""
    from cptcli import service

    if claims_file is not None:
        if code is not None or with_ or modifier or dx or units != 1 or date:
            raise UsageError(
                "--claims takes its lines from the file: give no CODE, --with, --modifier, --dx, --units or --date"
            )
        from cptcli.render import in_pieces

        whole = not in_pieces(out)
        pieces = service.check_claims(
            _engine(), _claims_bytes(claims_file), claims_file, setting, piece=0 if whole else 2000
        )
        if whole:
            report = next(iter(pieces))
        else:
            # Written as judged, a piece at a time, framed as the format frames a stream (rows under one header).
            last: list = []

            def answers():
                for piece in pieces:
                    if piece.last:
                        last.append(piece)
                    yield piece, render(piece, out, env())

            for text in frame(answers(), out):
                env().write(text)
            report = last[0]
        for bad in report.malformed[:5]:
            warn(f"warning: row {bad.row}: {bad.reason} (skipped)")
        if len(report.malformed) > 5:
            warn(f"warning: {len(report.malformed) - 5:,} more rows malformed (skipped; listed in the output)")
        if whole:
            emit(report, out)
        else:
            left_out = others(report, out)
            if left_out:
                warn(f"note: {out.format} holds one table; the others: {', '.join(left_out)} (--section NAME)")
        status = {"pass": ExitStatus.OK, "fail": ExitStatus.NOT_FOUND, "unverified": ExitStatus.UNVERIFIED}
        raise typer.Exit(status[report.verdict])
    if code is None:
        raise UsageError("give the CODE of the claim line, or --claims FILE")
    # Malformed input fails (exit 2) before anything is loaded.
    line = service.claim_line(code, with_, modifier, dx, units=units, date=date, setting=setting)
    report = service.check(_engine(), line)
    emit(report, out)
    status = {"pass": ExitStatus.OK, "fail": ExitStatus.NOT_FOUND, "unverified": ExitStatus.UNVERIFIED}
    raise typer.Exit(status[report.verdict])


def _claims_bytes(name: str) -> bytes:
    """The claims file's bytes ('-': standard input), no more than CLAIMS_BYTES of them (`--claims /dev/zero` was
    a MemoryError); a file that cannot be read is named with why."""
    from cptcli.limits import CLAIMS_BYTES, size, too_big

    if name == "-":
        stdin = env().stdin
        if stdin is None:
            raise UsageError("'--claims -' reads standard input, but there is none")
        data = stdin.buffer.read(CLAIMS_BYTES + 1)
    else:
        from cptcli.errors import DataError

        try:
            with open(name, "rb") as f:
                data = f.read(CLAIMS_BYTES + 1)
        except FileNotFoundError:
            raise UsageError(f"{name}: no such file") from None
        except OSError as exc:
            raise DataError(f"{name}: cannot be read ({exc.strerror})") from None
    if len(data) > CLAIMS_BYTES:
        raise too_big(
            name if name != "-" else "standard input",
            f"more than {size(CLAIMS_BYTES)}",
            f"{size(CLAIMS_BYTES)} a claims file",
        )
    return data


@command(
    epilog="""\b
Examples:
  cptcli audit
  cptcli audit --json | jq -r '.findings[] | select(.severity == "error") | .subject'
  cptcli --data mine.json audit
\b
Checks every row of the knowledge base: modifiers against the registry
(unknown, or described as something else), ICD-10-CM codes against the
official release (unknown, header, different description), provider taxonomy
codes against the verified NUCC list; and lists the conflicts and truncations
the curators recorded. The first run builds the ICD-10-CM cache (a few
seconds).
\b
Exit status:
  0  no error findings (warnings may be printed)
  1  at least one error finding
  3  knowledge base or ICD-10-CM code set missing or invalid"""
)
@printing("findings")
def audit(out: Options = Options()) -> None:
    """List every finding about the knowledge base itself, checked against official code sets."""
    from cptcli import service

    report = service.audit(_engine())
    emit(report, out)
    if report.errors:
        raise typer.Exit(ExitStatus.NOT_FOUND)


@command(
    epilog="""\b
Examples:
  cptcli icd M54.16
  cptcli icd m545
  cptcli icd M54.5 --json | jq -r '.billable_children[].code'
  cptcli icd search "low back pain"
  cptcli icd search "migraine without aura" --limit 3 --json
\b
`icd search QUERY` ranks the release's codes by the words of their descriptions,
inclusion terms and Alphabetic Index entries (typos and clipped words such as
"strep" read as the word meant, and said); billable codes come before headers,
which are marked. The first run builds a cache of the ICD-10-CM release (a few
seconds); later runs answer from it in milliseconds.
"""
    + EXIT_CODES_HELP
)
@printing("code", "children", "billable", "listed_by")
def icd(
    code: str = typer.Argument(
        ..., metavar="CODE", help="An ICD-10-CM code, with or without the dot: M54.16, m5416; or 'search'."
    ),
    query: str | None = typer.Argument(None, metavar="[QUERY]", help="With 'search': the words to rank codes by."),
    limit: int = typer.Option(10, "--limit", "-n", min=1, max=1000, help="With 'search': most results to print."),
    min_score: float = typer.Option(
        40.0, "--min-score", min=0, max=100, help="With 'search': lowest score (0-100) to print."
    ),
    out: Options = Options(),
) -> None:
    """Official description and billability of an ICD-10-CM code, and the codes that list it; or search by words."""
    from cptcli import codes, service

    if code.lower() == "search":
        emit(service.icd_search(query or "", limit, min_score), out)
        return
    if query is not None:
        raise UsageError(f"icd takes one CODE; to rank codes by words: cptcli icd search {codes.printable(query)!r}")
    codes.parse_icd10(code)  # malformed input fails (exit 2) before anything is loaded
    emit(service.icd(_engine(), code), out)


@command(
    epilog="""\b
Examples:
  cptcli modifier 59
  cptcli modifier AS
  cptcli modifier lt --json | jq '.registry.conflicts_with'
  cptcli modifier -- -59
\b
A modifier that a document lists but the registry does not know (such as
11) is printed with a warning and exit status 1.
"""
    + EXIT_CODES_HELP
)
@printing("modifier", "listed_by")
def modifier(
    mod: str = typer.Argument(..., metavar="MODIFIER", help="A two-character modifier: 59, -59, LT, 'modifier 59'."),
    out: Options = Options(),
) -> None:
    """A modifier's registry entry and the codes whose modifier tables list it."""
    from cptcli import codes, service

    wanted = codes.parse_modifier(mod)
    result = service.modifier(_engine(), wanted)
    emit(result, out)
    if result.entry is None:
        warn(
            f"warning: {wanted} is not in cptcli's modifier registry; the rows above are unverified "
            f"(see their data notes)"
        )
        raise typer.Exit(ExitStatus.NOT_FOUND)


@command(
    epilog="""\b
Examples:
  cptcli validate my-codes.json
  cptcli --no-bundled validate my-codes.json
  cptcli schema > cptcli-schema.json
"""
    + EXIT_CODES_HELP
)
@printing("findings")
def validate(
    path: Path = typer.Argument(..., metavar="PATH", help="A knowledge-base JSON file to check."),
    out: Options = Options(),
) -> None:
    """Check a user knowledge-base file: the JSON Schema (see 'cptcli schema'),
    then its references, layered over the bundled data and any --data files so
    it may name bundled codes and sources, then the errors 'cptcli audit' finds
    in its rows. One finding a line, each naming file, record and field; exit 1
    if there are any."""
    from cptcli import service
    from cptcli.datafiles import data_files

    result = service.validate(path, data_files([str(p) for p in State.data], bundled=not State.no_bundled))
    emit(result, out)
    if result.findings:
        warn(f"{len(result.findings)} finding{'s' if len(result.findings) != 1 else ''} in {path}")
        raise typer.Exit(ExitStatus.NOT_FOUND)


@command(
    epilog="""\b
Examples:
  cptcli schema > cptcli-schema.json
  cptcli schema | jq -r '.properties | keys[]'
"""
    + EXIT_CODES_HELP,
    shown=("version",),
)
def schema() -> None:
    """Print the JSON Schema of the knowledge-base format (for --data files and 'cptcli validate')."""
    from cptcli.knowledge import SCHEMA_PATH

    with open(SCHEMA_PATH, encoding="utf-8") as f:
        env().write(f.read().rstrip("\n") + "\n")


@command(
    epilog="""\b
Examples:
  cptcli source 000
  cptcli source 001_596d63048c814939.txt | less
"""
    + EXIT_CODES_HELP,
    shown=("version",),
)
def source(name: str = typer.Argument(..., metavar="NAME", help="A source's file name or short id (000).")) -> None:
    """Print one of the source documents the knowledge base cites, as it was collected."""
    from cptcli import service

    env().write(service.source_text(name))


@command(
    "import",
    epilog="""\b
Examples:
  cptcli import HCPC2026_JAN_ANWEB.zip
  cptcli import LONGULT.txt MEDU.txt SHORTU.txt ConsumerDescriptor.txt ClinicianDescriptor.txt
  cptcli import nucc_taxonomy_251.csv --json | jq '.[0].records'
  cptcli import --remove cpt
\b
Kinds: hcpcs (CMS HCPCS Level II, the ANWEB text or .xlsx, or the zip as CMS
ships it), cpt (the AMA CPT data files a licensed user has), nucc (the NUCC
taxonomy CSV). Each file's kind is read from its content; a file no kind is
sure of, or two kinds are equally sure of, is refused naming them: --kind
forces one. Imported sets live in the user data directory (CPTCLI_DATA_DIR
overrides it); one release a set is active, and importing another replaces it
whole. A release with fewer than half the records of the active one (a file
cut short) is refused unless --force.
"""
    + EXIT_CODES_HELP,
)
@printing("imports", "skipped")
def import_(
    files: list[Path] = typer.Argument(None, metavar="FILE...", help="Files, directories or .zip files to import."),
    kind: str = typer.Option(None, "--kind", "-k", metavar="KIND", help="Force the kind (see the kinds below)."),
    remove: str = typer.Option(
        None, "--remove", metavar="KIND", help="Remove the imported sets of KIND (KIND.SLOT: one set)."
    ),
    force: bool = typer.Option(
        False, "--force", help="Import a release even if it is much smaller than the active one."
    ),
    out: Options = Options(),
) -> None:
    """Import official code sets and payer edits: CMS HCPCS, AMA CPT data files, the NUCC taxonomy."""
    from cptcli import service

    if remove:
        if files:
            raise UsageError("--remove takes no FILE")
        service.remove_import(remove.strip().lower())
        env().write(f"removed the imported {remove.strip().lower()} set\n")
        return
    if not files:
        raise UsageError("give at least one FILE to import, or --remove KIND")
    with _import_progress() as progress:
        reports = service.import_files(
            [str(f) for f in files], kind.strip().lower() if kind else None, progress, force=force
        )
    if any(not r.unchanged for r in reports):
        # The index is built here, where the import is already waited for, not on the first look-up after it.
        from cptcli.errors import CptcliError

        try:
            _engine()
        except CptcliError as e:
            warn(f"warning: the index will be built on the next look-up: {e}")
    emit(reports, out)


class _import_progress:
    """A progress bar on stderr while a big file is read and stored, where a person watches."""

    def __init__(self) -> None:
        self.bar: Any = None  # a rich.progress.Progress, imported only on a terminal
        self.tasks: dict = {}

    def __enter__(self):
        if not sys.stderr.isatty():
            return None
        from rich.console import Console
        from rich.progress import Progress

        bar = Progress(console=Console(file=sys.stderr), transient=True)
        bar.start()
        self.bar = bar
        return self

    def __call__(self, phase: str, done: int, total: int | None) -> None:
        bar = self.bar
        if bar is None:
            return
        if phase not in self.tasks:
            self.tasks[phase] = bar.add_task(f"cptcli: {phase}", total=total)
        bar.update(self.tasks[phase], completed=done, total=total)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()


@command(
    epilog="""\b
Examples:
  cptcli sources
  cptcli sources --json | jq -r '.[] | "\\(.kind) \\(.release)"'
"""
    + EXIT_CODES_HELP
)
@printing("sources")
def sources(out: Options = Options()) -> None:
    """The code sets answers come from: the knowledge-base files and every imported set, with their SHA-256."""
    from cptcli import service

    emit(service.sources(_engine()), out)


cache_app = typer.Typer(
    name="cache",
    help="Where cptcli keeps derived files (indexes, the ICD-10-CM extract), and removing them.",
    no_args_is_help=True,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(cache_app)


@command(
    "info",
    on=cache_app,
    epilog="""\b
Examples:
  cptcli cache info
  cptcli cache info --json | jq -r '.caches[] | "\\(.kind) \\(.bytes)"'
\b
The cache directory is CPTCLI_CACHE_DIR, else the platform's user cache
directory (~/.cache/cptcli on Linux). Everything there is derived: removing
it loses nothing but the time to rebuild. Imported code sets live in the user
data directory (CPTCLI_DATA_DIR) and are not a cache: 'cptcli import --remove
KIND' removes one.
"""
    + EXIT_CODES_HELP,
)
@printing("caches", "imported")
def cache_info(out: Options = Options()) -> None:
    """Where each cache lives, what it holds and its size; the index the knowledge-base files in play use."""
    from cptcli import service

    emit(service.cache_info(_paths()), out)


@command(
    "clear",
    on=cache_app,
    epilog="""\b
Examples:
  cptcli cache clear
  cptcli cache clear --json | jq '.bytes'
\b
Removes only the files cptcli writes there (index-*.sqlite, invalid-*.json,
icd10cm.sqlite3, and temporaries of runs that died), never another file of
the directory, nor the imported code sets. The next look-up rebuilds what it
needs (the ICD-10-CM extract takes a few seconds).
\b
Exit status:
  0  removed (or nothing to remove)
  1  a cached file could not be removed (listed, with why)""",
)
@printing("removed", "kept")
def cache_clear(out: Options = Options()) -> None:
    """Remove cptcli's caches, saying what was removed."""
    from cptcli import service

    result = service.clear_cache()
    emit(result, out)
    if result.kept and any(not why.startswith("may be being written") for _, why in result.kept):
        raise typer.Exit(ExitStatus.NOT_FOUND)


# -- running --------------------------------------------------------------------------------


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit status, turning every error into one stderr line."""
    cmd = typer.main.get_command(app)
    try:
        result = cmd.main(args=argv, prog_name="cptcli", standalone_mode=False)
        if result == ExitStatus.INTERRUPTED:  # Typer turns Ctrl-C into a silent exit 130
            warn("interrupted")
        return int(result) if isinstance(result, int) else ExitStatus.OK
    except CptcliError as exc:
        # Made visible here too: a message may quote a name or a value that no caller escaped.
        from cptcli.textsafe import visible

        warn(f"error: {visible(exc.message)}")
        return exc.status
    except typer.Abort:
        warn("interrupted")
        return ExitStatus.INTERRUPTED
    except typer.Exit as exc:
        return exc.exit_code
    except typer.TyperException as exc:
        # Typer's (vendored click's) usage errors: click prints three lines; we print one.
        ctx = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError":
            sys.stderr.write(exc.format_message() + "\n")
        else:
            where = f"cptcli {ctx.info_name}" if ctx is not None and ctx.parent is not None else "cptcli"
            warn(f"error: {exc.format_message()} (see '{where} --help')")
        return ExitStatus.USAGE if getattr(exc, "exit_code", 2) == 2 else exc.exit_code
    except BrokenPipeError:
        # The reader (head, a closed jq) went away: stop quietly (see finish).
        return closed_stdout()
    except KeyboardInterrupt:
        warn("interrupted")
        return ExitStatus.INTERRUPTED
    except OSError as exc:
        if exc.filename is None:
            return output_failed(exc)
        # A file's error (a data directory that cannot be written, a name too long), not the output's: its name
        # and its cause, as a damaged or unreadable data file is reported.
        from cptcli.textsafe import cut_name

        warn(f"error: {cut_name(os.fsdecode(exc.filename))}: {exc.strerror or exc}")
        return ExitStatus.DATA
    except Exception as exc:  # a bug of ours: one line, not a traceback (CPTCLI_DEBUG=1 shows it)
        if os.environ.get("CPTCLI_DEBUG"):
            raise
        warn(f"internal error: {type(exc).__name__}: {exc} (please report it; CPTCLI_DEBUG=1 shows where)")
        return ExitStatus.INTERNAL


def main() -> None:
    finish(run())
