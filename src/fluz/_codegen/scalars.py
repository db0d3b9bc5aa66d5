"""Custom scalar conversions, copied verbatim into the generated package.

ariadne-codegen's ``files_to_include`` copies this file to ``fluz_graphql/scalars.py``
and ``[tool.ariadne-codegen.scalars]`` points the ``UUID`` and ``DateTime`` scalars at
it, so the generated package needs nothing from ``fluz`` at runtime. Keep it stdlib-only.

Responses: ``UUID`` strings are parsed by pydantic itself (native, faster than a Python
function); ``DateTime`` goes through :func:`parse_datetime`.

Wire format: ``UUID`` is the canonical lower-case hyphenated string; ``DateTime`` is
ISO-8601 / RFC 3339 with an offset, UTC written as ``Z`` (graphql-scalars style, as in
the Fluz docs: ``2007-12-03T10:15:30Z``).

The serializers run in two places: as pydantic ``PlainSerializer`` on input-model
fields (always given a value of the scalar's type) and directly on top-level operation
variables in the generated client, where the value may also be ``None`` or the
client's ``UNSET`` marker. Anything that is not of the scalar's type is therefore
returned unchanged, for the client to drop (``UNSET``) or send as ``null``.
"""

import datetime
import uuid

__all__ = ["parse_datetime", "serialize_datetime", "serialize_uuid"]


def serialize_uuid(value: object) -> object:
    """Serialize a ``UUID`` variable to its canonical string; pass other values through."""
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def parse_datetime(value: object) -> datetime.datetime:
    """Parse a response ``DateTime`` (ISO-8601 string) into an aware datetime.

    A value without an offset is read as UTC: the scalar is specified with an offset,
    Fluz documents UTC timestamps, and a naive datetime could not be compared with the
    aware ones elsewhere in the response.

    Raises:
        ValueError: not an ISO-8601 date-time string.
    """
    if isinstance(value, datetime.datetime):
        parsed = value
    elif isinstance(value, str):
        parsed = datetime.datetime.fromisoformat(value)
    else:
        raise ValueError(f"expected an ISO-8601 date-time string, got {type(value).__name__}")
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=datetime.UTC)
    return parsed


def serialize_datetime(value: object) -> object:
    """Serialize a ``DateTime`` variable to ISO-8601 with offset (UTC as ``Z``).

    Values that are not datetimes pass through unchanged.

    Raises:
        ValueError: the datetime is naive. Which instant it means would be a guess,
            and a wrong guess silently moves a filter window by hours.
    """
    if not isinstance(value, datetime.datetime):
        return value
    offset = value.utcoffset()
    if offset is None:
        raise ValueError("DateTime variables must be timezone-aware (e.g. tzinfo=datetime.UTC)")
    text = value.isoformat()
    if offset == datetime.timedelta(0):
        return text.removesuffix("+00:00") + "Z"
    return text
