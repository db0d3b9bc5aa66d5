"""The sandbox's /authorize, /token/exchange and /token/refresh, over plain HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from fluz.sandbox import SandboxServer

from .helpers import (
    CALLBACK,
    GIFT_CARDS,
    MERCHANTS,
    SCOPES,
    WALLET,
    basic,
    consent,
    exchange,
    graphql,
    new_code,
    redirected_params,
    refresh,
)


class TestAuthorize:
    def test_consents_and_redirects_with_code_and_state(self, fluz_sandbox: SandboxServer) -> None:
        response = consent(fluz_sandbox, state="opaque-42")
        assert response.headers["location"].startswith(CALLBACK + "?")
        params = redirected_params(response)
        assert params["state"] == "opaque-42"
        assert len(params["code"]) == 40
        assert fluz_sandbox.counters().oauth_authorizations == 1

    def test_a_registered_loopback_uri_matches_on_any_port(
        self, fluz_sandbox: SandboxServer
    ) -> None:
        uri = "http://localhost:1/oauth/callback"
        assert redirected_params(consent(fluz_sandbox, redirect_uri=uri))["code"]

    @pytest.mark.parametrize(
        "uri",
        [
            "http://127.0.0.1:8765/elsewhere",
            "https://evil.example/oauth/callback",
            "http://127.0.0.1:8765/oauth/callback?next=x",
        ],
    )
    def test_refuses_an_unregistered_redirect_uri_without_redirecting(
        self, fluz_sandbox: SandboxServer, uri: str
    ) -> None:
        response = consent(fluz_sandbox, redirect_uri=uri)
        assert response.status_code == 400
        assert "location" not in response.headers
        assert response.json()["error"] == "invalid_request"
        assert "redirect_uri" in response.json()["error_description"]

    def test_refuses_an_unknown_client_without_redirecting(
        self, fluz_sandbox: SandboxServer
    ) -> None:
        response = consent(fluz_sandbox, client_id="00000000-0000-4000-8000-000000000000")
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_client"

    @pytest.mark.fluz_sandbox(oauth_deny=True)
    def test_the_deny_switch_redirects_with_access_denied(
        self, fluz_sandbox: SandboxServer
    ) -> None:
        params = redirected_params(consent(fluz_sandbox))
        assert params["error"] == "access_denied"
        assert params["state"] == "st-1"
        assert "code" not in params

    def test_response_type_other_than_code_is_refused(self, fluz_sandbox: SandboxServer) -> None:
        params = redirected_params(consent(fluz_sandbox, response_type="scope"))
        assert params["error"] == "unsupported_response_type"

    def test_scopes_the_app_lacks_are_ignored(self, fluz_sandbox: SandboxServer) -> None:
        code = new_code(fluz_sandbox, scopes=["LIST_OFFERS", "PCI_COMPLIANCE"])
        assert exchange(fluz_sandbox, code).json()["scope"] == ["LIST_OFFERS"]


class TestExchange:
    def test_answers_with_the_documented_fields(self, fluz_sandbox: SandboxServer) -> None:
        body = exchange(fluz_sandbox, new_code(fluz_sandbox)).json()
        assert body["scope"] == SCOPES
        assert len(body["refreshToken"]) == 32
        access_expiry = datetime.fromisoformat(body["accessTokenExpiresAt"])
        refresh_expiry = datetime.fromisoformat(body["refreshTokenExpiresAt"])
        assert body["accessTokenExpiresAt"].endswith("Z")
        assert refresh_expiry - access_expiry == timedelta(days=31) - timedelta(minutes=10)

    def test_the_access_token_carries_exactly_the_granted_scopes(
        self, fluz_sandbox: SandboxServer
    ) -> None:
        token = exchange(fluz_sandbox, new_code(fluz_sandbox, scopes=["LIST_OFFERS"])).json()
        allowed = graphql(fluz_sandbox, token["accessToken"], MERCHANTS)
        assert "errors" not in allowed
        refused = graphql(fluz_sandbox, token["accessToken"], GIFT_CARDS)
        assert refused["errors"][0]["extensions"]["missingScopes"] == ["LIST_PURCHASES"]  # type: ignore[index]

    def test_a_code_is_single_use_and_reuse_revokes_its_refresh_token(
        self, fluz_sandbox: SandboxServer
    ) -> None:
        code = new_code(fluz_sandbox)
        first = exchange(fluz_sandbox, code)
        assert first.status_code == 200
        again = exchange(fluz_sandbox, code)
        assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")
        assert refresh(fluz_sandbox, first.json()["refreshToken"]).status_code == 400

    @pytest.mark.fluz_sandbox(oauth_code_ttl=30)
    def test_a_code_expires(self, fluz_sandbox: SandboxServer) -> None:
        code = new_code(fluz_sandbox)
        fluz_sandbox.advance_clock(31)
        response = exchange(fluz_sandbox, code)
        assert response.status_code == 400
        assert "expired" in response.json()["error_description"]

    def test_the_redirect_uri_must_repeat_the_authorizations(
        self, fluz_sandbox: SandboxServer
    ) -> None:
        code = new_code(fluz_sandbox)
        response = exchange(fluz_sandbox, code, redirect_uri="http://127.0.0.1:9999/oauth/callback")
        assert response.status_code == 400
        assert "redirect_uri" in response.json()["error_description"]
        assert exchange(fluz_sandbox, code).status_code == 200  # a mismatch does not use it

    @pytest.mark.parametrize("secret", ["wrong", None])
    def test_wrong_client_credentials_are_401(
        self, fluz_sandbox: SandboxServer, secret: str | None
    ) -> None:
        import httpx

        headers = basic(fluz_sandbox, "wrong") if secret else {}
        response = httpx.get(
            fluz_sandbox.base_url + "/token/exchange",
            params={"code": new_code(fluz_sandbox), "redirect_uri": CALLBACK},
            headers=headers,
        )
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"


class TestRefresh:
    def test_rotation_issues_a_new_refresh_token_and_revokes_the_old(
        self, fluz_sandbox: SandboxServer
    ) -> None:
        old = exchange(fluz_sandbox, new_code(fluz_sandbox)).json()["refreshToken"]
        renewed = refresh(fluz_sandbox, old).json()
        assert renewed["refreshToken"] != old
        assert refresh(fluz_sandbox, old).status_code == 400
        assert refresh(fluz_sandbox, renewed["refreshToken"]).status_code == 200
        assert fluz_sandbox.counters().oauth_refreshes == 2

    @pytest.mark.fluz_sandbox(oauth_rotate_refresh_tokens=False)
    def test_without_rotation_the_same_refresh_token_keeps_working(
        self, fluz_sandbox: SandboxServer
    ) -> None:
        old = exchange(fluz_sandbox, new_code(fluz_sandbox)).json()["refreshToken"]
        assert refresh(fluz_sandbox, old).json()["refreshToken"] == old
        assert refresh(fluz_sandbox, old).status_code == 200

    @pytest.mark.fluz_sandbox(oauth_access_token_ttl=5, oauth_refresh_token_ttl=60)
    def test_short_lifetimes_expire_access_and_refresh_tokens(
        self, fluz_sandbox: SandboxServer
    ) -> None:
        tokens = exchange(fluz_sandbox, new_code(fluz_sandbox)).json()
        assert "errors" not in graphql(fluz_sandbox, tokens["accessToken"], WALLET)
        fluz_sandbox.advance_clock(6)
        expired = graphql(fluz_sandbox, tokens["accessToken"], WALLET)
        assert expired["errors"][0]["extensions"]["code"] == "AUTH-0008"  # type: ignore[index]
        fresh = refresh(fluz_sandbox, tokens["refreshToken"]).json()
        assert "errors" not in graphql(fluz_sandbox, fresh["accessToken"], WALLET)
        fluz_sandbox.advance_clock(61)
        response = refresh(fluz_sandbox, fresh["refreshToken"])
        assert response.status_code == 400
        assert response.json()["error_description"].endswith("has expired")

    def test_reset_forgets_codes_and_refresh_tokens(self, fluz_sandbox: SandboxServer) -> None:
        code = new_code(fluz_sandbox)
        fluz_sandbox.reset()
        assert exchange(fluz_sandbox, code).status_code == 400
