"""The generated API documents itself: help() on every operation and input model."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import pydoc
import re
import typing

import fluz_graphql
import pydantic
import pytest
from fluz_graphql import Client, input_types
from graphql import build_client_schema, build_schema, introspection_from_schema

import fluz.types
from fluz import FluzClient
from fluz import _constants as C
from fluz.sandbox._auth import REQUIRED_SCOPES

from .conftest import SCHEMA_PATH

OPERATIONS = sorted(
    name
    for name, method in vars(Client).items()
    if inspect.iscoroutinefunction(method)
    and not name.startswith("_")
    and name not in {"execute", "get_data", "execute_ws"}
)
ROOT_FIELD = re.compile(r"\(``(\w+)``\)\.")


def namespace() -> dict[str, typing.Any]:
    names: dict[str, typing.Any] = {}
    for module in pkgutil.iter_modules(fluz_graphql.__path__):
        names.update(vars(importlib.import_module(f"fluz_graphql.{module.name}")))
    return names


def test_there_are_64_operations() -> None:
    assert len(OPERATIONS) == 64


@pytest.mark.parametrize("name", OPERATIONS)
def test_every_operation_method_has_a_docstring_with_auth_scopes_and_errors(name: str) -> None:
    doc = inspect.getdoc(getattr(FluzClient, name))  # the wrapped method keeps it
    assert doc
    match = ROOT_FIELD.search(doc)
    assert match, doc
    root = match[1]
    auth = "Auth: Basic" if root in C.BASIC_AUTH_FIELDS else "Auth: Bearer"
    assert auth in doc
    scopes = REQUIRED_SCOPES.get(root)
    if scopes:  # the sandbox enforces them: the docs say the same
        assert f"Scopes: {', '.join(scopes)}." in doc
    assert "Docs: https://" in doc
    assert "Raises" in doc
    assert "ResponseDecodeError" in doc


def test_help_shows_what_the_operation_does_not_a_forward_reference() -> None:
    text = pydoc.render_doc(FluzClient.get_merchants, renderer=pydoc.plaintext)
    assert "The merchant catalog" in text
    assert "Scopes: LIST_OFFERS." in text


INPUT_MODELS = sorted(
    (
        obj
        for obj in vars(input_types).values()
        if isinstance(obj, type)
        and issubclass(obj, pydantic.BaseModel)
        and obj.__module__ == input_types.__name__
        and obj.__name__.endswith("Input")
    ),
    key=lambda cls: cls.__name__,
)


@pytest.mark.parametrize("model", INPUT_MODELS, ids=lambda cls: cls.__name__)
def test_every_input_model_documents_every_field(model: type[pydantic.BaseModel]) -> None:
    doc = inspect.getdoc(model) or ""
    assert "Attributes:" in doc
    for name in model.model_fields:
        assert re.search(rf"^    {name}: ``\w+: ", doc, re.MULTILINE), name


def test_money_rules_are_in_the_input_docs() -> None:
    doc = inspect.getdoc(input_types.PurchaseGiftCardInput) or ""
    assert "at most 2 decimal places" in doc
    assert "FluzClient fills in a UUID4" in doc


def test_root_field_descriptions_survive_introspection() -> None:
    schema = build_schema(SCHEMA_PATH.read_text(encoding="utf-8"))
    introspected = build_client_schema(introspection_from_schema(schema))
    for root in (introspected.query_type, introspected.mutation_type):
        assert root is not None
        undocumented = [name for name, field in root.fields.items() if not field.description]
        assert undocumented == []


def test_public_short_names_are_the_classes_the_client_returns() -> None:
    hints = {
        "purchase_gift_card": fluz.types.GiftCardPurchase,
        "get_wallet": fluz.types.Wallet,
        "reveal_gift_card_by_gift_card_id": fluz.types.GiftCardRedemption,
        "get_offer_quote": fluz.types.Offer,
    }
    names = namespace()
    for method, cls in hints.items():
        assert typing.get_type_hints(getattr(Client, method), names)["return"] is cls
    assert fluz.types.GiftCard.__name__ == "GiftCard"  # what repr() and mypy print
    assert issubclass(fluz.types.GiftCardPurchase, fluz.types.Purchase)
    assert set(fluz.types.__all__) <= set(vars(fluz.types))
