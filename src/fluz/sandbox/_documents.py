"""Parsing, validating and sizing GraphQL documents, cached by query text."""

from __future__ import annotations

import functools
import inspect
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    parse,
    validate,
)

from ._config import (
    DOCUMENT_BYTES_PER_CHAR,
    DOCUMENT_CACHE_BYTES,
    MAX_INTROSPECTION_COST,
    MAX_LEXICAL_TOKENS,
    MAX_QUERY_CHARS,
    MAX_QUERY_DEPTH,
    MAX_QUERY_FIELDS,
)
from ._errors import PARSE_FAILED, VALIDATION_FAILED
from ._schema import executable_schema


@dataclass(frozen=True)
class Operation:
    definition: OperationDefinitionNode
    root_fields: tuple[str, ...]  # names of the root fields, fragments expanded


@dataclass(frozen=True)
class PreparedDocument:
    """A document ready to execute, or the reason it cannot be (``error_code``)."""

    document: DocumentNode | None = None
    errors: tuple[GraphQLError, ...] = ()
    error_code: str | None = None
    operations: dict[str | None, Operation] = field(default_factory=dict)

    def operation(self, name: str | None) -> Operation | str:
        """The operation to run, or a message saying why there is none."""
        if name is not None:
            return self.operations.get(name) or f"Unknown operation named '{name}'."
        if len(self.operations) == 1:
            return next(iter(self.operations.values()))
        return "Must provide operation name if query contains multiple operations."


# The parser's token limit, under the name this graphql-core release knows (if any).
_TOKEN_LIMIT = next(
    (n for n in ("max_lexical_tokens", "max_tokens") if n in inspect.signature(parse).parameters),
    None,
)
_PARSER_LIMITS: dict[str, Any] = {_TOKEN_LIMIT: MAX_LEXICAL_TOKENS} if _TOKEN_LIMIT else {}


class DocumentCache:
    """Least-recently-used prepared documents, bounded by their estimated bytes.

    Shared by every server of the process (each on its own thread), hence the lock.
    """

    def __init__(self, budget: int = DOCUMENT_CACHE_BYTES) -> None:
        self.budget = budget
        self.size = 0
        self._entries: OrderedDict[str, PreparedDocument] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def cost(query: str) -> int:
        return len(query) * DOCUMENT_BYTES_PER_CHAR

    def get(self, query: str) -> PreparedDocument | None:
        with self._lock:
            found = self._entries.get(query)
            if found is not None:
                self._entries.move_to_end(query)
            return found

    def put(self, query: str, prepared: PreparedDocument) -> None:
        cost = self.cost(query)
        if cost > self.budget:
            return
        with self._lock:
            if query in self._entries:
                return
            self._entries[query] = prepared
            self.size += cost
            while self.size > self.budget:
                evicted, _ = self._entries.popitem(last=False)
                self.size -= self.cost(evicted)

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.size = 0


DOCUMENTS = DocumentCache()


def prepare(query: str) -> PreparedDocument:
    """The query parsed, within the size limits and validated against the schema.

    Every character counts toward MAX_QUERY_CHARS (checked before parsing). Sizes are
    checked before validation, whose cost grows with the square of a document's fields: a
    huge document is refused cheaply. Only documents that can run are cached: a failure is
    recomputed (cheaply: it is bounded like any document) rather than kept.
    """
    if len(query) > MAX_QUERY_CHARS:
        refusal = f"Query is too large: {len(query)} characters (limit {MAX_QUERY_CHARS})"
        return PreparedDocument(errors=(GraphQLError(refusal),), error_code=VALIDATION_FAILED)
    cached = DOCUMENTS.get(query)
    if cached is not None:
        return cached
    prepared = _prepare(query)
    if prepared.error_code is None:
        DOCUMENTS.put(query, prepared)
    return prepared


def _prepare(query: str) -> PreparedDocument:
    try:
        document = parse(query, **_PARSER_LIMITS)
    except GraphQLError as error:
        return PreparedDocument(errors=(error,), error_code=PARSE_FAILED)
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    definitions = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    sizer = _Sizer(fragments)
    try:
        for definition in definitions:
            if refusal := _refusal(definition, sizer):
                return PreparedDocument(
                    errors=(GraphQLError(refusal),), error_code=VALIDATION_FAILED
                )
    except RecursionError:
        refusal = "Query is nested too deeply"
        return PreparedDocument(errors=(GraphQLError(refusal),), error_code=VALIDATION_FAILED)
    errors = validate(executable_schema(), document, max_errors=20)
    if errors:
        return PreparedDocument(errors=tuple(errors), error_code=VALIDATION_FAILED)
    operations = {
        (d.name.value if d.name else None): Operation(
            d, tuple(dict.fromkeys(_root_fields(d.selection_set, fragments)))
        )
        for d in definitions
    }
    return PreparedDocument(document=document, operations=operations)


def _refusal(definition: OperationDefinitionNode, sizer: _Sizer) -> str | None:
    if definition.operation == OperationType.SUBSCRIPTION:
        return "Subscriptions are not supported"  # docs: "does not currently use subscriptions"
    depth, count = sizer.measure(definition.selection_set)
    if depth > MAX_QUERY_DEPTH or count > MAX_QUERY_FIELDS:
        return (
            f"Query is too complex: depth {depth} (limit {MAX_QUERY_DEPTH}), "
            f"{count} fields (limit {MAX_QUERY_FIELDS})"
        )
    cost = sizer.introspection_cost(definition.selection_set)
    if cost > MAX_INTROSPECTION_COST:
        return (
            f"Introspection is too costly: about {cost} values (limit "
            f"{MAX_INTROSPECTION_COST}); select __schema once, without aliases"
        )
    return None


@functools.cache
def _introspection_fanout() -> dict[str, float]:
    """How many items each list field of the introspection types yields, on average, for
    this schema: ``types`` all of them, ``fields`` the fields per type, and so on."""
    schema = executable_schema()
    named = list(schema.type_map.values())

    def per(total: int, among: int) -> int:
        return max(1, math.ceil(total / max(1, among)))

    fields = [f for t in named for f in (getattr(t, "fields", None) or {}).values()]
    args = sum(len(getattr(f, "args", None) or {}) for f in fields)
    enum_values = sum(len(getattr(t, "values", None) or {}) for t in named)
    interfaces = sum(len(getattr(t, "interfaces", None) or ()) for t in named)
    return {
        "types": len(named),
        "directives": len(schema.directives),
        "fields": per(len(fields), len(named)),
        "inputFields": per(len(fields), len(named)),
        "enumValues": per(enum_values, len(named)),
        "interfaces": per(interfaces, len(named)),
        "possibleTypes": per(interfaces, len(named)),
        "args": per(args, len(fields)),
        "locations": 4,
        # Type references nest ``ofType`` several levels deep, but real chains end after one
        # or two (NON_NULL of LIST of NON_NULL of a named type): each level counts half.
        "ofType": 0.5,
    }


def _root_fields(
    selection_set: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode]
) -> list[str]:
    names: list[str] = []
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            names.append(selection.name.value)
        elif isinstance(selection, InlineFragmentNode):
            names += _root_fields(selection.selection_set, fragments)
        elif isinstance(selection, FragmentSpreadNode):
            names += _root_fields(fragments[selection.name.value].selection_set, fragments)
    return names


class _Sizer:
    """Depth and field count with fragments expanded; memoised per fragment, so a document
    that would expand exponentially is still measured in linear time. Unknown fragments and
    cycles count as empty here: validation rejects them afterwards."""

    def __init__(self, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self._fragments = fragments
        self._memo: dict[str, tuple[int, int]] = {}
        self._visiting: set[str] = set()

    def introspection_cost(self, selection_set: SelectionSetNode | None) -> int:
        """The values ``__schema`` / ``__type`` selections would produce, estimated with each
        introspection list field's average size, so aliases multiply it (see
        MAX_INTROSPECTION_COST for figures). Fields outside introspection cost nothing here:
        MAX_QUERY_FIELDS bounds them."""
        return math.ceil(self._cost(selection_set, inside=False, memo={}))

    def _cost(
        self,
        selection_set: SelectionSetNode | None,
        inside: bool,
        memo: dict[tuple[str, bool], float],
    ) -> float:
        if selection_set is None:
            return 0
        fanout = _introspection_fanout()
        total = 0.0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                name = selection.name.value
                if inside:
                    child = self._cost(selection.selection_set, True, memo)
                    total += 1 + fanout.get(name, 1) * child
                elif name in ("__schema", "__type"):  # only on the root: no deeper search
                    total += 1 + self._cost(selection.selection_set, True, memo)
            elif isinstance(selection, InlineFragmentNode):
                total += self._cost(selection.selection_set, inside, memo)
            elif isinstance(selection, FragmentSpreadNode):
                key = (selection.name.value, inside)
                if key not in memo:
                    fragment = self._fragments.get(key[0])
                    if fragment is None or key[0] in self._visiting:
                        continue
                    self._visiting.add(key[0])
                    memo[key] = self._cost(fragment.selection_set, inside, memo)
                    self._visiting.discard(key[0])
                total += memo[key]
        return total

    def measure(self, selection_set: SelectionSetNode | None) -> tuple[int, int]:
        if selection_set is None:
            return 0, 0
        depth = count = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                child_depth, child_count = self.measure(selection.selection_set)
                depth, count = max(depth, child_depth + 1), count + child_count + 1
            elif isinstance(selection, InlineFragmentNode):
                child_depth, child_count = self.measure(selection.selection_set)
                depth, count = max(depth, child_depth), count + child_count
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in self._memo:
                    if name in self._visiting or name not in self._fragments:
                        continue
                    self._visiting.add(name)
                    self._memo[name] = self.measure(self._fragments[name].selection_set)
                    self._visiting.discard(name)
                child_depth, child_count = self._memo[name]
                depth, count = max(depth, child_depth), count + child_count
        return depth, count
