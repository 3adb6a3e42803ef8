"""The live ingester rides out its database going away: at start-up and mid-run.

Postgres is a private cluster (so it can be stopped and started again); the venue is the local
fake, which holds its WebSocket script while the database is down so that mids and a newly
discovered trader arrive exactly then.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg

from db.embedded import EmbeddedPostgres
from db.migrate import upgrade
from ingest.hyperliquid.info import InfoClient
from ingest.hyperliquid.live import LiveIngester, LiveSettings
from tests.ingest.hyperliquid.fake_venue import (
    FILLS,
    FUNDING,
    HOLD,
    USER_08C14B,
    USER_109A42,
    FakeVenue,
    running,
    trades_message,
)
from tests.ingest.hyperliquid.live_runs import until
from tests.ingest.hyperliquid.recorded import load

OTHER = "0x" + "34" * 20
ACK = json.dumps({"channel": "subscriptionResponse", "data": {"method": "subscribe"}})
MIDS = json.dumps({"channel": "allMids", "data": {"mids": {"BTC": "70123.5"}}})


def _count(url: str, query: str) -> int:
    with psycopg.connect(url) as connection:
        row = connection.execute(query).fetchone()
    return 0 if row is None else int(row[0])


async def test_postgres_down_at_start_and_mid_run_loses_nothing(cluster_dir: Path) -> None:
    # given a migrated private cluster that is down when the ingester starts
    server = EmbeddedPostgres(cluster_dir)
    url = await asyncio.to_thread(server.start)
    await asyncio.to_thread(upgrade, url)
    await asyncio.to_thread(server.stop)
    # and a venue that names 109a42 first, then (once resumed) sends mids and names 08c14b
    venue = FakeVenue(
        scripts=[
            [
                ACK,
                trades_message(("BTC", USER_109A42, OTHER)),
                HOLD,
                MIDS,
                trades_message(("ENA", OTHER, USER_08C14B)),
                MIDS,
                MIDS,
            ]
        ]
    )
    async with running(venue), httpx.AsyncClient(timeout=10) as http:
        info = InfoClient(http, base_url=venue.http_url, max_backoff_seconds=0.2)
        settings = LiveSettings(
            database_url=url,
            ws_url=venue.ws_url,
            backfill_since=datetime(2025, 1, 1, tzinfo=UTC),
            marks_interval=0.2,
            max_backoff_seconds=0.2,
            refresh_seconds=3600.0,
            leaderboard_refresh_seconds=None,
        )
        ingester = LiveIngester(settings, info)
        stop = asyncio.Event()
        task = asyncio.create_task(ingester.run(stop))
        try:
            async with asyncio.timeout(120):
                # when it starts while Postgres is down, and Postgres comes up a moment later
                await until(task, lambda: ingester.counters.database_errors >= 2)
                server = EmbeddedPostgres(cluster_dir)
                assert await asyncio.to_thread(server.start) == url
                await until(task, lambda: ingester.counters.traders_backfilled >= 2)
                # and Postgres stops mid-run, while the venue sends mids and a new trader
                await asyncio.to_thread(server.stop)
                errors_before = ingester.counters.database_errors
                venue.resume.set()
                await until(task, lambda: ingester.counters.database_errors >= errors_before + 3)
                await asyncio.sleep(0.5)
                assert not task.done()
                server = EmbeddedPostgres(cluster_dir)
                assert await asyncio.to_thread(server.start) == url
                marks_after_restart = ingester.counters.marks_refreshes + 2
                await until(
                    task,
                    lambda: (
                        ingester.counters.traders_backfilled >= 3
                        and ingester.counters.marks_refreshes >= marks_after_restart
                    ),
                )
            stop.set()
            await task
            # then every fill and funding payment is stored exactly once, and nothing stopped it
            trades = _count(url, "SELECT count(*) FROM trade")
            assert trades == len(load(FILLS[USER_109A42])) + len(load(FILLS[USER_08C14B]))
            assert _count(url, "SELECT count(*) FROM funding_payment") == len(load(FUNDING))
            assert _count(url, "SELECT count(*) FROM position WHERE closed_at IS NULL") == 10
            assert _count(url, "SELECT count(*) FROM trader") == 3
            # and the failed attempts (mids, backfill, marks) were counted, not fatal; marks resumed
            assert ingester.counters.database_errors >= errors_before + 3
            assert _count(url, "SELECT count(*) FROM market WHERE mark_price IS NOT NULL") > 0
        finally:
            stop.set()
            task.cancel()
            await asyncio.to_thread(server.stop)
