"""Idempotency keys the client makes: replay only what the client did not see succeed.

A mutation input without a key gets a UUID4 written into it, so the caller holds the
key even after a crash or a cancellation and a naive retry of the same input is safe.
The client remembers the keys it made and what became of them, by key value (so a
``model_copy()`` of an input is recognised too):

* in flight — another call is sending an input holding this key right now. A second
  call with the same input (or a copy) would silently get the first call's purchase, so
  it fails loudly with :class:`~fluz.ValidationError` (rule ``input_in_flight``).
* outcome unknown — the last call with it timed out, lost its connection, got a 5xx or
  was cancelled: the purchase may exist. Sending the input again reuses the key, so Fluz
  replays instead of charging twice.
* settled — the client saw it succeed, or saw Fluz refuse it (nothing was done). The
  input is a template being reused: it gets a fresh key (a new purchase), written into
  it.

Keys the caller set (on the input or with ``idempotency_key=``) are sent as given: the
caller asked for that operation to be processed once.
"""

from __future__ import annotations

import enum
import functools
import uuid
from collections import OrderedDict
from typing import Any

# pydantic's root class: every generated model is one, and fluz_graphql's own BaseModel is
# built on first use, not at `import fluz` (issue 11).
from pydantic import BaseModel

from . import _constants as C
from ._errors import (
    FluzError,
    ResponseDecodeError,
    ServerError,
    TransportError,
    ValidationError,
)


class _State(enum.Enum):
    IN_FLIGHT = "in flight"
    UNKNOWN = "outcome unknown"
    SETTLED = "settled"


class IdempotencyKeys:
    """The keys a client (and its views) made, most recent last, at most *capacity*."""

    def __init__(self, capacity: int = C.IDEMPOTENCY_KEYS_REMEMBERED) -> None:
        self.capacity = capacity
        self._states: OrderedDict[str, _State] = OrderedDict()

    def assign(
        self, operation: str, variables: dict[str, Any], explicit: str | uuid.UUID | None
    ) -> tuple[str | None, list[str]]:
        """Give the keyed inputs of *variables* their key for this call (in place; a
        per-call *explicit* key goes on a copy of the input, the caller's is untouched).

        Returns the operation's key (None when it has no keyed input) and the keys made
        by the client that this call now holds (to :meth:`settle` when it ends).

        Raises:
            ValidationError: an input holding a key another call is sending right now.
        """
        keyed = [
            (name, value)
            for name, value in variables.items()
            if isinstance(value, BaseModel) and "idempotency_key" in type(value).model_fields
        ]
        if explicit is not None:
            return self._assign_explicit(operation, variables, keyed, explicit), []
        # Check every input before claiming any, so that a refusal leaves nothing claimed.
        for name, value in keyed:
            current = getattr(value, "idempotency_key", None)
            if current is not None and self._states.get(str(current)) is _State.IN_FLIGHT:
                raise ValidationError(
                    f"this {type(value).__name__} is being sent by another call right now "
                    f"(idempotency key {current}): sending it again would return that "
                    "call's result, not a second one. Build one input per operation, or "
                    "pass idempotency_key= per call.",
                    field=f"{name}.idempotencyKey",
                    rule="input_in_flight",
                    code="CLIENT_VALIDATION",
                    operation=operation,
                    idempotency_key=str(current),
                )
        key: str | None = None
        claimed: list[str] = []
        for _, value in keyed:
            current = getattr(value, "idempotency_key", None)
            state = None if current is None else self._states.get(str(current))
            if current is not None and state is None:
                key = str(current)  # the caller's own key
                continue
            if state is not _State.UNKNOWN:  # none yet, or a settled one: a new operation
                current = _typed_key(type(value), uuid.uuid4())
                setattr(value, "idempotency_key", current)  # noqa: B010 (typed per model)
            text = str(current)
            self._states[text] = _State.IN_FLIGHT
            self._states.move_to_end(text)
            claimed.append(text)
            key = text
        while len(self._states) > self.capacity:
            self._states.popitem(last=False)
        return key, claimed

    @staticmethod
    def _assign_explicit(
        operation: str,
        variables: dict[str, Any],
        keyed: list[tuple[str, BaseModel]],
        explicit: str | uuid.UUID,
    ) -> str | None:
        for name, value in keyed:
            try:
                fixed = _typed_key(type(value), explicit)
            except ValueError:
                raise ValidationError(
                    "idempotency_key is not a UUID",
                    field="idempotency_key",
                    rule="uuid",
                    code="CLIENT_VALIDATION",
                    operation=operation,
                ) from None
            variables[name] = value.model_copy(update={"idempotency_key": fixed})
        return str(explicit) if keyed else None

    def settle(self, claimed: list[str], error: BaseException | None) -> None:
        """The call holding *claimed* ended: with *error* (None: success)."""
        state = _State.UNKNOWN if error is not None and outcome_unknown(error) else _State.SETTLED
        for text in claimed:
            if text in self._states:
                self._states[text] = state


def outcome_unknown(error: BaseException) -> bool:
    """True when the operation may have been applied although the call raised *error*."""
    if not isinstance(error, FluzError):
        return True  # cancelled, or a failure outside the client's knowledge
    if error.request_sent is False:
        return False
    # A timeout, a lost connection, a 5xx, or a body the client could not read (which
    # may have been a success). Any other error is Fluz answering that it did not.
    return isinstance(error, TransportError | ServerError | ResponseDecodeError)


@functools.cache
def _key_is_uuid(model: type[BaseModel]) -> bool:
    return "UUID" in str(model.model_fields["idempotency_key"].annotation)


def _typed_key(model: type[BaseModel], key: str | uuid.UUID) -> str | uuid.UUID:
    """The key as the model's field holds it: a UUID for most inputs, a String for a few."""
    if _key_is_uuid(model):
        return key if isinstance(key, uuid.UUID) else uuid.UUID(key)
    return str(key)
