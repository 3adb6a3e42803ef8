"""The executor's shortcut for plain leaf fields answers exactly as graphql-core's own path:
the same data and the same errors, on the real graph and on fields made to fail."""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Any

import pytest
import strawberry
from graphql import OperationType, parse
from psycopg_pool import AsyncConnectionPool

from bench.peer_query import QUERY as PEER_QUERY
from bench.peer_query import VARIABLES as PEER_VARIABLES
from resolvers.context import Context
from schema import build_schema
from schema.execution import FastExecutionContext
from tests.schema.test_leaderboard_page import LEADERBOARD_PAGE
from tests.schema.test_readme_examples import EXAMPLES

FAST = build_schema()
REFERENCE = build_schema(fast_leaves=False)


def _queries() -> list[tuple[str, dict[str, Any]]]:
    """README examples that are queries and need no variables, the leaderboard page, and the
    peer benchmark's query."""
    picked: list[tuple[str, dict[str, Any]]] = []
    for example in EXAMPLES:
        document = parse(example)
        operations = [d for d in document.definitions if hasattr(d, "operation")]
        if all(
            d.operation == OperationType.QUERY and not d.variable_definitions  # type: ignore[attr-defined]
            for d in operations
        ):
            picked.append((example, {}))
    return [*picked, (LEADERBOARD_PAGE, {"first": 25}), (PEER_QUERY, PEER_VARIABLES)]


QUERIES = _queries()


def _outcome(result: Any) -> tuple[Any, list[tuple[str, Any]]]:
    return result.data, [(e.message, e.path) for e in result.errors or []]


@pytest.mark.parametrize(
    ("query", "variables"), QUERIES, ids=[f"q{i}" for i in range(len(QUERIES))]
)
async def test_the_graph_answers_the_same_either_way(
    seeded_pool: AsyncConnectionPool, query: str, variables: dict[str, Any]
) -> None:
    fast = await FAST.execute(
        query, variable_values=variables, context_value=Context.for_pool(seeded_pool)
    )
    reference = await REFERENCE.execute(
        query, variable_values=variables, context_value=Context.for_pool(seeded_pool)
    )
    assert _outcome(fast) == _outcome(reference)
    assert fast.data is not None


class Opaque:
    def __str__(self) -> str:
        return "opaque"


class Colour(enum.Enum):
    RED = "red"


@strawberry.type
class Item:
    count: int
    maybe: int | None
    colour: Colour
    amount: Decimal
    label: str

    @strawberry.field
    def computed(self) -> int:
        return self.count * 2


def _items() -> list[Item]:
    good = Item(count=1, maybe=None, colour=Colour.RED, amount=Decimal("1.50"), label="a")
    no_count = Item(count=None, maybe=3, colour=Colour.RED, amount=Decimal(2), label="b")  # type: ignore[arg-type]
    bad_colour = Item(count=3, maybe=None, colour="purple", amount=Decimal(3), label="c")  # type: ignore[arg-type]
    bad_amount = Item(count=4, maybe=None, colour=Colour.RED, amount=Opaque(), label="d")  # type: ignore[arg-type]
    return [good, no_count, bad_colour, bad_amount]


@strawberry.type
class Box:
    item: Item
    items: list[Item]
    maybe_item: Item | None
    loose: list[Item | None]


def _boxes() -> list[Box]:
    good, no_count, bad_colour, _ = _items()
    return [
        Box(item=good, items=[good, good], maybe_item=None, loose=[good, None]),
        Box(item=good, items=[good, no_count], maybe_item=bad_colour, loose=[no_count]),
        Box(item=no_count, items=[], maybe_item=good, loose=[]),
    ]


@strawberry.type
class ToyQuery:
    @strawberry.field
    def boxes(self) -> list[Box | None]:
        return list[Box | None](_boxes())

    @strawberry.field
    def first_box(self) -> Box:
        return _boxes()[0]

    @strawberry.field
    def items(self) -> list[Item | None]:
        return list(_items())

    @strawberry.field
    def strict(self) -> list[Item]:
        return list(_items())


@pytest.mark.parametrize(
    "query",
    [
        "{ items { count maybe colour amount label computed } }",
        "{ strict { count } }",
        "{ items { label alias: label c: count } }",
        "{ items { ... on Item { colour } __typename } }",
        "{ items { label @include(if: false) count @skip(if: true) maybe } }",
        "{ firstBox { item { label count } items { label } maybeItem { label } loose { label } } }",
        "{ boxes { item { label } items { label colour } maybeItem { label } } }",
        "{ boxes { items { count } loose { label } } }",
        "{ items { __typename } boxes { item { __typename } items { __typename } } }",
        "{ boxes { maybeItem { colour } item { __typename computed } } }",
    ],
)
async def test_failing_leaves_fail_the_same_way(query: str) -> None:
    fast = strawberry.Schema(query=ToyQuery, execution_context_class=FastExecutionContext)
    reference = strawberry.Schema(query=ToyQuery)
    fast_result = await fast.execute(query)
    reference_result = await reference.execute(query)
    assert _outcome(fast_result) == _outcome(reference_result)


def _needs_arguments(field: Any) -> bool:
    from graphql import GraphQLNonNull, Undefined

    return any(
        isinstance(arg.type, GraphQLNonNull) and arg.default_value is Undefined
        for arg in field.args.values()
    )


def _selection(type_: Any, depth: int) -> str:
    """Every field of ``type_`` that needs no argument, objects ``depth`` levels deep."""
    from graphql import get_named_type, is_leaf_type, is_object_type

    named = get_named_type(type_)
    if is_leaf_type(named):
        return ""
    parts = ["__typename"]
    if not is_object_type(named):
        return "{ __typename }"
    for name, field in named.fields.items():
        if _needs_arguments(field):
            continue
        inner = get_named_type(field.type)
        if is_leaf_type(inner):
            parts.append(name)
        elif depth > 0:
            parts.append(f"{name} {_selection(field.type, depth - 1)}")
    return "{ " + " ".join(parts) + " }"


def _root_queries() -> list[str]:
    queries = []
    for name, field in REFERENCE._schema.query_type.fields.items():  # type: ignore[union-attr]
        if name in {"viewer", "rateLimit"} or _needs_arguments(field):
            continue
        queries.append(f"{{ {name} {_selection(field.type, 3)} }}")
    return queries


ROOT_QUERIES = _root_queries()


def test_every_root_field_is_covered() -> None:
    assert len(ROOT_QUERIES) >= 15


@pytest.mark.parametrize("query", ROOT_QUERIES, ids=[q.split()[1] for q in ROOT_QUERIES])
async def test_every_root_field_answers_the_same_either_way(
    seeded_pool: AsyncConnectionPool, query: str
) -> None:
    fast = await FAST.execute(query, context_value=Context.for_pool(seeded_pool))
    reference = await REFERENCE.execute(query, context_value=Context.for_pool(seeded_pool))
    assert _outcome(fast) == _outcome(reference)
