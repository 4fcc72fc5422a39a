"""The console entry point. The plainest, most frequent calls, `--version`,
`[--data PATH]... show CODE... [--json]` and `icd search QUERY [--json]` with no
other option, are answered here before Typer is imported (it costs more to
import than such a call spends in all), through the same service, renderer and
writer as the CLI. Anything else, every error included, goes to the Typer app
(cptcli.cli), the one grammar of options; a test compares both over a corpus of
argument lists.
"""

import sys


def main() -> None:
    if sys.version_info < (3, 10):  # noqa: UP036  (pip refuses to install there; a copied tree says why)
        sys.stderr.write(f"cptcli: error: needs Python 3.10 or newer, not {sys.version.split()[0]}\n")
        sys.exit(2)
    from cptcli.output import closed_streams

    status = closed_streams()
    if status is not None:
        sys.exit(status)
    try:
        status = fast(sys.argv[1:])
    except KeyboardInterrupt:
        sys.stderr.write("cptcli: interrupted\n")
        status = 130
    if status is None:
        from cptcli.cli import main as full

        full()
    from cptcli.output import finish

    finish(status)


def fast(argv):
    """The exit status if this call was answered here, else None."""
    if argv in (["--version"], ["-V"]):
        from cptcli import __version__
        from cptcli.output import Env

        return _write(Env(), f"cptcli {__version__}\n")
    extra = []
    while argv[:1] == ["--data"] and len(argv) > 1 and not argv[1].startswith("-"):
        extra.append(argv[1])
        argv = argv[2:]
    json_ = argv[-1:] == ["--json"]
    codes = argv[1:-1] if json_ else argv[1:]
    if argv[:2] == ["icd", "search"] and not extra:
        return _icd_search(codes[1:], json_)
    if argv[:1] != ["show"] or not codes or any(c.startswith("-") for c in codes):
        return None
    from cptcli import service
    from cptcli.codes import parse_codes
    from cptcli.errors import CptcliError
    from cptcli.output import Env
    from cptcli.render import Options, render

    env = Env()
    if env.is_tty and not json_:
        return None  # a terminal gets the brief view and the pager (cptcli.cli): a person does not time Typer
    try:
        typed = [one for c in codes for one in parse_codes(c)]
        if any(one.modifiers for one in typed):
            return None  # the CLI names the modifiers show does not apply
        wanted = [one.code for one in typed]
        results, missing = service.show(service.open_engine(service.data_files(extra)), wanted)
        if missing:
            return None  # the CLI words each unknown code
        text = render(results, Options("json" if json_ else "table"), env)
    except CptcliError:
        return None  # the CLI words it
    except Exception:  # an OSError (a name too long), or a bug: the CLI words it in one line, never a traceback
        return None
    return _write(env, text)


def _icd_search(words: list[str], json_: bool):
    """`icd search QUERY [--json]` with the default limit and lowest score, answered as fast() answers show."""
    if len(words) != 1 or words[0].startswith("-"):
        return None
    from cptcli import service
    from cptcli.codesets.icd_search import DEFAULT_LIMIT, DEFAULT_MIN_SCORE
    from cptcli.output import Env
    from cptcli.render import Options, render

    env = Env()
    if env.is_tty and not json_:
        return None
    try:
        text = render(
            service.icd_search(words[0], DEFAULT_LIMIT, DEFAULT_MIN_SCORE), Options("json" if json_ else "table"), env
        )
    except Exception:  # a usage error, nothing found, a bug: the CLI words each in one line
        return None
    return _write(env, text)


def _write(env, text: str) -> int:
    from cptcli.errors import OutputError

    try:
        env.write(text)
    except BrokenPipeError:
        from cptcli.output import closed_stdout

        return closed_stdout()
    except OutputError as exc:
        env.warn(f"error: {exc.message}")
        from cptcli.output import closed_stdout

        closed_stdout()
        return exc.status
    return 0
