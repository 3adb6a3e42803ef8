"""Every recompute replaces every board row; the rows it replaced are vacuumed away after it, so
the boards' tables stop growing, whether autovacuum runs or not."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from psycopg import AsyncConnection

from db.pool import connect
from ingest.scoring import CHURNED_TABLES, recompute_leaderboards, vacuum_boards
from ingest.simulate import SimulationPlan, write_history

END = datetime(2026, 11, 1, tzinfo=UTC)


async def _pages(connection: AsyncConnection) -> dict[str, int]:
    """Pages of each churned table and of its indexes."""
    cursor = await connection.execute(
        "SELECT t, pg_total_relation_size(t::regclass) / current_setting('block_size')::int "
        "FROM unnest(%s::text[]) AS t",
        (list(CHURNED_TABLES),),
    )
    return dict(await cursor.fetchall())


async def test_repeated_recomputes_reuse_the_space_of_the_boards_they_replaced(
    empty_url: str,
) -> None:
    # given a simulated market whose boards are computed twice (the second replaces the first)
    connection = await connect(empty_url)
    try:
        await connection.execute("ALTER TABLE trader_stats SET (autovacuum_enabled = off)")
        await write_history(connection, SimulationPlan(traders=80, days=10, seed=9), end=END)
        for _ in range(2):
            await recompute_leaderboards(connection, as_of=END, periods=False)
        settled = await _pages(connection)
        # when they are computed four times more
        for _ in range(4):
            await recompute_leaderboards(connection, as_of=END, periods=False)
        # then no table and no index grew: each recompute wrote into the space vacuum freed
        after = await _pages(connection)
        assert after.keys() == settled.keys()
        assert all(after[table] <= settled[table] for table in settled), (settled, after)
        cursor = await connection.execute("SELECT count(*) FROM trader_stats")
        row = await cursor.fetchone()
        assert row is not None
        assert row[0] > 300
    finally:
        await connection.close()


async def test_boards_written_inside_a_callers_transaction_are_left_to_it(
    empty_url: str,
) -> None:
    # given a caller that recomputes inside its own transaction (VACUUM cannot run there)
    connection = await connect(empty_url)
    try:
        await write_history(connection, SimulationPlan(traders=20, days=3, seed=4), end=END)
        async with connection.transaction():
            # when it recomputes, then nothing fails and the vacuum is left for later
            sizes = await recompute_leaderboards(connection, as_of=END, periods=False)
            assert not await vacuum_boards(connection)
        assert sum(size.traders for size in sizes) > 0
        # and outside it, the vacuum runs
        assert await vacuum_boards(connection)
    finally:
        await connection.close()


async def test_a_vacuum_that_fails_is_logged_and_the_next_one_runs(
    empty_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # given a connection that waits for locks 0.1 s at most, and another session holding one
    # of the boards' tables locked
    connection = await connect(empty_url)
    blocker = await connect(empty_url)
    try:
        await connection.execute("SET lock_timeout = '100ms'")
        async with blocker.transaction():
            await blocker.execute("LOCK TABLE trader_label IN ACCESS EXCLUSIVE MODE")
            # when the boards are vacuumed, then it is logged, not raised
            with caplog.at_level(logging.WARNING, logger="ingest.scoring"):
                assert not await vacuum_boards(connection)
        assert "vacuuming the boards failed" in caplog.text
        assert "lock timeout" in caplog.text
        # and once the lock is gone, the next vacuum runs
        assert await vacuum_boards(connection)
    finally:
        await blocker.close()
        await connection.close()
