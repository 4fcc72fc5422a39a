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
    if len(argv) >= 3 and argv[0] == "show" and argv[-1] == "--json":
        return _show_json(argv[1:-1])
    if len(argv) >= 2 and argv[0] == "show":
        return _show_tables(argv[1:])
    return None


def _show_tables(args):
    """Tables need the model and Rich anyway; this path saves only Typer (~40 ms)."""
    if any(a.startswith("-") for a in args):
        return None
    from cptcli import knowledge
    from cptcli.codes import parse_cpt
    from cptcli.errors import CptcliError
    from cptcli.render.sections import render_tables

    try:
        wanted = [parse_cpt(a).code for a in args]
        kb = knowledge.load()
        results = [kb.show(code) for code in wanted]
    except CptcliError:
        return None
    return _write(render_tables(results, kb.sources))


def _show_json(args):
    if any(a.startswith("-") for a in args):  # options, batch '-': the full CLI's job
        return None
    if (sys.stdout.encoding or "").lower() not in ("utf-8", "utf8"):
        return None
    from cptcli import index
    from cptcli.codes import parse_cpt
    from cptcli.errors import CptcliError

    try:
        wanted = [parse_cpt(a).code for a in args]
        key = index.key_for(index.data_files())
    except (CptcliError, OSError):
        return None
    con = index.open_index(key)
    if con is None:
        return None
    try:
        texts = [index.show_json(con, code) for code in wanted]
    finally:
        con.close()
    if None in texts:
        return None
    if len(texts) == 1:
        return _write(texts[0])
    import json

    return _write(json.dumps([json.loads(t) for t in texts], ensure_ascii=False, indent=2) + "\n")


def _write(text: str) -> int:
    from cptcli.output import emit

    try:
        emit(text)
    except BrokenPipeError:
        # Same as the full CLI: a reader that went away is not an error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
