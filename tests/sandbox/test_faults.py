"""Injected faults (503, 429, reset, drop after commit, latency) and the admin endpoint."""

from __future__ import annotations

import time

import httpx
import pytest

from fluz.sandbox import Faults, SandboxServer

from .helpers import PURCHASE, Api, check_envelope, new_key

MARCO = "{ marco }"


def statuses(api: Api, count: int) -> list[int | str]:
    seen: list[int | str] = []
    for _ in range(count):
        try:
            seen.append(api.post(MARCO).status_code)
        except httpx.TransportError:
            seen.append("reset")
    return seen


@pytest.mark.fluz_sandbox(faults=Faults(unavailable_rate=1))
def test_unavailable_is_http_503_with_a_graphql_error(api: Api) -> None:
    response = api.post(MARCO)
    assert response.status_code == 503
    assert check_envelope(response)["errors"][0]["extensions"]["code"] == "GE-9999"
    assert api.sandbox.counters().faults == {"unavailable": 1}


@pytest.mark.fluz_sandbox(faults=Faults(rate_limited_rate=1, retry_after=7))
def test_rate_limited_is_http_429_with_retry_after(api: Api) -> None:
    response = api.post(MARCO)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    assert check_envelope(response)["errors"][0]["extensions"]["code"] == "RL-0001"


@pytest.mark.fluz_sandbox(faults=Faults(reset_rate=1, operations=frozenset({"purchaseGiftCard"})))
def test_reset_drops_the_connection_before_any_work(api: Api) -> None:
    before = api.sandbox.balances()
    with pytest.raises(httpx.TransportError):
        api.purchase(merchantSlug="amazon", amount=10)
    assert api.sandbox.counters().purchases == 0
    assert api.sandbox.balances() == before
    assert api.post(MARCO).status_code == 200  # other operations are not targeted


@pytest.mark.fluz_sandbox(
    faults=Faults(drop_after_commit_rate=1, limit=1, operations=frozenset({"purchaseGiftCard"}))
)
def test_drop_after_commit_charges_and_a_retry_with_the_key_gets_the_purchase(api: Api) -> None:
    token = api.token()  # not targeted
    before = api.sandbox.balances().cash_total
    fields = {"idempotencyKey": new_key(), "merchantSlug": "amazon", "amount": 10}
    with pytest.raises(httpx.TransportError):
        api.post(PURCHASE, {"input": fields}, auth=token)
    assert api.sandbox.counters().purchases == 1  # committed although the client saw a reset
    assert api.sandbox.balances().cash_total == before - 10
    retry = api.data(PURCHASE, {"input": fields})["purchaseGiftCard"]
    assert retry["purchaseAmount"] == 10.0
    assert api.sandbox.counters().purchases == 1
    assert api.sandbox.balances().cash_total == before - 10


@pytest.mark.fluz_sandbox(faults=Faults(unavailable_rate=1, limit=2))
def test_limit_makes_fail_then_succeed_deterministic(api: Api) -> None:
    assert statuses(api, 4) == [503, 503, 200, 200]


def test_fault_sequences_are_reproducible_from_the_seed(api: Api) -> None:
    faults = Faults(unavailable_rate=0.3, rate_limited_rate=0.2, reset_rate=0.2, seed=11)
    api.sandbox.set_faults(faults)
    first = statuses(api, 30)
    api.sandbox.set_faults(faults)
    assert statuses(api, 30) == first
    assert {200, 503, 429, "reset"} <= set(first)
    counted = api.sandbox.counters().faults
    assert counted["unavailable"] == 2 * first.count(503)
    assert counted["reset"] == 2 * first.count("reset")


def test_latency_is_added_to_targeted_operations(api: Api) -> None:
    api.sandbox.set_faults(latency=0.2, operations=frozenset({"marco"}))
    started = time.perf_counter()
    assert api.post(MARCO).status_code == 200
    assert time.perf_counter() - started >= 0.19  # a lower bound: sleeping never ends early
    api.sandbox.clear_faults()


def test_fault_configuration_is_validated() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        Faults(reset_rate=1.5)
    with pytest.raises(ValueError, match="at most 1"):
        Faults(reset_rate=0.6, unavailable_rate=0.6)
    with pytest.raises(ValueError, match="unknown fault fields"):
        Faults.from_json({"resetRate": 1})


# -- the admin endpoint -----------------------------------------------------------------------


def test_admin_endpoint_controls_the_sandbox(fluz_sandbox: SandboxServer) -> None:
    admin = fluz_sandbox.admin_url
    with httpx.Client() as http:
        described = http.get(admin).json()
        assert described["credentials"]["user_id"] == fluz_sandbox.user_id
        put = http.put(f"{admin}/faults", json={"unavailable_rate": 1, "operations": ["marco"]})
        assert put.json()["operations"] == ["marco"]
        assert http.post(fluz_sandbox.url, json={"query": MARCO}).status_code == 503
        assert http.delete(f"{admin}/faults").json()["unavailable_rate"] == 0
        assert http.post(fluz_sandbox.url, json={"query": MARCO}).status_code == 200
        counters = http.get(f"{admin}/counters").json()
        assert counters["faults"] == {"unavailable": 1}
        assert counters["requests_by_operation"]["marco"] == 2
        options = http.patch(f"{admin}/options", json={"token_ttl": 5, "reveal_delay": 0})
        assert (options.json()["token_ttl"], options.json()["reveal_delay"]) == (5, 0)
        assert http.post(f"{admin}/advance-clock", json={"seconds": 10}).json() == {
            "clockOffset": 10.0
        }
        assert http.post(f"{admin}/skip-delays").json() == {"ok": True}
        balances = http.get(f"{admin}/balances").json()
        assert balances["cash_total"] == "1250.00"
        assert http.post(f"{admin}/reset").status_code == 200
        assert http.get(f"{admin}/counters").json()["requests"] == 0
        assert http.get(admin).json()["options"]["token_ttl"] == 600


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/nowhere", None, 404),
        ("PUT", "/faults", {"reset_rate": 3}, 400),
        ("PUT", "/faults", {"bogus": 1}, 400),
        ("PATCH", "/options", {"seed": 3}, 400),
        ("POST", "/advance-clock", {"seconds": -1}, 400),
        ("GET", "/balances?accountId=nope", None, 400),
    ],
)
def test_admin_endpoint_rejects_bad_requests(
    fluz_sandbox: SandboxServer, method: str, path: str, body: object, status: int
) -> None:
    with httpx.Client() as http:
        response = http.request(method, fluz_sandbox.admin_url + path, json=body)
    assert response.status_code == status
    assert response.json()["error"]


def test_admin_endpoint_is_loopback_only() -> None:
    from fluz.sandbox._admin import _is_loopback

    assert _is_loopback(("127.0.0.1", 5000))
    assert _is_loopback(("::1", 5000))
    assert not _is_loopback(("192.168.1.20", 5000))
    assert not _is_loopback(None)


# -- the admin endpoint cannot be driven by a web page -------------------------------------


def test_admin_refuses_a_host_header_that_is_not_loopback(fluz_sandbox: SandboxServer) -> None:
    # DNS rebinding: a page on evil.example re-resolved to 127.0.0.1 sends its own Host.
    with httpx.Client() as http:
        read = http.get(fluz_sandbox.admin_url, headers={"host": "evil.example"})
        advanced = http.post(
            fluz_sandbox.admin_url + "/advance-clock",
            json={"seconds": 601},
            headers={"host": f"evil.example:{fluz_sandbox.port}"},
        )
        described = http.get(fluz_sandbox.admin_url).json()
    assert (read.status_code, advanced.status_code) == (403, 403)
    assert fluz_sandbox.api_key not in read.text
    assert described["clockOffset"] == 0
    with httpx.Client() as http:
        for host in (f"localhost:{fluz_sandbox.port}", f"[::1]:{fluz_sandbox.port}"):
            assert http.get(fluz_sandbox.admin_url, headers={"host": host}).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"origin": "https://evil.example"}, id="other-site"),
        pytest.param({"origin": "null"}, id="opaque-origin"),
        pytest.param({"origin": "http://127.0.0.1:1"}, id="other-local-port"),
        pytest.param({"sec-fetch-site": "cross-site"}, id="sec-fetch-site"),
    ],
)
def test_admin_refuses_cross_origin_requests(
    fluz_sandbox: SandboxServer, headers: dict[str, str]
) -> None:
    with httpx.Client() as http:
        reset = http.post(fluz_sandbox.admin_url + "/skip-delays", headers=headers)
        read = http.get(fluz_sandbox.admin_url, headers=headers)
    assert (reset.status_code, read.status_code) == (403, 403)
    assert fluz_sandbox.api_key not in read.text


def test_admin_accepts_its_own_origin(fluz_sandbox: SandboxServer) -> None:
    origin = f"http://127.0.0.1:{fluz_sandbox.port}"
    with httpx.Client() as http:
        response = http.get(fluz_sandbox.admin_url, headers={"origin": origin})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        pytest.param("text/plain", b'{"seconds": 601}', id="text-plain"),
        pytest.param("application/x-www-form-urlencoded", b"seconds=601", id="form"),
        pytest.param(None, b'{"seconds": 601}', id="no-content-type"),
    ],
)
def test_admin_refuses_bodies_that_are_not_json(
    fluz_sandbox: SandboxServer, content_type: str | None, content: bytes
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    with httpx.Client() as http:
        response = http.post(
            fluz_sandbox.admin_url + "/advance-clock", content=content, headers=headers
        )
        described = http.get(fluz_sandbox.admin_url).json()
    assert response.status_code == 415
    assert described["clockOffset"] == 0


def test_admin_bodies_are_capped(fluz_sandbox: SandboxServer) -> None:
    delays = [0.5] * 100_000  # ~500 KB
    with httpx.Client() as http:
        response = http.post(fluz_sandbox.admin_url + "/gift-cards", json={"revealDelays": delays})
    assert response.status_code == 413


# -- admin input validation: a 400 naming the field, and nothing changed ----------------------


@pytest.mark.parametrize(
    ("method", "path", "content", "field"),
    [
        pytest.param("POST", "/advance-clock", b'{"seconds": NaN}', "NaN", id="clock-nan"),
        pytest.param("POST", "/advance-clock", b'{"seconds": Infinity}', "Infinity", id="inf"),
        pytest.param("POST", "/advance-clock", b'{"seconds": 1e12}', "seconds", id="clock-1e12"),
        pytest.param("POST", "/advance-clock", b'{"seconds": "10"}', "seconds", id="clock-str"),
        pytest.param("POST", "/advance-clock", b'{"seconds": true}', "seconds", id="clock-bool"),
        pytest.param("POST", "/advance-clock", b"{}", "seconds", id="clock-missing"),
        pytest.param("PUT", "/faults", b'{"operations": "marco"}', "operations", id="ops-str"),
        pytest.param("PUT", "/faults", b'{"operations": ["nope"]}', "nope", id="ops-unknown"),
        pytest.param("PUT", "/faults", b'{"operations": [1]}', "operations", id="ops-int"),
        pytest.param("PUT", "/faults", b'{"latency": "1"}', "latency", id="latency-str"),
        pytest.param("PUT", "/faults", b'{"retry_after": 1e999}', "retry_after", id="retry-inf"),
        pytest.param("PUT", "/faults", b'{"limit": 1.5}', "limit", id="limit-float"),
        pytest.param("PATCH", "/options", b'{"canary_prefix": 5}', "canary_prefix", id="canary"),
        pytest.param("PATCH", "/options", b'{"token_ttl": true}', "token_ttl", id="ttl-bool"),
        pytest.param("POST", "/reset", b'{"seed": "7"}', "seed", id="seed-str"),
        pytest.param("POST", "/gift-cards", b'{"revealDelays": "5"}', "revealDelays", id="delays"),
    ],
)
def test_admin_rejects_bad_input_with_400_naming_the_field(
    fluz_sandbox: SandboxServer, method: str, path: str, content: bytes, field: str
) -> None:
    admin = fluz_sandbox.admin_url
    with httpx.Client() as http:
        described = http.get(admin).json()
        response = http.request(
            method,
            admin + path,
            content=content,
            headers={"content-type": "application/json"},
        )
        after = http.get(admin).json()
    assert response.status_code == 400, response.text
    assert field in response.json()["error"]
    assert after == described  # clock, options and faults unchanged


def test_advancing_the_clock_in_process_checks_the_value_too(fluz_sandbox: SandboxServer) -> None:
    for bad in (float("nan"), float("inf"), 1e12):
        with pytest.raises(ValueError, match="seconds"):
            fluz_sandbox.advance_clock(bad)
    with pytest.raises(ValueError, match="nope"):
        fluz_sandbox.set_faults(Faults(operations=frozenset({"nope"})))
    fluz_sandbox.set_faults(Faults(latency=0.1, operations="marco"))  # one name, in Python
    with httpx.Client() as http:
        assert http.get(fluz_sandbox.admin_url + "/faults").json()["operations"] == ["marco"]
