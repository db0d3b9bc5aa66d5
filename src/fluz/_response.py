"""Per-call bookkeeping and the response metadata attached to results."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from fluz_graphql.base_model import BaseModel


@dataclass(frozen=True, slots=True)
class ResponseInfo:
    """Metadata of the response a result came from (see :func:`response_info`).

    Attributes:
        operation: GraphQL operation name, e.g. ``PurchaseGiftCard``.
        request_id: Fluz's ``extensions.requestId`` (quote it to Fluz support).
        idempotency_key: the key sent with the mutation (made by the client if you gave
            none), for reconciliation; None for operations without one.
        attempts: HTTP requests made for the call (1 + retries + token replays).
    """

    operation: str
    request_id: str | None
    idempotency_key: str | None
    attempts: int


class CallRecord:
    """Mutable record of one operation call, shared by the method wrapper, ``execute()``
    and ``get_data()`` through a context variable (they run in the caller's task)."""

    __slots__ = ("attempts", "idempotency_key", "operation", "payload", "request_id", "response")

    def __init__(self) -> None:
        self.operation = ""
        self.request_id: str | None = None
        self.idempotency_key: str | None = None
        self.attempts = 0
        self.response: object = None  # the httpx.Response whose decoded body is `payload`
        self.payload: dict[str, Any] | None = None

    def info(self) -> ResponseInfo:
        return ResponseInfo(self.operation, self.request_id, self.idempotency_key, self.attempts)


current_call: ContextVar[CallRecord | None] = ContextVar("fluz_current_call", default=None)


_META = "_fluz_meta"  # the private attribute fluz_graphql's BaseModel reserves for us


def _set_meta(model: BaseModel, info: ResponseInfo) -> None:
    # Written straight into pydantic's private-attribute store: pydantic's __setattr__
    # costs several times more, and this is done for every item of every page.
    private = model.__pydantic_private__
    if private is None:
        object.__setattr__(model, "__pydantic_private__", {_META: info})
    else:
        private[_META] = info


def attach_info(result: object, info: ResponseInfo) -> None:
    """Attach *info* to a model result, or to each model of a list result."""
    if isinstance(result, BaseModel):
        _set_meta(result, info)
    elif isinstance(result, list):
        for item in result:
            if isinstance(item, BaseModel):
                _set_meta(item, info)


def response_info(result: object) -> ResponseInfo | None:
    """The :class:`ResponseInfo` of a model returned by a :class:`~fluz.FluzClient` call
    (or of an item of a returned list). None for other values (strings, None) and for
    models built by hand."""
    if not isinstance(result, BaseModel) or not result.__pydantic_private__:
        return None
    meta = result.__pydantic_private__.get(_META)
    return meta if isinstance(meta, ResponseInfo) else None
