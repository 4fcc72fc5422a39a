"""The command line: options in, core calls, one renderer out. No logic lives here.

Errors of any kind end as one line on stderr and an ExitStatus; output is
rendered whole before it is written, so a failure never leaves half a table
or half a JSON document on stdout.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import List, Optional

import typer

from cptcli import __version__
from cptcli.errors import CptcliError, ExitStatus, UsageError
from cptcli.output import emit

EXIT_CODES_HELP = """
\b
Exit status:
  0  found / no findings
  1  not found, no search result, or findings
  2  usage error or malformed input
  3  knowledge base missing or invalid"""

app = typer.Typer(
    name="cptcli",
    help="Offline look-up of CPT procedure codes: descriptors, modifiers, ICD-10-CM pairings and "
         "their sources.\n\n" + EXIT_CODES_HELP,
    # Plain help, plain errors: Rich is imported only to draw result tables.
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    # Typer's --install-completion / --show-completion; the option callbacks
    # import the completion machinery only when used.
    add_completion=True,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class State:
    """Options given before the command, shared by every command."""

    data: List[Path] = []
    no_bundled: bool = False


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"cptcli {__version__}\n")
        raise typer.Exit(ExitStatus.OK)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", "-V", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
    data: List[Path] = typer.Option([], "--data", metavar="PATH",
                                    help="Extra knowledge-base file layered over the bundled one "
                                         "(repeatable; also CPTCLI_DATA, separated by ':')."),
    no_bundled: bool = typer.Option(False, "--no-bundled", help="Use only the --data / CPTCLI_DATA files."),
) -> None:
    State.data = list(data)
    State.no_bundled = no_bundled


def command(*args, **kwargs):
    """app.command, plus the mapping every command shares: a CptcliError becomes
    one stderr line and its exit status (so Typer's test runner sees it too)."""
    import functools

    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*a, **kw):
            try:
                return fn(*a, **kw)
            except CptcliError as exc:
                warn(f"error: {exc.message}")
                raise typer.Exit(exc.status) from None

        return app.command(*args, **kwargs)(wrapper)

    return decorate


def _paths():
    from cptcli import knowledge

    paths = knowledge.data_paths([str(p) for p in State.data], bundled=not State.no_bundled)
    if not paths:
        raise UsageError("--no-bundled needs at least one --data PATH or CPTCLI_DATA file")
    return paths


def _kb():
    from cptcli import knowledge

    return knowledge.load(_paths())


def warn(message: str) -> None:
    sys.stderr.write(f"cptcli: {message}\n")


JSON_OPTION = typer.Option(False, "--json", help="Print JSON (one object for one code, else an array).")

FORMATS = ("table", "json", "jsonl", "csv", "markdown")


def _complete_format(incomplete: str) -> List[str]:
    return [f for f in FORMATS if f.startswith(incomplete)]


def _complete_section(incomplete: str) -> List[str]:
    from cptcli.render.sections import SECTIONS

    return [s for s in SECTIONS if s.startswith(incomplete.lower())]


def _complete_code(incomplete: str) -> List[tuple]:
    """Codes of the bundled knowledge base with their titles, read without
    validating: this runs on every Tab press."""
    import json

    from cptcli.knowledge import bundled_path

    try:
        doc = json.loads(bundled_path().read_text(encoding="utf-8"))
        records = [(r["code"], r["title"]["text"]) for r in doc["codes"]]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    prefix = incomplete.strip().lstrip("+")
    return sorted((code, title) for code, title in records if code.startswith(prefix))


FORMAT_OPTION = typer.Option(None, "--format", "-f", metavar="FORMAT", autocompletion=_complete_format,
                             help="Output format: table (default), json, jsonl (one object a line), csv, "
                                  "markdown. --json is short for --format json.")
SECTION_OPTION = typer.Option([], "--section", "-s", metavar="NAME", autocompletion=_complete_section,
                              help="Only this section (repeatable): facts, modifiers, taxonomy, diagnoses, "
                                   "related, cross_references, notes, sources.")


def _format(json_: bool, fmt: Optional[str]) -> str:
    name = (fmt or ("json" if json_ else "table")).strip().lower()
    if name not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}: choose from {', '.join(FORMATS)}")
    if json_ and name != "json":
        raise UsageError(f"--json and --format {name} ask for different formats: give one")
    return name


def _render_show(shows, results, fmt: str, sections, single: bool = False) -> str:
    """`shows`: views.Lookups. `single`: one code was asked for, so JSON is one object, not an array."""
    from cptcli.render.sections import Selected

    if fmt in ("json", "jsonl"):
        from cptcli.render import json as render_json

        docs = [Selected(r, sections) for r in results]
        if fmt == "jsonl":
            return render_json.dumps_lines(docs)
        return render_json.dumps(docs[0] if single and len(docs) == 1 else docs)
    if fmt == "csv":
        from cptcli.render import csv

        return csv.show(results, shows.sources, sections)
    if fmt == "markdown":
        from cptcli.render import markdown

        return markdown.show(results, shows.sources, sections)
    return _tables(shows, results, sections)


def _render_rows(objs, fmt: str, view: str, table_view) -> str:
    """search and list: the same objects in every format. `view` names the
    csv/markdown renderer function ('hits' or 'code_list'); `table_view` draws
    the Rich table."""
    if fmt in ("json", "jsonl"):
        from cptcli.render import json as render_json

        return render_json.dumps_lines(objs) if fmt == "jsonl" else render_json.dumps(objs)
    if fmt in ("csv", "markdown"):
        import importlib

        renderer = importlib.import_module(f"cptcli.render.{fmt}")
        return getattr(renderer, view)(objs)
    return table_view()


@command(epilog="""\b
Examples:
  cptcli show 20700
  cptcli show +20701 20702
  cptcli show 20700 --json | jq '.modifiers[].modifier'
""" + EXIT_CODES_HELP)
def show(
    code: List[str] = typer.Argument(..., metavar="CODE...", help="CPT codes: 20700, +20700, '20700-50'.",
                                     autocompletion=_complete_code),
    json_: bool = JSON_OPTION,
    fmt: Optional[str] = FORMAT_OPTION,
    section: List[str] = SECTION_OPTION,
) -> None:
    """Show everything the knowledge base holds on one or more CPT codes.

    Give '-' to read codes from standard input, one per line (blank lines and
    '#' comments skipped); with --json each record is one line (NDJSON).
    Unknown codes are reported on stderr and the rest still print (exit 1)."""
    from cptcli import codes, views
    from cptcli.render.sections import parse as parse_sections

    fmt, sections = _format(json_, fmt), parse_sections(section)
    if code == ["-"]:
        raise typer.Exit(_show_batch(fmt, sections))
    wanted = [codes.parse_cpt(c).code for c in code]  # malformed input fails before any output
    shows = views.Lookups(_paths())
    results, missing = _look_up(shows, wanted)
    if results:
        emit(_render_show(shows, results, fmt, sections, single=len(wanted) == 1))
    if missing:
        raise typer.Exit(ExitStatus.NOT_FOUND)


def _look_up(shows, wanted: List[str]):
    from cptcli.errors import NotFoundError

    results, missing = [], 0
    for c in wanted:
        try:
            results.append(shows.show(c))
        except NotFoundError as exc:
            warn(f"error: {exc.message}")
            missing += 1
    return results, missing


def _tables(shows, results, sections=None) -> str:
    from cptcli.render.sections import render_tables

    return render_tables(results, shows.sources, sections)


def _show_batch(fmt: str, sections) -> int:
    """Stream codes from stdin; a bad line is reported and skipped, never fatal."""
    from cptcli import codes
    from cptcli.errors import UsageError as BadInput

    if sys.stdin is None:
        raise UsageError("'show -' reads codes from standard input, but there is none")
    import functools

    from cptcli import views

    shows = views.Lookups(_paths())
    missing = malformed = 0
    collected = []  # csv/markdown: one table per section for the whole batch, as for several codes
    # A stream: JSON is one object a line here, as documented. A code repeated in
    # the input (a claims export repeats a few codes thousands of times) is drawn
    # once; drawing is most of the cost, ~30 ms a code for tables.
    draw = functools.lru_cache(maxsize=1024)(
        lambda code: _render_show(shows, [shows.show(code)], "jsonl" if fmt == "json" else fmt, sections))
    for number, raw in enumerate(sys.stdin.buffer, 1):
        # surrogateescape: a line of invalid UTF-8 becomes a malformed code, not a crash.
        line = raw.decode("utf-8", "surrogateescape").strip()
        if not line or line.startswith("#"):
            continue
        try:
            wanted = codes.parse_cpt(line).code
        except BadInput as exc:
            warn(f"error: line {number}: {exc.message}")
            malformed += 1
            continue
        results, miss = _look_up(shows, [wanted])
        missing += miss
        if results:
            if fmt in ("csv", "markdown"):
                collected += results
            else:
                emit(draw(wanted))
    if collected:
        emit(_render_show(shows, collected, fmt, sections))
    if malformed:
        return ExitStatus.USAGE
    return ExitStatus.NOT_FOUND if missing else ExitStatus.OK


@command(epilog="""\b
Examples:
  cptcli search "baclofen pump removal"
  cptcli search "intramedullary insert" --limit 3
  cptcli search M54.16
  cptcli search "modifier 59" --json | jq -r '.[].code'
""" + EXIT_CODES_HELP)
def search(
    query: str = typer.Argument(..., help="Words, a code or code prefix, an ICD-10-CM code, or 'modifier 59'."),
    limit: int = typer.Option(10, "--limit", "-n", min=1, max=1000, help="Most results to print."),
    min_score: float = typer.Option(40.0, "--min-score", min=0, max=100, help="Lowest score (0-100) to print."),
    json_: bool = typer.Option(False, "--json", help="Print a JSON array of results."),
    fmt: Optional[str] = FORMAT_OPTION,
) -> None:
    """Rank codes by how well they match a query; typo-tolerant."""
    from cptcli import views

    fmt = _format(json_, fmt)
    hits = views.search_hits(_paths(), query, limit, min_score)
    if not hits:
        from cptcli.codes import printable

        warn(f"no code matches {printable(query)!r} with a score of at least {min_score:g}")
        raise typer.Exit(ExitStatus.NOT_FOUND)

    def table_view() -> str:
        from cptcli.codes import printable
        from cptcli.render import table

        return table.render(table.hits(hits, printable(query, 60)))

    emit(_render_rows(hits, fmt, "hits", table_view))


@command("list", epilog="""\b
Examples:
  cptcli list
  cptcli list --json | jq -r '.[] | select(.completeness == "full") | .code'
""" + EXIT_CODES_HELP)
def list_codes(json_: bool = typer.Option(False, "--json", help="Print a JSON array."),
               fmt: Optional[str] = FORMAT_OPTION) -> None:
    """List every code in the knowledge base with its title, add-on flag and completeness."""
    from cptcli import views

    fmt = _format(json_, fmt)
    summaries = views.Lookups(_paths()).summaries()

    def table_view() -> str:
        from cptcli.render import table

        return table.render(table.code_list(summaries))

    emit(_render_rows(summaries, fmt, "code_list", table_view))


@command(epilog="""\b
Examples:
  cptcli check +20700 --modifier 59 --dx G89.29
  cptcli check 20700 --modifier 50,LT
  cptcli check 20702-51 --with 20700
  cptcli check 20700 --dx M54.5 --json | jq -r '.issues[].message'
\b
--with takes the primary code you report; cptcli checks it is not itself an
add-on code but does not judge the pairing (the documents name no primary
codes).
\b
Errors: an add-on code without --with, an unknown modifier, conflicting
modifiers (registry conflicts_with), 51 on an add-on code, an ICD-10-CM code
that does not exist or is a header (its billable codes are listed).
Warnings: a diagnosis the knowledge base does not pair with the code, a
modifier whose source description contradicts its registry name.
\b
Exit status:
  0  no errors (warnings may be printed)
  1  at least one error, or CODE not in the knowledge base
  2  malformed CODE, PRIMARY, modifier or ICD-10-CM code
  3  knowledge base or ICD-10-CM code set missing or invalid""")
def check(
    code: str = typer.Argument(..., metavar="CODE", help="The CPT code on the claim line: 20700, +20700, 20700-59."),
    with_: List[str] = typer.Option([], "--with", "-w", metavar="PRIMARY",
                                    help="Primary procedure code(s) on the same claim (repeatable)."),
    modifier: List[str] = typer.Option([], "--modifier", "-m", metavar="M",
                                       help="Modifier(s) appended to CODE (repeatable, or comma-separated)."),
    dx: List[str] = typer.Option([], "--dx", "-d", metavar="ICD10",
                                 help="ICD-10-CM diagnosis code(s) (repeatable, or comma-separated)."),
    json_: bool = typer.Option(False, "--json", help="Print a JSON object."),
) -> None:
    """Check one claim line against the knowledge base, the modifier registry and ICD-10-CM."""
    from cptcli import views

    line = views.claim_line(code, with_, modifier, dx)  # malformed input fails (exit 2) before anything is loaded
    _emit_report(views.check_report(views.Lookups(_paths()), line), json_, "check_report")


@command(epilog="""\b
Examples:
  cptcli audit
  cptcli audit --json | jq -r '.findings[] | select(.severity == "error") | .subject'
  cptcli --data mine.json audit
\b
Checks every row of the loaded knowledge base: modifiers against the
registry (unknown, or described as something else), ICD-10-CM codes against
the official release (unknown, header, different description), provider
taxonomy codes against the verified NUCC list; and lists the conflicts and
truncations the curators recorded. The first run builds the ICD-10-CM cache
(a few seconds).
\b
Exit status:
  0  no error findings (warnings may be printed)
  1  at least one error finding
  3  knowledge base or ICD-10-CM code set missing or invalid""")
def audit(json_: bool = typer.Option(False, "--json", help="Print a JSON object.")) -> None:
    """List every finding about the knowledge base itself, checked against official code sets."""
    from cptcli import checks
    from cptcli.codesets import icd10

    _emit_report(checks.audit(_kb(), icd10.codeset), json_, "audit_report")


def _emit_report(report, json_: bool, table_view: str) -> None:
    """check and audit: the report as JSON or a table; exit 1 when it holds an error."""
    from cptcli import views

    emit(views.report_text(report, json_, table_view))
    if report.errors:
        raise typer.Exit(ExitStatus.NOT_FOUND)


@command(epilog="""\b
Examples:
  cptcli icd M54.16
  cptcli icd m545
  cptcli icd M54.5 --json | jq -r '.billable_children[].code'
\b
The first run builds a cache of the ICD-10-CM release (a few seconds);
later runs answer from it in milliseconds.
""" + EXIT_CODES_HELP)
def icd(
    code: str = typer.Argument(..., metavar="CODE", help="An ICD-10-CM code, with or without the dot: M54.16, m5416."),
    json_: bool = typer.Option(False, "--json", help="Print a JSON object."),
) -> None:
    """Official description and billability of an ICD-10-CM code, and the CPT codes that list it."""
    from cptcli import codes, views

    codes.parse_icd10(code)  # malformed input fails (exit 2) before anything is loaded
    emit(views.icd_text(views.Lookups(_paths()), code, json_))


@command(epilog="""\b
Examples:
  cptcli modifier 59
  cptcli modifier AS
  cptcli modifier lt --json | jq '.registry.conflicts_with'
  cptcli modifier -- -59
\b
A modifier that a document lists but the registry does not know (such as
11) is printed with a warning and exit status 1.
""" + EXIT_CODES_HELP)
def modifier(
    mod: str = typer.Argument(..., metavar="MODIFIER", help="A two-character modifier: 59, -59, LT, 'modifier 59'."),
    json_: bool = typer.Option(False, "--json", help="Print a JSON object."),
) -> None:
    """A modifier's registry entry and the codes whose modifier tables list it."""
    from cptcli import checks, codes, views

    wanted = codes.parse_modifier(mod)
    result = checks.modifier_lookup(views.Lookups(_paths()), wanted)
    if json_:
        from cptcli.render import json as render_json

        emit(render_json.dumps(result))
    else:
        from cptcli.render import table

        emit(table.render(table.modifier_result(result)))
    if result.entry is None:
        warn(f"warning: {wanted} is not in cptcli's modifier registry; the rows above are unverified "
             f"(see their data notes)")
        raise typer.Exit(ExitStatus.NOT_FOUND)


@command(epilog="""\b
Examples:
  cptcli validate my-codes.json
  cptcli --no-bundled validate my-codes.json
  cptcli schema > cptcli-schema.json
""" + EXIT_CODES_HELP)
def validate(path: Path = typer.Argument(..., metavar="PATH", help="A knowledge-base JSON file to check.")) -> None:
    """Check a user knowledge-base file: the JSON Schema (see 'cptcli schema'),
    then its references, layered over the bundled data and any --data files so
    it may name bundled codes and sources, then the errors 'cptcli audit' finds
    in its rows. One finding a line on stdout, each naming file, record and
    field; exit 1 if there are any."""
    from cptcli import knowledge

    def audit(kb):
        from cptcli import checks
        from cptcli.codesets import icd10

        return checks.audit(kb, icd10.codeset).findings

    base = knowledge.data_paths([str(p) for p in State.data], bundled=not State.no_bundled)
    findings = knowledge.check_file(path, base, audit=audit)
    if findings:
        emit("".join(f"{f}\n" for f in findings))
        warn(f"{len(findings)} finding{'s' if len(findings) != 1 else ''} in {path}")
        raise typer.Exit(ExitStatus.NOT_FOUND)
    emit(f"{path}: valid\n")


@command(epilog="""\b
Examples:
  cptcli schema > cptcli-schema.json
  cptcli schema | jq -r '.properties | keys[]'
""" + EXIT_CODES_HELP)
def schema() -> None:
    """Print the JSON Schema of the knowledge-base format (for --data files and 'cptcli validate')."""
    from cptcli.knowledge import SCHEMA_PATH

    with open(SCHEMA_PATH, encoding="utf-8") as f:
        emit(f.read().rstrip("\n") + "\n")


def run(argv: Optional[List[str]] = None) -> int:
    """Run the CLI and return its exit status, turning every error into one stderr line."""
    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="cptcli", standalone_mode=False)
        return int(result) if isinstance(result, int) else ExitStatus.OK
    except CptcliError as exc:
        warn(f"error: {exc.message}")
        return exc.status
    except typer.Abort:
        warn("interrupted")
        return 130
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
        # The reader (head, a closed jq) went away: stop quietly. Point stdout at
        # /dev/null so the interpreter's final flush does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return ExitStatus.OK
    except KeyboardInterrupt:
        warn("interrupted")
        return 130


def main() -> None:
    status = run()
    # Leave without freeing every object one by one: after loading 100,000
    # records that teardown alone took ~4 s; the OS reclaims the memory at once.
    # Nothing of ours runs at exit, so only the streams need flushing.
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        pass  # a reader that went away is not an error (see run)
    os._exit(int(status))
