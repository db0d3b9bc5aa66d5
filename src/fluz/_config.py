"""Resolving the client's configuration from arguments and ``FLUZ_*`` environment variables."""

from __future__ import annotations

import ipaddress
import os
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from . import _constants as C
from ._errors import ConfigurationError

Environment = Literal["production", "staging"]


@dataclass(frozen=True, slots=True)
class Identity:
    """Whose user token a request carries: the token cache is keyed by this.

    The same scopes in another order are the same identity (one token, not two).
    """

    user_id: str
    account_id: str
    seat_id: str | None
    scopes: tuple[str, ...] = field(compare=False)
    scope_set: frozenset[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "scope_set", frozenset(self.scopes))


class ClientConfig:
    """A client's resolved settings. (A plain class: a frozen dataclass costs `import fluz`
    about 1 ms to create.)"""

    __slots__ = ("api_key", "environment", "identity", "url")

    def __init__(
        self,
        url: str,
        environment: str | None,  # None when a url was given
        api_key: str,
        identity: Identity | None,  # None: app-level (Basic) operations only
    ) -> None:
        self.url = url
        self.environment = environment
        self.api_key = api_key
        self.identity = identity

    def __repr__(self) -> str:  # never the API key
        return f"ClientConfig(url={self.url!r}, identity={self.identity!r})"


def resolve_config(
    *,
    api_key: str | None,
    user_id: str | uuid.UUID | None,
    account_id: str | uuid.UUID | None,
    seat_id: str | uuid.UUID | None,
    scopes: Iterable[str] | None,
    environment: str | None,
    url: str | None,
    env: Mapping[str, str] | None = None,
    require_api_key: bool = True,
) -> ClientConfig:
    """Arguments win over environment variables; ``url`` wins over ``environment``.
    Without *require_api_key* (a client acting with OAuth tokens) a missing API key is
    ``""``, and app-level operations are refused when called.

    Raises:
        ConfigurationError: naming every missing or invalid setting at once (also in its
            ``problems``), so one run shows everything to fix.
    """
    env = os.environ if env is None else env
    problems: list[str] = []

    def pick(value: str | uuid.UUID | None, var: str) -> str | None:
        if value is not None:
            return str(value)
        return env.get(var) or None

    api_key = pick(api_key, C.ENV_API_KEY)
    if not api_key and require_api_key:
        problems.append(f"missing API key: pass api_key=... or set {C.ENV_API_KEY}")
    elif api_key and not (api_key.isascii() and _is_printable_word(api_key)):  # from a file?
        problems.append("the API key contains whitespace, control or non-ASCII characters")
    api_key = api_key or ""
    resolved_url, resolved_env = "", None
    try:
        resolved_url, resolved_env = _resolve_url(url, environment, env)
    except ConfigurationError as exc:
        problems.extend(exc.problems)

    ids = {
        "user_id": pick(user_id, C.ENV_USER_ID),
        "account_id": pick(account_id, C.ENV_ACCOUNT_ID),
        "seat_id": pick(seat_id, C.ENV_SEAT_ID),
    }
    identity = None
    if ids["user_id"] or ids["account_id"]:
        try:
            identity = make_identity(
                ids["user_id"], ids["account_id"], ids["seat_id"], scopes, env=env
            )
        except ConfigurationError as exc:
            problems.extend(exc.problems)
    elif ids["seat_id"]:
        problems.append(
            f"seat_id given without user_id and account_id "
            f"(set {C.ENV_USER_ID} and {C.ENV_ACCOUNT_ID})"
        )
    if problems:
        raise ConfigurationError.of(problems)
    assert api_key is not None
    return ClientConfig(
        url=resolved_url, environment=resolved_env, api_key=api_key, identity=identity
    )


def make_identity(
    user_id: str | uuid.UUID | None,
    account_id: str | uuid.UUID | None,
    seat_id: str | uuid.UUID | None,
    scopes: Iterable[str] | None,
    *,
    env: Mapping[str, str] | None = None,
) -> Identity:
    """Validate one user identity (user and account required, seat optional).

    Raises:
        ConfigurationError: naming every problem (missing or non-UUID ids, no scopes).
    """
    from fluz_graphql.enums import ScopeType  # 31 enums: not at `import fluz`

    env = os.environ if env is None else env
    problems = [
        f"missing configuration for user operations: {name} (or {var})"
        for name, var, value in (
            ("user_id", C.ENV_USER_ID, user_id),
            ("account_id", C.ENV_ACCOUNT_ID, account_id),
        )
        if not value
    ]
    for name, value in (("user_id", user_id), ("account_id", account_id), ("seat_id", seat_id)):
        if value and not _is_uuid(value):
            problems.append(f"{name} is not a UUID")
    if scopes is None:
        raw = env.get(C.ENV_SCOPES)
        scopes = re.split(r"[\s,]+", raw.strip()) if raw else C.DEFAULT_SCOPES
    scope_tuple = tuple(dict.fromkeys(str(getattr(s, "value", s)) for s in scopes if s))
    if not scope_tuple:
        problems.append("scopes must not be empty")
    unknown = [scope for scope in scope_tuple if scope not in ScopeType.__members__]
    if unknown:
        problems.append(f"unknown scope(s): {', '.join(unknown)}")
    if problems:
        raise ConfigurationError.of(problems)
    return Identity(
        user_id=str(user_id),
        account_id=str(account_id),
        seat_id=str(seat_id) if seat_id else None,
        scopes=scope_tuple,
    )


def _resolve_url(
    url: str | None, environment: str | None, env: Mapping[str, str]
) -> tuple[str, str | None]:
    if url is not None and environment is not None:
        raise ConfigurationError("pass either url or environment, not both", code="CONFIG")
    if url is None and environment is None:
        url = env.get(C.ENV_URL) or None
        if url is None:
            environment = env.get(C.ENV_ENVIRONMENT) or C.DEFAULT_ENVIRONMENT
    if url is None:
        assert environment is not None
        if environment not in C.ENVIRONMENT_URLS:
            raise ConfigurationError(
                f"unknown environment {environment!r}: use one of "
                + ", ".join(sorted(C.ENVIRONMENT_URLS))
                + " or pass url=",
                code="CONFIG",
            )
        return C.ENVIRONMENT_URLS[environment], environment
    check_url(url)
    return url, None


def check_url(url: str) -> None:
    """Refuse anything but https://, except http:// to a loopback host (the sandbox)."""
    if not _is_printable_word(url):
        raise ConfigurationError("url contains whitespace or control characters", code="CONFIG")
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:  # e.g. an unclosed IPv6 bracket
        raise ConfigurationError("url is not a valid URL", code="CONFIG") from None
    if parts.scheme == "https" and host:
        return
    if parts.scheme == "http" and (host in C.LOOPBACK_HOSTS or _is_loopback_address(host)):
        return
    raise ConfigurationError(
        "url must use https:// (plain http:// is allowed only to a loopback host)",
        code="CONFIG",
    )


def _is_loopback_address(host: str) -> bool:
    # An address, not a name: "127.0.0.1.example.com" starts like one but is remote.
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_printable_word(text: str) -> bool:
    return text.isprintable() and not any(c.isspace() for c in text)


def _is_uuid(value: str | uuid.UUID) -> bool:
    if isinstance(value, uuid.UUID):
        return True
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
