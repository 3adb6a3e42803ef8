"""One page of children for many parents in one statement (DESIGN.md decision 3).

"The 10 newest trades of each of these 100 traders" is one ``unnest(...) CROSS JOIN LATERAL
(... LIMIT k)`` query: each parent brings its own limit and keyset cursor, and each child row
comes back tagged with the ordinal of the key that asked for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from psycopg import sql
from psycopg_pool import AsyncConnectionPool

from db.query import fetch_rows
from db.rows import _FromRow, select_list

R = TypeVar("R", bound=_FromRow)

_END_OF_TIME = "infinity"
_LAST_ID = 2**63 - 1


@dataclass(frozen=True, slots=True)
class PageKey:
    """A page of one parent's children, newest first.

    ``limit`` is the number of rows to read (one more than the page size, to learn whether
    another page follows); ``after`` is the (time, id) of the last row of the previous page.
    """

    parent_id: int
    limit: int
    after: tuple[datetime, int] | None = None


@dataclass(frozen=True, slots=True)
class PageQuery:
    """Where the children live and in what order they come."""

    table: str
    parent_column: str
    time_column: str
    row_type: type[_FromRow]


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
            sql.SQL("c.{} = k.parent_id").format(sql.Identifier(query.parent_column)),
            sql.SQL("(c.{}, c.id) < (k.after_time, k.after_id)").format(
                sql.Identifier(query.time_column)
            ),
            *conditions,
        ]
    )
    statement = sql.SQL(
        "SELECT k.ordinal, {columns} "
        "FROM unnest(%s::bigint[], %s::int[], %s::timestamptz[], %s::bigint[]) "
        "WITH ORDINALITY AS k(parent_id, row_limit, after_time, after_id, ordinal) "
        "CROSS JOIN LATERAL (SELECT * FROM {table} AS c WHERE {where} "
        "ORDER BY c.{time} DESC, c.id DESC LIMIT k.row_limit) AS c "
        "ORDER BY k.ordinal"
    ).format(
        columns=select_list(query.row_type, "c"),
        table=sql.Identifier(query.table),
        where=where,
        time=sql.Identifier(query.time_column),
    )
    key_params: list[Any] = [
        [k.parent_id for k in keys],
        [k.limit for k in keys],
        [k.after[0] if k.after else _END_OF_TIME for k in keys],
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
    parent_ids: Sequence[int],
    conditions: Sequence[sql.Composable] = (),
    params: Sequence[Any] = (),
) -> list[int]:
    """How many children each parent has (under ``conditions``), in one statement."""
    where = sql.SQL(" AND ").join(
        [sql.SQL("c.{} = k.parent_id").format(sql.Identifier(query.parent_column)), *conditions]
    )
    statement = sql.SQL(
        "SELECT k.ordinal, n.count "
        "FROM unnest(%s::bigint[]) WITH ORDINALITY AS k(parent_id, ordinal) "
        "CROSS JOIN LATERAL (SELECT count(*) FROM {table} AS c WHERE {where}) AS n "
        "ORDER BY k.ordinal"
    ).format(table=sql.Identifier(query.table), where=where)
    rows = await fetch_rows(pool, statement, [list(parent_ids), *params])
    return [int(row[1]) for row in rows]
