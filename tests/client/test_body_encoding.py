"""The variables of a request body: one pass (``fluz._sending._variables_json``) writes the
same JSON as the three passes it replaced (issue 11), which stay here as the reference."""

from __future__ import annotations

import datetime
import enum
import json
import random
import types
import typing
import uuid
from decimal import Decimal
from typing import Any

import fluz_graphql.input_types as input_types
import pytest
from fluz_graphql.async_base_client import AsyncBaseClient
from fluz_graphql.base_model import UNSET
from pydantic import BaseModel
from pydantic_core import PydanticSerializationError, to_jsonable_python

from fluz._errors import ValidationError
from fluz._operations import operation_info
from fluz._response import CallRecord
from fluz._sending import _VARIABLES_ENCODER, _variables_json, encode_body

_ENCODE_ERRORS = (ValueError, TypeError, PydanticSerializationError)


def three_pass(variables: dict[str, Any]) -> bytes:
    """The body's variables as encode_body wrote them before issue 11."""
    converter = AsyncBaseClient.__new__(AsyncBaseClient)  # the method uses no state
    converted = converter._convert_dict_to_json_serializable(variables)
    return _VARIABLES_ENCODER.encode(to_jsonable_python(converted)).encode()


def canonical(value: Any) -> Any:
    """A parsed JSON value where ``1`` and ``1.0`` differ (both are ``==`` in Python)."""
    if isinstance(value, dict):
        return {key: canonical(item) for key, item in value.items()}
    if isinstance(value, list):
        return [canonical(item) for item in value]
    return (type(value).__name__, value)


def parsed(body: bytes) -> Any:
    return canonical(json.loads(body, parse_float=Decimal))


def assert_same(variables: dict[str, Any]) -> None:
    new = _variables_json(variables)
    assert parsed(new) == parsed(three_pass(variables))
    assert list(json.loads(new)) == [k for k, v in variables.items() if v is not UNSET]


_STRINGS = ["", "plain", 'quote " and \\ slash', "é ☃ 日本 \u2028 \x00 \x7f", "😀"]
_AMOUNTS: list[object] = [
    0,
    Decimal("0.01"),
    Decimal("19.99"),
    "25",
    " 7.50 ",
    19.99,
    10**14,
    Decimal("9999999999999.99"),
    Decimal("1E+14"),
    Decimal("100000000000000.0"),
    1e14,
    Decimal("0.10"),
]
_TIMES = [
    datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
    datetime.datetime(
        2026, 1, 2, 3, 4, 5, 678, tzinfo=datetime.timezone(datetime.timedelta(hours=2))
    ),
]


def is_money(metadata: Any) -> bool:
    return any(
        getattr(getattr(meta, "func", None), "__name__", "") == "money_to_json" for meta in metadata
    )


def sample(annotation: Any, rng: random.Random, depth: int) -> Any:
    """A valid value of *annotation* (a field type of the generated input models)."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        base = args[0]
        if base is uuid.UUID:
            return uuid.UUID(int=rng.getrandbits(128))
        if base is datetime.datetime:
            return rng.choice(_TIMES)
        if is_money(args[1:]):
            return rng.choice(_AMOUNTS)
        return sample(base, rng, depth)
    if origin in (typing.Union, types.UnionType):
        choices = [arg for arg in args if arg is not type(None)]
        return sample(rng.choice(choices), rng, depth)
    if origin is list:
        return [sample(args[0], rng, depth + 1) for _ in range(rng.randrange(3))]
    if annotation is type(None):
        return None
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return build(annotation, rng, depth + 1)
        if issubclass(annotation, enum.Enum):
            return rng.choice(list(annotation))
        if annotation is bool:
            return rng.random() < 0.5
        if annotation is int:
            return rng.choice([0, -1, 7, 2**53])
        if annotation is str:
            return rng.choice(_STRINGS)
        if annotation is uuid.UUID:
            return uuid.UUID(int=rng.getrandbits(128))
        if annotation is datetime.datetime:
            return rng.choice(_TIMES)
    raise AssertionError(f"no sample for {annotation!r}")


def build(model: type[BaseModel], rng: random.Random, depth: int = 0) -> BaseModel:
    """*model* with each field left unset, set to null, or set to a value (by alias or by
    name), at random."""
    model.model_rebuild()
    data: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        roll = rng.random()
        if not field.is_required() and (roll < 0.3 or depth > 2):
            continue
        key = field.alias if field.alias and rng.random() < 0.5 else name
        if not field.is_required() and roll < 0.5 and field.default is None:
            data[key] = None
        elif is_money(field.metadata):  # pydantic keeps a field's Annotated extras here
            data[key] = rng.choice(_AMOUNTS)
        else:
            data[key] = sample(field.annotation, rng, depth)
    return model(**data)


INPUT_MODELS = sorted(
    (
        value
        for value in vars(input_types).values()
        if isinstance(value, type)
        and issubclass(value, BaseModel)
        and value.__module__ == input_types.__name__
    ),
    key=lambda model: model.__name__,
)


def test_every_input_model_is_covered() -> None:
    assert len(INPUT_MODELS) > 30


@pytest.mark.parametrize("model", INPUT_MODELS, ids=lambda model: model.__name__)
def test_each_input_model_is_written_as_the_three_passes_wrote_it(model: type[BaseModel]) -> None:
    rng = random.Random(model.__name__)
    for _ in range(40):
        instance = build(model, rng)
        assert_same({"input": instance, "other": UNSET, "many": [instance, build(model, rng)]})


def test_top_level_variables_of_every_kind_are_written_as_before() -> None:
    merchant = input_types.MerchantInput(slug="a")
    assert_same({})
    assert_same({"input": UNSET})
    assert_same(
        {
            "first": 10,
            "after": None,
            "skipped": UNSET,
            "name": "é ☃ \u2028",
            "flag": True,
            "amount": 19.99,
            "big": 1e16,
            "small": 1e-7,
            "exact": Decimal("12.50"),
            "id": uuid.UUID(int=5),
            "when": _TIMES[1],
            "ids": ["a", None, 3],
            "nested": [[merchant, None], []],
            "map": {"k": [1, 2], "é": None},
            "merchant": merchant,
            "unicode key é": 1,
        }
    )


def test_unset_and_null_fields_stay_apart() -> None:
    merchant = input_types.MerchantInput(slug="a", name=None)
    assert json.loads(_variables_json({"m": merchant})) == {"m": {"slug": "a", "name": None}}


@pytest.mark.parametrize(
    "variables",
    [
        {"amount": float("nan")},
        {"amount": float("inf")},
        {"amount": [1.0, -float("inf")]},
        {"odd": object()},
        {"text": "lone \ud800 surrogate"},
        # Neither path may write a NaN smuggled past validation as null.
        {"input": input_types.PurchaseGiftCardInput.model_construct(amount=float("nan"))},
    ],
    ids=["nan", "inf", "inf-in-list", "object", "surrogate", "constructed-nan"],
)
def test_what_the_three_passes_refused_is_still_refused(variables: dict[str, Any]) -> None:
    with pytest.raises(_ENCODE_ERRORS):
        three_pass(variables)
    with pytest.raises(_ENCODE_ERRORS):
        _variables_json(variables)


def test_an_unencodable_variable_is_refused_naming_the_call_but_not_the_value() -> None:
    call = CallRecord()
    call.idempotency_key = "key-1"
    op = operation_info("query Price($note: String) { price(note: $note) }", "Price")
    secret = "4111111111111111 \ud800"
    with pytest.raises(ValidationError) as caught:
        encode_body(op, "query", "Price", {"note": secret}, call)
    error = caught.value
    assert (error.rule, error.code) == ("encodable", "CLIENT_VALIDATION")
    assert (error.operation, error.idempotency_key) == ("Price", "key-1")
    assert "4111111111111111" not in str(error)
