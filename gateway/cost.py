"""Query size: cost, depth and aliases, measured from the document before anything runs.

The cost approximates how many objects a query can make the server load, as GitHub's API does:

- a field returning an object or list costs 1 (one lookup), plus what is selected under it;
- a connection's items (``edges`` / ``nodes``) cost 1 each, times the connection's ``first``
  (literal, variable, or the argument's default; at most 100), so nested sizes multiply:
  ``leaderboard(first: 10) { nodes { trader { trades(first: 10) { nodes { price } } } } }``
  is 1 + 10 × (1 + 1 + (1 + 10 × 1)) = 131;
- ``edges``, ``node``, ``nodes`` and ``pageInfo`` themselves are free; scalars are free except
  ``totalCount`` (one count query);
- aliases count once each, fragments (named or inline) are expanded where they are spread, and
  a fragment spread inside itself counts nothing (validation rejects such cycles anyway).

Depth is the number of nested field levels; aliases are counted with fragments expanded, so a
fragment of 10 aliases spread 10 times is 100. Introspection (``__schema``, ``__type``) is
neither costed nor deep-counted: GraphiQL's docs need it, and the token and nesting limits bound
it. A fragment's figures are computed once per page size, so fragment fan-out ("billion
laughs") is measured in linear time and refused for what it would expand to.

Spreads on different types of an interface are all counted: the cost is an upper bound.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
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


@dataclass(frozen=True)
class QuerySize:
    """What one operation asks for: its cost in points, nesting depth and alias count."""

    cost: int = 0
    depth: int = 0
    aliases: int = 0

    def __add__(self, other: QuerySize) -> QuerySize:
        return QuerySize(
            self.cost + other.cost, max(self.depth, other.depth), self.aliases + other.aliases
        )


_EMPTY: Final = QuerySize()


def measure_query(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None = None,
    variables: Mapping[str, Any] | None = None,
) -> QuerySize:
    """The size of the operation ``operation_name`` (or the only one) in ``document``."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1:
        return _EMPTY
    operation = operations[0]
    root = schema.get_root_type(operation.operation)
    if root is None:
        return _EMPTY
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    values = dict(variables or {})
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if name not in values and isinstance(definition.default_value, IntValueNode):
            values[name] = int(definition.default_value.value)
    return _Walk(schema, fragments, values).size(operation.selection_set, root, 1, frozenset())


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None = None,
    variables: Mapping[str, Any] | None = None,
) -> int:
    """The cost of the operation ``operation_name`` (or the only one) in ``document``."""
    return measure_query(schema, document, operation_name, variables).cost


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
        self.memo: dict[tuple[str, int], QuerySize] = {}

    def size(
        self, selections: SelectionSetNode, parent: Any, page: int, spreading: frozenset[str]
    ) -> QuerySize:
        total = _EMPTY
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                total += self._field(selection, parent, page, spreading)
            elif isinstance(selection, InlineFragmentNode):
                on = parent
                if selection.type_condition is not None:
                    on = self.schema.get_type(selection.type_condition.name.value) or parent
                total += self.size(selection.selection_set, on, page, spreading)
            elif isinstance(selection, FragmentSpreadNode):
                total += self._spread(selection.name.value, parent, page, spreading)
        return total

    def _spread(self, name: str, parent: Any, page: int, spreading: frozenset[str]) -> QuerySize:
        fragment = self.fragments.get(name)
        if fragment is None or name in spreading:
            return _EMPTY
        memo_key = (name, page)
        if memo_key not in self.memo:
            on = self.schema.get_type(fragment.type_condition.name.value) or parent
            self.memo[memo_key] = self.size(fragment.selection_set, on, page, spreading | {name})
        return self.memo[memo_key]

    def _field(
        self, node: FieldNode, parent: Any, page: int, spreading: frozenset[str]
    ) -> QuerySize:
        aliases = 1 if node.alias is not None else 0
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return QuerySize(0, 0, aliases)
        definition = parent.fields.get(node.name.value)
        if definition is None:  # introspection (__typename, __schema, __type) or unknown
            return QuerySize(0, 0, aliases)
        if is_leaf_type(get_named_type(definition.type)):
            return QuerySize(1 if node.name.value in _COSTED_SCALARS else 0, 1, aliases)
        plumbing = parent.name.endswith(_PLUMBING_SUFFIXES)
        child_page = self._first(node, definition) if "first" in definition.args else 1
        named = get_named_type(definition.type)
        children = (
            _EMPTY
            if node.selection_set is None
            else self.size(node.selection_set, named, child_page, spreading)
        )
        field_type = definition.type
        if isinstance(field_type, GraphQLNonNull):
            field_type = field_type.of_type
        if plumbing and isinstance(field_type, GraphQLList):
            cost = page * (1 + children.cost)
        else:
            cost = (0 if plumbing else 1) + children.cost
        return QuerySize(cost, 1 + children.depth, aliases + children.aliases)

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
    """QUERY_TOO_COMPLEX: the query is over a per-query maximum (cost, depth or aliases)."""

    def __init__(self, message: str, **extensions: int) -> None:
        super().__init__(message, extensions={"code": "QUERY_TOO_COMPLEX", **extensions})


Charge = Callable[[Any, int], Awaitable[None]]


class QuerySizeLimiter(SchemaExtension):
    """Refuses, before execution, operations over the maximum cost, depth or aliases, and
    charges the cost of the rest to the caller's budget.

    ``charge(context, cost)`` records the cost (and may raise a coded GraphQLError when the
    caller's budget is spent). It runs after validation, so fragments are known to be acyclic.
    """

    def __init__(
        self, *, max_cost: int, max_depth: int, max_aliases: int, charge: Charge | None = None
    ) -> None:
        self.max_cost = max_cost
        self.max_depth = max_depth
        self.max_aliases = max_aliases
        self.charge = charge

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        if context.graphql_document is not None:
            size = measure_query(
                context.schema._schema,
                context.graphql_document,
                context.operation_name,
                context.variables,
            )
            self.check(size)
            if self.charge is not None:
                await self.charge(context.context, size.cost)
        yield

    def check(self, size: QuerySize) -> None:
        if size.depth > self.max_depth:
            raise QueryTooComplexError(
                f"Query depth {size.depth} exceeds the maximum of {self.max_depth} nested levels.",
                depth=size.depth,
                maxDepth=self.max_depth,
            )
        if size.aliases > self.max_aliases:
            raise QueryTooComplexError(
                f"Query uses {size.aliases} aliases (fragments expanded); at most "
                f"{self.max_aliases} are allowed.",
                aliases=size.aliases,
                maxAliases=self.max_aliases,
            )
        if size.cost > self.max_cost:
            raise QueryTooComplexError(
                f"Query cost {size.cost} exceeds the maximum of {self.max_cost} points per "
                "query: ask for smaller pages (`first`) or fewer nested connections.",
                cost=size.cost,
                maxCost=self.max_cost,
            )


_SIZE_LIMIT_MESSAGES: Final = (
    "Document contains more than",  # MaxTokensLimiter (a syntax error)
    "Document is nested too deeply",  # graphql-core's own parser guard
)


class SizeLimitCodes(SchemaExtension):
    """Codes the token and parser-nesting limits' syntax errors QUERY_TOO_COMPLEX."""

    def on_operation(self) -> Iterator[None]:
        try:
            yield
        except GraphQLError as raised:  # a parse error propagates from here
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
