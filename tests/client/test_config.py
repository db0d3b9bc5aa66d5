"""Configuration: arguments, FLUZ_* environment variables, URLs, validation, lifecycle."""

from __future__ import annotations

import httpx
import pytest

from fluz import DEFAULT_SCOPES, ENVIRONMENT_URLS, ConfigurationError, FluzClient

from .fakes import ACCOUNT_ID, API_KEY, USER_ID, FakeFluz

FLUZ_VARS = (
    "FLUZ_API_KEY",
    "FLUZ_USER_ID",
    "FLUZ_ACCOUNT_ID",
    "FLUZ_SEAT_ID",
    "FLUZ_ENVIRONMENT",
    "FLUZ_URL",
    "FLUZ_SCOPES",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in FLUZ_VARS:
        monkeypatch.delenv(name, raising=False)


def test_environments_map_to_the_documented_urls() -> None:
    prod = FluzClient(api_key=API_KEY, environment="production")
    staging = FluzClient(api_key=API_KEY, environment="staging")
    assert prod.url == "https://transactional-graph.fluzapp.com/api/v1/graphql"
    assert staging.url == "https://transactional-graph.staging.fluzapp.com/api/v1/graphql"
    assert ENVIRONMENT_URLS["staging"] == staging.url


def test_default_environment_is_production() -> None:
    assert FluzClient(api_key=API_KEY).url == ENVIRONMENT_URLS["production"]


def test_everything_from_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLUZ_API_KEY", API_KEY)
    monkeypatch.setenv("FLUZ_USER_ID", USER_ID)
    monkeypatch.setenv("FLUZ_ACCOUNT_ID", ACCOUNT_ID)
    monkeypatch.setenv("FLUZ_ENVIRONMENT", "staging")
    client = FluzClient()
    assert client.url == ENVIRONMENT_URLS["staging"]
    assert USER_ID in repr(client)


def test_fluz_url_wins_over_fluz_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLUZ_API_KEY", API_KEY)
    monkeypatch.setenv("FLUZ_ENVIRONMENT", "staging")
    monkeypatch.setenv("FLUZ_URL", "http://127.0.0.1:8000/api/v1/graphql")
    assert FluzClient().url == "http://127.0.0.1:8000/api/v1/graphql"


def test_arguments_win_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLUZ_API_KEY", "from-env")
    monkeypatch.setenv("FLUZ_URL", "http://127.0.0.1:1/x")
    client = FluzClient(api_key=API_KEY, environment="staging")
    assert client.url == ENVIRONMENT_URLS["staging"]
    assert client._basic.value == f"Basic {API_KEY}"


def test_missing_api_key_names_the_setting() -> None:
    with pytest.raises(ConfigurationError, match="FLUZ_API_KEY"):
        FluzClient(user_id=USER_ID, account_id=ACCOUNT_ID)


def test_user_without_account_names_what_is_missing() -> None:
    with pytest.raises(ConfigurationError, match=r"account_id \(or FLUZ_ACCOUNT_ID\)"):
        FluzClient(api_key=API_KEY, user_id=USER_ID)


def test_seat_without_user_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="seat_id"):
        FluzClient(api_key=API_KEY, seat_id=USER_ID)


@pytest.mark.parametrize("field", ["user_id", "account_id", "seat_id"])
def test_ids_must_be_uuids(field: str) -> None:
    options = {"user_id": USER_ID, "account_id": ACCOUNT_ID, field: "not-a-uuid"}
    with pytest.raises(ConfigurationError, match=field):
        FluzClient(api_key=API_KEY, **options)


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/api/v1/graphql",
        "http://10.0.0.5/api",
        "ftp://127.0.0.1/x",
        "transactional-graph.fluzapp.com/api/v1/graphql",
    ],
)
def test_plain_http_refused_except_loopback(url: str) -> None:
    with pytest.raises(ConfigurationError, match="https"):
        FluzClient(api_key=API_KEY, url=url)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/api/v1/graphql",
        "http://localhost:8000/api/v1/graphql",
        "http://[::1]:8000/api/v1/graphql",
        "https://proxy.internal.example/api/v1/graphql",
    ],
)
def test_https_and_loopback_http_accepted(url: str) -> None:
    assert FluzClient(api_key=API_KEY, url=url).url == url


def test_unknown_environment_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="unknown environment 'sandbox'"):
        FluzClient(api_key=API_KEY, environment="sandbox")


def test_url_and_environment_together_are_ambiguous() -> None:
    with pytest.raises(ConfigurationError, match="not both"):
        FluzClient(api_key=API_KEY, environment="staging", url="https://x.example/graphql")


def test_scopes_default_and_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    client = FluzClient(api_key=API_KEY, user_id=USER_ID, account_id=ACCOUNT_ID)
    assert client._identity is not None
    assert client._identity.scopes == DEFAULT_SCOPES
    assert {"PURCHASE_GIFTCARD", "REVEAL_GIFTCARD", "LIST_PAYMENT"} <= set(DEFAULT_SCOPES)
    with pytest.raises(ConfigurationError, match="unknown scope"):
        FluzClient(api_key=API_KEY, user_id=USER_ID, account_id=ACCOUNT_ID, scopes=["NOPE"])
    with pytest.raises(ConfigurationError, match="scopes must not be empty"):
        FluzClient(api_key=API_KEY, user_id=USER_ID, account_id=ACCOUNT_ID, scopes=[])
    monkeypatch.setenv("FLUZ_SCOPES", "LIST_OFFERS, REVEAL_GIFTCARD")
    from_env = FluzClient(api_key=API_KEY, user_id=USER_ID, account_id=ACCOUNT_ID)
    assert from_env._identity is not None
    assert from_env._identity.scopes == ("LIST_OFFERS", "REVEAL_GIFTCARD")


def test_repr_names_endpoint_and_user_but_never_the_key() -> None:
    client = FluzClient(api_key=API_KEY, user_id=USER_ID, account_id=ACCOUNT_ID)
    text = repr(client)
    assert ENVIRONMENT_URLS["production"] in text
    assert USER_ID in text
    assert API_KEY not in text
    assert API_KEY not in repr(client._config)


def test_explicit_timeouts_and_limits_on_own_pool() -> None:
    client = FluzClient(api_key=API_KEY, timeout=httpx.Timeout(7.0))
    assert client._http.timeout == httpx.Timeout(7.0)
    default = FluzClient(api_key=API_KEY)
    assert default._http.timeout.connect is not None
    assert default._http.timeout.read is not None
    with pytest.raises(ConfigurationError, match="limits"):
        FluzClient(api_key=API_KEY, http_client=httpx.AsyncClient(), limits=httpx.Limits())


def test_invalid_retry_settings_fail_at_construction() -> None:
    with pytest.raises(ConfigurationError, match="max_retries"):
        FluzClient(api_key=API_KEY, max_retries=-1)


@pytest.mark.anyio
async def test_callers_http_client_is_not_closed_but_own_one_is() -> None:
    fake = FakeFluz()
    theirs = httpx.AsyncClient(transport=httpx.MockTransport(fake))
    async with FluzClient(api_key=API_KEY, url="http://127.0.0.1:1/x", http_client=theirs):
        pass
    assert not theirs.is_closed
    await theirs.aclose()
    async with FluzClient(api_key=API_KEY) as own:
        view = own.with_options(max_retries=0)
        await view.aclose()  # a view never closes the shared pool
        assert not own._http.is_closed
    assert own._http.is_closed


@pytest.mark.anyio
async def test_user_operation_without_identity_fails_before_sending() -> None:
    fake = FakeFluz()
    async with fake.client(user_id=None, account_id=None) as fluz:
        with pytest.raises(ConfigurationError, match="user_id and account_id"):
            await fluz.get_wallet()
    assert fake.requests == []


def test_for_user_validates_its_identity() -> None:
    client = FluzClient(
        api_key=API_KEY, user_id=USER_ID, account_id=ACCOUNT_ID, scopes=["LIST_OFFERS"]
    )
    other = client.for_user(ACCOUNT_ID, USER_ID)
    assert other._identity is not None
    assert other._identity.scopes == ("LIST_OFFERS",)
    assert other._identity.user_id == ACCOUNT_ID
    with pytest.raises(ConfigurationError, match="scopes must not be empty"):
        client.for_user(ACCOUNT_ID, USER_ID, scopes=[])
    with pytest.raises(ConfigurationError, match="user_id is not a UUID"):
        client.for_user("nope", USER_ID)


def test_import_fluz_does_not_load_the_sandbox_or_its_server_stack() -> None:
    import subprocess
    import sys

    code = (
        "import sys, fluz; "
        "heavy = {'fluz.sandbox', 'ariadne', 'uvicorn', 'jwt', 'starlette', 'graphql'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
