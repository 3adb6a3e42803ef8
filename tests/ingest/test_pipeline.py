"""The stream writer (ingest.pipeline): each batch folded while the one before is written, and
still exactly the rows batch-by-batch writing leaves, exactly once, whatever fails."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

import psycopg
import pytest

from db.pool import connect
from ingest.engine import FillRejectedError
from ingest.fills import Direction, Fill
from ingest.pipeline import Batch, write_stream
from ingest.simulate import prepare_markets
from ingest.simulator import MarketSimulator
from ingest.writer import MarketSpec, PositionCache, WriteReport, upsert_markets, write_fills
from tests.conftest import DatabaseFactory
from tests.ingest.factories import BOB, fill
from tests.ingest.snapshots import snapshot

BUY, SELL = Direction.BUY, Direction.SELL
SIMULATED_TRADERS, SIMULATED_SEED = 120, 31


def _simulator() -> MarketSimulator:
    return MarketSimulator(traders=SIMULATED_TRADERS, seed=SIMULATED_SEED)


def _simulated_batches() -> list[list[Fill]]:
    simulator = _simulator()
    end = datetime.fromisoformat("2026-11-01T00:00:00+00:00")
    return [batch for batch in simulator.history(days=3.0, end=end) if batch]


def _stream(batches: Sequence[Sequence[Fill]]) -> list[Batch]:
    return [Batch(str(index + 1), fills) for index, fills in enumerate(batches)]


async def _markets(url: str, *, simulated: bool = False) -> None:
    connection = await connect(url)
    try:
        if simulated:
            await prepare_markets(connection, _simulator())
        else:
            await upsert_markets(
                connection,
                [
                    MarketSpec("BTC", "test", 5, 40, Decimal("100")),
                    MarketSpec("ETH", "test", 4, 25, Decimal("10")),
                ],
            )
    finally:
        await connection.close()


async def _batch_by_batch(url: str, batches: Sequence[Sequence[Fill]]) -> list[WriteReport]:
    connection = await connect(url)
    cache = PositionCache()
    try:
        return [
            await write_fills(
                connection, fills, source="stream", checkpoint=str(index + 1), cache=cache
            )
            for index, fills in enumerate(batches)
        ]
    finally:
        await connection.close()


async def _streamed(url: str, batches: Sequence[Sequence[Fill]]) -> list[WriteReport]:
    connection = await connect(url)
    try:
        return [
            report
            async for _, report in write_stream(connection, _stream(batches), source="stream")
        ]
    finally:
        await connection.close()


async def _reference(
    make_database: DatabaseFactory, batches: Sequence[Sequence[Fill]], *, simulated: bool = False
) -> dict[str, list[tuple[object, ...]]]:
    url = make_database.create("stream_reference")
    await _markets(url, simulated=simulated)
    await _batch_by_batch(url, batches)
    return snapshot(url)


def _count(url: str, query: str) -> object:
    with psycopg.connect(url) as connection:
        row = connection.execute(query).fetchone()
    return None if row is None else row[0]


async def test_a_simulated_stream_leaves_the_rows_batch_by_batch_writing_leaves(
    make_database: DatabaseFactory,
) -> None:
    # given a simulated stream of many batches, written batch by batch as the reference
    batches = _simulated_batches()
    assert len(batches) >= 5
    reference = await _reference(make_database, batches, simulated=True)
    url = make_database.create("stream")
    await _markets(url, simulated=True)
    # when the stream writer writes it
    reports = await _streamed(url, batches)
    # then every batch was reported, and the trades (in id order), positions and checkpoint
    # are those of batch-by-batch writing
    assert [r.fills_received for r in reports] == [len(b) for b in batches]
    assert sum(r.fills_written for r in reports) == len(reference["trades"])
    assert snapshot(url) == reference
    # and the trade ids each report names are its own batch's, in order
    firsts = [r.first_trade_id for r in reports if r.first_trade_id is not None]
    assert firsts == sorted(firsts)


async def test_late_fills_flips_and_closes_across_batches_match_batch_by_batch(
    make_database: DatabaseFactory,
) -> None:
    # given batches whose positions run across batch boundaries: an add, a flip, a fill older
    # than one applied in the batch before, a close, and a new trader in the last batch
    batches = [
        [
            fill("a1", BUY, "1", "100", minutes=1),
            fill("b1", SELL, "2", "10", coin="ETH", address=BOB),
        ],
        [fill("a2", BUY, "1", "110", minutes=5), fill("a3", SELL, "3", "120", minutes=6)],
        [
            fill("a4", SELL, "1", "90", minutes=3),
            fill("b2", BUY, "2", "9", coin="ETH", address=BOB, minutes=7),
        ],
        [
            fill("a5", BUY, "2", "95", minutes=9),
            fill("c1", BUY, "1", "100", address="0xc0ffee", minutes=9),
        ],
    ]
    reference = await _reference(make_database, batches)
    url = make_database.create("stream_rules")
    await _markets(url)
    # when the stream writer writes them
    reports = await _streamed(url, batches)
    # then it left what batch-by-batch writing leaves, the late fill counted as such
    assert snapshot(url) == reference
    assert [r.late_fills for r in reports] == [0, 0, 1, 0]
    assert reports[1].actions == {"ADD": 1, "FLIP": 1}


async def test_a_fill_repeated_in_the_next_batch_is_written_once(market_url: str) -> None:
    # given a fill that arrives again in the batch after its own, before that batch commits
    batches = [
        [fill("f1", BUY, "1", "100", minutes=1), fill("f2", BUY, "1", "100", minutes=2)],
        [fill("f2", BUY, "1", "100", minutes=2), fill("f3", SELL, "2", "110", minutes=3)],
    ]
    # when the stream is written
    reports = await _streamed(market_url, batches)
    # then the repeat is skipped as stored, and the position is closed once
    assert [r.duplicates_skipped for r in reports] == [0, 1]
    assert _count(market_url, "SELECT count(*) FROM trade") == 3
    assert _count(market_url, "SELECT realized_pnl FROM position") == Decimal(20)


async def test_writing_a_stream_again_changes_nothing(market_url: str) -> None:
    batches = [
        [fill("f1", BUY, "1", "100", minutes=1)],
        [fill("f2", SELL, "1", "105", minutes=2)],
        [fill("f3", BUY, "1", "101", minutes=3, address=BOB)],
    ]
    # given a stream written once
    await _streamed(market_url, batches)
    before = snapshot(market_url)
    # when it is written again
    reports = await _streamed(market_url, batches)
    # then every fill is skipped and the rows are as they were (the checkpoint too)
    assert [r.fills_written for r in reports] == [0, 0, 0]
    assert [r.duplicates_skipped for r in reports] == [1, 1, 1]
    assert snapshot(market_url) == before


async def test_an_invalid_batch_is_rejected_after_the_batches_before_it_commit(
    market_url: str,
) -> None:
    # given a stream whose third batch holds a fill in an unknown coin
    batches = [
        [fill("f1", BUY, "1", "100", minutes=1)],
        [fill("f2", BUY, "1", "100", minutes=2)],
        [fill("bad", BUY, "1", "100", coin="DOGE", minutes=3, address=BOB)],
        [fill("f4", SELL, "2", "100", minutes=4)],
    ]
    connection = await connect(market_url)
    written: list[str] = []

    async def write() -> None:
        async for batch, _ in write_stream(connection, _stream(batches), source="stream"):
            written.append(batch.checkpoint)

    # when it is written
    with pytest.raises(FillRejectedError, match="unknown coin 'DOGE'"):
        await write()
    await connection.close()
    # then the two batches before it stand with their checkpoint; nothing of it or after it
    assert written == ["1", "2"]
    assert _count(market_url, "SELECT position FROM ingest_checkpoint") == "2"
    assert _count(market_url, "SELECT count(*) FROM trade") == 2
    assert _count(market_url, f"SELECT count(*) FROM trader WHERE address = '{BOB}'") == 0


_POISON = """
CREATE FUNCTION poison_fill() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM inserted WHERE venue_fill_id = 'poison') THEN
        RAISE EXCEPTION 'poisoned batch';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER poison_fill AFTER INSERT ON trade REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION poison_fill();
"""


async def test_a_failed_write_keeps_the_batches_before_it_and_a_resume_completes_the_stream(
    make_database: DatabaseFactory,
) -> None:
    # given a stream whose third batch Postgres refuses (a fill it rejects when written)
    batches = [
        [fill("f1", BUY, "1", "100", minutes=1)],
        [
            fill("f2", BUY, "1", "102", minutes=2),
            fill("g1", SELL, "1", "10", coin="ETH", minutes=2),
        ],
        [
            fill("poison", SELL, "1", "104", minutes=3),
            fill("b1", BUY, "1", "100", address=BOB, minutes=3),
        ],
        [fill("f4", SELL, "1", "99", minutes=4), fill("g2", BUY, "1", "9", coin="ETH", minutes=4)],
    ]
    reference = await _reference(make_database, batches)
    url = make_database.create("stream_failure")
    await _markets(url)
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(_POISON)
    connection = await connect(url)
    cache = PositionCache()

    async def write() -> None:
        async for _ in write_stream(connection, _stream(batches), source="stream", cache=cache):
            pass

    # when the stream is written
    with pytest.raises(psycopg.errors.RaiseException, match="poisoned batch"):
        await write()
    # then the batches before it stand, with their checkpoint, and the cache is emptied
    assert _count(url, "SELECT position FROM ingest_checkpoint") == "2"
    assert _count(url, "SELECT count(*) FROM trade") == 3
    assert len(cache) == 0
    # and the connection is usable: resuming after the checkpoint, once Postgres accepts the
    # batch, leaves exactly what an uninterrupted run leaves
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("DROP TRIGGER poison_fill ON trade")
    resumed = [r async for _, r in write_stream(connection, _stream(batches)[2:], source="stream")]
    await connection.close()
    assert [r.fills_written for r in resumed] == [2, 2]
    assert snapshot(url) == reference


async def test_leaving_the_stream_early_keeps_what_committed(market_url: str) -> None:
    batches = [[fill(f"f{i}", BUY, "1", "100", minutes=i)] for i in range(1, 5)]
    connection = await connect(market_url)
    stream = write_stream(connection, _stream(batches), source="stream")
    # given a consumer that stops after the first batch (the second is being folded by then)
    async for batch, _ in stream:
        assert batch.checkpoint == "1"
        break
    await stream.aclose()
    # then the first batch stands, nothing else was written, and the connection is idle
    assert _count(market_url, "SELECT position FROM ingest_checkpoint") == "1"
    assert _count(market_url, "SELECT count(*) FROM trade") == 1
    assert connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    await connection.close()


async def test_an_empty_stream_writes_nothing(market_url: str) -> None:
    connection = await connect(market_url)
    assert [r async for r in write_stream(connection, [], source="stream")] == []
    await connection.close()
    assert _count(market_url, "SELECT count(*) FROM ingest_checkpoint") == 0
