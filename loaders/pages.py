"""One page of children for many parents in one statement (DESIGN.md decision 3).

"The 10 newest trades of each of these 100 traders" is one ``unnest(...) CROSS JOIN LATERAL
(... LIMIT k)`` query: each parent brings its own limit and keyset cursor, and each child row
comes back tagged with the ordinal of the key that asked for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, LiteralString, TypeVar

from psycopg import sql
from psycopg_pool import AsyncConnectionPool

from db.query import fetch_rows
from db.rows import _FromRow, select_list

R = TypeVar("R", bound=_FromRow)

#: Sorts after every time and every number: the "after" of a first page.
_BEYOND_LAST = "infinity"
_LAST_ID = 2**63 - 1


@dataclass(frozen=True, slots=True)
class PageKey:
    """A page of one parent's children, largest sort value (newest) first.

    ``parent`` is the parent's key (an id, or a coin); ``limit`` the number of rows to read
    (one more than the page size, to learn whether another page follows); ``after`` the
    (sort value, id) of the last row of the previous page.
    """

    parent: int | str
    limit: int
    after: tuple[datetime | Decimal, int] | None = None


@dataclass(frozen=True, slots=True)
class PageQuery:
    """Where the children live, what names their parent, and what orders them (descending)."""

    table: LiteralString
    parent_column: str
    sort_column: str
    row_type: type[_FromRow]
    parent_type: LiteralString = "bigint"
    sort_type: LiteralString = "timestamptz"


async def load_pages(
    pool: AsyncConnectionPool,
    query: PageQuery,
    keys: Sequence[PageKey],
    conditions: Sequence[sql.Composable] = (),
    params: Sequence[Any] = (),
) -> list[list[Any]]:
    """Each key's page, in key order, in one statement."""
    where = sql.SQL(" AND ").join(
        [
            sql.SQL("c.{} = k.parent").format(sql.Identifier(query.parent_column)),
            sql.SQL("(c.{}, c.id) < (k.after_value, k.after_id)").format(
                sql.Identifier(query.sort_column)
            ),
            *conditions,
        ]
    )
    statement = sql.SQL(
        "SELECT k.ordinal, {columns} "
        "FROM unnest(%s::{parent_type}[], %s::int[], %s::{sort_type}[], %s::bigint[]) "
        "WITH ORDINALITY AS k(parent, row_limit, after_value, after_id, ordinal) "
        "CROSS JOIN LATERAL (SELECT * FROM {table} AS c WHERE {where} "
        "ORDER BY c.{sort} DESC, c.id DESC LIMIT k.row_limit) AS c "
        "ORDER BY k.ordinal"
    ).format(
        columns=select_list(query.row_type, "c"),
        parent_type=sql.SQL(query.parent_type),
        sort_type=sql.SQL(query.sort_type),
        table=sql.Identifier(query.table),
        where=where,
        sort=sql.Identifier(query.sort_column),
    )
    key_params: list[Any] = [
        [k.parent for k in keys],
        [k.limit for k in keys],
        [k.after[0] if k.after else _BEYOND_LAST for k in keys],
        [k.after[1] if k.after else _LAST_ID for k in keys],
    ]
    rows = await fetch_rows(pool, statement, [*key_params, *params])
    pages: list[list[Any]] = [[] for _ in keys]
    for row in rows:
        pages[row[0] - 1].append(query.row_type.from_row(row[1:]))
    return pages


async def count_children(
    pool: AsyncConnectionPool,
    query: PageQuery,
    parents: Sequence[int | str],
    conditions: Sequence[sql.Composable] = (),
    params: Sequence[Any] = (),
) -> list[int]:
    """How many children each parent has (under ``conditions``), in one statement."""
    where = sql.SQL(" AND ").join(
        [sql.SQL("c.{} = k.parent").format(sql.Identifier(query.parent_column)), *conditions]
    )
    statement = sql.SQL(
        "SELECT k.ordinal, n.count "
        "FROM unnest(%s::{parent_type}[]) WITH ORDINALITY AS k(parent, ordinal) "
        "CROSS JOIN LATERAL (SELECT count(*) FROM {table} AS c WHERE {where}) AS n "
        "ORDER BY k.ordinal"
    ).format(parent_type=sql.SQL(query.parent_type), table=sql.Identifier(query.table), where=where)
    rows = await fetch_rows(pool, statement, [list(parents), *params])
    return [int(row[1]) for row in rows]
