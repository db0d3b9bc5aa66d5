"""Client-side nullability (`@required` in queries/) and money typing in the generated code."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
import typing
import uuid
from decimal import Decimal

import fluz_graphql
import pytest
from fluz_graphql import Client
from fluz_graphql.fragments import GiftCard, UserPurchase
from fluz_graphql.purchase_gift_card import PurchaseGiftCardPurchaseGiftCard
from graphql import GraphQLObjectType, GraphQLString, build_schema, get_named_type, parse, validate

from fluz._codegen.plugin import MONEY_STRING_FIELDS

from .conftest import GENERATED_PACKAGE, SCHEMA_PATH

OPERATION_METHODS = [
    (name, method)
    for name, method in vars(Client).items()
    if inspect.iscoroutinefunction(method)
    and not name.startswith("_")
    and name not in {"execute", "get_data", "execute_ws"}
]


def hints(cls: type) -> dict[str, typing.Any]:
    return typing.get_type_hints(cls)


def namespace() -> dict[str, typing.Any]:
    """Every name of the generated package (the client imports its types lazily)."""
    names: dict[str, typing.Any] = {}
    for module in pkgutil.iter_modules(fluz_graphql.__path__):
        names.update(vars(importlib.import_module(f"fluz_graphql.{module.name}")))
    return names


def is_optional(annotation: object) -> bool:
    return type(None) in typing.get_args(annotation)


def test_every_operation_returns_its_object_not_an_optional() -> None:
    assert len(OPERATION_METHODS) == 64
    optional = []
    for name, method in OPERATION_METHODS:
        returned = typing.get_type_hints(method, namespace())["return"]
        if is_optional(returned):
            optional.append(name)
    assert optional == []


def test_lists_returned_by_operations_are_lists_of_objects() -> None:
    returned = typing.get_type_hints(Client.get_gift_cards, namespace())["return"]
    assert typing.get_origin(returned) is list
    (item,) = typing.get_args(returned)
    assert not is_optional(item)


def test_purchase_ids_are_uuids_without_none() -> None:
    assert hints(PurchaseGiftCardPurchaseGiftCard)["purchase_id"] is uuid.UUID
    gift_card = hints(PurchaseGiftCardPurchaseGiftCard)["gift_card"]
    assert gift_card is GiftCard
    assert hints(GiftCard)["gift_card_id"] is uuid.UUID
    assert hints(UserPurchase)["purchase_amount"] is Decimal
    # The fragment stays lenient where another operation may have no gift card.
    assert is_optional(hints(UserPurchase)["gift_card"])


def test_the_operation_text_sent_to_fluz_carries_no_client_directive() -> None:
    fluz_schema = build_schema(SCHEMA_PATH.read_text(encoding="utf-8"))  # Fluz's, no @required
    source = (GENERATED_PACKAGE / "client.py").read_text(encoding="utf-8")
    texts = re.findall(r'gql\(\s*"""(.*?)"""', source, flags=re.DOTALL)
    assert len(texts) == 64
    for text in texts:
        assert "@required" not in text
        assert validate(fluz_schema, parse(text)) == []


def test_money_fields_are_decimal_and_no_float_is_left() -> None:
    for path in GENERATED_PACKAGE.glob("*.py"):
        # (call_options.py: timeouts and deadlines are seconds, not money)
        if path.name in {"money.py", "async_base_client.py", "base_client.py", "call_options.py"}:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        floats = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == "float"]
        assert floats == [], path.name


def test_every_money_string_field_is_a_string_field_of_the_schema() -> None:
    # `make schema` could rename or retype one: then this fails instead of the amount
    # silently staying (or becoming) a str.
    schema = build_schema(SCHEMA_PATH.read_text(encoding="utf-8"))
    string_fields = {
        name
        for type_ in schema.type_map.values()
        if isinstance(type_, GraphQLObjectType) and not type_.name.startswith("__")
        for name, field in type_.fields.items()
        if get_named_type(field.type) is GraphQLString
    }
    assert string_fields >= MONEY_STRING_FIELDS


@pytest.mark.parametrize("amount", ["19.99", Decimal("25"), 7])
def test_money_results_dump_to_json_numbers_and_parse_back(amount: object) -> None:
    model = GiftCard.model_validate(
        {
            "giftCardId": str(uuid.uuid4()),
            "purchaserUserId": None,
            "status": None,
            "endDate": None,
            "createdAt": None,
            "termsAndConditions": None,
            "merchant": None,
        }
    )
    assert model.gift_card_id  # a UUID, no None check
    purchase = UserPurchase.model_validate(
        {
            **{f.alias or n: None for n, f in UserPurchase.model_fields.items()},
            "purchaseId": str(uuid.uuid4()),
            "purchaseAmount": amount,
        }
    )
    assert purchase.purchase_amount == Decimal(str(amount))
    dumped = purchase.model_dump(mode="json", by_alias=True)["purchaseAmount"]
    assert isinstance(dumped, int | float)
    assert UserPurchase.model_validate(
        {**purchase.model_dump(by_alias=True), "purchaseAmount": dumped}
    ).purchase_amount == Decimal(str(amount))
