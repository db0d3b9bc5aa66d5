"""The operation files in queries/: valid, complete, variable-driven, error-aware."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    TypeInfo,
    TypeInfoVisitor,
    ValueNode,
    VariableNode,
    Visitor,
    get_named_type,
    is_abstract_type,
    parse,
    specified_rules,
    validate,
    visit,
)
from graphql.validation import NoDeprecatedCustomRule, NoUnusedFragmentsRule

from .conftest import FRAGMENTS_PATH, QUERIES_DIR

EXPECTED_OPERATION_COUNT = 64
OPERATION_FILES = sorted(path for path in QUERIES_DIR.rglob("*.graphql") if path != FRAGMENTS_PATH)
# Fragments live in their own file, so per-file validation must not require every
# fragment to be used in that file.
RULES = [rule for rule in specified_rules if rule is not NoUnusedFragmentsRule]


def operations(document: DocumentNode) -> list[OperationDefinitionNode]:
    return [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]


def fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def root_field(operation: OperationDefinitionNode) -> FieldNode:
    (selection,) = operation.selection_set.selections
    assert isinstance(selection, FieldNode)
    return selection


def selected_fields(
    selection_set: SelectionSetNode | None, known: dict[str, FragmentDefinitionNode]
) -> dict[str, FieldNode]:
    """Fields selected at this level, with fragment spreads expanded (keyed by response name)."""
    found: dict[str, FieldNode] = {}
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode):
            found[(selection.alias or selection.name).value] = selection
        elif isinstance(selection, FragmentSpreadNode):
            found.update(selected_fields(known[selection.name.value].selection_set, known))
        elif isinstance(selection, InlineFragmentNode):
            found.update(selected_fields(selection.selection_set, known))
    return found


def argument_values(selection_set: SelectionSetNode | None) -> Iterator[ValueNode]:
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode):
            for argument in selection.arguments:
                yield argument.value
        yield from argument_values(getattr(selection, "selection_set", None))


@pytest.mark.parametrize("path", [*OPERATION_FILES, FRAGMENTS_PATH], ids=lambda p: p.name)
def test_file_parses_and_validates_against_the_schema(path: Path, schema: GraphQLSchema) -> None:
    source = path.read_text(encoding="utf-8")
    parse(source)  # each file is valid GraphQL on its own
    if path != FRAGMENTS_PATH:
        source += "\n" + FRAGMENTS_PATH.read_text(encoding="utf-8")
    assert validate(schema, parse(source), RULES) == []


def test_operations_use_no_deprecated_field_or_argument(
    schema: GraphQLSchema, operations_document: DocumentNode
) -> None:
    # e.g. refreshUserAccessToken(refreshToken:), not the deprecated userId: alias.
    assert validate(schema, operations_document, [NoDeprecatedCustomRule]) == []


def test_every_root_field_has_exactly_one_operation(
    schema: GraphQLSchema, operations_document: DocumentNode
) -> None:
    assert schema.query_type is not None
    assert schema.mutation_type is not None
    expected = {("query", name) for name in schema.query_type.fields} | {
        ("mutation", name) for name in schema.mutation_type.fields
    }
    covered = [
        (operation.operation.value, root_field(operation).name.value)
        for operation in operations(operations_document)
    ]
    assert sorted(covered) == sorted(expected)  # none missing, none twice
    assert len(covered) == EXPECTED_OPERATION_COUNT


def test_operation_names_are_unique_pascal_case(operations_document: DocumentNode) -> None:
    names = [op.name.value for op in operations(operations_document) if op.name]
    assert len(names) == len(operations(operations_document))
    assert len(set(names)) == len(names)
    assert [n for n in names if not re.fullmatch(r"(?:[A-Z][a-z0-9]+)+", n)] == []


def test_arguments_are_variables_never_literals(operations_document: DocumentNode) -> None:
    offending = [
        op.name.value if op.name else "?"
        for op in operations(operations_document)
        if any(not isinstance(value, VariableNode) for value in argument_values(op.selection_set))
    ]
    assert offending == []


def test_payloads_with_success_or_error_select_them(
    schema: GraphQLSchema, operations_document: DocumentNode
) -> None:
    known = fragments(operations_document)
    checked = 0
    for operation in operations(operations_document):
        root_type = schema.get_root_type(operation.operation)
        assert root_type is not None
        field = root_field(operation)
        payload_type = get_named_type(root_type.fields[field.name.value].type)
        if not isinstance(payload_type, GraphQLObjectType):
            continue
        selected = selected_fields(field.selection_set, known)
        name = operation.name.value if operation.name else "?"
        if "success" in payload_type.fields:
            assert "success" in selected, name
        if "error" in payload_type.fields:
            assert "error" in selected, name
            assert set(selected_fields(selected["error"].selection_set, known)) >= {
                "code",
                "message",
            }, name
            checked += 1
    assert checked >= 5  # AddAuthorizedUser, RemoveAuthorizedUser, RegisterUser, ...


def test_offer_selects_both_stock_info_members(
    schema: GraphQLSchema, operations_document: DocumentNode
) -> None:
    offer = fragments(operations_document)["Offer"]
    stock_info = selected_fields(offer.selection_set, {})["stockInfo"]
    assert stock_info.selection_set is not None
    members = {
        s.type_condition.name.value
        for s in stock_info.selection_set.selections
        if isinstance(s, InlineFragmentNode) and s.type_condition
    }
    union = schema.get_type("StockInfo")
    assert (
        members
        == {t.name for t in getattr(union, "types", [])}
        == {
            "StockInfoFixedType",
            "StockInfoVariableType",
        }
    )


def test_union_selections_request_typename(
    schema: GraphQLSchema, operations_document: DocumentNode
) -> None:
    # The generated models discriminate union members on __typename, and ariadne-codegen
    # does not add it to the query text: without it a real response cannot be parsed.
    type_info = TypeInfo(schema)
    missing: list[str] = []

    class AbstractFields(Visitor):
        def enter_field(self, node: FieldNode, *_: object) -> None:
            field_type = type_info.get_type()
            if field_type is None or not is_abstract_type(get_named_type(field_type)):
                return
            direct = selected_fields(node.selection_set, {})  # spreads do not count
            if "__typename" not in direct:
                missing.append(node.name.value)

    visit(operations_document, TypeInfoVisitor(type_info, AbstractFields()))
    assert missing == []
