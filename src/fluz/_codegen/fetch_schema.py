"""Introspect a live Fluz GraphQL server into ``schema/fluz.graphql`` (``make schema``).

Usage::

    FLUZ_SCHEMA_URL=https://... [FLUZ_API_KEY=...] python -m fluz._codegen.fetch_schema
    python -m fluz._codegen.fetch_schema --url URL --output path/to/schema.graphql

Sends the standard introspection query (with descriptions and deprecated arguments) as
``POST`` JSON, with ``Authorization: Basic <FLUZ_API_KEY>`` when that variable is set (the
Fluz API key is already base64, so it is sent as is). The result is printed as SDL in
lexicographic order (stable diffs), written to the output file, and compared with the
file it replaces: breaking and dangerous changes, as graphql-core finds them, are listed.

Introspection cannot carry ``#`` comments: the provenance notes and DECISION comments of
the hand-kept schema are lost. Review the result (``git diff schema/fluz.graphql``) and
restore the comments that still apply before committing; then run ``make codegen``.
A server that describes its operations differently (or not at all) replaces our
descriptions, which the generated docstrings are made of: keep ours where the server's say
less (``Scopes:``/``Docs:`` lines). Money (``Float`` -> ``Decimal``) and requiredness
(``@required`` in ``queries/``) do not live in the schema, so introspection cannot undo them.

Exit status: 0 written; 2 on any error (no URL, HTTP failure, not a GraphQL endpoint,
unreadable previous file). The API key never appears in output.
"""

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import httpx
from graphql import (
    GraphQLError,
    GraphQLSchema,
    IntrospectionQuery,
    build_client_schema,
    build_schema,
    find_breaking_changes,
    find_dangerous_changes,
    get_introspection_query,
    lexicographic_sort_schema,
    print_schema,
)

from fluz._codegen.generate import CodegenError, find_root

__all__ = ["SchemaFetchError", "fetch_schema_sdl", "main", "schema_changes"]

URL_ENV = "FLUZ_SCHEMA_URL"
API_KEY_ENV = "FLUZ_API_KEY"
DEFAULT_OUTPUT = Path("schema/fluz.graphql")
TIMEOUT_SECONDS = 30.0
REVIEW_NOTE = (
    "Introspection drops the schema's # comments (provenance notes, DECISION comments): "
    "review `git diff` of the written file, restore the comments that still apply (and our "
    "operation descriptions, the generated docstrings, where the server's say less), "
    "then run `make codegen`."
)


class SchemaFetchError(Exception):
    """Introspection failed; the message says why (never containing the API key)."""


def fetch_schema_sdl(
    url: str, api_key: str | None = None, *, timeout: float = TIMEOUT_SECONDS
) -> str:
    """Introspect ``url`` and return the schema as lexicographically sorted SDL.

    Raises:
        SchemaFetchError: the request failed, the server answered with an HTTP error,
            or the answer is not a GraphQL introspection result.
    """
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if api_key:
        headers["Authorization"] = f"Basic {api_key}"
    query = get_introspection_query(descriptions=True, input_value_deprecation=True)
    try:
        response = httpx.post(
            url,
            json={"query": query, "operationName": "IntrospectionQuery"},
            headers=headers,
            timeout=timeout,
        )
    except httpx.HTTPError as exc:
        raise SchemaFetchError(f"request to {url} failed: {type(exc).__name__}: {exc}") from exc
    if response.status_code != httpx.codes.OK:
        raise SchemaFetchError(
            f"{url} answered HTTP {response.status_code} {response.reason_phrase}"
            + (" (check FLUZ_API_KEY)" if response.status_code in (401, 403) else "")
        )
    try:
        body = response.json()
    except ValueError as exc:
        raise SchemaFetchError(f"{url} did not answer with JSON: not a GraphQL endpoint") from exc
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("__schema"), dict):
        errors = body.get("errors") if isinstance(body, dict) else None
        detail = "; ".join(_error_messages(errors)) or "no data.__schema in the answer"
        raise SchemaFetchError(f"{url} did not return an introspection result: {detail}")
    try:
        schema = build_client_schema(cast(IntrospectionQuery, data))
    except (GraphQLError, TypeError, KeyError) as exc:
        raise SchemaFetchError(f"{url} returned an unusable introspection result: {exc}") from exc
    return print_schema(lexicographic_sort_schema(schema)) + "\n"


def schema_changes(old: GraphQLSchema, new: GraphQLSchema) -> tuple[list[str], list[str]]:
    """Breaking and dangerous changes from ``old`` to ``new``, as readable lines."""
    breaking = [
        f"{change.type.name}: {change.description}" for change in find_breaking_changes(old, new)
    ]
    dangerous = [
        f"{change.type.name}: {change.description}" for change in find_dangerous_changes(old, new)
    ]
    return breaking, dangerous


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fluz._codegen.fetch_schema", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--url", help=f"GraphQL endpoint (default: ${URL_ENV})")
    parser.add_argument(
        "--output",
        type=Path,
        help=f"SDL file to write (default: <repository root>/{DEFAULT_OUTPUT})",
    )
    args = parser.parse_args(argv)
    try:
        url = args.url or os.environ.get(URL_ENV, "").strip()
        if not url:
            raise SchemaFetchError(
                f"no endpoint: set {URL_ENV} (e.g. the staging URL "
                "https://transactional-graph.staging.fluzapp.com/api/v1/graphql) or pass --url"
            )
        output: Path = args.output or find_root() / DEFAULT_OUTPUT
        previous = _read_previous(output)
        sdl = fetch_schema_sdl(url, os.environ.get(API_KEY_ENV) or None)
        new_schema = build_schema(sdl)
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(sdl, encoding="utf-8")
    except (SchemaFetchError, CodegenError) as exc:
        print(f"schema: error: {exc}", file=sys.stderr)
        return 2
    print(f"schema: wrote {output} ({len(new_schema.type_map)} types)")
    if previous is None:
        print("schema: no previous schema to compare with")
    else:
        _print_changes(*schema_changes(previous, new_schema))
    print(f"schema: NOTE: {REVIEW_NOTE}")
    return 0


def _read_previous(path: Path) -> GraphQLSchema | None:
    if not path.exists():
        return None
    try:
        return build_schema(path.read_text(encoding="utf-8"))
    except GraphQLError as exc:
        raise SchemaFetchError(
            f"cannot compare: the current {path} is not valid SDL: {exc}"
        ) from exc


def _print_changes(breaking: list[str], dangerous: list[str]) -> None:
    if not breaking and not dangerous:
        print("schema: no breaking or dangerous changes")
    for title, changes in (("breaking", breaking), ("dangerous", dangerous)):
        if changes:
            print(f"schema: {len(changes)} {title} change(s):")
            for line in changes:
                print(f"  {line}")


def _error_messages(errors: Any) -> list[str]:
    if not isinstance(errors, list):
        return []
    return [str(error.get("message", error)) for error in errors if isinstance(error, dict)]


if __name__ == "__main__":
    sys.exit(main())
