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
import uuid
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from . import _constants as C
from ._errors import (
    FluzError,
    ResponseDecodeError,
    ServerError,
    TransportError,
    ValidationError,
)
from ._response import is_model

if TYPE_CHECKING:
    from pydantic import BaseModel


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
            (name, value, is_uuid)
            for name, value in variables.items()
            if is_model(value) and (is_uuid := _key_kind(type(value))) is not None
        ]
        if explicit is not None:
            return self._assign_explicit(operation, variables, keyed, explicit), []
        states = self._states
        # Check every input before claiming any, so that a refusal leaves nothing claimed.
        # (Each key's text is made once: str() of a UUID builds it anew every time.)
        found: list[tuple[BaseModel, bool, str | None]] = []
        for name, value, is_uuid in keyed:
            current = getattr(value, "idempotency_key", None)
            text = None if current is None else str(current)
            if text is not None and states.get(text) is _State.IN_FLIGHT:
                raise ValidationError(
                    f"this {type(value).__name__} is being sent by another call right now "
                    f"(idempotency key {text}): sending it again would return that "
                    "call's result, not a second one. Build one input per operation, or "
                    "pass idempotency_key= per call.",
                    field=f"{name}.idempotencyKey",
                    rule="input_in_flight",
                    code="CLIENT_VALIDATION",
                    operation=operation,
                    idempotency_key=text,
                )
            found.append((value, is_uuid, text))
        key: str | None = None
        claimed: list[str] = []
        for value, is_uuid, text in found:
            if text is not None:
                # Looked up again: an earlier input of this call may have claimed it.
                state = states.get(text)
                if state is None:
                    key = text  # the caller's own key
                    continue
                if state is _State.UNKNOWN:
                    states.move_to_end(text)
                else:
                    text = None  # settled: a template, reused for a new operation
            if text is None:
                made = uuid.uuid4()
                text = str(made)
                _write_key(value, made if is_uuid else text)
            states[text] = _State.IN_FLIGHT
            claimed.append(text)
            key = text
        while len(states) > self.capacity:
            states.popitem(last=False)
        return key, claimed

    @staticmethod
    def _assign_explicit(
        operation: str,
        variables: dict[str, Any],
        keyed: list[tuple[str, BaseModel, bool]],
        explicit: str | uuid.UUID,
    ) -> str | None:
        for name, value, is_uuid in keyed:
            try:
                fixed = _typed_key(is_uuid, explicit)
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


# _key_kind's answers. A dict, not functools.cache: mutmut leaves decorated functions
# unmutated, and the tests empty it before each test (tests/conftest.py).
_key_kinds: dict[type[BaseModel], bool | None] = {}


def _key_kind(cls: type[BaseModel]) -> bool | None:
    """None when *cls* has no ``idempotency_key`` field; else whether the field holds a UUID
    (most inputs) or a String (a few). Kept per class: pydantic's ``model_fields`` is a
    property that checks for deprecated use on every read."""
    try:
        return _key_kinds[cls]
    except KeyError:
        pass
    fields = cls.model_fields
    kind = (
        None
        if "idempotency_key" not in fields
        else "UUID" in str(fields["idempotency_key"].annotation)
    )
    _key_kinds[cls] = kind
    return kind


def _typed_key(is_uuid: bool, key: str | uuid.UUID) -> str | uuid.UUID:
    """The key as the model's field holds it: a UUID for most inputs, a String for a few."""
    if is_uuid:
        return key if isinstance(key, uuid.UUID) else uuid.UUID(key)
    return str(key)


def _write_key(model: BaseModel, key: str | uuid.UUID) -> None:
    """Write *key* (already of the field's type) into *model* as pydantic's assignment does
    without ``validate_assignment``: in the field's slot and in ``model_fields_set`` (the
    body leaves unset fields out), skipping a validation whose answer is known."""
    model.__dict__["idempotency_key"] = key
    model.__pydantic_fields_set__.add("idempotency_key")
