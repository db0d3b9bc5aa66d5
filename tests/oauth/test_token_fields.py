"""Token-endpoint answers in the other shapes an app may store or Fluz may send: epoch
milliseconds, naive ISO times, empty expiries, a rotated refresh token, odd scope lists.
Each malformed field is a DECODE error naming it."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from fluz import ResponseDecodeError
from fluz.oauth import OAuthTokens

BASE = {"accessToken": "opaque-access", "refreshToken": "refresh-1"}
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def jwt_with(claims: dict[str, object]) -> str:
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"eyJhbGciOiJIUzI1NiJ9.{payload}.sig"


def test_expiries_in_epoch_milliseconds_are_read_as_utc() -> None:
    tokens = OAuthTokens.from_response(
        BASE | {"accessTokenExpiresAt": 1_751_000_000_000, "refreshTokenExpiresAt": 1.5e12}
    )
    assert tokens.access_token_expires_at == datetime.fromtimestamp(1_751_000_000, UTC)
    assert tokens.refresh_token_expires_at == datetime.fromtimestamp(1_500_000_000, UTC)


def test_a_naive_iso_expiry_is_taken_as_utc() -> None:
    tokens = OAuthTokens.from_response(BASE | {"accessTokenExpiresAt": "2026-03-01T12:00:00"})
    assert tokens.access_token_expires_at == datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_an_offset_iso_expiry_keeps_its_instant() -> None:
    tokens = OAuthTokens.from_response(BASE | {"accessTokenExpiresAt": "2026-03-01T14:00:00+02:00"})
    assert tokens.access_token_expires_at == datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_an_empty_refresh_expiry_means_unknown() -> None:
    tokens = OAuthTokens.from_response(BASE | {"refreshTokenExpiresAt": ""}, now=NOW)
    assert tokens.refresh_token_expires_at is None
    assert tokens.access_token_expires_at == NOW + timedelta(minutes=10)


def test_a_rotated_refresh_token_wins_over_the_previous_one() -> None:
    tokens = OAuthTokens.from_response(BASE, previous_refresh_token="refresh-0")
    assert tokens.refresh_token == "refresh-1"


def test_a_jwt_exp_that_is_not_a_number_falls_back_to_the_documented_lifetime() -> None:
    tokens = OAuthTokens.from_response(
        {"accessToken": jwt_with({"exp": True}), "refreshToken": "r"}, now=NOW
    )
    assert tokens.access_token_expires_at == NOW + timedelta(minutes=10)


def test_blank_and_repeated_scopes_are_dropped() -> None:
    tokens = OAuthTokens.from_response(BASE | {"scope": ["A", " ", "B ", "A"]})
    assert tokens.scopes == ("A", "B")
    assert OAuthTokens.from_response(BASE).scopes == ()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"accessToken": None}, "accessToken"),
        ({"accessToken": 123}, "accessToken"),
        ({"refreshToken": ""}, "refreshToken"),
        ({"accessTokenExpiresAt": True}, "accessTokenExpiresAt"),
        ({"accessTokenExpiresAt": 1e30}, "accessTokenExpiresAt"),
        ({"refreshTokenExpiresAt": "soon"}, "refreshTokenExpiresAt"),
        ({"scope": ["A", 1]}, "scope"),
    ],
    ids=["none", "number", "no-refresh", "bool", "overflow", "refresh-expiry", "scope-item"],
)
def test_each_malformed_field_is_a_decode_error_naming_it(
    change: dict[str, object], field: str
) -> None:
    with pytest.raises(ResponseDecodeError, match=field) as caught:
        OAuthTokens.from_response(BASE | change)
    assert caught.value.code == "DECODE"


def test_to_dict_round_trips_with_millisecond_utc_times() -> None:
    tokens = OAuthTokens.from_response(
        BASE | {"accessTokenExpiresAt": "2026-03-01T14:00:00.123456+02:00", "scope": ["A"]}
    )
    stored = tokens.to_dict()
    assert stored["accessTokenExpiresAt"] == "2026-03-01T12:00:00.123Z"
    assert stored["refreshTokenExpiresAt"] is None
    assert stored["scope"] == ["A"]
    again = OAuthTokens.from_response(stored)
    assert again.refresh_token == "refresh-1"
    assert again.scopes == ("A",)


def test_the_assumed_expiry_of_an_opaque_token_is_ten_minutes_from_now_in_utc() -> None:
    before = datetime.now(UTC)
    tokens = OAuthTokens.from_response(BASE)
    assert tokens.access_token_expires_at.tzinfo is UTC
    assert before + timedelta(minutes=10) <= tokens.access_token_expires_at
    assert tokens.access_token_expires_at <= datetime.now(UTC) + timedelta(minutes=10)
