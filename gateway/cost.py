"""Query cost: computed from the document before anything runs, as GitHub's API does.

The cost approximates how many objects a query can make the server load:

- a field returning an object or list costs 1 (one lookup), plus what is selected under it;
- a connection's items (``edges`` / ``nodes``) cost 1 each, times the connection's ``first``
  (literal, variable, or the argument's default; at most 100), so nested sizes multiply:
  ``leaderboard(first: 10) { nodes { trader { trades(first: 10) { nodes { price } } } } }``
  is 1 + 10 × (1 + 1 + (1 + 10 × 1)) = 131;
- ``edges``, ``node``, ``nodes`` and ``pageInfo`` themselves are free; scalars are free except
  ``totalCount`` (one count query);
- aliases count once each, fragments (named or inline) are expanded where they are spread, and
  a fragment spread inside itself counts nothing (validation rejects such cycles anyway).

Spreads on different types of an interface are all counted: the cost is an upper bound.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from typing import Any, Final

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_leaf_type,
)
from strawberry.extensions import SchemaExtension

MAX_PAGE: Final = 100
_PLUMBING_SUFFIXES: Final = ("Connection", "Edge")
_COSTED_SCALARS: Final = frozenset({"totalCount"})


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None = None,
    variables: Mapping[str, Any] | None = None,
) -> int:
    """The cost of the operation ``operation_name`` (or the only one) in ``document``."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1:
        return 0
    operation = operations[0]
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    values = dict(variables or {})
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if name not in values and isinstance(definition.default_value, IntValueNode):
            values[name] = int(definition.default_value.value)
    return _Walk(schema, fragments, values).cost(operation.selection_set, root, 1, frozenset())


class _Walk:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def cost(
        self, selections: SelectionSetNode, parent: Any, page: int, spreading: frozenset[str]
    ) -> int:
        total = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                total += self._field(selection, parent, page, spreading)
            elif isinstance(selection, InlineFragmentNode):
                on = parent
                if selection.type_condition is not None:
                    on = self.schema.get_type(selection.type_condition.name.value) or parent
                total += self.cost(selection.selection_set, on, page, spreading)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in spreading:
                    continue
                on = self.schema.get_type(fragment.type_condition.name.value) or parent
                total += self.cost(fragment.selection_set, on, page, spreading | {name})
        return total

    def _field(self, node: FieldNode, parent: Any, page: int, spreading: frozenset[str]) -> int:
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return 0
        definition = parent.fields.get(node.name.value)
        if definition is None:
            return 0
        if is_leaf_type(get_named_type(definition.type)):
            return 1 if node.name.value in _COSTED_SCALARS else 0
        plumbing = parent.name.endswith(_PLUMBING_SUFFIXES)
        child_page = self._first(node, definition) if "first" in definition.args else 1
        children = (
            0
            if node.selection_set is None
            else self.cost(
                node.selection_set, get_named_type(definition.type), child_page, spreading
            )
        )
        field_type = definition.type
        if isinstance(field_type, GraphQLNonNull):
            field_type = field_type.of_type
        if plumbing and isinstance(field_type, GraphQLList):
            return page * (1 + children)
        return (0 if plumbing else 1) + children

    def _first(self, node: FieldNode, definition: Any) -> int:
        value: Any = definition.args["first"].default_value
        for argument in node.arguments or ():
            if argument.name.value != "first":
                continue
            if isinstance(argument.value, IntValueNode):
                value = int(argument.value.value)
            elif isinstance(argument.value, VariableNode):
                value = self.variables.get(argument.value.name.value, value)
        if not isinstance(value, int) or isinstance(value, bool):
            return MAX_PAGE
        return max(0, min(value, MAX_PAGE))


class QueryTooComplexError(GraphQLError):
    """QUERY_TOO_COMPLEX: the query's cost is over the per-query maximum."""

    def __init__(self, cost: int, max_cost: int) -> None:
        super().__init__(
            f"Query cost {cost} exceeds the maximum of {max_cost} points per query: ask for "
            f"smaller pages (`first`) or fewer nested connections.",
            extensions={"code": "QUERY_TOO_COMPLEX", "cost": cost, "maxCost": max_cost},
        )


Charge = Callable[[Any, int], Awaitable[None]]


class QueryCostLimiter(SchemaExtension):
    """Rejects over-cost queries before execution and charges the rest to the caller's budget.

    ``charge(context, cost)`` records the cost (and may raise a coded GraphQLError when the
    caller's budget is spent).
    """

    def __init__(self, *, max_cost: int, charge: Charge | None = None) -> None:
        self.max_cost = max_cost
        self.charge = charge

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        if context.graphql_document is not None:
            cost = query_cost(
                context.schema._schema,
                context.graphql_document,
                context.operation_name,
                context.variables,
            )
            if cost > self.max_cost:
                raise QueryTooComplexError(cost, self.max_cost)
            if self.charge is not None:
                await self.charge(context.context, cost)
        yield


_SIZE_LIMIT_MESSAGES: Final = (
    "exceeds maximum operation depth",  # QueryDepthLimiter
    "aliases found. Allowed:",  # MaxAliasesLimiter
    "Document contains more than",  # MaxTokensLimiter (a syntax error)
    "Document is nested too deeply",  # graphql-core's own parser guard
)


class SizeLimitCodes(SchemaExtension):
    """Codes the depth, alias and token limiters' errors QUERY_TOO_COMPLEX (they carry none)."""

    def on_operation(self) -> Iterator[None]:
        try:
            yield
        except GraphQLError as raised:  # a parse error (the token limit) propagates from here
            _code_size_limit(raised)
            raise
        context = self.execution_context
        errors = list(context.pre_execution_errors or [])
        if context.result is not None:
            errors += context.result.errors or []
        for error in errors:
            _code_size_limit(error)


def _code_size_limit(error: GraphQLError) -> None:
    if error.extensions and "code" in error.extensions:
        return
    if any(marker in error.message for marker in _SIZE_LIMIT_MESSAGES):
        error.extensions = {**(error.extensions or {}), "code": "QUERY_TOO_COMPLEX"}
