"""The cost of a query, bounded before it runs (`GRAPHQL_MAX_COST`).

Every field costs 1; a list multiplies what is selected inside it by its size: the
`first` argument where a field has one (literal or variable, default 20), else the most a
list of that field can hold. So `jobs(first: 100) { edges { node { events { id } } } }`
costs about 100 × (1 + 50 × 1) and fifteen aliases of it cost fifteen times that: such a
query is refused as BAD_USER_INPUT (`reason: QUERY_TOO_COMPLEX`, with its cost and the
limit) before a single resolver runs."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    VariableNode,
    validate,
)
from graphql.validation import ValidationRule
from strawberry.extensions import SchemaExtension

from reelforge.errors import BadUserInput
from reelforge.jobs.params import MAX_SCENES
from reelforge.jobs.repository import DEFAULT_PAGE_SIZE

# The most items a list field without `first` can hold (a parent's type and field name,
# as in the SDL). Others count as one item each.
LIST_SIZES: Mapping[tuple[str, str], int] = {
    ("Job", "scenes"): MAX_SCENES,
    ("Job", "events"): 50,
    ("Job", "exports"): 10,
    ("Mutation", "exportVideo"): 10,
}


class QueryCost(SchemaExtension):
    """Refuses, at validation, any operation whose cost is above `max_cost`.

    The cost reads the operation's variables, so it is checked for every operation, after
    the (cached) validation of the document has passed: place it after `ValidationCache`."""

    def __init__(self, *, max_cost: int) -> None:
        self.max_cost = max_cost

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if not context.pre_execution_errors and context.graphql_document is not None:
            rule = cost_rule(self.max_cost, context.variables or {})
            errors = validate(context.schema._schema, context.graphql_document, [rule])
            if errors:
                context.pre_execution_errors = errors
        yield


def cost_rule(max_cost: int, variables: Mapping[str, Any]) -> type[ValidationRule]:
    class CostRule(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            root = self.context.schema.get_root_type(node.operation)
            if root is None:
                return
            cost = selection_cost(self.context, variables, root, node.selection_set, 0)
            if cost > max_cost:
                error = BadUserInput(
                    f"this query is too complex (cost {cost}, at most {max_cost}): ask for "
                    "fewer items per page, fewer nested lists or fewer aliases",
                    reason="QUERY_TOO_COMPLEX",
                    cost=cost,
                    maxCost=max_cost,
                )
                self.report_error(GraphQLError(error.message, node, original_error=error))

    return CostRule


MAX_INT = 2**31 - 1  # GraphQL's Int
MAX_INT_DIGITS = 10
MAX_FRAGMENT_DEPTH = 32  # fragments spread inside fragments; cycles are another rule's error


def selection_cost(
    context: ValidationContext,
    variables: Mapping[str, Any],
    parent: GraphQLNamedType,
    selection_set: SelectionSetNode | None,
    depth: int,
) -> int:
    if selection_set is None or depth > MAX_FRAGMENT_DEPTH:
        return 0
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            total += field_cost(context, variables, parent, selection, depth)
        elif isinstance(selection, InlineFragmentNode):
            target = parent
            if selection.type_condition is not None:
                target = context.schema.get_type(selection.type_condition.name.value) or parent
            total += selection_cost(context, variables, target, selection.selection_set, depth + 1)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = context.get_fragment(selection.name.value)
            if fragment is not None:
                target = context.schema.get_type(fragment.type_condition.name.value) or parent
                total += selection_cost(
                    context, variables, target, fragment.selection_set, depth + 1
                )
    return total


def field_cost(
    context: ValidationContext,
    variables: Mapping[str, Any],
    parent: GraphQLNamedType,
    node: FieldNode,
    depth: int,
) -> int:
    if not isinstance(parent, GraphQLObjectType):
        return 1
    definition = parent.fields.get(node.name.value)
    if definition is None:
        return 1  # unknown field: another rule reports it
    inner, is_list = _unwrap(definition.type)
    items = _first(node, variables)
    if items is None and "first" in definition.args:
        items = DEFAULT_PAGE_SIZE
    if items is None:
        items = LIST_SIZES.get((parent.name, node.name.value), 1) if is_list else 1
    return 1 + items * selection_cost(context, variables, inner, node.selection_set, depth)


def _unwrap(type_: GraphQLOutputType) -> tuple[GraphQLNamedType, bool]:
    is_list = False
    current: Any = type_
    while isinstance(current, GraphQLNonNull | GraphQLList):
        is_list = is_list or isinstance(current, GraphQLList)
        current = current.of_type
    named: GraphQLNamedType = current
    return named, is_list


def _first(node: FieldNode, variables: Mapping[str, Any]) -> int | None:
    for argument in node.arguments or ():
        if argument.name.value != "first":
            continue
        value = argument.value
        if isinstance(value, IntValueNode):
            number = int(value.value) if len(value.value) <= MAX_INT_DIGITS else None
            if number is None or not 0 <= number <= MAX_INT:
                return DEFAULT_PAGE_SIZE  # not a valid Int: another rule reports it
            return number
        if isinstance(value, VariableNode):
            given = variables.get(value.name.value)
            return max(0, given) if isinstance(given, int) else DEFAULT_PAGE_SIZE
        return DEFAULT_PAGE_SIZE
    return None
