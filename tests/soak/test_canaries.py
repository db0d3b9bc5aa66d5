"""Scenario 5: the secret watch finds what it must (so its silence elsewhere means
something), and a purchase-and-reveal flow with short tokens leaks nothing at DEBUG."""

from __future__ import annotations

import base64
import logging

import pytest
from fluz_graphql.input_types import PurchaseGiftCardInput

from fluz.sandbox import SandboxServer

from ._canaries import SecretWatch
from ._harness import CANARY_PREFIX, make_client

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzYW0ifQ.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"


def test_the_watch_finds_each_kind_of_canary_and_ignores_masked_ones() -> None:
    watch = SecretWatch(CANARY_PREFIX)
    watch.add(JWT)
    watch.add_api_key(base64.b64encode(b"app-id:app-secret-123456").decode())
    with watch.capturing():
        logging.getLogger("soak.test").debug("payload %s", JWT.split(".")[1])
        logging.getLogger("soak.test").info("an ordinary line")
    watch.scan_object(ValueError(f"pin {CANARY_PREFIX}1234"), "error")
    watch.scan_object(f"code {CANARY_PREFIX}[REDACTED]", "masked value")
    watch.scan("the secret is app-secret-123456", "app secret")
    assert watch.leaks == [
        "log line of soak.test",
        "repr of error",
        "str of error",
        "traceback of error",
        "app secret",
    ]
    assert watch.log_lines == 2


@pytest.mark.anyio
@pytest.mark.fluz_sandbox(token_ttl=2, reveal_delay=0.5)
async def test_purchase_and_reveal_keep_tokens_codes_and_pins_out_of_debug_logs(
    fluz_sandbox: SandboxServer, secret_watch: SecretWatch
) -> None:
    fluz_sandbox.configure(canary_prefix=CANARY_PREFIX)
    async with make_client(fluz_sandbox, secret_watch) as fluz:
        bought = await fluz.purchase_and_reveal(
            PurchaseGiftCardInput(merchantSlug="starbucks", amount=10)
        )
        secret_watch.scan_object(bought, "purchase_and_reveal result")
        secret_watch.scan_object(bought.details, "GiftCardDetails")
    # The canaries were there to leak: a code and PIN arrived, tokens were learned.
    assert (bought.details.code or "").startswith(CANARY_PREFIX)
    assert (bought.details.pin or "").startswith(CANARY_PREFIX)
    assert any(value.startswith("eyJ") for value in secret_watch.known)
    assert secret_watch.log_lines > 0
