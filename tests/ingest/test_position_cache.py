"""The writer's position cache: batches written with it store exactly what they store without."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import psycopg
import pytest

from db.pool import connect
from ingest.engine import FillRejectedError
from ingest.fills import Fill
from ingest.simulate import prepare_markets
from ingest.simulator import MarketSimulator
from ingest.writer import PositionCache, write_fills
from tests.conftest import DatabaseFactory
from tests.ingest.factories import BOB, BUY, SELL, fill

END = datetime(2026, 11, 1, tzinfo=UTC)


def _venue_rule_batches() -> list[list[Fill]]:
    """Late fills (one lowering the open position's last fill time), re-seeds, a self-trade."""
    hash_ = "0xself"
    legs = [
        replace(
            fill(f"s{d}", d, "1", "100", minutes=20),
            tx_hash=hash_,
            venue_start_position=Decimal(2),
        )
        for d in (BUY, SELL)
    ]
    return [
        [fill("1", BUY, "1", "100", minutes=1), fill("2", BUY, "1", "110", minutes=5)],
        [replace(fill("3", SELL, "1", "120", minutes=3), venue_start_position=Decimal(1))],
        [replace(fill("4", SELL, "1", "120", minutes=4), venue_start_position=Decimal(2))],
        [replace(fill("5", BUY, "2", "90", minutes=10), venue_start_position=Decimal(0))],
        legs,
        [
            fill("6", SELL, "3", "50", address=BOB, coin="ETH", minutes=21),
            fill("7", BUY, "5", "40", address=BOB, coin="ETH", minutes=22),
        ],
        [fill("8", SELL, "1", "55", address=BOB, coin="ETH", minutes=2)],
        [fill("9", SELL, "2", "95", minutes=30), fill("1", BUY, "1", "100", minutes=1)],
    ]


def _simulated_batches() -> list[list[Fill]]:
    """A simulated stream where every fifth fill arrives two batches late."""
    batches = [b for b in MarketSimulator(traders=40, seed=3).history(days=2, end=END) if b]
    delayed: list[list[Fill]] = [[] for _ in range(len(batches) + 2)]
    for index, batch in enumerate(batches):
        for position, item in enumerate(batch):
            delayed[index + (2 if position % 5 == 0 else 0)].append(item)
    return [b for b in delayed if b]


async def _write(url: str, batches: list[list[Fill]], cache: PositionCache | None) -> list[object]:
    connection = await connect(url)
    await prepare_markets(connection, MarketSimulator(traders=1, seed=3))
    reports: list[object] = []
    for index, batch in enumerate(batches):
        report = await write_fills(
            connection, batch, source="unit", checkpoint=str(index), cache=cache
        )
        reports.append(report)
    await connection.close()
    return reports


def _stored(url: str) -> dict[str, list[tuple[object, ...]]]:
    queries = {
        "position": "SELECT * FROM position ORDER BY id",
        "trade": "SELECT * FROM trade ORDER BY id",
        "trader": "SELECT id, venue, address, first_seen_at, last_trade_at FROM trader ORDER BY id",
        "checkpoint": "SELECT source, position, fills_written FROM ingest_checkpoint",
    }
    with psycopg.connect(url) as connection:
        return {name: connection.execute(query).fetchall() for name, query in queries.items()}


@pytest.mark.parametrize("stream", [_venue_rule_batches, _simulated_batches])
async def test_batches_written_with_a_cache_store_what_they_store_without(
    make_database: DatabaseFactory, stream: object
) -> None:
    assert callable(stream)
    batches = stream()
    # given the same batches written by a writer that reads every position, and one that caches
    plain_url, cached_url = make_database.create("plain"), make_database.create("cached")
    plain = await _write(plain_url, batches, None)
    cache = PositionCache()
    cached = await _write(cached_url, batches, cache)
    # then both report and store the same (the cache was used: it holds every pair written)
    assert cached == plain
    assert _stored(cached_url) == _stored(plain_url)
    assert len(cache) > 0


async def test_a_failed_batch_empties_the_cache(make_database: DatabaseFactory) -> None:
    url = make_database.create("cache_error")
    connection = await connect(url)
    await prepare_markets(connection, MarketSimulator(traders=1, seed=3))
    cache = PositionCache()
    await write_fills(
        connection, [fill("1", BUY, "1", "100")], source="unit", checkpoint="1", cache=cache
    )
    assert len(cache) == 1
    bad = fill("2", BUY, "1", "100", coin="NOPE", minutes=1)
    with pytest.raises(FillRejectedError):
        await write_fills(connection, [bad], source="unit", checkpoint="2", cache=cache)
    assert len(cache) == 0
    await connection.close()


async def test_a_cache_is_not_kept_for_batches_inside_an_outer_transaction(
    make_database: DatabaseFactory,
) -> None:
    url = make_database.create("cache_outer")
    connection = await connect(url)
    await prepare_markets(connection, MarketSimulator(traders=1, seed=3))
    cache = PositionCache()
    # the outer transaction rolls the batch back
    async with connection.transaction(force_rollback=True):
        await write_fills(
            connection, [fill("1", BUY, "1", "100")], source="u", checkpoint="1", cache=cache
        )
        assert len(cache) == 0
    report = await write_fills(
        connection,
        [fill("2", SELL, "1", "100", minutes=1)],
        source="u",
        checkpoint="2",
        cache=cache,
    )
    assert report.actions == {"OPEN": 1}
    await connection.close()
