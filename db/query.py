"""Running read statements, and counting them.

Every read on the serving path goes through :func:`fetch_rows`, so a request's statement count
can be observed (tests prove it is bounded by the query's nesting depth, not its row count).
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, LiteralString

from psycopg import sql as pgsql
from psycopg_pool import AsyncConnectionPool

Statement = LiteralString | pgsql.Composed | pgsql.SQL

_statement_log: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "perpgraph_statement_log", default=None
)


@contextmanager
def record_statements() -> Iterator[list[str]]:
    """Collect the SQL of every statement run through :func:`fetch_rows` in this context."""
    log: list[str] = []
    token = _statement_log.set(log)
    try:
        yield log
    finally:
        _statement_log.reset(token)


async def fetch_rows(
    pool: AsyncConnectionPool, sql: Statement, params: Sequence[Any] | dict[str, Any] = ()
) -> list[tuple[Any, ...]]:
    """Run one read statement on a pooled connection and return its rows as tuples."""
    log = _statement_log.get()
    if log is not None:
        log.append(sql if isinstance(sql, str) else repr(sql))
    async with pool.connection() as connection:
        cursor = await connection.execute(sql, params)
        return await cursor.fetchall()
