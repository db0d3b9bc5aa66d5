"""A refresh that never got an answer (the network failed) keeps its refresh token: the
next renewal refreshes again rather than minting a new token from the API key. And
``token_renewals`` counts every token the client obtained."""

from __future__ import annotations

import httpx
import pytest

from fluz import TransportError

from .fakes import FakeFluz, merchants_page

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("failure", [httpx.ConnectError("refused"), httpx.ReadError("reset")])
async def test_a_refresh_lost_to_the_network_is_tried_again_with_the_same_refresh_token(
    failure: httpx.RequestError,
) -> None:
    fake = FakeFluz(token_lifetime=0.0)  # every call finds its token due
    fake.on(
        "RefreshUserAccessToken",
        failure,
        lambda _: fake.token_reply("RefreshUserAccessToken"),
    )
    fake.on("GetMerchants", merchants_page(1))
    async with fake.client(max_retries=0) as fluz:
        await fluz.get_merchants()  # mints: refresh-1
        with pytest.raises(TransportError):
            await fluz.get_merchants()  # the refresh with refresh-1 is lost
        await fluz.get_merchants()
    assert len(fake.seen("GenerateUserAccessToken")) == 1
    refreshes = fake.seen("RefreshUserAccessToken")
    assert [r.variables["refreshToken"] for r in refreshes] == ["refresh-1", "refresh-1"]


async def test_token_renewals_counts_every_token_the_client_obtained() -> None:
    fake = FakeFluz(token_lifetime=0.0)  # every call finds its token due
    fake.on("GetMerchants", merchants_page(1))
    async with fake.client() as fluz:
        for _ in range(3):
            await fluz.get_merchants()
        assert fluz.token_renewals == 3
    assert len(fake.issued) == 3
