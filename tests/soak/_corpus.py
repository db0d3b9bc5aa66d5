"""Scenario 4, the bad-input corpus: every case ends in a typed FluzError with a clear
message, or (for documented leniencies) is accepted with the value preserved.

Client-side cases are knowably bad input: the client must refuse them before sending
(the sandbox must see no request). Server-side cases are bad responses, served over a
real socket by :class:`~tests.soak._raw_server.RawServer` so that the whole httpx stack
runs. Each case is bounded by a deadline (no hang), any other exception is a crash, and
every error's str, repr and traceback go through the secret watch.

Decisions the corpus pins down:

* Responses are capped at ``fluz._constants.MAX_RESPONSE_BYTES`` (10 MiB, decompressed):
  a 50 MB body or a gzip bomb is a ResponseDecodeError, not 50 MB (or 1 GB) in memory.
* Enums are open: an unknown value (Fluz adds values without notice) is accepted and kept.
* ``NaN``/``Infinity`` are not JSON: a body using them is a ResponseDecodeError, never a
  NaN amount.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import math
import uuid
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx
from anyio.abc import SocketStream
from fluz_graphql.input_types import (
    AddBankCardInput,
    AddressInput,
    GetOfferQuoteInput,
    OffsetInput,
    PurchaseGiftCardInput,
    TransferInternalBalanceInput,
    UserLookupInput,
)

from fluz import (
    APIError,
    AuthenticationError,
    ConfigurationError,
    FluzClient,
    FluzError,
    FluzTimeoutError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ResponseDecodeError,
    ServerError,
    TransportError,
    ValidationError,
)

from ._canaries import SecretWatch
from ._harness import CANARY_PREFIX, Result, SandboxHandle, Stopwatch, make_client
from ._raw_server import (
    Handler,
    RawServer,
    graphql_body,
    http_response,
    jwt,
    replying,
    reset,
)

CASE_TIMEOUT = 15.0  # s: a case still running then is a hang
API_KEY = CANARY_PREFIX + "APIKEY-d3adb33f-0123456789abcdef"
TOKEN = jwt(canary=CANARY_PREFIX + "TOKEN")
CARD_NUMBER = CANARY_PREFIX + "4111111111111111"
CVV = CANARY_PREFIX + "CVV"
USER_ID = str(uuid.UUID(int=1))
ACCOUNT_ID = str(uuid.UUID(int=2))
CARD_ID = str(uuid.UUID(int=3))
FIFTY_MB = 50 * 2**20

Call = Callable[[FluzClient], Awaitable[Any]]


@dataclass
class Case:
    """One bad input or bad response.

    ``expect`` is the FluzError subclass the call must raise, or None when the documented
    behaviour is to accept (then ``accept`` checks the returned value). ``mentions`` must
    appear in the message. A client-side case's ``call`` gets a client to the sandbox (or
    builds its own client); a server-side case's gets a client to its raw handler."""

    name: str
    call: Call
    expect: type[FluzError] | None
    mentions: str = ""
    handler: Handler | None = None  # server-side: what the raw server answers
    accept: Callable[[Any], bool] | None = None
    client_options: dict[str, Any] = field(default_factory=dict)
    # Client-side input the client cannot judge (a limit only the server knows): it is
    # sent, and the server's refusal must arrive typed.
    sends: bool = False

    @property
    def side(self) -> str:
        return "server" if self.handler is not None else "client"


# ---------------------------------------------------------------------------- client side


def purchase(**fields: Any) -> Call:
    """purchase_gift_card with an input built without validation, as bad as given (the
    way a caller's dict or a deserialised message can be)."""
    fields = {"merchantSlug": "amazon", "amount": 25, **fields}
    return lambda f: f.purchase_gift_card(input=PurchaseGiftCardInput.model_construct(**fields))


def construct(sandbox: SandboxHandle, **options: Any) -> Call:
    """Build a FluzClient for the sandbox with these options (the call is the build)."""

    async def build(_: FluzClient) -> FluzClient:
        settings: dict[str, Any] = {
            "api_key": sandbox.api_key,
            "user_id": sandbox.user_id,
            "account_id": sandbox.account_id,
            "url": sandbox.url,
        }
        settings.update(options)
        settings = {k: v for k, v in settings.items() if v is not _DROP}
        client = FluzClient(**settings)
        await client.aclose()
        return client

    return build


_DROP = object()


def bank_card(**extra: Any) -> AddBankCardInput:
    address = AddressInput(
        streetAddressLine1="1 Main St", country="US", city="Austin", state="TX", postalCode="78701"
    )
    return AddBankCardInput(
        cardNumber=CARD_NUMBER,
        expirationMonth="12",
        expirationYear="2030",
        cvv=CVV,
        cardholderName="Casey Canary",
        billingAddress=address,
        **extra,
    )


def client_cases(sandbox: SandboxHandle) -> list[Case]:
    ids = sandbox.seed_data
    transfer = TransferInternalBalanceInput(
        amount=1,
        idempotencyKey="  ",
        sourceUserCashBalanceId=ids.cash_balance_id,
        destinationUserCashBalanceId=ids.second_cash_balance_id,
    )
    V, K = ValidationError, ConfigurationError  # short: one case per line
    # fmt: off
    return [
        # -- amounts
        Case("amount negative", purchase(amount=-5), V, "amount"),
        Case("amount zero", purchase(amount=0), V, "amount"),
        Case("amount NaN", purchase(amount=math.nan), V, "finite"),
        Case("amount +infinity", purchase(amount=math.inf), V, "finite"),
        Case("amount -infinity", purchase(amount=-math.inf), V, "finite"),
        Case("amount 3 decimals", purchase(amount=10.001), V, "decimal"),
        Case("amount sub-cent", purchase(amount=0.001), V, "decimal"),
        Case("amount huge (1e300)", purchase(amount=1e300), V, "amount", sends=True),
        Case("amount huge int (10**30)", purchase(amount=10**30), V, "amount", sends=True),
        Case("amount not a number", purchase(amount="ten"), V, "amount", sends=True),
        Case("balanceAmount negative", purchase(balanceAmount=-1), V, "balance"),
        # -- purchase rules
        Case("offerId and merchantSlug both", purchase(offerId=uuid.uuid4()), V, "exactly one"),
        Case("offerId and merchantSlug neither", purchase(merchantSlug=None), V, "exactly one"),
        Case("no funding source", purchase(defaultToBalance=False), V, "funding source"),
        Case("offerId not a UUID", purchase(merchantSlug=None, offerId="not-a-uuid"), V, "offer",
             sends=True),
        Case("blank idempotency key",
             lambda f: f.transfer_internal_balance(input=transfer), V, "idempotency"),
        Case("lone surrogate in memo", purchase(memo="\ud800"), V, "encod"),
        Case("lookup with phone and email", lambda f: f.lookup_user(
            input=UserLookupInput(phoneNumber="+15555550100", email="a@example.com")),
             V, "exactly one"),
        Case("quote with neither slug", lambda f: f.get_offer_quote(
            input=GetOfferQuoteInput(denomination=25)), V, "exactly one"),
        Case("bank card with address and address id", lambda f: f.add_bank_card(
            input=bank_card(userAddressId=ids.address_id)), V, "exactly one"),
        # -- UUID arguments
        Case("gift card id not a UUID (helper)",
             lambda f: f.reveal_gift_card("gift-card-7"), V, "UUID"),
        Case("gift card id not a UUID (operation)",
             lambda f: f.reveal_gift_card_by_gift_card_id(gift_card_id="gift-card-7"), V, "UUID"),
        Case("user id not a UUID", lambda f: f.get_accounts_by_user_id(user_id="12345"), V,
             "UUID"),
        Case("for_user with a bad id", _sync(lambda f: f.for_user("nope", ACCOUNT_ID)), K,
             "UUID"),
        # -- pagination
        Case("limit 21", lambda f: f.get_merchants(paginate=OffsetInput(limit=21)), V, "limit"),
        Case("limit 0", lambda f: f.get_merchants(paginate=OffsetInput(limit=0)), V, "limit"),
        Case("offset -1", lambda f: f.get_gift_cards(paginate=OffsetInput(offset=-1)), V,
             "offset"),
        Case("page_size 50", lambda f: _first(f.iter_merchants(page_size=50)), V, "20"),
        # -- scopes
        Case("empty scopes", construct(sandbox, scopes=[]), K, "scopes"),
        Case("unknown scope", construct(sandbox, scopes=["GODMODE"]), K, "GODMODE"),
        Case("token with no scopes", lambda f: f.generate_user_access_token(
            user_id=uuid.UUID(sandbox.user_id), account_id=uuid.UUID(sandbox.account_id),
            scopes=[]), V, "scopes"),
        # -- URLs and configuration
        Case("ftp:// URL", construct(sandbox, url="ftp://fluz.example/graphql"), K, "https"),
        Case("not a URL", construct(sandbox, url="not a url"), K, "url"),
        Case("https:// without host", construct(sandbox, url="https://"), K, "https"),
        Case("http:// to a remote host",
             construct(sandbox, url="http://api.example.com/graphql"), K, "loopback"),
        Case("http:// to a private address",
             construct(sandbox, url="http://10.0.0.1/graphql"), K, "loopback"),
        Case("http:// to 127.0.0.1.<remote domain>",
             construct(sandbox, url="http://127.0.0.1.example.com/graphql"), K, "loopback"),
        Case("http:// to localhost.<remote domain>",
             construct(sandbox, url="http://localhost.example.com/graphql"), K, "loopback"),
        Case("URL with a line break",
             construct(sandbox, url="https://api.example.com/\r\nX: 1"), K, "url"),
        Case("URL with an unclosed IPv6 bracket",
             construct(sandbox, url="https://[::1/graphql"), K, "url"),
        Case("unknown environment", construct(sandbox, url=_DROP, environment="prod"), K,
             "environment"),
        Case("missing API key", construct(sandbox, api_key=""), K, "API key"),
        Case("API key with a line break",
             construct(sandbox, api_key=API_KEY + "\r\nX-Evil: 1"), K, "API key"),
        Case("API key not ASCII", construct(sandbox, api_key=API_KEY + "\u00e9"), K, "API key"),
        Case("user id not a UUID (config)", construct(sandbox, user_id="sam"), K, "user_id"),
        Case("negative max_retries", construct(sandbox, max_retries=-1), K, "max_retries"),
        # -- polling options
        Case("reveal timeout 0", lambda f: f.reveal_gift_card(CARD_ID, timeout=0), V, "timeout"),
        Case("reveal timeout NaN", lambda f: f.reveal_gift_card(CARD_ID, timeout=math.nan), V,
             "timeout"),
        Case("reveal negative delay",
             lambda f: f.reveal_gift_card(CARD_ID, initial_delay=-1), V, "delay"),
        Case("reveal multiplier below 1",
             lambda f: f.reveal_gift_card(CARD_ID, multiplier=0.5), V, "multiplier"),
        # -- size
        Case("2 MB memo", purchase(memo="x" * 2_000_000), V, "1048576", sends=True),
    ]
    # fmt: on


def _sync(make: Callable[[FluzClient], Any]) -> Call:
    async def call(fluz: FluzClient) -> Any:
        return make(fluz)

    return call


async def _first(iterator: Any) -> Any:
    async for item in iterator:
        return item
    return None


# ---------------------------------------------------------------------------- server side


def gql(payload: Any, status: int = 200, **options: Any) -> Handler:
    raw = payload if isinstance(payload, bytes) else graphql_body(payload)
    return replying(http_response(status, raw, **options))


def echo_credentials(status: int, html: bool) -> Handler:
    """A body quoting the request's Authorization header back (proxies do such things)."""

    async def handle(stream: SocketStream, request: dict[str, Any]) -> None:
        credentials = request["headers"].get("authorization", "")
        text = f"denied: {credentials} (api key {API_KEY}, token {TOKEN})"
        if html:
            body = f"<html><body><h1>{status}</h1><p>{text}</p></body></html>".encode()
            await stream.send(http_response(status, body, content_type="text/html"))
        else:
            error = {"message": text, "extensions": {"code": "AUTH-0002"}}
            await stream.send(http_response(status, graphql_body({"errors": [error]})))

    return handle


def truncated(declared: int, sent: bytes) -> Handler:
    async def handle(stream: SocketStream, request: dict[str, Any]) -> None:
        await stream.send(http_response(200, sent, content_length=declared))
        await stream.aclose()

    return handle


def truncated_chunked() -> Handler:
    async def handle(stream: SocketStream, request: dict[str, Any]) -> None:
        head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked"
        await stream.send(f'{head}\r\n\r\n10\r\n{{"data": {{"get\r\n'.encode())
        await stream.aclose()

    return handle


def fifty_megabytes(chunked: bool) -> Handler:
    """A valid GraphQL body of 50 MB, streamed; stops once the client hangs up."""
    filler = b"x" * 2**20

    async def handle(stream: SocketStream, request: dict[str, Any]) -> None:
        start = b'{"data": {"marco": "'
        end = b'"}}'
        size = len(start) + FIFTY_MB + len(end)
        if chunked:
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            await stream.send(head + b"Transfer-Encoding: chunked\r\n\r\n")
        else:
            await stream.send(http_response(200, b"", content_length=size))
        try:
            for part in (start, *([filler] * 50), end):
                await stream.send(b"%x\r\n%s\r\n" % (len(part), part) if chunked else part)
            if chunked:
                await stream.send(b"0\r\n\r\n")
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            pass

    return handle


def gzip_bomb() -> Handler:
    """64 MB of JSON in 64 KB of gzip (the client must stop inflating at its cap)."""
    body = gzip.compress(b'{"data": {"marco": "' + b"0" * (64 * 2**20) + b'"}}', 6)

    async def handle(stream: SocketStream, request: dict[str, Any]) -> None:
        response = http_response(200, body, headers={"Content-Encoding": "gzip"})
        with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
            await stream.send(response)

    return handle


async def never_answers(stream: SocketStream, request: dict[str, Any]) -> None:
    await anyio.sleep_forever()


async def resets(stream: SocketStream, request: dict[str, Any]) -> None:
    await reset(stream)


async def closes(stream: SocketStream, request: dict[str, Any]) -> None:
    await stream.aclose()


def data(field_name: str, value: Any, **extra: Any) -> dict[str, Any]:
    return {"data": {field_name: value}, **extra}


PURCHASE = {
    "purchaseId": str(uuid.UUID(int=10)),
    "purchaseDisplayId": "GC-1",
    "purchaseBankCardId": None,
    "bankAccountId": None,
    "paypalVaultId": None,
    "purchaseAmount": 25.0,
    "fluzpayAmount": 25.0,
    "seatRewardValue": 0.75,
    "createdAt": "2025-01-15T10:30:00Z",
    "memo": None,
    "transactionCategory": None,
    "attachmentUrl": None,
    "giftCard": None,
    "virtualCard": None,
}
GIFT_CARD = {
    "giftCardId": CARD_ID,
    "purchaserUserId": USER_ID,
    "status": "FROZEN_BY_ISSUER",
    "endDate": None,
    "createdAt": "2025-01-15T10:30:00Z",
    "termsAndConditions": None,
    "merchant": {"merchantId": str(uuid.UUID(int=4)), "name": "Shop", "slug": "shop"},
}


def wallet(f: FluzClient) -> Awaitable[Any]:
    return f.get_wallet()


def buy(f: FluzClient) -> Awaitable[Any]:
    return f.purchase_gift_card(input=PurchaseGiftCardInput(merchantSlug="amazon", amount=25))


def marco(f: FluzClient) -> Awaitable[Any]:
    return f.marco()


def server_cases() -> list[Case]:
    error = {"message": "no such recipient", "extensions": {"code": "RC-0001"}}
    leaky = f"card {CARD_NUMBER} code 4111-1111-1111-1111 token {TOKEN} key {API_KEY} rejected"
    html = {"content_type": "text/html"}
    D, T = ResponseDecodeError, TransportError  # short: one case per line
    nan_purchase = data("purchaseGiftCard", {**PURCHASE, "purchaseAmount": math.nan})
    # fmt: off
    return [
        # -- not JSON, or not a GraphQL response
        Case("malformed JSON", wallet, D, "not a GraphQL", gql(b'{"data": {"getWallet": ')),
        Case("HTML 502 page", wallet, ServerError, "502",
             gql(b"<h1>502 Bad Gateway</h1>", 502, reason="Bad Gateway", **html)),
        Case("HTML 200 page (captive portal)", wallet, D, "not a GraphQL",
             gql(b"<form>Sign in to Wi-Fi</form>", **html)),
        Case("HTML 401 quoting the credentials", wallet, AuthenticationError, "401",
             echo_credentials(401, html=True)),
        Case("JSON 401 quoting the credentials", marco, AuthenticationError, "denied",
             echo_credentials(401, html=False)),
        Case("empty 200 body", wallet, D, "not a GraphQL", gql(b"")),
        Case("204 No Content", wallet, D, "not a GraphQL", gql(b"", 204, reason="No Content")),
        Case("body is JSON null", wallet, D, "not a GraphQL", gql(b"null")),
        Case("body is a JSON list", wallet, D, "not a GraphQL", gql([1, 2])),
        Case("invalid UTF-8", wallet, D, "not a GraphQL",
             gql(b'{"data": {"getWallet": "\xff\xfe"}}')),
        Case("JSON nested 100,000 deep", wallet, D, "not a GraphQL",
             gql(b'{"data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")),
        Case("NaN amount (not JSON)", buy, D, "not a GraphQL",
             gql(json.dumps(nan_purchase).encode())),
        # -- broken transfers (real sockets)
        Case("truncated body", wallet, T, "RemoteProtocolError",
             truncated(1000, b'{"data": {"getWallet": {"bankCards": [')),
        Case("truncated chunked body", wallet, T, "RemoteProtocolError", truncated_chunked()),
        Case("truncated purchase response keeps the key", buy, T, "RemoteProtocolError",
             truncated(800, b'{"data": {"purchaseGiftCard": {"purchaseId": "')),
        Case("connection reset", wallet, T, "ReadError", resets),
        Case("connection closed without a response", wallet, T, "RemoteProtocolError", closes),
        # timeout=0.5 bounds the whole call too: the deadline ends it.
        Case("no response at all (read timeout)", wallet, FluzTimeoutError, "deadline",
             never_answers, client_options={"timeout": 0.5}),
        Case("garbage status line", wallet, T, "RemoteProtocolError",
             replying(b"HTTP/1.1 abc\r\n\r\n", close=True)),
        Case("200 KB header", wallet, T, "RemoteProtocolError",
             replying(b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n", close=True)),
        Case("bad Content-Length", wallet, T, "RemoteProtocolError",
             replying(b"HTTP/1.1 200 OK\r\nContent-Length: lots\r\n\r\n{}", close=True)),
        # -- size
        Case("50 MB response", marco, D, "larger than", fifty_megabytes(chunked=False)),
        Case("50 MB chunked response", marco, D, "larger than", fifty_megabytes(chunked=True)),
        Case("50 MB purchase response keeps the key", buy, D, "larger than",
             fifty_megabytes(chunked=False)),
        Case("gzip bomb (64 MB inflated)", marco, D, "larger than", gzip_bomb()),
        # -- JSON that does not fit the schema
        Case("required fields missing", buy, D, "missing",
             gql(data("purchaseGiftCard", {"purchaseDisplayId": "GC-1"}))),
        Case("amount of the wrong type", buy, D, "purchaseAmount",
             gql(data("purchaseGiftCard", {**PURCHASE, "purchaseAmount": "lots"}))),
        Case("string field as a number", marco, D, "marco", gql(data("marco", 5))),
        Case("UUID field not a UUID", buy, D, "purchaseId",
             gql(data("purchaseGiftCard", {**PURCHASE, "purchaseId": "P-1"}))),
        Case("number with 10,000 digits", buy, D, "not a GraphQL",
             gql(b'{"data": {"purchaseGiftCard": {"purchaseAmount": ' + b"9" * 10_000 + b"}}}")),
        Case("data is a list", wallet, D, "data", gql({"data": [1]})),
        Case("data null without errors", wallet, D, "data", gql({"data": None})),
        Case("unknown enum value (accepted, kept)",
             lambda f: f.get_gift_cards(paginate=OffsetInput(limit=1)), None, "",
             gql(data("getGiftCards", [GIFT_CARD])),
             accept=lambda cards: cards[0].status == "FROZEN_BY_ISSUER"),
        Case("UTF-8 BOM before the JSON (accepted)", marco, None, "",
             gql(b'\xef\xbb\xbf{"data": {"marco": "polo"}}'), accept=lambda v: v == "polo"),
        Case("JSON labelled text/html (accepted)", marco, None, "",
             gql(data("marco", "polo"), **html), accept=lambda v: v == "polo"),
        # -- GraphQL errors
        Case("errors without data", wallet, NotFoundError, "recipient", gql({"errors": [error]})),
        Case("errors with data null", wallet, NotFoundError, "recipient",
             gql({"errors": [error], "data": None})),
        Case("errors with partial data", wallet, NotFoundError, "recipient",
             gql({"errors": [error], "data": {"getWallet": None}})),
        Case("error code unknown", wallet, APIError, "XYZ-0001",
             gql({"errors": [{"message": "odd", "extensions": {"code": "XYZ-0001"}}]})),
        Case("error without code or message", wallet, APIError, "GraphQL error",
             gql({"errors": [{}]})),
        Case("errors not objects", wallet, APIError, "malformed", gql({"errors": [1, "two"]})),
        Case("errors not a list", wallet, D, "errors", gql({"errors": "boom"})),
        Case("error quoting secrets", wallet, PermissionDeniedError, "rejected",
             gql({"errors": [{"message": leaky, "extensions": {"code": "AUTH-0001"}}]})),
        Case("success: false payload", wallet, PermissionDeniedError, "not permitted",
             gql(data("getWallet", {"success": False, "error": {
                 "code": "AUTH-0001", "message": "not permitted for this portal"}}))),
        Case("success: false without error", wallet, APIError, "success: false",
             gql(data("getWallet", {"success": False}))),
        # -- HTTP statuses
        Case("429 with Retry-After 3600 (not waited)", wallet, RateLimitedError, "429",
             gql(b"", 429, reason="Too Many Requests", headers={"Retry-After": "3600"})),
        Case("503 on every attempt", wallet, ServerError, "503",
             gql({"errors": [{"message": "down", "extensions": {"code": "GE-9999"}}]}, 503)),
        Case("500 GE-9999", wallet, ServerError, "GE-9999",
             gql({"errors": [{"message": "oops", "extensions": {"code": "GE-9999"}}]}, 500)),
        Case("404 HTML (wrong URL)", wallet, APIError, "check the client's url",
             gql(b"Not Found", 404, reason="Not Found", **html)),
        Case("301 redirect", wallet, APIError, "301",
             gql(b"", 301, reason="Moved", headers={"Location": "https://elsewhere.example/"})),
        Case("user token rejected on every call", wallet, AuthenticationError, "GetWallet",
             gql({"errors": [{"message": "expired", "extensions": {"code": "AUTH-0008"}}]})),
    ]
    # fmt: on


def token_cases() -> list[Case]:
    """Cases whose bad response is the token call's (the raw server passes token calls to
    the case handler when the case's path starts with ``token-``)."""
    no_token = {"token": None, "accessToken": None, "refreshToken": None, "scopes": []}
    refused = {"message": "Incorrect auth details", "extensions": {"code": "AUTH-0002"}}
    # fmt: off
    return [
        Case("token- response without a token", wallet, ResponseDecodeError, "token",
             gql(data("generateUserAccessToken", no_token))),
        Case("token- API key refused", wallet, AuthenticationError, "AUTH-0002",
             gql({"errors": [refused]}, 401)),
    ]
    # fmt: on


# ---------------------------------------------------------------------------- running


@dataclass
class Outcome:
    case: Case
    verdict: str  # "typed", "accepted", or what went wrong
    detail: str = ""
    error: FluzError | None = None
    requests: int = 0  # requests the sandbox saw for a client-side case


async def run_case(case: Case, fluz: FluzClient, watch: SecretWatch) -> Outcome:
    try:
        with anyio.fail_after(CASE_TIMEOUT), warnings.catch_warnings():
            # pydantic warns when serialising the deliberately mistyped inputs
            warnings.simplefilter("ignore", UserWarning)
            value = await case.call(fluz)
    except FluzError as exc:
        watch.scan_object(exc, f"corpus case {case.name!r}")
        message = str(exc)
        if case.expect is None or not isinstance(exc, case.expect):
            return Outcome(case, "wrong type", f"{type(exc).__name__}: {message[:300]}", exc)
        if not exc.message.strip() or case.mentions.lower() not in message.lower():
            return Outcome(case, "unclear message", message[:300], exc)
        return Outcome(case, "typed", f"{type(exc).__name__}: {message[:300]}", exc)
    except TimeoutError:
        return Outcome(case, "hang")
    except Exception as exc:
        watch.scan_object(exc, f"corpus case {case.name!r}")
        return Outcome(case, "crash", f"{type(exc).__name__}: {str(exc)[:300]}")
    watch.scan_object(value, f"corpus case {case.name!r} result")
    if case.expect is not None:
        return Outcome(case, "no error", repr(value)[:300])
    if case.accept is not None and not case.accept(value):
        return Outcome(case, "wrong value", repr(value)[:300])
    return Outcome(case, "accepted")


async def run_corpus(sandbox: SandboxHandle, watch: SecretWatch) -> list[Outcome]:
    """Every case, in order: client-side against the sandbox, then server-side."""
    watch.add_api_key(API_KEY)
    watch.add(TOKEN)
    outcomes: list[Outcome] = []
    async with make_client(sandbox, watch, max_retries=0) as fluz:
        await fluz.get_wallet()  # the token first: a client-side case must send nothing
        for case in client_cases(sandbox):
            before = sandbox.counters().requests
            outcome = await run_case(case, fluz, watch)
            outcome.requests = sandbox.counters().requests - before
            outcomes.append(outcome)
    server_side = server_cases() + token_cases()
    handlers = {_path(c): c.handler for c in server_side if c.handler is not None}
    async with RawServer(handlers, TOKEN) as raw:
        for case in server_side:
            options = {
                "max_retries": 1,
                "retry_base_delay": 0.01,
                "retry_max_delay": 0.02,
                "timeout": httpx.Timeout(5.0),
                **case.client_options,
            }
            async with FluzClient(
                api_key=API_KEY,
                user_id=USER_ID,
                account_id=ACCOUNT_ID,
                url=raw.url(_path(case)),
                **options,
            ) as fluz:
                outcome = await run_case(case, fluz, watch)
            if outcome.error is not None and case.call is buy and not outcome.error.idempotency_key:
                outcome = Outcome(case, "no idempotency key", outcome.detail, outcome.error)
            outcomes.append(outcome)
    return outcomes


async def bad_input_corpus(sandbox: SandboxHandle, watch: SecretWatch) -> Result:
    with Stopwatch() as clock:
        outcomes = await run_corpus(sandbox, watch)
    client_side = [o for o in outcomes if o.case.side == "client"]
    bad = [o for o in outcomes if o.verdict not in ("typed", "accepted")]
    leaked_requests = [o.case.name for o in client_side if o.requests and not o.case.sends]
    verdicts: dict[str, int] = {}
    for o in outcomes:
        verdicts[o.verdict] = verdicts.get(o.verdict, 0) + 1
    result = Result(
        "4. bad input corpus",
        f"{len(outcomes)} cases ({len(client_side)} client, "
        f"{len(outcomes) - len(client_side)} server)",
    )
    result.seconds = clock.wall
    result.figures = {
        "typed FluzError": verdicts.get("typed", 0),
        "accepted as documented": sum(o.verdict == "accepted" for o in outcomes),
        "refused before sending": sum(not o.case.sends for o in client_side),
        "hangs": verdicts.get("hang", 0),
        "crashes": verdicts.get("crash", 0),
    }
    if bad:
        result.figures["failing"] = "; ".join(f"{o.case.name}: {o.verdict} {o.detail}" for o in bad)
    result.check("at least 60 cases", len(outcomes) >= 60)
    result.check("every case typed or accepted as documented", not bad)
    result.check("client-side refusals sent nothing", not leaked_requests)
    return result


def _path(case: Case) -> str:
    return "".join(c if c.isalnum() else "-" for c in case.name.lower()).strip("-")
