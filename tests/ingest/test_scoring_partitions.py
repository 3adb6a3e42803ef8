"""Recomputing with several connections at once: the same boards as one connection, one snapshot
for all partitions, nothing left behind."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg import errors, sql

from db.pool import connect
from ingest.partitions import (
    ABANDONED_AFTER,
    STAGE_PREFIX,
    StageTable,
    drop_abandoned_stages,
    run_partitions,
)
from ingest.scoring import BOARDS_LOCK, recompute_leaderboards
from ingest.simulate import SimulationPlan, write_history

END = datetime(2026, 11, 1, tzinfo=UTC)

_BOARDS = "SELECT * FROM trader_stats ORDER BY timeframe, trader_id"
_MARKETS = "SELECT * FROM market_stats ORDER BY board, coin"
_LABELS = "SELECT trader_id, label, assigned_at FROM trader_label ORDER BY trader_id, label"
_STATES = "SELECT * FROM leaderboard_state ORDER BY timeframe"


def _everything_written(url: str) -> dict[str, list[tuple[object, ...]]]:
    with psycopg.connect(url) as connection:
        return {
            query: connection.execute(query).fetchall()
            for query in (_BOARDS, _MARKETS, _LABELS, _STATES)
        }


def _stage_tables(url: str) -> list[str]:
    with psycopg.connect(url) as connection:
        rows = connection.execute(
            "SELECT relname FROM pg_class WHERE relname LIKE %s", (STAGE_PREFIX + "%",)
        ).fetchall()
    return sorted(name for (name,) in rows)


async def test_partitions_write_the_boards_one_connection_writes(empty_url: str) -> None:
    # given a simulated market
    connection = await connect(empty_url)
    try:
        await write_history(connection, SimulationPlan(traders=60, days=20, seed=5), end=END)
        # when its boards (rolling windows and fixed periods) are computed by one connection,
        await recompute_leaderboards(connection, as_of=END)
        alone = _everything_written(empty_url)
        # and again by two, then three connections at once
        await connection.execute("DELETE FROM leaderboard_state")
        await recompute_leaderboards(connection, as_of=END, partitions=2)
        two = _everything_written(empty_url)
        await connection.execute("DELETE FROM leaderboard_state")
        await recompute_leaderboards(connection, as_of=END, partitions=3)
        three = _everything_written(empty_url)
    finally:
        await connection.close()
    # then every board, market figure, label and board state is the same, value for value
    assert len(alone[_BOARDS]) > 500
    assert len({row[1] for row in alone[_BOARDS]}) > 5  # rolling windows and periods
    assert len(alone[_MARKETS]) > 10
    assert two == alone
    assert three == alone
    # and no stage table is left
    assert _stage_tables(empty_url) == []


async def test_every_partition_reads_the_callers_snapshot(empty_url: str) -> None:
    stage = StageTable(f"{STAGE_PREFIX}{int(time.time())}_abc123_counts", "partition int, n int")
    connection = await connect(empty_url)
    try:
        with psycopg.connect(empty_url, autocommit=True) as other:

            def statement(partition: int) -> sql.Composed:
                # another client commits a market just before each partition reads
                other.execute(
                    "INSERT INTO market (coin, venue, size_decimals, max_leverage, updated_at) "
                    "VALUES (%s, 'test', 2, 10, now())",
                    (f"COIN{partition}",),
                )
                return sql.SQL("INSERT INTO {} SELECT {}, count(*) FROM market").format(
                    stage.identifier, sql.Literal(partition)
                )

            async with connection.transaction():
                await run_partitions(connection, statement, {}, partitions=3, stages=[stage])
                cursor = await connection.execute(
                    sql.SQL("SELECT partition, n FROM {} ORDER BY partition").format(
                        stage.identifier
                    )
                )
                counts = await cursor.fetchall()
                await connection.execute(sql.SQL("DROP TABLE {}").format(stage.identifier))
            stored = other.execute("SELECT count(*) FROM market").fetchone()
    finally:
        await connection.close()
    # then no partition saw the markets committed after the caller's snapshot
    assert counts == [(0, 0), (1, 0), (2, 0)]
    assert stored == (3,)


async def test_a_failing_partition_fails_the_run_and_its_stages_are_dropped_later(
    empty_url: str,
) -> None:
    stage = StageTable(f"{STAGE_PREFIX}{int(time.time())}_def456_figures", "n int")
    connection = await connect(empty_url)
    try:

        def statement(partition: int) -> sql.Composed:
            value = "1 / 0" if partition == 1 else "pg_sleep(30)::text::int"
            return sql.SQL("INSERT INTO {} SELECT {}").format(stage.identifier, sql.SQL(value))

        started = time.monotonic()
        # when one partition fails while another is still running
        with pytest.raises(errors.DivisionByZero):
            async with connection.transaction():
                await run_partitions(connection, statement, {}, partitions=2, stages=[stage])
        # then the run fails at once (the sleeping partition is cancelled), and the caller's
        # connection is usable
        assert time.monotonic() - started < 20
        await connection.execute("SELECT 1")
    finally:
        await connection.close()
    # and the stage table left behind is dropped by a later run once it counts as abandoned
    assert _stage_tables(empty_url) == [stage.name]
    later = time.time() + ABANDONED_AFTER.total_seconds() + 1
    cleaner = await connect(empty_url)
    try:
        assert await drop_abandoned_stages(cleaner, now=later) == [stage.name]
    finally:
        await cleaner.close()
    assert _stage_tables(empty_url) == []


async def test_stage_tables_in_use_or_recent_are_kept(empty_url: str) -> None:
    now = time.time()
    old = int(now - ABANDONED_AFTER.total_seconds() - 60)
    names = {
        "abandoned": f"{STAGE_PREFIX}{old}_0a0a0a0a_figures",
        "in_use": f"{STAGE_PREFIX}{old}_0b0b0b0b_figures",
        "recent": f"{STAGE_PREFIX}{int(now)}_0c0c0c0c_figures",
    }
    with psycopg.connect(empty_url, autocommit=True) as setup:
        for name in names.values():
            setup.execute(sql.SQL("CREATE UNLOGGED TABLE {} (n int)").format(sql.Identifier(name)))
        # a table of the same prefix that is not a stage table's name is never touched
        setup.execute(
            sql.SQL("CREATE UNLOGGED TABLE {} (n int)").format(
                sql.Identifier(f"{STAGE_PREFIX}keep_me")
            )
        )
    with psycopg.connect(empty_url) as holder:
        holder.execute(
            sql.SQL("LOCK TABLE {} IN ACCESS SHARE MODE").format(sql.Identifier(names["in_use"]))
        )
        cleaner = await connect(empty_url)
        try:
            dropped = await drop_abandoned_stages(cleaner, now=now)
        finally:
            await cleaner.close()
        holder.rollback()
    assert dropped == [names["abandoned"]]
    assert _stage_tables(empty_url) == sorted(
        [names["in_use"], names["recent"], f"{STAGE_PREFIX}keep_me"]
    )


@pytest.mark.parametrize("partitions", [0, -1])
async def test_partitions_must_be_positive(empty_url: str, partitions: int) -> None:
    connection = await connect(empty_url)
    try:
        with pytest.raises(ValueError, match="partitions"):
            await recompute_leaderboards(
                connection, as_of=END - timedelta(days=1), partitions=partitions
            )
    finally:
        await connection.close()


async def test_recomputes_at_the_same_time_replace_the_boards_one_after_the_other(
    empty_url: str,
) -> None:
    # given a market with boards
    connection = await connect(empty_url)
    await write_history(connection, SimulationPlan(traders=30, days=5, seed=2), end=END)
    await recompute_leaderboards(connection, as_of=END, periods=False)
    expected = _everything_written(empty_url)
    others = [await connect(empty_url) for _ in range(2)]
    try:
        # when two recomputes start at the same moment (held back until both are waiting)
        with psycopg.connect(empty_url, autocommit=True) as holder:
            holder.execute("SELECT pg_advisory_lock(%s)", (BOARDS_LOCK,))
            runs = [
                asyncio.create_task(
                    recompute_leaderboards(other, as_of=END, periods=False, partitions=2)
                )
                for other in others
            ]
            await asyncio.sleep(1.0)
            waiting = [not run.done() for run in runs]
            holder.execute("SELECT pg_advisory_unlock(%s)", (BOARDS_LOCK,))
        results = await asyncio.gather(*runs, return_exceptions=True)
    finally:
        for other in others:
            await other.close()
        await connection.close()
    # then both waited, both succeed (no duplicate rows), and the boards are as one run left them
    assert waiting == [True, True]
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert _everything_written(empty_url) == expected
