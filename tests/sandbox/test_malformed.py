"""Malformed requests get a clear HTTP/GraphQL error; the server never crashes or leaks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from fluz.sandbox import SandboxServer

from .helpers import check_envelope


class Endpoint:
    def __init__(self, client: httpx.Client, url: str) -> None:
        self.client, self.url = client, url

    def post(self, **kwargs: Any) -> httpx.Response:
        return self.client.post(self.url, **kwargs)

    def get(self) -> httpx.Response:
        return self.client.get(self.url)


@pytest.fixture
def http(fluz_sandbox: SandboxServer) -> Iterator[Endpoint]:
    with httpx.Client(timeout=10) as client:
        yield Endpoint(client, fluz_sandbox.url)
    # Whatever a test sent, the server still answers.
    with httpx.Client() as after:
        assert after.post(fluz_sandbox.url, json={"query": "{ marco }"}).status_code == 200


def rejected(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = check_envelope(response)
    assert body["errors"][0]["extensions"]["code"] == code
    message: str = body["errors"][0]["message"]
    return message


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"{not json", "not valid JSON"),
        (b"[]", "Batched"),
        (b'"just a string"', "JSON object"),
        (b"{}", "'query'"),
        (b'{"query": ""}', "'query'"),
        (b'{"query": 42}', "'query'"),
        (b'{"query": "{ marco }", "variables": []}', "'variables'"),
        (b'{"query": "{ marco }", "operationName": 3}', "'operationName'"),
        (b"[" * 100_000, "not valid JSON"),
    ],
)
def test_bad_bodies_are_400_ar_0001(http: Endpoint, content: bytes, words: str) -> None:
    response = http.post(content=content, headers={"content-type": "application/json"})
    assert words in rejected(response, 400, "AR-0001")


def test_wrong_method_and_content_type(http: Endpoint) -> None:
    assert "POST" in rejected(http.get(), 405, "AR-0001")
    plain = http.post(content=b"{ marco }", headers={"content-type": "text/plain"})
    assert "application/json" in rejected(plain, 415, "AR-0001")
    charset = http.post(
        content=b'{"query": "{ marco }"}',
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert charset.status_code == 200


def test_huge_bodies_are_413(http: Endpoint) -> None:
    huge = b'{"query": "{ marco }", "pad": "' + b"x" * (2 << 20) + b'"}'
    declared = http.post(content=huge, headers={"content-type": "application/json"})
    rejected(declared, 413, "AR-0001")

    def chunks() -> Iterator[bytes]:  # no content-length: the cap applies while reading
        for _ in range(40):
            yield b"x" * 65536

    streamed = http.post(content=chunks(), headers={"content-type": "application/json"})
    rejected(streamed, 413, "AR-0001")


def test_syntax_errors_are_400_parse_failed(http: Endpoint) -> None:
    rejected(http.post(json={"query": "{ marco"}), 400, "GRAPHQL_PARSE_FAILED")
    nested = "{ a " * 5000 + "}" * 5000
    rejected(http.post(json={"query": nested}), 400, "GRAPHQL_PARSE_FAILED")


def test_unknown_fields_are_400_validation_failed(http: Endpoint) -> None:
    message = rejected(http.post(json={"query": "{ nope }"}), 400, "GRAPHQL_VALIDATION_FAILED")
    assert "nope" in message
    subscription = http.post(json={"query": "subscription { marco }"})
    rejected(subscription, 400, "GRAPHQL_VALIDATION_FAILED")


def test_deep_queries_are_refused(http: Endpoint) -> None:
    deep = '{ __type(name: "Query") { ' + "ofType { " * 30 + "name" + " }" * 31 + " }"
    assert "depth" in rejected(http.post(json={"query": deep}), 400, "GRAPHQL_VALIDATION_FAILED")


def test_wide_queries_are_refused(http: Endpoint) -> None:
    wide = "{ " + " ".join(f"a{n}: marco" for n in range(5000)) + " }"
    assert "fields" in rejected(http.post(json={"query": wide}), 400, "GRAPHQL_VALIDATION_FAILED")
    # Fragments that expand exponentially are measured, not expanded.
    fragments = ["fragment F0 on Query { marco }"] + [
        f"fragment F{n} on Query {{ ...F{n - 1} a{n}: marco ...F{n - 1} }}" for n in range(1, 40)
    ]
    bomb = "{ ...F39 } " + " ".join(fragments)
    rejected(http.post(json={"query": bomb}), 400, "GRAPHQL_VALIDATION_FAILED")
    cycle = "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }"
    rejected(http.post(json={"query": cycle}), 400, "GRAPHQL_VALIDATION_FAILED")


def test_the_standard_introspection_query_is_within_the_limits(http: Endpoint) -> None:
    from graphql import build_client_schema, get_introspection_query

    response = http.post(json={"query": get_introspection_query(descriptions=True)})
    assert response.status_code == 200
    schema = build_client_schema(check_envelope(response)["data"])
    assert schema.mutation_type is not None
    assert "purchaseGiftCard" in schema.mutation_type.fields


def test_operation_name_must_name_an_operation(http: Endpoint) -> None:
    two = "query A { marco } query B { marco }"
    assert http.post(json={"query": two, "operationName": "B"}).status_code == 200
    rejected(http.post(json={"query": two}), 400, "GRAPHQL_VALIDATION_FAILED")
    unknown = http.post(json={"query": two, "operationName": "C"})
    assert "C" in rejected(unknown, 400, "GRAPHQL_VALIDATION_FAILED")


def test_bad_variables_are_400_ar_0001(http: Endpoint, fluz_sandbox: SandboxServer) -> None:
    public = "query($name: String!) { __type(name: $name) { name } }"
    rejected(http.post(json={"query": public, "variables": {}}), 400, "AR-0001")
    query = "query($id: UUID!) { getAccountsByUserId(userId: $id) { accountId } }"
    basic = {"Authorization": f"Basic {fluz_sandbox.api_key}"}
    for bad in (12, "not-a-uuid"):
        response = http.post(json={"query": query, "variables": {"id": bad}}, headers=basic)
        rejected(response, 400, "AR-0001")


def test_unknown_paths_are_json_404(fluz_sandbox: SandboxServer) -> None:
    with httpx.Client() as http:
        response = http.post(fluz_sandbox.base_url + "/graphql", json={"query": "{ marco }"})
    assert response.status_code == 404
    assert response.json()["errors"][0]["extensions"]["code"] == "AR-0001"


def test_every_response_has_a_unique_request_id(http: Endpoint) -> None:
    responses = [
        http.post(json={"query": "{ marco }"}),
        http.post(json={"query": "{ getWallet { blockedPaymentTypes } }"}),  # 401
        http.post(json={"query": "{ nope }"}),
        http.post(content=b"{", headers={"content-type": "application/json"}),
        http.get(),
    ]
    ids = [check_envelope(r)["extensions"]["requestId"] for r in responses]
    assert len(set(ids)) == len(ids)
    assert [r.status_code for r in responses] == [200, 401, 400, 400, 405]


# -- memory: what an unauthenticated client can make the server keep ------------------------

PADDING = "#\n"


def test_every_character_counts_toward_the_query_size_limit(http: Endpoint) -> None:
    from fluz.sandbox._config import MAX_QUERY_CHARS

    # Comments are not lexical tokens for the parser's limit, but each one is kept in memory.
    padded = "{ marco }\n" + PADDING * (MAX_QUERY_CHARS // len(PADDING))
    message = rejected(http.post(json={"query": padded}), 400, "GRAPHQL_VALIDATION_FAILED")
    assert str(MAX_QUERY_CHARS) in message
    assert http.post(json={"query": "{ marco }\n" + PADDING * 100}).status_code == 200


def _retained_after(send: Any) -> int:
    """Bytes still allocated (all threads, the server's included) after ``send()``."""
    import gc
    import tracemalloc

    gc.collect()
    tracemalloc.start()
    try:
        send()
        gc.collect()
        retained, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return retained


def test_failed_documents_are_not_kept(http: Endpoint) -> None:
    # Distinct comment-padded documents with a syntax error at the very end: each parse
    # builds ~2 MB of tokens, which must not outlive the request.
    def send() -> None:
        for n in range(8):
            broken = f"# {n}\n{{ marco " + PADDING * 10_000
            rejected(http.post(json={"query": broken}), 400, "GRAPHQL_PARSE_FAILED")

    assert _retained_after(send) < 4 * 1024 * 1024


def test_the_document_cache_is_bounded_by_bytes_not_by_count(
    http: Endpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fluz.sandbox._documents import DOCUMENTS

    DOCUMENTS.clear()
    monkeypatch.setattr(DOCUMENTS, "budget", 4 * 1024 * 1024)

    def send() -> None:
        for n in range(8):
            valid = f"# {n}\n{{ marco }}\n" + PADDING * 10_000
            assert http.post(json={"query": valid}).status_code == 200

    assert _retained_after(send) < 8 * 1024 * 1024
    assert DOCUMENTS.size <= DOCUMENTS.budget


def test_aliased_introspection_counts_toward_a_cost_limit(http: Endpoint) -> None:
    from graphql import get_introspection_query

    # 166 x 5 fields passes the field limit, yet each alias walks every type: seconds of CPU.
    flood = (
        "{ "
        + " ".join(f"a{n}: __schema {{ types {{ name fields {{ name }} }} }}" for n in range(166))
        + " }"
    )
    message = rejected(http.post(json={"query": flood}), 400, "GRAPHQL_VALIDATION_FAILED")
    assert "Introspection" in message
    standard = get_introspection_query(descriptions=True)
    twice = standard.replace("__schema {", "b: __schema { types { ...FullType } } __schema {", 1)
    assert "Introspection" in rejected(
        http.post(json={"query": twice}), 400, "GRAPHQL_VALIDATION_FAILED"
    )
    assert http.post(json={"query": standard}).status_code == 200
    few = '{ a: __type(name: "Query") { name } b: __type(name: "Mutation") { name } }'
    assert http.post(json={"query": few}).status_code == 200
