"""The executable schema: the Fluz SDL bound to the resolvers, with auth and idempotency.

Every Query/Mutation field goes through ``_guard``: scope check, injected latency, the
idempotency key (for the mutations that take one) and payload-style errors.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.resources
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from ariadne import ScalarType, UnionType, make_executable_schema
from graphql import GraphQLEnumType, GraphQLResolveInfo, GraphQLSchema

from ._auth import REQUIRED_SCOPES, require_scopes
from ._core import RequestContext
from ._errors import SandboxError
from ._idempotency import IDEMPOTENT_OPERATIONS, fingerprint
from ._resolvers import OPERATIONS
from ._state import StockInfoFixedType

# Mutations whose payload carries {success, error {code message}}: errors go there.
PAYLOAD_ERROR_OPERATIONS = frozenset(
    {
        "addAuthorizedUser",
        "removeAuthorizedUser",
        "registerUser",
        "requestVirtualCard",
        "requestReimbursement",
        "requestInternalTransfer",
        "requestAccountTransfer",
        "updateTransactionMetadata",
    }
)


def load_sdl() -> str:
    """The schema the client was generated from (a verbatim copy of schema/fluz.graphql)."""
    return importlib.resources.files("fluz_graphql").joinpath("schema.graphql").read_text("utf-8")


def _parse_uuid(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("UUID must be a string")
    return str(uuid.UUID(value))  # canonical lower-case form; ValueError if malformed


def _serialize_datetime(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return str(value)


def _parse_datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("DateTime must be an ISO-8601 string")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _stock_info_type(obj: Any, *_: Any) -> str:
    return "StockInfoFixedType" if isinstance(obj, StockInfoFixedType) else "StockInfoVariableType"


@functools.cache
def executable_schema() -> GraphQLSchema:
    """Built once per process (about 0.1 s) and shared by every server: it holds no state."""
    uuid_scalar = ScalarType("UUID", serializer=str, value_parser=_parse_uuid)
    datetime_scalar = ScalarType(
        "DateTime", serializer=_serialize_datetime, value_parser=_parse_datetime
    )
    stock_info = UnionType("StockInfo", _stock_info_type)
    schema = make_executable_schema(
        load_sdl(), uuid_scalar, datetime_scalar, stock_info, convert_names_case=True
    )
    # ariadne 1.1 wraps every enum's parse_value for bound Python enums (we bind none); the
    # wrapper takes one argument where graphql-core 3.2.14 passes two, which breaks enum
    # variables ("takes 1 positional argument but 2 were given"). Use graphql-core's own.
    for named_type in schema.type_map.values():
        if isinstance(named_type, GraphQLEnumType):
            vars(named_type).pop("parse_value", None)
    roots = [t for t in (schema.query_type, schema.mutation_type) if t is not None]
    fields = {name: field for root in roots for name, field in root.fields.items()}
    if missing := sorted(set(fields) - set(OPERATIONS)):
        raise RuntimeError(f"sandbox has no resolver for {', '.join(missing)}")
    if extra := sorted(set(OPERATIONS) - set(fields)):
        raise RuntimeError(f"sandbox resolvers not in the schema: {', '.join(extra)}")
    if unscoped := sorted(set(fields) - set(REQUIRED_SCOPES)):
        raise RuntimeError(f"no entry in the scope table for {', '.join(unscoped)}")
    for name, field in fields.items():
        field.resolve = _guard(name, OPERATIONS[name])
    return schema


def _error_payload(error: SandboxError) -> dict[str, Any]:
    return {"success": False, "error": {"code": error.code, "message": error.message}}


def _guard(name: str, resolver: Callable[..., Any]) -> Callable[..., Any]:
    scopes = REQUIRED_SCOPES[name]
    idempotent = name in IDEMPOTENT_OPERATIONS
    payload_errors = name in PAYLOAD_ERROR_OPERATIONS

    async def delayed(ctx: RequestContext, arguments: dict[str, Any]) -> Any:
        await asyncio.sleep(ctx.plan.latency)
        ctx.ensure_current()  # a reset while we slept fences this request off
        return resolver(ctx, **arguments)

    async def settle(outcome: Awaitable[Any]) -> Any:
        try:
            return await outcome
        except SandboxError as error:
            if payload_errors:
                return _error_payload(error)
            raise

    def resolve(_parent: Any, info: GraphQLResolveInfo, **arguments: Any) -> Any:
        ctx: RequestContext = info.context
        if ctx.principal.mode != "none":
            require_scopes(ctx.principal, name, scopes)  # auth errors are never payloads
        if idempotent:
            principal = ctx.principal
            outcome = ctx.sandbox.idempotency.run(
                (principal.app_id or "", principal.account_id or ""),
                str(arguments["input"]["idempotency_key"]),
                fingerprint(name, arguments),
                lambda: delayed(ctx, arguments),
            )
            return settle(outcome)
        if ctx.plan.latency:
            return settle(delayed(ctx, arguments))
        try:
            return resolver(ctx, **arguments)
        except SandboxError as error:
            if payload_errors:
                return _error_payload(error)
            raise

    return resolve
