"""Exit statuses and the one error family the CLI turns into a stderr line."""

from enum import IntEnum


class ExitStatus(IntEnum):
    OK = 0
    NOT_FOUND = 1  # unknown code, no search result, or findings (check fails, audit, validate)
    USAGE = 2  # malformed input or bad options
    DATA = 3  # knowledge base or code set missing, unreadable or invalid
    UNVERIFIED = 4  # check: no error, but nothing could verify part of the claim line
    OUTPUT = 5  # the output could not be written (disk full, a closed or broken stream)
    INTERNAL = 70  # a bug in cptcli (sysexits' EX_SOFTWARE): reported in one line
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as shells report it


class CptcliError(Exception):
    status = ExitStatus.USAGE

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class UsageError(CptcliError):
    status = ExitStatus.USAGE


class NotFoundError(CptcliError):
    status = ExitStatus.NOT_FOUND


class DataError(CptcliError):
    status = ExitStatus.DATA
    # True when the files' content is at fault (schema, references), not the reading of them (size
    # limit, permissions): only such a verdict holds while the files are unchanged.
    of_content = False


class OutputError(CptcliError):
    status = ExitStatus.OUTPUT
