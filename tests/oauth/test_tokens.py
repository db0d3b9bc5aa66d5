"""Parsing token responses: both `scope` and `scopes`, datetimes, missing fields."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fluz import ResponseDecodeError
from fluz.oauth import OAuthTokens

SAMPLE = {  # the docs' exchange sample, structure kept
    "accessToken": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30.sig",
    "authorizationCode": "f082972eb110b80f73b0d0f95d1de9266069a1e4",
    "accessTokenExpiresAt": "2025-07-08T21:05:30.673Z",
    "refreshToken": "8ec16c25951616150b0332a4a6d66547",
    "refreshTokenExpiresAt": "2025-08-08T20:55:30.738Z",
    "scope": ["MAKE_WIDTHDRAW", "MAKE_DEPOSIT", "LIST_PAYMENT"],
    "client": {"id": "dab5c80e-0321-4c3a-988a-ffedfd64d8db"},
}


def test_the_docs_sample_parses_with_utc_datetimes() -> None:
    tokens = OAuthTokens.from_response(SAMPLE)
    assert tokens.access_token_expires_at == datetime(2025, 7, 8, 21, 5, 30, 673000, UTC)
    assert tokens.refresh_token_expires_at == datetime(2025, 8, 8, 20, 55, 30, 738000, UTC)
    assert tokens.scopes == ("MAKE_WIDTHDRAW", "MAKE_DEPOSIT", "LIST_PAYMENT")  # kept as sent


@pytest.mark.parametrize(
    "scopes",
    [{"scopes": ["A", "B"]}, {"scope": "A B"}, {"scopes": "A,B"}, {"scope": ["A", "B", "A"]}],
)
def test_scope_and_scopes_are_both_accepted(scopes: dict[str, object]) -> None:
    data = {k: v for k, v in SAMPLE.items() if k != "scope"} | scopes
    assert OAuthTokens.from_response(data).scopes == ("A", "B")


def test_a_refresh_answer_without_refresh_token_keeps_the_previous_one() -> None:
    data = {k: v for k, v in SAMPLE.items() if k != "refreshToken"}
    assert OAuthTokens.from_response(data, previous_refresh_token="old").refresh_token == "old"
    with pytest.raises(ResponseDecodeError, match="refreshToken"):
        OAuthTokens.from_response(data)


def test_missing_access_expiry_falls_back_on_the_jwt_then_ten_minutes() -> None:
    import base64
    import json

    payload = base64.urlsafe_b64encode(json.dumps({"exp": 1_900_000_000}).encode()).decode()
    jwt_like = f"eyJhbGciOiJIUzI1NiJ9.{payload.rstrip('=')}.sig"
    data = {"accessToken": jwt_like, "refreshToken": "r"}
    assert OAuthTokens.from_response(data).access_token_expires_at == datetime.fromtimestamp(
        1_900_000_000, UTC
    )
    now = datetime(2026, 1, 1, tzinfo=UTC)
    opaque = OAuthTokens.from_response({"accessToken": "opaque", "refreshToken": "r"}, now=now)
    assert opaque.access_token_expires_at == now + timedelta(minutes=10)
    assert opaque.refresh_token_expires_at is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"accessToken": ""}, "accessToken"),
        ({"accessTokenExpiresAt": "tomorrow"}, "accessTokenExpiresAt"),
        ({"scope": {"a": 1}}, "scope"),
    ],
)
def test_malformed_fields_are_named_without_their_values(
    change: dict[str, object], field: str
) -> None:
    with pytest.raises(ResponseDecodeError) as caught:
        OAuthTokens.from_response(SAMPLE | change)
    assert field in str(caught.value)
    assert SAMPLE["refreshToken"] not in str(caught.value)


def test_round_trip_through_to_dict_and_repr_hides_tokens() -> None:
    tokens = OAuthTokens.from_response(SAMPLE)
    assert OAuthTokens.from_response(tokens.to_dict()) == tokens
    assert "8ec16c25" not in repr(tokens)
    assert "eyJ" not in repr(tokens)
