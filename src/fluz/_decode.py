"""The error raised when a response does not fit the generated models.

Typically a null where the client declared a value (``@required`` in ``queries/``, or a
``!`` in the schema), or a value of the wrong type. For a mutation the operation may well
have been carried out (a purchase charged), so the error says so and carries what the
caller needs to reconcile: the request id, the idempotency key (retrying with it returns
the same result, never a second purchase) and every id the response did contain.
"""

from __future__ import annotations

import re
from typing import Any

import pydantic

from ._errors import ResponseDecodeError
from ._response import CallRecord

# Fields worth quoting to reconcile: identifiers, never codes, PINs, card numbers or tokens.
_ID_KEY = re.compile(r"(?:^id$|Id$|ID$)")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_MAX_IDS = 20


def response_decode_error(
    error: pydantic.ValidationError, record: CallRecord
) -> ResponseDecodeError:
    """A :class:`ResponseDecodeError` for *error*, raised while reading *record*'s response.

    The message names each offending field by its GraphQL path (``purchaseGiftCard.giftCard``)
    and what was wrong; pydantic's own text (which may quote response values, such as a
    gift-card code) is not used. ``ids`` maps the path of every UUID-valued ``...Id`` field
    of the response to its value.
    """
    data = record.payload.get("data") if isinstance(record.payload, dict) else None
    problems = []
    for problem in error.errors(include_url=False, include_input=False, include_context=False):
        loc = [part for part in problem["loc"] if part != "data"]
        path = ".".join(str(part) for part in loc) or "data"
        found = _lookup(data, loc)
        if found is _ABSENT:
            problems.append(f"{path} is missing from the response")
        elif found is None:
            problems.append(f"{path} is null, but the client requires a value")
        else:
            problems.append(f"{path} has an unexpected value ({problem['type']})")
    ids = dict(_find_ids(data, "", []))
    message = "response does not match the schema: " + "; ".join(problems)
    if record.is_mutation:
        message += (
            ". The operation may have been carried out: reconcile with the ids below, or "
            "repeat the call with the same idempotency key (Fluz processes a key once)"
        )
    if ids:
        message += ". Ids in the response: " + ", ".join(f"{k}={v}" for k, v in ids.items())
    decode_error = ResponseDecodeError(
        message,
        code="DECODE",
        request_id=record.request_id,
        idempotency_key=record.idempotency_key,
        operation=record.operation or None,
    )
    decode_error.ids = ids
    return decode_error


_ABSENT = object()


def _lookup(data: Any, loc: list[Any]) -> Any:
    """The raw value at *loc* in *data*; ``_ABSENT`` when there is none."""
    for part in loc:
        if isinstance(data, dict):
            if part not in data:
                return _ABSENT
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            return _ABSENT
    return data


def _find_ids(value: Any, path: str, found: list[tuple[str, str]]) -> list[tuple[str, str]]:
    if len(found) >= _MAX_IDS:
        return found
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(item, str) and _ID_KEY.search(str(key)) and _UUID.match(item):
                found.append((where, item))
            elif isinstance(item, dict | list):
                _find_ids(item, where, found)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _find_ids(item, f"{path}[{index}]", found)
    return found
