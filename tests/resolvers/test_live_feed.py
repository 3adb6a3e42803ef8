"""The live feed loses nothing when it falls behind the hub."""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal

import pytest

from db.hub import Hub
from db.pool import connect, open_pool
from ingest.fills import Direction, Fill
from ingest.writer import MarketSpec, upsert_markets, write_fills
from resolvers.live import EventFeed
from tests.conftest import DatabaseFactory
from tests.gateway.test_subscriptions import START


async def test_a_feed_that_overflows_the_hub_catches_up_without_loss(
    make_database: DatabaseFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="resolvers.live")
    # given a hub with room for one notification per subscriber, and a feed on it
    url = make_database.create("feed")
    writer = await connect(url)
    await upsert_markets(writer, [MarketSpec("BTC", "test", 5, 40, Decimal(100))])
    pool = await open_pool(url, min_size=1, max_size=2)
    hub = Hub(url, queue_size=1)
    await hub.start()
    feed = EventFeed(hub, pool)
    await feed.start()
    listener = feed.listen()
    # when 40 batches commit at once (their 40 notifications arrive together)
    expected = []
    async with writer.transaction():
        for batch in range(40):
            fills = [
                Fill(
                    venue="test",
                    fill_id=f"{batch}-{i}",
                    address=f"0x{batch:040x}",
                    coin="BTC",
                    direction=Direction.BUY,
                    size=Decimal(1),
                    price=Decimal(100),
                    timestamp=START,
                )
                for i in range(3)
            ]
            report = await write_fills(writer, fills, source="test", checkpoint=str(batch))
            assert report.first_trade_id is not None
            assert report.last_trade_id is not None
            expected += list(range(report.first_trade_id, report.last_trade_id + 1))
    # then the listener receives every trade once, in commit order
    received: list[int] = []
    while len(received) < len(expected):
        batch_events = await asyncio.wait_for(listener.next_batch(None), timeout=10)
        assert batch_events is not None
        received += [event.trade.id for event in batch_events]
    assert received == expected
    assert "fell behind" in caplog.text  # the recovery path really ran
    await feed.stop()
    await hub.stop()
    await pool.close()
    await writer.close()
