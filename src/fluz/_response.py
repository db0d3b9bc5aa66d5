"""Per-call bookkeeping and the response metadata attached to results."""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from operator import attrgetter
from typing import TYPE_CHECKING, Any, TypeGuard, overload

if TYPE_CHECKING:
    from pydantic import BaseModel


def is_model(value: object) -> TypeGuard[BaseModel]:
    """Whether *value* is a pydantic model (every generated model is one), without
    importing ``pydantic.main``: `import fluz` does not need its ~18 ms (issue 11), and
    no model can exist before it is imported, so until then the answer is False."""
    main = sys.modules.get("pydantic.main")
    return main is not None and isinstance(value, main.BaseModel)


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

    __slots__ = (
        "attempts",
        "idempotency_key",
        "is_mutation",
        "operation",
        "payload",
        "request_id",
        "response",
        "result",
        "sent",
    )

    def __init__(self) -> None:
        self.operation = ""
        self.is_mutation = False
        self.request_id: str | None = None
        self.idempotency_key: str | None = None
        self.attempts = 0
        self.sent = False  # an attempt was handed to the transport (it may have arrived)
        self.response: object = None  # the httpx.Response whose decoded body is `payload`
        self.payload: dict[str, Any] | None = None
        # The generated model of `data`, when the response was validated straight from its
        # bytes (fluz._fast_path); `payload` is None then.
        self.result: object = None

    def info(self) -> ResponseInfo:
        return ResponseInfo(self.operation, self.request_id, self.idempotency_key, self.attempts)


current_call: ContextVar[CallRecord | None] = ContextVar("fluz_current_call", default=None)


# Metadata of the results handed out: in the `_fluz_info` slot every generated model has
# (see fluz._codegen.plugin). A slot is free until set: a declared pydantic private
# attribute cost every model instance (nested ones too) an initialisation in Python, and a
# registry by id() a weak reference per item, a sixth of a call on a 20-item page. pydantic
# leaves slots out of ==, model_dump(), copies and pickles.
# Read by name (C, no class needed at import): an unset slot, or a model without one (not
# generated), raises AttributeError.
_get_info: Callable[[Any], Any] = attrgetter("_fluz_info")


def _bind_info_slot(model: Any, info: ResponseInfo) -> None:
    """Set the slot of *model*, a generated model; first call only: it rebinds ``_set_info``
    to the slot's own setter (in C). Not at import: the generated BaseModel is built on first
    use, and a model to set the slot of means it is built. Rebinding is idempotent, so
    threads racing through here are harmless."""
    global _set_info
    from fluz_graphql.base_model import BaseModel as GeneratedModel

    _set_info = GeneratedModel._fluz_info.__set__  # type: ignore[attr-defined]  # the slot
    _set_info(model, info)


_set_info: Callable[[Any, ResponseInfo], None] = _bind_info_slot


def attach_info(result: object, info: ResponseInfo) -> None:
    """Attach *info* to a model result, or to each model of a list result (not to nested
    models)."""
    if isinstance(result, list):
        # A GraphQL list holds one kind of item: models (objects, unions) or scalars. The
        # slot's setter refuses anything but a model (TypeError): then only the models.
        try:
            for item in result:
                if item is not None:
                    _set_info(item, info)
        except TypeError:
            for item in result:
                if is_model(item):
                    _set_info(item, info)
    elif is_model(result):
        _set_info(result, info)


@overload
def response_info(result: BaseModel) -> ResponseInfo: ...
@overload
def response_info(result: object) -> ResponseInfo | None: ...
def response_info(result: object) -> ResponseInfo | None:
    """The :class:`ResponseInfo` of a model returned by a :class:`~fluz.FluzClient` call
    (or of an item of a returned list).

    Typed by what you pass: for a model (every result of the client) it is a
    ``ResponseInfo``, no None check needed; for anything else (a string result, a list,
    None) it is ``ResponseInfo | None`` and None.

    The metadata is not part of the model: ``==``, ``model_dump()`` and pickling ignore it.

    Raises:
        LookupError: *result* is a model that no client call returned: built by hand, or a
            copy (``model_copy()``, ``copy.copy``, unpickled) of a returned one.
    """
    if is_model(result):
        try:
            info: ResponseInfo = _get_info(result)
        except AttributeError:  # never set
            pass
        else:
            return info
        raise LookupError(
            f"no response metadata for this {type(result).__name__}: it was not returned by "
            "a FluzClient call (models built by hand and copies carry none)"
        )
    return None
