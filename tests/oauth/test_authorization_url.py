"""The authorization URL and the callback check."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from fluz_graphql.enums import ScopeType

from fluz import ConfigurationError, ValidationError
from fluz.oauth import (
    AuthorizationDeniedError,
    OAuthApp,
    OAuthStateMismatchError,
    parse_callback,
)

CLIENT_ID = "dab5c80e-0321-4c3a-988a-ffedfd64d8db"
CALLBACK = "https://app.example/oauth/finalize"


def params_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_production_url_has_the_documented_parameters() -> None:
    app = OAuthApp(client_id=CLIENT_ID)
    request = app.authorization_url(
        redirect_uri=CALLBACK, scopes=["MAKE_DEPOSIT", ScopeType.LIST_PAYMENT]
    )
    assert request.url.startswith("https://fluz.app/authorize?response_type=code&")
    params = params_of(request.url)
    assert params == {
        "response_type": ["code"],
        "client_id": [CLIENT_ID],
        "redirect_uri": [CALLBACK],
        "scopes": ["MAKE_DEPOSIT LIST_PAYMENT"],
        "state": [request.state],
    }
    assert "scopes=MAKE_DEPOSIT%20LIST_PAYMENT" in request.url  # %20, as the docs' sample
    assert request.scopes == ("MAKE_DEPOSIT", "LIST_PAYMENT")


def test_staging_and_sandbox_hosts() -> None:
    staging = OAuthApp(client_id=CLIENT_ID, environment="staging")
    assert staging.authorize_url == "https://uni.staging.fluzapp.com/authorize"
    sandbox = OAuthApp(client_id=CLIENT_ID, base_url="http://127.0.0.1:8123/")
    url = sandbox.authorization_url(redirect_uri=CALLBACK, scopes=["LIST_OFFERS"]).url
    assert url.startswith("http://127.0.0.1:8123/authorize?")
    assert sandbox.token_base_url == "http://127.0.0.1:8123"


def test_plain_http_is_refused_for_a_remote_host() -> None:
    with pytest.raises(ConfigurationError, match="https"):
        OAuthApp(client_id=CLIENT_ID, base_url="http://fluz.app")


def test_each_url_gets_a_fresh_unguessable_state() -> None:
    app = OAuthApp(client_id=CLIENT_ID)
    states = {
        app.authorization_url(redirect_uri=CALLBACK, scopes=["LIST_OFFERS"]).state
        for _ in range(50)
    }
    assert len(states) == 50
    assert all(len(state) >= 43 for state in states)  # 32 random bytes, base64url


def test_the_app_secret_never_goes_into_the_url() -> None:
    app = OAuthApp(client_id=CLIENT_ID, app_secret="s3cret-value-xyz")
    url = app.authorization_url(redirect_uri=CALLBACK, scopes=["LIST_OFFERS"]).url
    assert "s3cret" not in url
    assert "client_secret" not in url


@pytest.mark.parametrize(
    ("scopes", "rule"),
    [
        ([], "non_empty"),
        (["LIST_OFFERS", "MAKE_WIDTHDRAW"], "ScopeType"),
        (["list_offers"], "ScopeType"),
    ],
)
def test_scopes_are_validated_against_scope_type(scopes: list[str], rule: str) -> None:
    app = OAuthApp(client_id=CLIENT_ID)
    with pytest.raises(ValidationError) as caught:
        app.authorization_url(redirect_uri=CALLBACK, scopes=scopes)
    assert (caught.value.field, caught.value.rule) == ("scopes", rule)


@pytest.mark.parametrize(
    "uri",
    [
        "/oauth/callback",
        "ftp://x.example/cb",
        "https://x.example/cb#frag",
        "",
        " https://x.example",
    ],
)
def test_redirect_uri_must_be_absolute_http_without_fragment(uri: str) -> None:
    app = OAuthApp(client_id=CLIENT_ID)
    with pytest.raises(ValidationError) as caught:
        app.authorization_url(redirect_uri=uri, scopes=["LIST_OFFERS"])
    assert caught.value.field == "redirect_uri"


def test_missing_client_id_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLUZ_OAUTH_CLIENT_ID", raising=False)
    with pytest.raises(ConfigurationError, match="FLUZ_OAUTH_CLIENT_ID"):
        OAuthApp()


class TestCallback:
    def request(self) -> tuple[OAuthApp, str]:
        app = OAuthApp(client_id=CLIENT_ID)
        return app, app.authorization_url(redirect_uri=CALLBACK, scopes=["LIST_OFFERS"]).state

    def test_returns_the_code_of_a_matching_callback(self) -> None:
        app = OAuthApp(client_id=CLIENT_ID)
        request = app.authorization_url(redirect_uri=CALLBACK, scopes=["LIST_OFFERS"])
        url = f"{CALLBACK}?code=abc123&state={request.state}"
        assert request.code_from_callback(url) == "abc123"
        assert (
            request.code_from_callback({"code": ["abc123"], "state": [request.state]}) == "abc123"
        )
        assert (
            parse_callback(f"code=abc123&state={request.state}", expected_state=request.state)
            == "abc123"
        )

    @pytest.mark.parametrize("query", ["code=abc&state=forged", "code=abc", "code=abc&state="])
    def test_a_missing_or_forged_state_is_refused(self, query: str) -> None:
        with pytest.raises(OAuthStateMismatchError):
            parse_callback(query, expected_state="expected-state")

    def test_state_is_checked_before_the_error(self) -> None:
        with pytest.raises(OAuthStateMismatchError):
            parse_callback("error=access_denied&state=forged", expected_state="expected-state")

    def test_a_refusal_is_a_typed_error(self) -> None:
        with pytest.raises(AuthorizationDeniedError) as caught:
            parse_callback("error=access_denied&state=s", expected_state="s")
        assert caught.value.code == "access_denied"

    def test_duplicated_parameters_are_refused(self) -> None:
        with pytest.raises(ValidationError, match="more than once"):
            parse_callback("code=a&code=b&state=s", expected_state="s")

    def test_no_code_is_refused(self) -> None:
        with pytest.raises(ValidationError) as caught:
            parse_callback("state=s", expected_state="s")
        assert caught.value.field == "code"
