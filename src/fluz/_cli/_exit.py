"""Exit codes: one per kind of failure an operator or a script reacts to differently."""

from __future__ import annotations

import enum

from .._errors import (
    AuthenticationError,
    ConfigurationError,
    FluzError,
    FluzTimeoutError,
    PermissionDeniedError,
    RevealTimeoutError,
    TransportError,
    ValidationError,
)


class ExitCode(enum.IntEnum):
    OK = 0
    API_ERROR = 1  # Fluz answered with an error
    USAGE = 2  # bad arguments or configuration (argparse's own code)
    AUTH = 3  # credentials refused or a scope missing
    TIMEOUT = 4  # an HTTP timeout, or a reveal past its deadline
    UNREACHABLE = 5  # the connection failed
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT, as shells report it)


EXIT_CODES_HELP = """\
exit codes:
  0    success
  1    Fluz reported an error (invalid input, not found, conflict, server error ...)
  2    usage or configuration error (bad arguments, FLUZ_API_KEY missing ...)
  3    authentication failed or permission denied (wrong API key, missing scope)
  4    timed out (an HTTP timeout, or a reveal that passed its --timeout)
  5    could not reach Fluz (connection refused or dropped)
  130  interrupted"""


def exit_code_for(error: FluzError) -> ExitCode:
    """The exit code describing *error*."""
    if isinstance(error, ConfigurationError):
        return ExitCode.USAGE
    # Refused by the client before sending (e.g. a page size out of range): the
    # arguments were wrong, not the server's answer.
    if isinstance(error, ValidationError) and error.code == "CLIENT_VALIDATION":
        return ExitCode.USAGE
    if isinstance(error, AuthenticationError | PermissionDeniedError):
        return ExitCode.AUTH
    if isinstance(error, FluzTimeoutError | RevealTimeoutError):
        return ExitCode.TIMEOUT
    if isinstance(error, TransportError):
        return ExitCode.UNREACHABLE
    return ExitCode.API_ERROR
