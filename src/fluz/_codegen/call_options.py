"""The keyword arguments every generated operation method accepts, copied verbatim into
the generated package (``files_to_include``) so that it needs nothing from ``fluz``.

The methods declare ``**kwargs: Unpack[CallOptionsDict]``, so a type checker refuses a
misspelt per-call option (``get_wallet(timout=1)``) at the call, as the client refuses it
at run time. ``options`` takes any object shaped like ``fluz.CallOptions`` (a Protocol
here: the generated package cannot import ``fluz``).
"""

from collections.abc import Mapping
from typing import Protocol, TypedDict
from uuid import UUID

import httpx


class PerCallOptions(Protocol):
    """What ``fluz.CallOptions`` is: per-call overrides of the client's settings."""

    @property
    def timeout(self) -> float | httpx.Timeout | None: ...
    @property
    def deadline(self) -> float | None: ...
    @property
    def max_retries(self) -> int | None: ...
    @property
    def extra_headers(self) -> Mapping[str, str] | None: ...
    @property
    def idempotency_key(self) -> str | UUID | None: ...


class CallOptionsDict(TypedDict, total=False):
    """Keyword arguments of a generated operation method, besides its variables."""

    options: PerCallOptions
    idempotency_key: str | UUID
