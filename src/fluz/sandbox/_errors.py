"""Error codes the sandbox answers with, and the exception resolvers raise to produce them.

Documented Fluz codes are used where the docs name one; the few the docs leave open are
sandbox choices in the same ``AREA-NNNN`` style (marked "sandbox" below).
"""

from __future__ import annotations

from typing import Any

INVALID_CREDENTIALS = "AUTH-0002"  # HTTP 401: missing/wrong credentials or wrong auth mode
INVALID_USER_ACCESS = "AUTH-0008"  # bad/expired user token, missing scope, bad refresh token
PHONE_IN_USE = "AUTH-0026"  # registerUser
INVALID_INPUT = "AR-0001"  # any input rule, unknown id, pagination, malformed request
RECIPIENT_NOT_FOUND = "RC-0001"
RECIPIENT_AMBIGUOUS = "RC-0002"
ADDRESS_PENDING_APPROVAL = "VC-0020"  # extensions.addressId says which address
SERVER_ERROR = "GE-9999"  # unexpected failure, and the injected HTTP 503
IDEMPOTENCY_CONFLICT = "IDEM-0001"  # sandbox: key reused with a different request
INSUFFICIENT_FUNDS = "BAL-0001"  # sandbox: a balance cannot cover the debit
RATE_LIMITED = "RL-0001"  # sandbox: the injected HTTP 429
PARSE_FAILED = "GRAPHQL_PARSE_FAILED"  # HTTP 400, syntax error
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"  # HTTP 400, schema/limits/operation name


class SandboxError(Exception):
    """A failure reported to the caller as a GraphQL error with ``extensions.code``.

    Payload-style operations (``{success: false, error {code message}}``) catch it and put
    ``code``/``message`` in their payload instead.
    """

    def __init__(self, code: str, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extensions = extensions


def invalid(message: str, **extensions: Any) -> SandboxError:
    """AR-0001: the documented code for invalid or missing input."""
    return SandboxError(INVALID_INPUT, message, **extensions)


def not_found(what: str, ident: object) -> SandboxError:
    return invalid(f"{what} {ident} was not found")
