"""Running read statements, counting them, and knowing what they read.

Every read on the serving path goes through :func:`fetch_rows`, so a request's statement count
can be observed (tests prove it is bounded by the query's nesting depth, not its row count), and
so can the tables it read (:func:`track_reads`: the response cache keys answers by them).
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, LiteralString

from psycopg import sql as pgsql
from psycopg_pool import AsyncConnectionPool

from db.changes import tables_read

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


class ReadLog:
    """The data tables read in one context; ``known`` turns False for good when a statement
    read something :func:`db.changes.tables_read` cannot name."""

    __slots__ = ("known", "tables")

    def __init__(self) -> None:
        self.tables: set[str] = set()
        self.known = True

    def add(self, statement: str) -> None:
        tables = tables_read(statement)
        if tables is None:
            self.known = False
        else:
            self.tables |= tables


_read_log: contextvars.ContextVar[ReadLog | None] = contextvars.ContextVar(
    "perpgraph_read_log", default=None
)


@contextmanager
def track_reads() -> Iterator[ReadLog]:
    """Collect the tables read through :func:`fetch_rows` in this context (and the tasks it
    starts, such as dataloader batches)."""
    log = ReadLog()
    token = _read_log.set(log)
    try:
        yield log
    finally:
        _read_log.reset(token)


async def fetch_rows(
    pool: AsyncConnectionPool, sql: Statement, params: Sequence[Any] | dict[str, Any] = ()
) -> list[tuple[Any, ...]]:
    """Run one read statement on a pooled connection and return its rows as tuples."""
    log = _statement_log.get()
    if log is not None:
        log.append(sql if isinstance(sql, str) else repr(sql))
    reads = _read_log.get()
    if reads is not None:
        reads.add(sql if isinstance(sql, str) else sql.as_string())
    async with pool.connection() as connection:
        cursor = await connection.execute(sql, params)
        return await cursor.fetchall()
