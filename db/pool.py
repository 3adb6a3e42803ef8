"""Connection pools for the read path: psycopg 3 with an async pool (DESIGN.md decision 2)."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import AsyncConnection
from psycopg.conninfo import make_conninfo
from psycopg_pool import AsyncConnectionPool


async def open_pool(
    database_url: str, *, min_size: int = 2, max_size: int = 10
) -> AsyncConnectionPool:
    """Open a pool and wait until its first connections are up, so errors surface at start."""
    pool: AsyncConnectionPool = AsyncConnectionPool(
        database_url,
        min_size=min_size,
        max_size=max_size,
        open=False,
        kwargs={"autocommit": True},
        name="perpgraph",
    )
    await pool.open(wait=True, timeout=30)
    return pool


async def connect(database_url: str) -> AsyncConnection:
    """One connection outside any pool (writers, the LISTEN hub, scripts)."""
    return await AsyncConnection.connect(database_url, autocommit=True)


async def sibling(connection: AsyncConnection) -> AsyncConnection:
    """A new connection to the same database as the same role (autocommit)."""
    return await AsyncConnection.connect(_same_place(connection), autocommit=True)


def blocking_sibling(connection: AsyncConnection) -> psycopg.Connection[Any]:
    """A new blocking connection to the same database as the same role (autocommit), for a
    thread's use; it blocks while it connects."""
    return psycopg.Connection.connect(_same_place(connection), autocommit=True)


def _same_place(connection: AsyncConnection) -> str:
    info = connection.info
    return make_conninfo(info.dsn, password=info.password)
