"""FluzClient results: response metadata kept outside the generated models, and the
fast JSON decoding path (with the stdlib parser as fallback)."""

from __future__ import annotations

import copy
import gc
import json
import pickle
from typing import Any

import httpx
import pytest
from fluz_graphql.fragments import Merchant

from fluz import FluzClient, _response, response_info
from fluz._response import ResponseInfo, attach_info

MERCHANT_ID = "3f1c2a9e-7b4d-4e2a-9c1f-5d6e7f8a9b0c"


def merchant(name: str = "Acme") -> Merchant:
    return Merchant.model_validate({"merchantId": MERCHANT_ID, "name": name, "slug": "acme"})


def info(request_id: str) -> ResponseInfo:
    return ResponseInfo("GetMerchants", request_id, None, 1)


def test_metadata_belongs_to_the_returned_objects_only() -> None:
    first, second = merchant(), merchant()
    attach_info([first, None, "text", second], info("r1"))
    assert response_info(first) == info("r1")
    assert response_info(second) == info("r1")
    for not_returned in (
        merchant(),  # built by hand
        copy.copy(first),
        first.model_copy(),
        pickle.loads(pickle.dumps(first)),
    ):
        with pytest.raises(LookupError, match="not returned by a FluzClient call"):
            response_info(not_returned)
    assert response_info(None) is None
    assert response_info("polo") is None


def test_metadata_is_not_part_of_the_value() -> None:
    first, second = merchant(), merchant()
    attach_info(first, info("r1"))
    attach_info(second, info("r2"))
    assert first == second
    assert first.model_dump() == merchant().model_dump()
    assert "r1" not in first.model_dump_json()


def test_metadata_leaves_with_its_result() -> None:
    results = [merchant(str(i)) for i in range(50)]
    attach_info(results, info("r1"))
    survivor = results[7]
    del results
    gc.collect()
    # Addresses of the collected results are free for new objects; none may inherit.
    newcomers = [merchant("new") for _ in range(200)]
    for newcomer in newcomers:
        with pytest.raises(LookupError):
            response_info(newcomer)
    assert response_info(survivor) == info("r1")


def test_entries_of_collected_results_do_not_accumulate() -> None:
    # The metadata lives on the result: nothing outside holds a result, or an entry for it.
    import weakref

    refs = []
    for page in range(200):
        results = [merchant(str(i)) for i in range(50)]
        attach_info(results, info(f"r{page}"))
        refs.append(weakref.ref(results[0]))
    del results
    gc.collect()
    assert all(ref() is None for ref in refs)
    registries = [k for k, v in vars(_response).items() if isinstance(v, dict) and k[:2] != "__"]
    assert not registries


@pytest.mark.anyio
async def test_client_results_with_equal_data_are_equal_despite_request_ids() -> None:
    request_ids = iter(["req-1", "req-2"])
    users = [{"userId": None, "scopes": ["WALLET"], "accounts": None}]

    def reply(request: httpx.Request) -> httpx.Response:
        body = {"data": {"getApplicationUsers": users}, "extensions": {"requestId": ""}}
        body["extensions"]["requestId"] = next(request_ids)
        return httpx.Response(200, json=body)

    http = httpx.AsyncClient(transport=httpx.MockTransport(reply))
    async with (
        http,
        FluzClient(api_key="k", url="https://fluz.test/graphql", http_client=http) as fluz,
    ):
        first = await fluz.get_application_users()
        second = await fluz.get_application_users()
    assert first is not None
    assert second is not None
    assert [response_info(page[0]) for page in (first, second)] == [
        ResponseInfo("GetApplicationUsers", "req-1", None, 1),
        ResponseInfo("GetApplicationUsers", "req-2", None, 1),
    ]
    assert first == second


@pytest.mark.anyio
@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text.encode(),
        lambda text: b"\xef\xbb\xbf" + text.encode(),  # UTF-8 BOM: pydantic-core refuses it
        lambda text: text.encode("utf-16"),
    ],
    ids=["utf-8", "utf-8-bom", "utf-16"],
)
async def test_response_bodies_json_loads_accepts_are_decoded(encode: Any) -> None:
    body = json.dumps({"data": {"getApplicationScopes": ["WALLET"]}})

    def reply(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=encode(body))

    http = httpx.AsyncClient(transport=httpx.MockTransport(reply))
    async with (
        http,
        FluzClient(api_key="k", url="https://fluz.test/graphql", http_client=http) as fluz,
    ):
        assert await fluz.get_application_scopes() == ["WALLET"]
