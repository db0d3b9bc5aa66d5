"""Errors of the OAuth flow, all under :class:`fluz.FluzError`.

Fluz documents no error responses for its token endpoints. Their success body is the token
model of the Node ``oauth2-server`` library, so failures are read the way that library (and
RFC 6749 §5.2) writes them - ``{"error": "invalid_grant", "error_description": "..."}`` with
HTTP 400/401 - and a GraphQL-style ``{"errors": [{"message", "extensions": {"code"}}]}`` body
is understood too. Messages never contain the app secret, a code or a token.
"""

from __future__ import annotations

from .._errors import AuthenticationError, FluzError, PermissionDeniedError

__all__ = [
    "AuthorizationDeniedError",
    "InvalidAuthorizationCodeError",
    "InvalidClientError",
    "OAuthError",
    "OAuthStateMismatchError",
    "RedirectURIMismatchError",
    "RefreshTokenExpiredError",
]


class OAuthError(FluzError):
    """An OAuth endpoint (or the authorization callback) reported a failure. ``code`` is
    the OAuth error code (``invalid_grant``, ``invalid_client`` ...) when one was sent."""


class InvalidAuthorizationCodeError(OAuthError):
    """The authorization code is unknown, expired or was already exchanged (codes are
    single-use and short-lived): send the user through the authorization URL again."""


class RedirectURIMismatchError(OAuthError):
    """``redirect_uri`` is not registered for the app, or the exchange did not send exactly
    the one the authorization URL carried."""


class RefreshTokenExpiredError(OAuthError, AuthenticationError):
    """The refresh token expired or was revoked (or replaced by a newer one): the user must
    authorize the app again."""


class InvalidClientError(OAuthError, AuthenticationError):
    """The client id / app secret pair was refused."""


class AuthorizationDeniedError(OAuthError, PermissionDeniedError):
    """The callback reports that the user (or Fluz) refused the authorization
    (``error=access_denied`` and the like)."""


class OAuthStateMismatchError(OAuthError):
    """The callback's ``state`` is missing or is not the one this flow generated: the
    callback may be forged (CSRF); do not exchange its code."""
