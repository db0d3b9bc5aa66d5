"""Running the sandbox: context managers, fixtures, seeding, the pytest plugin."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from fluz.sandbox import Faults, SandboxOptions, SandboxServer

from .helpers import Api, check_envelope

SANDBOX_SOURCE = Path(__file__).resolve().parents[2] / "src" / "fluz" / "sandbox"
Factory = Callable[..., SandboxServer]


def marco(url: str) -> int:
    with httpx.Client() as http:
        return http.post(url, json={"query": "{ marco }"}).status_code


def test_sync_context_manager_serves_on_a_free_loopback_port() -> None:
    with SandboxServer(reveal_delay=0) as sandbox:
        assert sandbox.url == f"http://127.0.0.1:{sandbox.port}/api/v1/graphql"
        assert sandbox.admin_url == f"http://127.0.0.1:{sandbox.port}/_sandbox"
        assert marco(sandbox.url) == 200
        url = sandbox.url
    with pytest.raises(httpx.ConnectError):
        marco(url)
    with pytest.raises(RuntimeError, match="not running"):
        sandbox.counters()
    sandbox.stop()  # stopping twice is harmless


@pytest.mark.anyio
async def test_async_context_manager_on_either_backend() -> None:
    async with SandboxServer(token_ttl=5) as sandbox:
        async with httpx.AsyncClient() as http:
            response = await http.post(sandbox.url, json={"query": "{ marco }"})
        assert response.json()["data"] == {"marco": "polo"}
        assert sandbox.counters().requests == 1


@pytest.mark.anyio
async def test_fixture_in_async_tests(fluz_sandbox: SandboxServer) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(fluz_sandbox.url, json={"query": "{ marco }"})
    assert response.status_code == 200
    assert fluz_sandbox.counters().requests_by_operation == {"marco": 1}


def test_fixture_resets_between_tests_part_one(fluz_sandbox: SandboxServer) -> None:
    fluz_sandbox.set_faults(unavailable_rate=1)
    fluz_sandbox.advance_clock(1000)
    assert marco(fluz_sandbox.url) == 503


def test_fixture_resets_between_tests_part_two(fluz_sandbox: SandboxServer) -> None:
    assert marco(fluz_sandbox.url) == 200
    assert fluz_sandbox.counters().requests == 1


def test_same_seed_same_world(fluz_sandbox_factory: Factory) -> None:
    first, second, other = (
        fluz_sandbox_factory(seed=3),
        fluz_sandbox_factory(seed=3),
        fluz_sandbox_factory(seed=4),
    )
    assert first.credentials == second.credentials
    assert first.api_key == second.api_key
    assert first.seed_data == second.seed_data
    assert first.credentials != other.credentials
    assert first.port != second.port


@pytest.mark.fluz_sandbox(seed=3)
def test_marker_seed_reseeds_the_shared_server(
    fluz_sandbox: SandboxServer, fluz_sandbox_factory: Factory
) -> None:
    assert fluz_sandbox.credentials == fluz_sandbox_factory(seed=3).credentials


def test_reset_with_a_seed_updates_the_handle(fluz_sandbox: SandboxServer) -> None:
    before = fluz_sandbox.user_id
    fluz_sandbox.reset(seed=99)
    assert fluz_sandbox.user_id != before
    fluz_sandbox.reset()
    assert fluz_sandbox.user_id == before


def test_configure_validates_names_and_values(fluz_sandbox: SandboxServer) -> None:
    with pytest.raises(ValueError, match="not a runtime option"):
        fluz_sandbox.configure(seed=1)
    with pytest.raises(ValueError, match="token_ttl"):
        fluz_sandbox.configure(token_ttl=0)
    fluz_sandbox.configure(reveal_delay=0, faults=Faults(latency=0.01))


def test_options_and_host_are_validated() -> None:
    with pytest.raises(ValueError, match="non-loopback"):
        SandboxServer(host="0.0.0.0")
    SandboxServer(host="0.0.0.0", allow_remote=True)
    with pytest.raises(TypeError):
        SandboxServer(options=SandboxOptions(), seed=1)
    with pytest.raises(ValueError, match="durations"):
        SandboxOptions(reveal_delay=-1)


def test_starting_twice_is_an_error(fluz_sandbox_factory: Factory) -> None:
    sandbox = fluz_sandbox_factory()
    with pytest.raises(RuntimeError, match="already running"):
        sandbox.start()


def test_scope_list_matches_the_schema_enum() -> None:
    from graphql import GraphQLEnumType

    from fluz.sandbox._auth import ALL_SCOPES
    from fluz.sandbox._resolvers import OPERATIONS
    from fluz.sandbox._schema import executable_schema

    schema = executable_schema()
    scope_type = schema.type_map["ScopeType"]
    assert isinstance(scope_type, GraphQLEnumType)
    assert set(scope_type.values) == set(ALL_SCOPES)
    assert schema.query_type is not None
    assert schema.mutation_type is not None
    roots = set(schema.query_type.fields) | set(schema.mutation_type.fields)
    assert roots == set(OPERATIONS)


def test_sandbox_imports_nothing_of_the_client() -> None:
    for path in SANDBOX_SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                module = node.module or ""
                depth = len(path.relative_to(SANDBOX_SOURCE).parts) - 1
                assert node.level <= depth + 1, f"{path.name} imports outside fluz.sandbox"
                assert not module.startswith("fluz.") or module.startswith("fluz.sandbox"), (
                    path.name
                )
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("fluz") for a in node.names), path.name


def test_the_plugin_and_package_import_light() -> None:
    probe = (
        "import sys, fluz.sandbox, fluz.sandbox.pytest_plugin;"
        "print(sorted(m for m in ('ariadne', 'uvicorn', 'jwt', 'graphql') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_a_suite_without_the_extra_still_runs(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(
        'import sys\nsys.modules["uvicorn"] = None  # as if missing\n'
    )
    (tmp_path / "test_user_suite.py").write_text(
        textwrap.dedent(
            """
            def test_unrelated():
                assert True

            def test_wants_the_sandbox(fluz_sandbox):
                pass
            """
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert "1 passed, 1 error" in result.stdout, result.stdout
    assert "pip install 'fluz-client[sandbox]'" in result.stdout


def test_unexpected_resolver_failure_is_http_500_with_ge_9999_and_no_details(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fluz.sandbox._resolvers import gift_cards

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internals /home/dev/app.py")

    monkeypatch.setattr(gift_cards, "new_gift_card", broken)
    response = api.purchase(merchantSlug="amazon", amount=25)
    body = check_envelope(response)
    assert response.status_code == 500
    assert body["errors"][0]["extensions"]["code"] == "GE-9999"
    assert "secret internals" not in response.text


def test_documented_failures_stay_http_200(api: Api) -> None:
    response = api.post(
        "{ getWallet { bankCards { bankCardId } } }", auth=api.token(["LIST_OFFERS"])
    )
    assert response.status_code == 200
    assert check_envelope(response)["errors"][0]["extensions"]["code"] == "AUTH-0008"
