"""The console entry point: answers the plainest, most frequent calls without
importing Typer, and hands everything else to the Typer app (cptcli.cli).

A lookup tool runs inside shell loops, so `cptcli show 20700 --json` should cost
little more than starting Python. Typer alone costs ~40 ms to import, more than
twice the interpreter's start-up. The fast path recognises only plain argument
lists, and only serves answers the index already holds, rendered by the same
JSON renderer when the index was built. Anything else falls through, every
error included: a malformed or unknown code, a missing or changed data file, a
stdout that is not UTF-8, options it does not know. A test proves both paths
print the same bytes and exit the same way over a corpus of argument lists.
"""
import os
import sys


def main() -> None:
    status = fast(sys.argv[1:])
    if status is None:
        from cptcli.cli import main as full

        full()
    sys.exit(status)


def fast(argv):
    """The exit status if this call was answered here, else None."""
    if argv in (["--version"], ["-V"]):
        from cptcli import __version__

        return _write(f"cptcli {__version__}\n")
    extra, bundled, argv = _options(argv)
    if argv is None:
        return None
    if len(argv) >= 3 and argv[0] == "show" and argv[-1] == "--json":
        return _show_json(argv[1:-1], extra, bundled)
    if len(argv) >= 2 and argv[0] == "show":
        return _show_tables(argv[1:], extra, bundled)
    if len(argv) == 3 and argv[0] == "search" and argv[2] == "--json" and not argv[1].startswith("-"):
        return _search_json(argv[1], extra, bundled)
    if 2 <= len(argv) <= 3 and argv[0] == "icd" and not argv[1].startswith("-") and argv[2:] in ([], ["--json"]):
        return _answer(extra, bundled, lambda kb, views: (views.icd_text(kb, argv[1], argv[2:] == ["--json"]), 0))
    if len(argv) >= 2 and argv[0] == "check":
        return _check(argv[1:], extra, bundled)
    return None


def _answer(extra, bundled, body):
    """Run a shared command body (cptcli.views) on the knowledge base's
    look-ups (views.Lookups: from the index, when usable); `body` gives (text,
    exit status). Any error falls through to the full CLI, which words it."""
    from cptcli import datafiles, views
    from cptcli.errors import CptcliError

    paths = datafiles.data_files(extra, bundled)
    if not paths:
        return None
    try:
        text, status = body(views.Lookups(paths), views)
    except CptcliError:
        return None
    return _write(text, status)


_CLAIM_OPTIONS = {"--with": 0, "-w": 0, "--modifier": 1, "-m": 1, "--dx": 2, "-d": 2}


def _check(args, extra, bundled):
    """`check CODE` with --with/-w, --modifier/-m, --dx/-d (each followed by its
    value) and --json: the plain forms. Other spellings ('--dx=M54.5', options
    before CODE, a value starting with '-') are the full CLI's to parse."""
    if args[0].startswith("-"):
        return None
    lists, as_json, i = ([], [], []), False, 1
    while i < len(args):
        if args[i] == "--json" and not as_json:
            as_json, i = True, i + 1
        elif args[i] in _CLAIM_OPTIONS and i + 1 < len(args) and not args[i + 1].startswith("-"):
            lists[_CLAIM_OPTIONS[args[i]]].append(args[i + 1])
            i += 2
        else:
            return None
    from cptcli import views
    from cptcli.errors import CptcliError, ExitStatus

    try:
        line = views.claim_line(args[0], *lists)  # malformed: the full CLI words it, before loading
    except CptcliError:
        return None

    def body(kb, views):
        report = views.check_report(kb, line)
        return views.report_text(report, as_json, "check_report"), ExitStatus.NOT_FOUND if report.errors else 0

    return _answer(extra, bundled, body)


def _search_json(query, extra, bundled):
    """Through the index, without loading the knowledge base or the model. The
    defaults (10 results, score 40) are the CLI's; the parity test fails if they drift."""
    from cptcli import datafiles, views
    from cptcli.errors import CptcliError

    paths = datafiles.data_files(extra, bundled)
    if not paths:
        return None
    try:
        hits = views.search_hits(paths, query, 10, 40.0)
    except CptcliError:
        return None
    if not hits:
        return None  # "no code matches" is the full CLI's to word
    from cptcli.render import json as render_json

    return _write(render_json.dumps(hits))


def _options(argv):
    """Leading `--data PATH` and `--no-bundled`: (extra files, bundled?, the
    rest), or the rest None when the full CLI should parse them. A PATH is
    taken only when already in the form the CLI names files in (str(Path(PATH)),
    pathlib costing ~8 ms to import): no '.' or empty parts, no trailing '/'."""
    extra, bundled, i = [], True, 0
    while i < len(argv) and argv[i] in ("--data", "--no-bundled"):
        if argv[i] == "--no-bundled":
            bundled, i = False, i + 1
            continue
        if i + 1 == len(argv):
            return extra, bundled, None
        path = argv[i + 1]
        parts = path.split("/")
        if not path or path.startswith("-") or "." in parts or "" in parts[1:]:
            return extra, bundled, None
        extra.append(path)
        i += 2
    return extra, bundled, argv[i:]


def _show_tables(args, extra=(), bundled=True):
    """Tables need the model and Rich anyway; this path saves Typer (~40 ms)
    and, when the index exists, loading the knowledge base: the records asked
    for are rebuilt from the index alone, so a 100,000-code base answers as
    fast as the bundled one. One code drawn before at this width and colour
    is printed from its page (cptcli.pages), importing neither."""
    from cptcli import pages

    call = _call(args, extra, bundled)
    if call is None:
        return None
    wanted, paths, key = call
    variant = pages.table_variant() if len(wanted) == 1 else None
    page = pages.read(paths, wanted[0], variant) if variant else None
    if page is not None:
        return _write(page)
    from cptcli import index

    con = index.open_named(paths, key)  # output names files as this caller does
    if con is None:
        return _show_tables_loaded(wanted, paths)

    try:
        results = [index.show_result(con, code) for code in wanted]
        sources = index.sources(con) if None not in results else None
    except index.sqlite3.Error:
        return None  # damaged past its key check: the full CLI reads the files themselves
    finally:
        con.close()
    if sources is None:
        return None  # an unknown code: the full CLI words the error and the nearest codes
    from cptcli.render.sections import render_tables

    text = render_tables(results, sources)
    if variant:
        pages.write(key, paths, wanted[0], variant, text, packages=("cptcli", "rich"))
    return _write(text)


def _show_tables_loaded(wanted, paths):
    """No index yet: load (and so index) the knowledge base."""
    from cptcli import knowledge
    from cptcli.errors import CptcliError
    from cptcli.render.sections import render_tables

    try:
        kb = knowledge.load(paths)
        results = [kb.show(code) for code in wanted]
    except CptcliError:
        return None
    return _write(render_tables(results, kb.sources))


def _call(args, extra, bundled):
    """For a plain `show CODE...`: (codes, files, their key), or None to fall
    through: options, batch '-', a malformed code, a file missing."""
    if any(a.startswith("-") for a in args):
        return None
    from cptcli import datafiles
    from cptcli.codes import parse_cpt
    from cptcli.errors import CptcliError

    try:
        wanted = [parse_cpt(a).code for a in args]
        paths = datafiles.data_files(extra, bundled)
        key = datafiles.key_for(paths)
    except (CptcliError, OSError):
        return None
    return (wanted, paths, key) if paths else None


def _show_json(args, extra=(), bundled=True):
    if (sys.stdout.encoding or "").lower() not in ("utf-8", "utf8"):
        return None
    from cptcli import pages

    call = _call(args, extra, bundled)
    if call is None:
        return None
    wanted, paths, key = call
    page = pages.read(paths, wanted[0], "json") if len(wanted) == 1 else None
    if page is not None:
        return _write(page)
    from cptcli import index

    con = index.open_named(paths, key)  # output names files as this caller does
    if con is None:
        return None

    try:
        docs = [index.show_doc(con, code) for code in wanted]
    except index.sqlite3.Error:
        return None  # damaged past its key check: the full CLI reads the files themselves
    finally:
        con.close()
    if None in docs:
        return None
    text = index.show_text(docs)
    if len(wanted) == 1:
        pages.write(key, paths, wanted[0], "json", text)
    return _write(text)


def _write(text: str, status: int = 0) -> int:
    from cptcli.output import emit

    try:
        emit(text)
    except BrokenPipeError:
        # Same as the full CLI: a reader that went away is not an error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return status
