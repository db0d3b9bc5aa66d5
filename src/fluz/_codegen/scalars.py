"""Custom scalar conversions, copied verbatim into the generated package.

ariadne-codegen's ``files_to_include`` copies this file to ``fluz_graphql/scalars.py``
and ``[tool.ariadne-codegen.scalars]`` points the ``UUID`` and ``DateTime`` scalars at
it, so the generated package needs nothing from ``fluz`` at runtime. Keep it stdlib-only.

Responses: pydantic parses both scalars itself, in Rust, with no Python function per
value (a ``BeforeValidator`` around ``datetime.fromisoformat`` cost 0.2-0.4 us more per
``DateTime``: 10-15% of the validation of a gift-card page). For ``DateTime`` this means:

* With an offset (RFC 3339, what Fluz sends: ``2007-12-03T10:15:30Z``), the result is an
  aware ``datetime`` (``tzinfo`` is pydantic's fixed-offset ``TzInfo``; compare instants,
  not ``tzinfo`` objects).
* Without an offset the result stays naive: the value breaks the scalar's contract and
  the client does not guess a zone. Comparing it with an aware datetime raises
  ``TypeError``; check ``value.tzinfo`` if a server might send such values.
* A number (or a string of digits) is read as Unix time, in seconds or, above 2e10,
  milliseconds (pydantic's rule), giving an aware UTC datetime.

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

__all__ = ["serialize_datetime", "serialize_uuid"]


def serialize_uuid(value: object) -> object:
    """Serialize a ``UUID`` variable to its canonical string; pass other values through."""
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


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
