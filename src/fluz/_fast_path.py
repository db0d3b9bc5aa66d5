"""One decode per response: a plain success validated straight from the bytes.

Judging a response the general way (:func:`fluz._error_mapping.inspect_response`) decodes
its JSON into Python objects, and the generated method then validates ``data`` from those
into its models: two passes over every value. For the common case, a 200 whose body is
``{"data": {...}}`` with no ``errors``, pydantic-core can parse the bytes straight into the
operation's models (a third faster than decoding alone plus validation). Anything else,
and any doubt, takes the general path, which keeps every rule: error mapping, payload
errors, the ResponseDecodeError naming a required field that came back null.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

import httpx
import pydantic

from ._error_mapping import Success
from ._operations import OperationInfo

# The envelope of each operation's response, by operation name (None: no generated model).
# Each is built on first use, like the models it holds: no pydantic class at `import fluz`
# (issue 11). Two threads building the same one at once each get a working model; the
# dict keeps the last.
_envelopes: dict[str, type[pydantic.BaseModel] | None] = {}
_SNAKE = re.compile(r"(?<!^)(?=[A-Z])")


def envelope(operation_name: str) -> type[pydantic.BaseModel] | None:
    """The response envelope of the generated operation *operation_name*, made on first
    use: ``data`` typed as the operation's generated result model (module
    ``fluz_graphql.<snake_case name>``, class ``<name>``); None for an operation without
    one (a document of the caller's own)."""
    try:
        return _envelopes[operation_name]
    except KeyError:
        pass
    model: Any = None
    if operation_name.isidentifier():
        module_name = "fluz_graphql." + _SNAKE.sub("_", operation_name).lower()
        try:
            model = getattr(importlib.import_module(module_name), operation_name, None)
        except ImportError:
            model = None
    made: type[pydantic.BaseModel] | None = None
    if isinstance(model, type) and issubclass(model, pydantic.BaseModel):
        # {"data": ..., "extensions": {...}} with `errors` absent or null.
        made = pydantic.create_model(
            f"{operation_name}Response",
            __config__=pydantic.ConfigDict(extra="ignore", defer_build=True),
            errors=(None, None),
            extensions=(dict[str, Any] | None, None),
            data=(model, ...),
        )
    if len(_envelopes) < 4096:  # generated operations are few; bound custom ones
        _envelopes[operation_name] = made
    return made


def plain_success(
    op: OperationInfo,
    response: httpx.Response,
    content: bytes,
    *,
    raise_on_payload_errors: bool,
) -> Success | None:
    """A :class:`Success` holding the validated result model when *response* is a plain
    success of a generated operation; None when the general path must judge it."""
    if response.status_code != 200 or not op.name:
        return None
    model = envelope(op.name)
    if model is None:
        return None
    # NaN and Infinity are not JSON; the general path refuses them with a decode error.
    # pydantic's parser takes them for floats, but no field of a generated result accepts
    # one (amounts are DecimalResult, finite only; strings, ints, enums and booleans take
    # no float), so a body carrying one where the client reads it fails validation here
    # and goes there. Scanning the body for them instead cost 4-6 % of a call (issue 11).
    # One in a member no model reads (a field the client does not know) is ignored, like
    # the member itself.
    try:
        parsed = model.model_validate_json(content)
    except pydantic.ValidationError:
        return None  # an error, a null the client requires, NaN, a non-object ...: there
    data = parsed.__dict__["data"]
    if raise_on_payload_errors:
        for value in data.__dict__.values():
            if getattr(value, "success", None) is False:  # {success: false, error}
                return None
    extensions = parsed.__dict__["extensions"]
    rid = extensions.get("requestId") if extensions else None
    if isinstance(rid, float):  # extensions are not validated: NaN may hide here
        return None
    request_id = str(rid) if rid else response.headers.get("x-request-id")
    return Success(None, request_id, data)
