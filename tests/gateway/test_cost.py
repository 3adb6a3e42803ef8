"""The query cost function, table-driven: connections multiply, fragments expand, aliases and
variables count, and nothing loops."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import parse

from gateway.cost import query_cost
from schema import schema

TRADES_F = "fragment F on Trader { trades(first: 2) { nodes { price } } }"

CASES: list[tuple[str, str, dict[str, Any] | None, str | None, int]] = [
    ("a plain list costs one lookup", "{ markets { coin } }", None, None, 1),
    ("scalars alone are free", "{ __typename }", None, None, 0),
    ("a connection's default page (50)", "{ trades { nodes { price } } }", None, None, 51),
    ("a literal first", "{ trades(first: 10) { nodes { price } } }", None, None, 11),
    (
        "edges and node cost the same as nodes",
        "{ trades(first: 10) { edges { cursor node { price } } } }",
        None,
        None,
        11,
    ),
    (
        "totalCount costs one count, pageInfo nothing",
        "{ trades(first: 10) { totalCount pageInfo { hasNextPage } } }",
        None,
        None,
        2,
    ),
    (
        "nested connections multiply",
        "{ leaderboard(first: 10) { nodes { trader { trades(first: 10) { nodes { price } } } } } }",
        None,
        None,
        131,
    ),
    (
        "first from a variable",
        "query Q($n: Int!) { trades(first: $n) { nodes { price } } }",
        {"n": 20},
        None,
        21,
    ),
    (
        "first from a variable's default",
        "query Q($n: Int! = 5) { trades(first: $n) { nodes { price } } }",
        None,
        None,
        6,
    ),
    (
        "first above 100 counts as 100 (the resolver refuses it anyway)",
        "{ trades(first: 1000) { nodes { price } } }",
        None,
        None,
        101,
    ),
    (
        "first of a wrong type counts as 100",
        "query Q($n: Int!) { trades(first: $n) { nodes { price } } }",
        {"n": "lots"},
        None,
        101,
    ),
    (
        "each alias counts",
        "{ a: trades(first: 10) { nodes { price } } b: trades(first: 20) { nodes { price } } }",
        None,
        None,
        32,
    ),
    (
        "a named fragment expands where it is spread",
        "query { trades(first: 10) { ...T } } fragment T on TradeConnection { nodes { price } }",
        None,
        None,
        11,
    ),
    (
        "a fragment inside a connection multiplies",
        "{ leaderboard(first: 4) { nodes { trader { ...F } } } } " + TRADES_F,
        None,
        None,
        21,  # 1 + 4 x (1 + trader 1 + trades (1 + 2))
    ),
    (
        "a fragment spread twice counts twice",
        '{ a: trader(address: "x") { ...F } b: trader(address: "y") { ...F } } ' + TRADES_F,
        None,
        None,
        8,
    ),
    (
        "an inline fragment on an interface",
        '{ node(id: "x") { ... on Trader { trades(first: 2) { nodes { price } } } } }',
        None,
        None,
        4,
    ),
    (
        "circular fragments terminate",
        '{ trader(address: "x") { ...A } } '
        "fragment A on Trader { ...B } fragment B on Trader { ...A }",
        None,
        None,
        1,
    ),
    (
        "the named operation is the one costed",
        "query A { markets { coin } } query B { trades(first: 3) { nodes { price } } }",
        None,
        "B",
        4,
    ),
    ("an unknown operation name costs nothing", "query A { markets { coin } }", None, "Z", 0),
    ("unknown fields cost nothing (validation rejects them)", "{ nope { x } }", None, None, 0),
]


@pytest.mark.parametrize(
    ("query", "variables", "operation", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_query_cost(
    query: str, variables: dict[str, Any] | None, operation: str | None, expected: int
) -> None:
    assert query_cost(schema._schema, parse(query), operation, variables) == expected
