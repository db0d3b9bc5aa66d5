"""`python -m fluz._codegen.fetch_schema` against a real introspection server on loopback."""

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from graphql import (
    GraphQLObjectType,
    build_schema,
    find_breaking_changes,
    find_dangerous_changes,
    graphql_sync,
)

from fluz._codegen import fetch_schema

from .conftest import SCHEMA_PATH

API_KEY = "YXBwLWlkOmFwcC1zZWNyZXQ="  # base64 "app-id:app-secret", as Fluz issues it


def served_sdl() -> str:
    """Our schema with one breaking change (Query.marco removed) and one dangerous
    change (a ScopeType value added)."""
    sdl = SCHEMA_PATH.read_text(encoding="utf-8")
    sdl = re.sub(r'  """\n  Health check.*?"""\n  marco: String\n', "", sdl, flags=re.DOTALL)
    sdl = sdl.replace("  MANAGE_APPROVALS\n", "  MANAGE_APPROVALS\n  MANAGE_WEBHOOKS\n")
    assert "marco" not in sdl
    return sdl


class IntrospectionServer:
    """Serves introspection of ``served_sdl()`` on 127.0.0.1; other paths misbehave."""

    def __init__(self) -> None:
        schema = build_schema(served_sdl())
        self.authorizations: list[str | None] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                outer.authorizations.append(self.headers.get("Authorization"))
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if self.path == "/unauthorized":
                    self.reply(401, b'{"errors": [{"message": "Unauthorized"}]}')
                elif self.path == "/html":
                    self.reply(200, b"<html>Welcome</html>", "text/html")
                elif self.path == "/disabled":
                    self.reply(200, b'{"data": null, "errors": [{"message": "introspection off"}]}')
                else:
                    result = graphql_sync(schema, body["query"])
                    self.reply(200, json.dumps({"data": result.data}).encode())

            def reply(self, status: int, payload: bytes, kind: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"


@pytest.fixture
def server() -> Iterator[IntrospectionServer]:
    instance = IntrospectionServer()
    thread = threading.Thread(target=instance.httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield instance
    finally:
        instance.httpd.shutdown()
        instance.httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
def previous(tmp_path: Path) -> Path:
    path = tmp_path / "schema" / "fluz.graphql"
    path.parent.mkdir()
    path.write_bytes(SCHEMA_PATH.read_bytes())
    return path


def test_writes_sorted_sdl_and_reports_changes(
    server: IntrospectionServer,
    previous: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("FLUZ_SCHEMA_URL", f"{server.url}/graphql")
    monkeypatch.setenv("FLUZ_API_KEY", API_KEY)

    assert fetch_schema.main(["--output", str(previous)]) == 0

    assert server.authorizations == [f"Basic {API_KEY}"]
    written_text = previous.read_text(encoding="utf-8")
    written = build_schema(written_text)
    served = build_schema(served_sdl())
    # Same schema as served, nothing lost or invented...
    assert find_breaking_changes(served, written) == []
    assert find_dangerous_changes(served, written) == []
    assert find_breaking_changes(written, served) == []
    # ...with descriptions and argument deprecations carried over, comments gone...
    query = written.query_type
    assert isinstance(query, GraphQLObjectType)
    assert "Scopes: CREATE_VIRTUALCARD" in (query.fields["getBINs"].description or "")
    mutation = written.mutation_type
    assert mutation is not None
    refresh_args = mutation.fields["refreshUserAccessToken"].args
    assert refresh_args["userId"].deprecation_reason
    assert not [line for line in written_text.splitlines() if line.lstrip().startswith("#")]
    # ...and in lexicographic order, so diffs between fetches are stable.
    type_names = [
        line.split()[1] for line in written_text.splitlines() if line.startswith(("type ", "enum "))
    ]
    assert type_names == sorted(type_names)

    out = capsys.readouterr()
    assert "1 breaking change(s)" in out.out
    assert "FIELD_REMOVED: Query.marco was removed." in out.out
    assert "VALUE_ADDED_TO_ENUM: MANAGE_WEBHOOKS was added to enum type ScopeType." in out.out
    assert "review" in out.out
    assert "DECISION" in out.out
    assert API_KEY not in out.out + out.err


def test_unchanged_schema_reports_no_changes(
    server: IntrospectionServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "fluz.graphql"
    output.write_text(served_sdl())
    assert fetch_schema.main(["--url", f"{server.url}/graphql", "--output", str(output)]) == 0
    assert "no breaking or dangerous changes" in capsys.readouterr().out
    assert server.authorizations == [None]  # no FLUZ_API_KEY, no header


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/unauthorized", "HTTP 401"),
        ("/html", "not a GraphQL endpoint"),
        ("/disabled", "introspection off"),
    ],
)
def test_server_failures_are_clear_errors(
    server: IntrospectionServer,
    previous: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    path: str,
    message: str,
) -> None:
    monkeypatch.setenv("FLUZ_API_KEY", API_KEY)
    before = previous.read_bytes()
    assert fetch_schema.main(["--url", server.url + path, "--output", str(previous)]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert API_KEY not in err
    assert previous.read_bytes() == before  # nothing written on failure


def test_missing_url_and_unreachable_server_are_clear_errors(
    previous: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("FLUZ_SCHEMA_URL", raising=False)
    assert fetch_schema.main(["--output", str(previous)]) == 2
    assert "FLUZ_SCHEMA_URL" in capsys.readouterr().err

    # A port nobody listens on: bind one, then close it.
    probe = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = probe.server_address[1]
    probe.server_close()
    assert fetch_schema.main(["--url", f"http://127.0.0.1:{port}/", "--output", str(previous)]) == 2
    assert "ConnectError" in capsys.readouterr().err
