"""CSV for spreadsheets and scripts: one table an output, so that a file opens
cleanly; the main table unless --section names another (the CLI says on
stderr which others there are). Cells are neutralised as OWASP advises
(cptcli.textsafe): a spreadsheet never runs one as a formula. A stream
(`show -`) is still one table: the header once, then each answer's rows."""

from __future__ import annotations

import io

from cptcli.textsafe import csv_writer

DELIMITER = ","


def cell(value) -> str:
    # Scripts compare against literals: booleans as true/false, "not stated" as empty.
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def write_table(table, delimiter: str, terminal: bool = False) -> str:
    buffer = io.StringIO()
    writer = csv_writer(buffer, delimiter, terminal)
    writer.writerow(table.columns)
    writer.writerows([cell(v) for v in row] for row in table.rows)
    return buffer.getvalue()


def frame(answers):
    """The first answer whole, then every later answer's rows without its header line."""
    first = True
    for _, text in answers:
        yield text if first else text.partition("\n")[2]
        first = False


def one_table(result, options):
    """The one table a CSV or TSV output holds."""
    from cptcli.errors import UsageError
    from cptcli.render.flat import select, tables

    if options.wide:
        from cptcli.render.flat import wide

        return wide(result)
    found = select(tables(result), options.sections)
    if len(found) > 1 and options.sections:
        raise UsageError(f"{options.format} holds one table: give one --section ({', '.join(t.name for t in found)})")
    return found[0]


def render(result, options, env, delimiter: str = DELIMITER) -> str:
    # On a terminal a carriage return inside a quoted cell still sends the cursor back over the line: shown as
    # an escape there; a file or a pipe keeps it, quoted, as a spreadsheet reads it.
    return write_table(one_table(result, options), delimiter, env.is_tty)
