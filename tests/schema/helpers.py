"""Running operations against the schema in-process, with a fresh context per operation."""

from __future__ import annotations

from typing import Any

from psycopg_pool import AsyncConnectionPool

from db.query import record_statements
from resolvers.context import Context
from schema import schema


async def execute(
    pool: AsyncConnectionPool, query: str, variables: dict[str, Any] | None = None
) -> tuple[dict[str, Any] | None, list[dict[str, Any]], list[str]]:
    """(data, errors as dicts, SQL statements run) of one operation."""
    with record_statements() as statements:
        result = await schema.execute(
            query, variable_values=variables, context_value=Context.for_pool(pool)
        )
    errors = [
        {"message": e.message, "extensions": e.extensions or {}, "path": e.path}
        for e in result.errors or []
    ]
    return result.data, errors, list(statements)


async def data_of(
    pool: AsyncConnectionPool, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    data, errors, _ = await execute(pool, query, variables)
    assert errors == [], errors
    assert data is not None
    return data
