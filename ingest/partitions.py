"""Run one statement per trader partition at once, on sibling connections that all read the
caller's snapshot.

A recompute reads millions of fills, and one Postgres backend uses one core. Split by
``mod(trader_id, n)``, the same statement runs on ``n`` connections in parallel; each imports
the snapshot the caller's transaction exported (``pg_export_snapshot``), so all partitions see
exactly the rows one statement would have seen, whatever commits meanwhile. The partitions write
into *stage tables*: unlogged tables (no write-ahead log: they are rebuilt on every run) created
and committed before the partitions start, read by the caller's transaction, dropped in it.
The caller's transaction locks the stage tables as soon as they exist and drops them before it
commits; a run that dies (or rolls back) leaves them behind, unlocked, and the next run drops
them (:func:`drop_abandoned_stages`).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from psycopg import AsyncConnection, errors, sql

from db.pool import sibling

#: Names of stage tables: ``scoring_stage_<unix seconds>_<random>_<part>``.
STAGE_PREFIX = "scoring_stage_"
_STAGE_NAME = re.compile(rf"^{STAGE_PREFIX}(\d+)_[0-9a-f]+_\w+$")
#: A stage table at least this old that no transaction holds belongs to a run that died.
ABANDONED_AFTER = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class StageTable:
    """A stage table of one run: its name and its columns, ``"name type, ..."``."""

    name: str
    columns: str

    @property
    def identifier(self) -> sql.Identifier:
        return sql.Identifier(self.name)

    @property
    def column_list(self) -> sql.Composed:
        names = (column.split()[0] for column in self.columns.split(","))
        return sql.SQL(", ").join(sql.Identifier(name) for name in names)

    def create(self, *, temporary: bool) -> sql.Composed:
        """``CREATE`` it: temporary (dropped at commit) when one connection does all the work,
        else unlogged, for the sibling connections to fill."""
        template = (
            "CREATE TEMPORARY TABLE {} ({}) ON COMMIT DROP"
            if temporary
            else "CREATE UNLOGGED TABLE {} ({})"
        )
        return sql.SQL(template).format(self.identifier, sql.SQL(self.columns.strip()))


def stage_tables(parts: dict[str, str]) -> dict[str, StageTable]:
    """Fresh stage tables for one run: ``{part: columns}`` -> ``{part: StageTable}``."""
    run = f"{STAGE_PREFIX}{int(time.time())}_{secrets.token_hex(4)}"
    return {part: StageTable(f"{run}_{part}", columns) for part, columns in parts.items()}


def partition_filter(partition: int, partitions: int) -> sql.Composable:
    """The condition on ``trader_id`` that selects one partition's rows."""
    if partitions == 1:
        return sql.SQL("true")
    return sql.SQL("mod(trader_id, {}) = {}").format(
        sql.Literal(partitions), sql.Literal(partition)
    )


async def drop_abandoned_stages(
    connection: AsyncConnection, *, now: float | None = None
) -> list[str]:
    """Drop the stage tables of runs that died (older than :data:`ABANDONED_AFTER` and locked
    by no transaction: a live run's caller holds a lock on its own from the moment they exist);
    the names dropped. ``connection`` is in autocommit mode."""
    cursor = await connection.execute(
        "SELECT c.relname FROM pg_class AS c "
        "WHERE c.relkind = 'r' AND c.relpersistence = 'u' AND c.relname LIKE %s "
        "AND c.relnamespace = current_schema()::regnamespace",
        (STAGE_PREFIX + "%",),
    )
    oldest = (time.time() if now is None else now) - ABANDONED_AFTER.total_seconds()
    dropped: list[str] = []
    for (name,) in await cursor.fetchall():
        match = _STAGE_NAME.match(name)
        if match is None or int(match.group(1)) >= oldest:
            continue
        table = sql.Identifier(name)
        try:
            async with connection.transaction():
                await connection.execute(
                    sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE NOWAIT").format(table)
                )
                await connection.execute(sql.SQL("DROP TABLE {}").format(table))
        except (errors.LockNotAvailable, errors.UndefinedTable):
            continue
        dropped.append(name)
    return dropped


async def run_partitions(
    connection: AsyncConnection,
    statement: Callable[[int], sql.Composed],
    params: dict[str, Any],
    *,
    partitions: int,
    stages: Sequence[StageTable],
    settings: Sequence[str] = (),
) -> None:
    """Run ``statement(p)`` for p in 0..partitions-1 at once, each on its own connection in a
    repeatable-read transaction that sees ``connection``'s current snapshot; ``stages`` are
    created (committed) first. ``connection`` must be inside a transaction, and stays in it.
    ``settings`` are ``SET LOCAL`` statements each partition's transaction runs first."""
    cursor = await connection.execute("SELECT pg_export_snapshot()")
    row = await cursor.fetchone()
    assert row is not None
    snapshot: str = row[0]
    siblings: list[AsyncConnection] = []
    try:
        for _ in range(partitions):
            siblings.append(await sibling(connection))
        await drop_abandoned_stages(siblings[0])
        for stage in stages:
            await siblings[0].execute(stage.create(temporary=False))
            # Held until the caller's transaction ends: no other run takes it for abandoned.
            await connection.execute(
                sql.SQL("LOCK TABLE {} IN ACCESS SHARE MODE").format(stage.identifier)
            )

        async def run(partition: int, worker: AsyncConnection) -> None:
            await worker.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
            await worker.execute(
                sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot))
            )
            for setting in settings:
                await worker.execute(setting)
            await worker.execute(statement(partition), params)
            await worker.execute("COMMIT")

        try:
            async with asyncio.TaskGroup() as group:
                for partition, worker in enumerate(siblings):
                    group.create_task(run(partition, worker))
        except BaseExceptionGroup as failed:
            # The first partition's error, as one connection would have raised it; the other
            # partitions were cancelled.
            raise failed.exceptions[0] from None
    except BaseException:
        for worker in siblings:
            # Stop what the others still run on the server before their connections close.
            with contextlib.suppress(Exception):
                await worker.cancel_safe()
        raise
    finally:
        for worker in siblings:
            await worker.close()
