"""Client-side input checks, run before a request is sent.

Generic, driven by what the operation declares and what the input models contain, not by
per-operation code: variable types (``UUID``, non-null lists), amount-like field names,
pagination inputs, idempotency keys, and a small table of documented "exactly one of" /
"a funding source is required" rules. Only knowably bad input is refused; anything the
client cannot judge is left to the server.
"""

from __future__ import annotations

import re
import sys
import uuid
from typing import TYPE_CHECKING, Any, NoReturn

import pydantic
from fluz_graphql import base_model as _base_model
from fluz_graphql.base_model import UNSET

from . import _constants as C
from ._errors import ValidationError
from ._operations import OperationInfo
from ._redact import redact
from ._response import is_model

if TYPE_CHECKING:
    from fluz_graphql.base_model import InputModel
    from pydantic import BaseModel

# Money fields: the money rule of fluz_graphql.money (finite, at most 2 decimals, exact as a
# JSON number); the principal amount of an operation > 0, a part of it (balance_amount,
# fluzpay_amount) >= 0. Filter inputs (amountGte ...) are exempt from the sign rules.
_AMOUNT_FIELD = re.compile(r"^(?:amount|.+_amount|spend_limit|denomination)$")
_PRINCIPAL_AMOUNTS = frozenset({"amount", "purchase_amount", "spend_limit", "denomination"})

# (doc) rules spanning fields, by input type name: exactly one of each group.
EXACTLY_ONE_OF: dict[str, tuple[tuple[str, ...], ...]] = {
    "PurchaseGiftCardInput": (("offer_id", "merchant_slug"),),
    "GetOfferQuoteInput": (("slug", "merchant_slug"),),
    "UserLookupInput": (("phone_number", "email"),),
    "AddBankCardInput": (("billing_address", "user_address_id"),),
}
# (doc) "Only one of the following is required" (purchase: unless the Fluz balance is
# used, which defaultToBalance=true, the server default, allows).
FUNDING_SOURCES: dict[str, tuple[str, ...]] = {
    "PurchaseGiftCardInput": (
        "balance_amount",
        "bank_account_id",
        "bank_card_id",
        "paypal_vault_id",
    ),
}
_BALANCE_FALLBACK = "default_to_balance"


def validate_variables(op: OperationInfo, variables: dict[str, Any]) -> None:
    """Raise :class:`ValidationError` (naming field and rule) for knowably bad input."""
    for name, value in variables.items():
        declared = op.variable_types.get(name, "")
        if value is None or value is UNSET:
            if declared.endswith("!"):
                _fail(name, "required", f"{name} is required")
            continue
        base = declared.strip("[]!")
        if base == "UUID":
            _check_uuids(name, value)
        if declared.startswith("[") and declared.endswith("]!") and value == []:
            _fail(name, "non_empty", f"{name} must not be empty")
        if is_model(value):
            _check_model(value, name)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if is_model(item):
                    _check_model(item, f"{name}[{index}]")


def _check_model(model: BaseModel, path: str) -> None:
    cls = type(model)
    try:
        plan = _plans[cls]
    except KeyError:
        plan = _plans[cls] = _plan(cls)
    if plan is None:
        _check_page(model, path)
        return
    fields, exactly_one_of, sources = plan
    # Only the fields that can break a rule: the others hold scalars (by their type).
    for field_name, amount in fields:
        value = getattr(model, field_name)
        if value is None:
            continue
        if is_model(value):
            _check_model(value, f"{path}.{field_name}")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if is_model(item):
                    _check_model(item, f"{path}.{field_name}[{index}]")
        elif field_name == "idempotency_key" and isinstance(value, str) and not value.strip():
            where = f"{path}.{field_name}"
            _fail(where, "non_empty", f"{where} must not be blank")
        elif amount is not None:
            _check_amount(f"{path}.{field_name}", value, positive=amount)
    for group in exactly_one_of:
        given = [f for f in group if getattr(model, f, None) not in (None, "")]
        if len(given) != 1:
            names = " or ".join(f"{path}.{f}" for f in group)
            problem = "both" if given else "neither"
            _fail(
                f"{path}.{group[0]}",
                "exactly_one_of",
                f"give exactly one of {names} ({problem} given)",
            )
    if (
        sources
        and getattr(model, _BALANCE_FALLBACK, None) is False
        and all(getattr(model, f, None) is None for f in sources)
    ):
        _fail(
            f"{path}.{sources[0]}",
            "funding_source",
            f"no funding source: with {_BALANCE_FALLBACK}=False give one of "
            + ", ".join(f"{path}.{f}" for f in sources),
        )


# What _check_model looks at in a model class: None for a page (OffsetInput); else the
# fields that can break a rule, each with None or (an amount) whether it must be > 0,
# then the class's "exactly one of" groups and funding sources.
_Plan = tuple[tuple[tuple[str, bool | None], ...], tuple[tuple[str, ...], ...], tuple[str, ...]]


# The plan of each class checked so far. A dict, not functools.cache: mutmut leaves
# decorated functions unmutated, and the tests empty it before each test
# (tests/conftest.py), so that every test makes the plans it uses with the code under test.
_plans: dict[type[BaseModel], _Plan | None] = {}


def _plan(cls: type[BaseModel]) -> _Plan | None:
    """The plan of *cls*, from its field names and types (see _Plan). A field whose type
    holds no model nor a list (``str``, ``UUID``, an enum ...) is left out unless its name
    makes it an amount or the idempotency key."""
    import datetime
    import decimal
    import enum
    import typing

    scalars = (
        str,
        int,  # and bool
        float,
        bytes,
        decimal.Decimal,
        uuid.UUID,
        enum.Enum,
        datetime.date,  # and datetime
        datetime.time,
        datetime.timedelta,
        type(None),
    )

    def may_hold_models(annotation: Any) -> bool:
        # True for a model, a list or union with one, Any, an unresolved name ...
        args = typing.get_args(annotation)
        if isinstance(annotation, type) and not args:
            return not issubclass(annotation, scalars)
        if annotation is None or typing.get_origin(annotation) is typing.Literal:
            return False
        if typing.get_origin(annotation) is typing.Annotated:
            return may_hold_models(args[0])
        return not args or any(may_hold_models(arg) for arg in args)

    # The input models load on first use (not at `import fluz`): no OffsetInput before.
    inputs = sys.modules.get("fluz_graphql.input_types")
    if inputs is not None and issubclass(cls, inputs.OffsetInput):
        return None
    is_filter = cls.__name__.endswith("FilterInput")
    fields = []
    for name, info in cls.model_fields.items():
        amount = None
        if not is_filter and _AMOUNT_FIELD.match(name):
            amount = name in _PRINCIPAL_AMOUNTS
        if amount is not None or name == "idempotency_key" or may_hold_models(info.annotation):
            fields.append((name, amount))
    return (
        tuple(fields),
        EXACTLY_ONE_OF.get(cls.__name__, ()),
        FUNDING_SOURCES.get(cls.__name__, ()),
    )


def _check_amount(where: str, value: object, *, positive: bool) -> None:
    # The input model already applied the money rule when it was built; applying it again
    # covers models built with model_construct() and keeps the rule in one place.
    # Imported here, where it is already loaded (by the input models, which use it), not at
    # `import fluz`, which it would cost pydantic's serializer module; `import ... as` is the
    # cheap form of a repeated import (no from-list to resolve).
    import fluz_graphql.money as money

    try:
        amount = money.parse_money(value)
    except money.MoneyError as exc:
        _fail(where, exc.rule, f"{where} {exc.message}")
    if positive and amount <= 0:
        _fail(where, "positive", f"{where} must be greater than 0")
    if amount < 0:
        _fail(where, "non_negative", f"{where} must not be negative")


def _check_page(page: Any, path: str) -> None:
    if page.limit is not None and not 1 <= page.limit <= C.MAX_PAGE_SIZE:
        _fail(f"{path}.limit", "page_size", f"{path}.limit must be between 1 and {C.MAX_PAGE_SIZE}")
    if page.offset is not None and page.offset < 0:
        _fail(f"{path}.offset", "non_negative", f"{path}.offset must be >= 0")


def _check_uuids(name: str, value: object) -> None:
    items = value if isinstance(value, list) else [value]
    for item in items:
        if isinstance(item, uuid.UUID):
            continue
        try:
            uuid.UUID(str(item))
        except ValueError:
            _fail(name, "uuid", f"{name} is not a valid UUID")


def _fail(field: str, rule: str, message: str) -> NoReturn:
    raise ValidationError(message, field=field, rule=rule, code="CLIENT_VALIDATION")


def input_model_error(model: type[InputModel], error: pydantic.ValidationError) -> ValidationError:
    """The :class:`ValidationError` for an input model built with bad values.

    Installed as ``fluz_graphql.base_model.input_error_factory`` when ``fluz`` is imported:
    ``PurchaseGiftCardInput(amount="1.005")`` then raises the same error type as the
    client's checks at call time, with ``field`` (``amount``, or ``order_items.0.spend_limit``
    for a nested one) and ``rule`` (pydantic's error type: ``max_2_decimals``, ``missing``,
    ``uuid_parsing`` ...). The message lists every problem; values are never quoted.
    """
    problems = error.errors(include_url=False, include_input=False, include_context=False)
    located = [(".".join(str(p) for p in problem["loc"]), problem) for problem in problems]
    where, first = located[0]
    message = "; ".join(f"{loc or model.__name__}: {redact(p['msg'])}" for loc, p in located)
    return ValidationError(
        f"{model.__name__}: {message}",
        field=where or None,
        rule=first["type"],
        code="CLIENT_VALIDATION",
    )


_base_model.input_error_factory = input_model_error
