"""The generated package: client surface, scalars, realistic responses, plugin behaviours.

Responses are produced by executing the client's own request against the schema with
graphql-core (default resolvers over fixture dicts) inside an ``httpx.MockTransport``:
the exact shape a GraphQL server sends, including nulls and ``__typename``.
"""

import ast
import builtins
import datetime
import importlib
import importlib.resources
import inspect
import json
import keyword
import pkgutil
import re
import sys
import typing
import uuid
from decimal import Decimal
from typing import Any

import fluz_graphql
import httpx
import pydantic
import pydantic_core
import pytest
from fluz_graphql import Client, enums, input_types
from graphql import DocumentNode, GraphQLSchema, OperationDefinitionNode, graphql_sync

from fluz._codegen.plugin import SECRET_FIELDS

from .conftest import GENERATED_PACKAGE, SCHEMA_PATH

URL = "https://fluz.test/graphql"
UTC = datetime.UTC
GIFT_CARD_ID = uuid.UUID("48713892-8dd4-41e6-9002-df8c03460692")
PURCHASE_ID = uuid.UUID("0b5bdf3e-3a7e-4f59-9a43-2d7f1a0c1e55")


def null_payload(model: type[pydantic.BaseModel]) -> dict[str, Any]:
    """A response object for ``model`` with every selected field present and null."""
    return {field.alias or name: None for name, field in model.model_fields.items()}


def snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def parameter_name(variable: str) -> str:
    """The generated Python name of a variable: snake_case, ``_`` after keywords and
    builtin type names (``$filter`` -> ``filter_``)."""
    name = snake_case(variable)
    shadows = keyword.iskeyword(name) or isinstance(getattr(builtins, name, None), type)
    return name + "_" if shadows else name


class Recorder:
    """A mock transport that runs each request against the schema with fixture data."""

    def __init__(self, schema: GraphQLSchema, root: dict[str, Any]) -> None:
        self.schema = schema
        self.root = root
        self.requests: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.requests.append(body)
        result = graphql_sync(
            self.schema,
            body["query"],
            root_value=self.root,
            variable_values=body.get("variables"),
            operation_name=body.get("operationName"),
        )
        assert result.errors is None, result.errors
        return httpx.Response(200, json={"data": result.data, "extensions": {"requestId": "r1"}})


def client_for(schema: GraphQLSchema, root: dict[str, Any]) -> tuple[Client, Recorder]:
    recorder = Recorder(schema, root)
    http = httpx.AsyncClient(transport=httpx.MockTransport(recorder))
    return Client(url=URL, http_client=http), recorder


def all_generated_models() -> list[type[pydantic.BaseModel]]:
    """Every pydantic model class of every generated module (result, fragment, input)."""
    models: dict[type[pydantic.BaseModel], None] = {}
    for module_info in pkgutil.iter_modules(fluz_graphql.__path__):
        module = importlib.import_module(f"fluz_graphql.{module_info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, pydantic.BaseModel)
                and value.__module__.startswith("fluz_graphql.")
            ):
                models[value] = None
    return list(models)


def type_namespace() -> dict[str, Any]:
    """Every exported name, for resolving the client's (lazy, string) annotations."""
    namespace: dict[str, Any] = {name: getattr(fluz_graphql, name) for name in fluz_graphql.__all__}
    namespace.update(vars(sys.modules["fluz_graphql.client"]))
    namespace.update(vars(sys.modules["fluz_graphql.base_model"]))
    return namespace


# ---------------------------------------------------------------- client surface


def test_client_has_a_typed_coroutine_method_per_operation(
    operations_document: DocumentNode,
) -> None:
    namespace = type_namespace()
    operations = [
        d for d in operations_document.definitions if isinstance(d, OperationDefinitionNode)
    ]
    assert len(operations) == 64
    for operation in operations:
        assert operation.name is not None
        method = getattr(Client, snake_case(operation.name.value))
        assert inspect.iscoroutinefunction(method), operation.name.value
        parameters = {
            name: p
            for name, p in inspect.signature(method).parameters.items()
            if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD and name != "self"
        }
        variables = {parameter_name(v.variable.name.value) for v in operation.variable_definitions}
        assert set(parameters) == variables, operation.name.value
        hints = typing.get_type_hints(method, globalns=namespace)
        assert set(hints) == {*variables, "kwargs", "return"}, operation.name.value
        if "input" in parameters:
            declared = operation.variable_definitions[0].type
            input_name = getattr(declared, "type", declared).name.value
            assert input_name in str(hints["input"]), operation.name.value


def test_method_names_read_well() -> None:
    for name in (
        "get_bins",
        "reveal_gift_card_by_gift_card_id",
        "purchase_gift_card",
        "generate_user_access_token",
        "refresh_user_access_token",
        "marco",
    ):
        assert callable(getattr(Client, name))
    assert list(inspect.signature(Client.refresh_user_access_token).parameters) == [
        "self",
        "refresh_token",
        "kwargs",
    ]


def test_generated_package_imports_nothing_from_fluz_or_the_generator() -> None:
    allowed = {
        "datetime",
        "enum",
        "importlib",
        "typing",
        "uuid",
        "decimal",
        "__future__",
        "json",
        "sys",
        "collections",
        "io",
        "contextlib",
        "asyncio",
        "httpx",
        "pydantic",
        "pydantic_core",
        "websockets",
    }
    imported: set[str] = set()
    for path in GENERATED_PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    assert imported - allowed == set()


def test_package_ships_the_exact_schema_and_py_typed() -> None:
    files = importlib.resources.files("fluz_graphql")
    assert files.joinpath("schema.graphql").read_bytes() == SCHEMA_PATH.read_bytes()
    assert files.joinpath("py.typed").is_file()


# ---------------------------------------------------------------- scalars


@pytest.mark.anyio
async def test_scalar_variables_go_out_as_json_strings(schema: GraphQLSchema) -> None:
    client, recorder = client_for(
        schema,
        {
            "getTransactions": {"totalCount": 0, "hasNextPage": False, "transactions": []},
            "revealGiftCardByGiftCardId": {"code": None, "pin": None, "url": None},
        },
    )
    record_id = uuid.uuid4()
    since = datetime.datetime(2025, 1, 15, 10, 30, tzinfo=UTC)
    until = datetime.datetime(
        2025, 1, 16, 8, 0, 0, 500000, tzinfo=datetime.timezone(datetime.timedelta(hours=2))
    )
    async with client:
        await client.get_transactions(
            filter_=input_types.TransactionFilterInput(
                recordId=[record_id], createdGte=since, createdLte=until
            ),
            paginate=input_types.OffsetInput(limit=20),
        )
        await client.reveal_gift_card_by_gift_card_id(gift_card_id=GIFT_CARD_ID)
    transactions, reveal = recorder.requests
    assert transactions["variables"] == {
        "filter": {
            "recordId": [str(record_id)],
            "createdGte": "2025-01-15T10:30:00Z",
            "createdLte": "2025-01-16T08:00:00.500000+02:00",
        },
        "paginate": {"limit": 20},
    }
    assert reveal["variables"] == {"giftCardId": str(GIFT_CARD_ID)}
    assert transactions["operationName"] == "GetTransactions"


def test_naive_datetime_variable_is_refused() -> None:
    naive = input_types.TransactionFilterInput(createdGte=datetime.datetime(2025, 1, 1))
    with pytest.raises(pydantic_core.PydanticSerializationError, match="timezone-aware"):
        naive.model_dump(by_alias=True, exclude_unset=True)


@pytest.mark.anyio
async def test_scalar_responses_parse_to_uuid_and_datetime(schema: GraphQLSchema) -> None:
    record_id = uuid.uuid4()
    client, _ = client_for(
        schema,
        {
            "getTransactions": {
                "totalCount": 4,
                "hasNextPage": False,
                "transactions": [
                    {"recordId": str(record_id), "createdAt": "2025-01-15T10:30:00.000Z"},
                    {"recordId": str(uuid.uuid4()), "createdAt": "2025-01-15T12:30:00+02:00"},
                    {"recordId": str(uuid.uuid4()), "createdAt": "2025-01-15T10:30:00"},
                    {"recordId": str(uuid.uuid4()), "createdAt": 1736937000},
                ],
            }
        },
    )
    async with client:
        result = await client.get_transactions()
    first, offset, naive, unix = result.transactions
    assert first.record_id == record_id
    assert first.created_at == datetime.datetime(2025, 1, 15, 10, 30, tzinfo=UTC)
    assert first.created_at.utcoffset() == datetime.timedelta(0)
    assert offset.created_at == first.created_at  # same instant, offset kept
    assert offset.created_at.utcoffset() == datetime.timedelta(hours=2)
    # No offset: kept naive, no zone guessed (see scalars.py).
    assert naive.created_at == datetime.datetime(2025, 1, 15, 10, 30)
    assert naive.created_at.tzinfo is None
    assert unix.created_at == first.created_at  # a number is Unix time


@pytest.mark.anyio
@pytest.mark.parametrize(
    "bad",
    [{"recordId": "not-a-uuid"}, {"createdAt": "yesterday"}, {"createdAt": "2025-13-01"}],
    ids=["uuid", "datetime-text", "datetime-month"],
)
async def test_malformed_scalars_are_rejected(schema: GraphQLSchema, bad: dict[str, Any]) -> None:
    client, _ = client_for(
        schema, {"getTransactions": {"totalCount": 1, "hasNextPage": False, "transactions": [bad]}}
    )
    async with client:
        with pytest.raises(pydantic.ValidationError):
            await client.get_transactions()


# ---------------------------------------------------------------- realistic responses


def offer(stock_info: list[dict[str, Any]], denominations_type: str) -> dict[str, Any]:
    return {
        "offerId": str(uuid.uuid4()),
        "offeringMerchantId": str(uuid.uuid4()),
        "type": "GIFT_CARD_OFFER",
        "hasStockInfo": True,
        "denominationsType": denominations_type,
        "offerRates": [{"maxUserRewardValue": 50.0, "denominations": ["10", "500"]}],
        "stockInfo": stock_info,
    }


@pytest.mark.anyio
async def test_offer_stock_info_members_are_discriminated_by_typename(
    schema: GraphQLSchema,
) -> None:
    fixed = offer(
        [
            {"__typename": "StockInfoFixedType", "denomination": "25", "availableStock": "200"},
            {"__typename": "StockInfoFixedType", "denomination": "50", "availableStock": "0"},
        ],
        "FIXED",
    )
    variable = offer(
        [
            {
                "__typename": "StockInfoVariableType",
                "description": "any amount",
                "minDenomination": "5",
                "maxDenomination": "500",
            }
        ],
        "VARIABLE",
    )
    client, _ = client_for(
        schema,
        {
            "getMerchants": [
                {
                    "merchantId": str(uuid.uuid4()),
                    "name": "Acme",
                    "slug": "acme",
                    "offers": [fixed, variable],
                }
            ]
        },
    )
    async with client:
        merchants = await client.get_merchants(name="Acme")
    offers = merchants[0].offers
    fixed_stock, variable_stock = offers[0].stock_info, offers[1].stock_info
    assert [type(s).__name__ for s in fixed_stock] == ["OfferStockInfoStockInfoFixedType"] * 2
    assert [(s.denomination, s.available_stock) for s in fixed_stock] == [
        (Decimal("25"), "200"),
        (Decimal("50"), "0"),
    ]
    (only,) = variable_stock
    assert type(only).__name__ == "OfferStockInfoStockInfoVariableType"
    assert (only.min_denomination, only.max_denomination) == (Decimal("5"), Decimal("500"))
    assert offers[0].denominations_type == enums.DenominationsType.FIXED


@pytest.mark.anyio
@pytest.mark.parametrize(
    "details",
    [
        {"code": "9877890000000000", "pin": "2014", "url": None},
        {"code": "ABCD-EFGH-1234", "pin": None, "url": None},
        {"code": None, "pin": None, "url": "https://merchant.example/redeem/xyz"},
        {"code": None, "pin": None, "url": None},
    ],
    ids=["code+pin", "code-only", "url-only", "not-ready"],
)
async def test_reveal_variants_parse(schema: GraphQLSchema, details: dict[str, Any]) -> None:
    client, _ = client_for(schema, {"revealGiftCardByGiftCardId": details})
    async with client:
        revealed = await client.reveal_gift_card_by_gift_card_id(gift_card_id=GIFT_CARD_ID)
    assert (revealed.code, revealed.pin, revealed.url) == (
        details["code"],
        details["pin"],
        details["url"],
    )


@pytest.mark.anyio
async def test_purchase_returns_the_user_purchase_with_its_gift_card(
    schema: GraphQLSchema,
) -> None:
    client, recorder = client_for(
        schema,
        {
            "purchaseGiftCard": {
                "purchaseId": str(PURCHASE_ID),
                "purchaseDisplayId": "P-1001",
                "purchaseAmount": 25.0,
                "fluzpayAmount": 25.0,
                "seatRewardValue": 0.75,
                "createdAt": "2025-01-15T10:30:00.000Z",
                "giftCard": {
                    "giftCardId": str(GIFT_CARD_ID),
                    "status": "ACTIVE",
                    "createdAt": "2025-01-15T10:30:01Z",
                    "merchant": {"merchantId": str(uuid.uuid4()), "name": "Acme", "slug": "acme"},
                },
                "virtualCard": None,
            }
        },
    )
    key = uuid.uuid4()
    async with client:
        purchase = await client.purchase_gift_card(
            input=input_types.PurchaseGiftCardInput(
                idempotencyKey=key, merchantSlug="acme", amount=25.0
            )
        )
    # ShorterResultsPlugin: the UserPurchase itself, not a {purchaseGiftCard: ...} wrapper.
    assert isinstance(purchase, fluz_graphql.UserPurchase)
    assert purchase.purchase_id == PURCHASE_ID
    assert purchase.gift_card.gift_card_id == GIFT_CARD_ID
    assert purchase.gift_card.status == enums.GiftCardStatus.ACTIVE
    assert purchase.gift_card.merchant.slug == "acme"
    assert purchase.virtual_card is None
    assert recorder.requests[0]["variables"]["input"] == {
        "idempotencyKey": str(key),
        "merchantSlug": "acme",
        "amount": 25.0,
    }


@pytest.mark.anyio
async def test_wallet_balances_parse(schema: GraphQLSchema) -> None:
    spend_account = {
        "userCashBalanceId": str(uuid.uuid4()),
        "nickname": "Ops",
        "status": "ACTIVE",
        "isDefault": True,
        "totalCashBalance": "100.00000",
        "availableCashBalance": "90.00000",
        "lifetimeCashBalance": "250.00000",
        "createdAt": "2024-11-02T08:00:00Z",
    }
    client, _ = client_for(
        schema,
        {
            "getWallet": {
                "blockedPaymentTypes": ["BANK_CARD"],
                "bankCards": [
                    {
                        "bankCardId": str(uuid.uuid4()),
                        "cardType": "DEBIT",
                        "lastFourDigits": "4242",
                        "cardStatus": "ACTIVE",
                    }
                ],
                "bankAccounts": [],
                "paypalAccounts": [],
                "balances": {
                    "rewardsBalance": {
                        "availableBalance": "5.00",
                        "totalBalance": "6.00",
                        "lifetimeBalance": "60.00",
                    },
                    "cashBalance": {
                        "availableBalance": "100.00",
                        "totalBalance": "110.00",
                        "pendingBalance": "10.00",
                        "lifetimeBalance": "900.00",
                    },
                    "giftCardCashBalance": None,
                    "userCashBalances": [spend_account],
                },
            }
        },
    )
    async with client:
        wallet = await client.get_wallet()
    balances = wallet.balances
    assert balances.cash_balance.pending_balance == Decimal("10.00")
    assert balances.rewards_balance.available_balance == Decimal("5.00")
    assert balances.gift_card_cash_balance is None
    assert balances.user_cash_balances[0].available_cash_balance == Decimal("90.00000")
    assert wallet.blocked_payment_types == [enums.PaymentMethodType.BANK_CARD]
    assert wallet.bank_cards[0].last_four_digits == "4242"


def test_unknown_enum_value_keeps_the_response_parseable() -> None:
    from fluz_graphql.delete_bank_card import DeleteBankCard

    card = {**null_payload(fluz_graphql.BankCard), "bankCardId": str(uuid.uuid4())}
    result = DeleteBankCard.model_validate(
        {"deleteBankCard": {**card, "cardType": "Visa", "cardStatus": "ACTIVE"}}
    )
    assert result.delete_bank_card.card_type == "Visa"
    assert isinstance(result.delete_bank_card.card_type, enums.BankCardType)
    assert result.delete_bank_card.card_type not in list(enums.BankCardType)
    assert result.delete_bank_card.card_status is enums.BankCardStatus.ACTIVE
    with pytest.raises(pydantic.ValidationError):
        DeleteBankCard.model_validate({"deleteBankCard": {**card, "cardType": 7}})


# ---------------------------------------------------------------- plugin behaviours


def idempotent_input_types(schema: GraphQLSchema) -> list[str]:
    return sorted(
        name
        for name, graphql_type in schema.type_map.items()
        if "idempotencyKey" in getattr(graphql_type, "fields", {}) and name.endswith("Input")
    )


def test_idempotency_keys_are_optional_in_generated_inputs(schema: GraphQLSchema) -> None:
    names = idempotent_input_types(schema)
    assert len(names) >= 8  # purchase, deposit, withdraw, transfers, virtual card, ...
    for name in names:
        model: type[pydantic.BaseModel] = getattr(input_types, name)
        field = model.model_fields["idempotency_key"]
        assert not field.is_required(), name
        assert field.default is None, name
        assert field.serialization_alias == "idempotencyKey", name


def test_idempotency_key_is_sent_only_when_set() -> None:
    without = input_types.PurchaseGiftCardInput(merchantSlug="acme", amount=5)
    assert "idempotencyKey" not in without.model_dump(by_alias=True, exclude_unset=True)
    key = uuid.uuid4()
    with_key = input_types.PurchaseGiftCardInput(idempotencyKey=key, merchantSlug="acme", amount=5)
    assert with_key.model_dump(by_alias=True, exclude_unset=True)["idempotencyKey"] == str(key)
    filled = without.model_copy(update={"idempotency_key": key})
    assert filled.model_dump(by_alias=True, exclude_unset=True)["idempotencyKey"] == str(key)


def test_models_declare_no_private_attributes() -> None:
    # A declared private attribute is initialised in Python for every instance, which
    # doubled the validation time of a result page; FluzClient keeps its metadata outside.
    for model in all_generated_models():
        assert model.__private_attributes__ == {}, model.__name__


def test_equality_compares_field_data() -> None:
    from fluz_graphql.reveal_gift_card_by_gift_card_id import RevealGiftCardByGiftCardId

    payload = {"revealGiftCardByGiftCardId": {"code": "C", "pin": None, "url": None}}
    first = RevealGiftCardByGiftCardId.model_validate(payload)
    assert first == RevealGiftCardByGiftCardId.model_validate(payload)
    assert first == first.model_copy()
    assert RevealGiftCardByGiftCardId.model_validate(first.model_dump(by_alias=True)) == first
    other = RevealGiftCardByGiftCardId.model_validate(
        {"revealGiftCardByGiftCardId": {"code": "D", "pin": None, "url": None}}
    )
    assert first != other
    assert first != "C"


# ---------------------------------------------------------------- secrets


def secret_field_names(model: type[pydantic.BaseModel]) -> list[str]:
    """Python names of the fields whose GraphQL name is listed as secret."""
    return [
        name
        for name, field in model.model_fields.items()
        if (field.serialization_alias or field.alias or name) in SECRET_FIELDS
    ]


def test_no_generated_model_shows_a_secret_in_its_repr() -> None:
    # Every model of every generated module, found by field name: a new operation or
    # input selecting a secret field is covered without being listed here.
    hidden: set[tuple[str, str]] = set()
    for model in all_generated_models():
        names = secret_field_names(model)
        if not names:
            continue
        canaries = {name: f"canary-{model.__name__}-{name}" for name in names}
        values: dict[str, Any] = dict.fromkeys(model.model_fields, None) | canaries
        instance = model.model_construct(**values)
        assert repr(instance).startswith(f"{model.__name__}(")
        for text in (repr(instance), str(instance)):
            leaked = [name for name, canary in canaries.items() if canary in text]
            assert not leaked, f"{model.__name__}: {leaked} shown in {text!r}"
        assert {name: getattr(instance, name) for name in names} == canaries
        hidden.update((model.__name__, name) for name in names)
    assert {
        ("GiftCardRedemption", "code"),
        ("GiftCardRedemption", "pin"),
        ("GiftCardRedemption", "url"),
        ("RevealedVirtualCard", "card_number"),
        ("RevealedVirtualCard", "cvv"),
        ("UserAccessToken", "token"),
        ("UserAccessToken", "access_token"),
        ("UserAccessToken", "refresh_token"),
        ("AddBankCardInput", "card_number"),
        ("AddBankCardInput", "cvv"),
        ("RequestVirtualCardInput", "virtual_card_pin"),
        ("CompletePlaidLinkInput", "public_token"),
    } <= hidden


def test_secrets_stay_out_of_nested_reprs_but_in_the_data() -> None:
    from fluz_graphql.reveal_gift_card_by_gift_card_id import RevealGiftCardByGiftCardId

    details = {"code": "canary-code-1", "pin": "canary-pin-2", "url": "https://r.test/canary-3"}
    revealed = RevealGiftCardByGiftCardId.model_validate({"revealGiftCardByGiftCardId": details})
    card = input_types.AddBankCardInput(
        cardNumber="4111111111111111",
        expirationMonth="12",
        expirationYear="2030",
        cvv="987",
        cardholderName="Ada Lovelace",
        userAddressId=uuid.uuid4(),
    )
    for text in (repr(revealed), str(revealed)):
        assert not [value for value in details.values() if value in text], text
    assert "4111111111111111" not in repr(card)
    assert "987" not in repr(card)
    assert "cardholder_name='Ada Lovelace'" in repr(card)  # the rest is still shown
    assert revealed.model_dump(by_alias=True) == {"revealGiftCardByGiftCardId": details}
    sent = card.model_dump(by_alias=True, exclude_unset=True)
    assert (sent["cardNumber"], sent["cvv"]) == ("4111111111111111", "987")


def test_validation_errors_of_generated_models_do_not_echo_input_values() -> None:
    canary = "4111111111111111-canary"
    # fluz.ValidationError once fluz is imported (as here), pydantic's error otherwise:
    # both are ValueErrors.
    with pytest.raises(ValueError, match="cvv") as raised:
        input_types.AddBankCardInput(
            cardNumber=canary,
            expirationMonth="01",
            expirationYear="2030",
            cvv=987654321,  # wrong type: pydantic would normally quote it back
            cardholderName="A B",
        )
    text = str(raised.value)  # what tracebacks and logs show
    assert "cvv" in text  # the location is still named
    assert "987654321" not in text
    assert canary not in text
