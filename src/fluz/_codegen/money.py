"""Money: the one amount rule of the client, the CLI and the sandbox.

ariadne-codegen's ``files_to_include`` copies this file to ``fluz_graphql/money.py`` (so the
generated package needs nothing from ``fluz``); the codegen plugin types every GraphQL
``Float`` input field as :data:`MoneyInput` (or :data:`DecimalInput`, for the few that are
not amounts) and every ``Float`` result field, plus the amounts Fluz sends as strings, as
``decimal.Decimal``. Why the codegen plugin and not the schema: Fluz's schema says
``Float`` (``make schema`` would put it back over a custom ``Money`` scalar), so the choice
is keyed on the built-in ``Float`` itself and survives introspection.

The rule (:func:`parse_money`):

* accepted: ``Decimal``, ``int`` and decimal strings (``"19.99"``, ``" 25 "``); a ``float``
  only when its shortest decimal form (``repr``) obeys the rule, because that is exactly
  what would be sent: ``19.99`` passes, ``1.1 * 3`` (``3.3000000000000003``) is refused
  instead of being sent as Fluz would refuse it (or rounded behind the caller's back);
* refused: booleans, NaN/Infinity, more than two decimal places (``"1.005"``; trailing
  zeros are fine: ``"1.500"`` is 1.50), and values whose digits a JSON number cannot carry
  exactly (more than 15 significant digits);
* sent as a JSON number equal to the value (``25``, ``19.99``), never a string and never
  float noise: :func:`money_to_json` proves the round trip for every value it sends.

Whether an amount must be positive is the operation's business (the client's checks and
the server's), not this type's: filters may be 0, and a part of a payment may be 0.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Final

from pydantic import PlainSerializer, PlainValidator
from pydantic_core import PydanticCustomError

__all__ = [
    "DecimalInput",
    "DecimalResult",
    "MoneyError",
    "MoneyInput",
    "money_to_json",
    "parse_decimal",
    "parse_money",
]

# A float (what a JSON number becomes in most decoders, Fluz's included) carries 15
# significant decimal digits exactly: $9,999,999,999,999.99 is the largest amount.
MAX_SIGNIFICANT_DIGITS: Final = 15


class MoneyError(ValueError):
    """An amount breaks the money rule; ``rule`` names which rule, ``message`` says how."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


def parse_decimal(value: object, *, max_places: int | None = None) -> Decimal:
    """*value* as an exact, finite ``Decimal`` that a JSON number carries exactly, with at
    most *max_places* decimal places if given.

    Raises:
        MoneyError: rules ``decimal_type``, ``decimal_parsing``, ``finite_number``,
            ``max_<n>_decimals``, ``exact_json_number``.
    """
    if isinstance(value, bool) or not isinstance(value, Decimal | int | float | str):
        raise MoneyError(
            "decimal_type",
            f"must be a Decimal, an int or a decimal string, not {type(value).__name__}",
        )
    try:
        if isinstance(value, float):
            amount = Decimal(repr(value))  # the shortest form: exactly what JSON would carry
        elif isinstance(value, str):
            amount = Decimal(value.strip())
        else:
            amount = Decimal(value)
    except InvalidOperation:
        raise MoneyError(
            "decimal_parsing", "must be a decimal number such as 19.99 (dollars, not cents)"
        ) from None
    if not amount.is_finite():
        raise MoneyError("finite_number", "must be a finite number")
    digits, exponent = _significant(amount)
    if max_places is not None and exponent < -max_places:
        raise MoneyError(
            "max_2_decimals" if max_places == 2 else f"max_{max_places}_decimals",
            f"must have at most {max_places} decimal places (dollars and cents)",
        )
    if len(digits) > MAX_SIGNIFICANT_DIGITS:
        raise MoneyError(
            "exact_json_number",
            f"has more than {MAX_SIGNIFICANT_DIGITS} significant digits, "
            "more than a JSON number carries exactly",
        )
    return amount


def parse_money(value: object) -> Decimal:
    """*value* as a dollar amount: :func:`parse_decimal` plus at most two decimal places.

    The result keeps the caller's value (``Decimal("1.50")`` stays ``1.50``).

    Raises:
        MoneyError: the rules of :func:`parse_decimal`, and ``max_2_decimals``.
    """
    return parse_decimal(value, max_places=2)


def money_to_json(value: object) -> int | float:
    """The JSON number for an amount: an ``int`` when whole, else the ``float`` whose
    shortest form (what ``json.dumps`` writes) is exactly the amount.

    Raises:
        ValueError: the value cannot be written exactly (never, for a validated field).
    """
    amount = parse_decimal(value)
    if amount == amount.to_integral_value():
        return int(amount)
    number = float(amount)
    if Decimal(repr(number)) != amount:  # guarded by MAX_SIGNIFICANT_DIGITS
        raise ValueError(f"{amount} cannot be sent exactly as a JSON number")
    return number


def _significant(amount: Decimal) -> tuple[tuple[int, ...], int]:
    """The digits and exponent of a finite *amount* without trailing zeros (exact: no
    rounding to the context's precision, unlike ``Decimal.normalize``)."""
    _, digits, exponent = amount.as_tuple()
    assert isinstance(exponent, int)
    end = len(digits)
    while end > 1 and digits[end - 1] == 0:
        end -= 1
    return digits[:end], exponent + len(digits) - end


def _validate_money(value: object) -> Decimal:
    try:
        return parse_money(value)
    except MoneyError as exc:
        raise PydanticCustomError(exc.rule, exc.message) from None


def _validate_decimal(value: object) -> Decimal:
    try:
        return parse_decimal(value)
    except MoneyError as exc:
        raise PydanticCustomError(exc.rule, exc.message) from None


# The input types of generated models. The annotation is what a caller may pass (mypy
# accepts Decimal, int and str; a float is refused by the type checker, and at run time
# accepted only under the rule above); the attribute holds a Decimal after validation.
MoneyInput = Annotated[
    Decimal | int | str,
    PlainValidator(_validate_money),
    PlainSerializer(money_to_json),
]
"""A dollar amount (at most 2 decimals) in an input model; sent as an exact JSON number."""

DecimalInput = Annotated[
    Decimal | int | str,
    PlainValidator(_validate_decimal),
    PlainSerializer(money_to_json),
]
"""An exact decimal that is not an amount (a percentage filter); sent as a JSON number."""


def _result_to_json(value: Decimal) -> int | float:
    # A result came from a JSON number or a decimal string; dump it as a JSON number
    # (``model_dump(mode="json")``), the API's own form. Python: stays a Decimal.
    return int(value) if value == value.to_integral_value() else float(value)


DecimalResult = Annotated[Decimal, PlainSerializer(_result_to_json, when_used="json")]
"""A ``Decimal`` in a result model (every ``Float``, and the amounts sent as strings)."""
