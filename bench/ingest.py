"""Measure ingestion: simulated fills through fold + write + checkpoint, and a mark refresh.

Pre-generates the simulated stream first (the simulator alone is timed separately), then
writes it with ``ingest.pipeline.write_stream``, as the worker does (one transaction per batch:
fold, COPY, positions, checkpoint, NOTIFY; each batch folded while the one before is written)
and times that. With ``--compare``, the same stream is also written batch by batch with
``ingest.writer.write_fills`` (fold, then write, in turn) into a second fresh database, and the
ratio printed: the same machine, the same data, side by side. Then it moves every mark by 1 % and
times ``update_marks`` over all open positions (one set-wise statement for markets, one for
positions), six times (up, back, up ...): ``marks_refresh_s`` is the first refresh after the
ingest, ``marks_refresh_steady_s`` the median of the other five (a live writer refreshes every
few seconds). Last, Postgres alone writes the same trade rows again, into a bare copy of the
table and into one with its indexes (rolled back): the ceiling for any writer on this server.
Ends with one JSON line.

    .venv/bin/python -m bench.ingest [--traders 20000] [--fills 2000000] [--batch-size 100000]
                                     [--compare] [--default-gc]

The process runs with the writer's garbage-collector thresholds (``ingest/collector.py``), as
``perpgraph`` writers and the worker do; ``--default-gc`` keeps CPython's.

(run as a module from the repository root: as a script, ``bench/`` would come first on the
import path and this file would hide the ``ingest`` package).

Uses PERPGRAPH_DATABASE_URL's server when set (a database is created and dropped), else an
embedded Postgres in a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal

from psycopg import AsyncConnection

from bench.support import bench_database, rewrite_seconds
from db.migrate import upgrade
from db.pool import connect
from ingest.collector import tune_for_writing
from ingest.fills import Fill
from ingest.pipeline import Batch, write_stream
from ingest.simulate import prepare_markets
from ingest.simulator import MarketSimulator
from ingest.writer import PositionCache, WriteReport, update_marks, write_fills

END = datetime(2026, 11, 1, tzinfo=UTC)
#: Mark refreshes timed after the ingest: the first one, then the steady state of the rest.
MARK_REFRESHES = 6
#: Simulated fills per trader per day, measured on the default market (for sizing the run).
FILLS_PER_TRADER_DAY = 9.0


def say(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def generate(traders: int, fills: int, batch_size: int, seed: int) -> list[list[Fill]]:
    days = fills / traders / FILLS_PER_TRADER_DAY * 1.1
    simulator = MarketSimulator(traders=traders, seed=seed)
    stream: list[Fill] = []
    for batch in simulator.history(days=days, end=END):
        stream.extend(batch)
        if len(stream) >= fills:
            break
    return [stream[i : i + batch_size] for i in range(0, len(stream), batch_size)]


async def write_all(
    connection: AsyncConnection, batches: list[list[Fill]], *, streamed: bool
) -> int:
    """Write every batch, with the stream writer or batch by batch; the fills written."""
    reports: AsyncIterator[WriteReport]
    if streamed:
        stream = [Batch(str(index + 1), batch) for index, batch in enumerate(batches)]
        reports = (report async for _, report in write_stream(connection, stream, source="bench"))
    else:
        reports = _batch_by_batch(connection, batches)
    written = batches_written = 0
    started = time.perf_counter()
    async for report in reports:
        written += report.fills_written
        batches_written += 1
        if batches_written % 10 == 0:
            rate = written / (time.perf_counter() - started)
            say(f"  {written:,} fills written, {rate:,.0f} fills/s")
    return written


async def _batch_by_batch(
    connection: AsyncConnection, batches: list[list[Fill]]
) -> AsyncIterator[WriteReport]:
    cache = PositionCache()
    for index, batch in enumerate(batches):
        yield await write_fills(
            connection, batch, source="bench", checkpoint=str(index + 1), cache=cache
        )


@asynccontextmanager
async def market_connection(purpose: str, seed: int) -> AsyncIterator[AsyncConnection]:
    """A connection to a fresh database holding the simulated markets (dropped afterwards)."""
    with bench_database(purpose) as url:
        upgrade(url)
        connection = await connect(url)
        try:
            await prepare_markets(connection, MarketSimulator(traders=1, seed=seed))
            yield connection
        finally:
            await connection.close()


async def batch_by_batch_rate(batches: list[list[Fill]], seed: int) -> float:
    """Fills per second writing ``batches`` batch by batch into a fresh database."""
    async with market_connection("ingest_batchwise", seed) as connection:
        started = time.perf_counter()
        written = await write_all(connection, batches, streamed=False)
        return written / (time.perf_counter() - started)


async def run(
    traders: int, fills: int, batch_size: int, seed: int, compare: bool
) -> dict[str, float]:
    started = time.perf_counter()
    batches = generate(traders, fills, batch_size, seed)
    generated = sum(len(b) for b in batches)
    generation_s = time.perf_counter() - started
    say(
        f"simulated {generated:,} fills in {generation_s:.1f} s "
        f"({generated / generation_s:,.0f} fills/s, simulator alone)"
    )
    async with market_connection("ingest", seed) as connection:
        started = time.perf_counter()
        written = await write_all(connection, batches, streamed=True)
        write_s = time.perf_counter() - started
        say(
            f"wrote {written:,} fills in {write_s:.1f} s: {written / write_s:,.0f} fills/s "
            "(fold + write + checkpoint, each batch folded while the one before is written)"
        )
        cursor = await connection.execute(
            "SELECT count(*), count(DISTINCT trader_id) FROM position WHERE closed_at IS NULL"
        )
        row = await cursor.fetchone()
        open_positions, holders = row if row is not None else (0, 0)
        cursor = await connection.execute("SELECT coin, mark_price FROM market")
        base = {coin: Decimal(mark) for coin, mark in await cursor.fetchall()}
        refreshes: list[float] = []
        for step in range(MARK_REFRESHES):
            # every mark moves on every refresh: up 1 %, back, up again ...
            factor = Decimal("1.01") if step % 2 == 0 else Decimal(1)
            started = time.perf_counter()
            async with connection.transaction():
                await update_marks(connection, {c: m * factor for c, m in base.items()})
            refreshes.append(time.perf_counter() - started)
        marks_s = refreshes[0]
        steady_s = statistics.median(refreshes[1:])
        say(
            f"mark refresh over {open_positions:,} open positions ({holders:,} traders): "
            f"first {marks_s:.3f} s, then median {steady_s:.3f} s of "
            f"{MARK_REFRESHES - 1} more ({', '.join(f'{r:.3f}' for r in refreshes[1:])})"
        )
        cursor = await connection.execute("SELECT count(DISTINCT trader_id) FROM trade")
        row = await cursor.fetchone()
        distinct_traders = row[0] if row is not None else 0
        bare_s, indexed_s = await rewrite_seconds(connection, "trade", "id")
        say(
            f"Postgres alone writing the same {written:,} trade rows again in one statement: "
            f"{bare_s:.1f} s into a bare copy of the table, {indexed_s:.1f} s with its "
            f"indexes ({written / indexed_s:,.0f} rows/s): the ceiling on this server for "
            "any writer of these rows, before folding, positions or checks"
        )
    figures: dict[str, float] = {
        "fills_per_s": round(written / write_s),
        "marks_refresh_s": round(marks_s, 3),
        "marks_refresh_steady_s": round(steady_s, 3),
        "fills": written,
        "traders": distinct_traders,
        "simulator_fills_per_s": round(generated / generation_s),
        "end_to_end_fills_per_s": round(written / (write_s + generation_s)),
        "open_positions": open_positions,
        "trade_rows_alone_per_s": round(written / indexed_s),
    }
    if compare:
        rate = await batch_by_batch_rate(batches, seed)
        say(
            f"batch by batch (fold, then write, in turn) on a second fresh database: "
            f"{rate:,.0f} fills/s; the stream writer is {written / write_s / rate:.2f}x that"
        )
        figures["batch_by_batch_fills_per_s"] = round(rate)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traders", type=int, default=20_000)
    parser.add_argument("--fills", type=int, default=2_000_000)
    parser.add_argument("--batch-size", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--compare", action="store_true", help="also write the stream batch by batch, side by side"
    )
    parser.add_argument(
        "--default-gc",
        action="store_true",
        help="keep CPython's collector thresholds instead of the writer's (ingest/collector.py)",
    )
    args = parser.parse_args()
    if not args.default_gc:
        tune_for_writing()
    say(f"garbage collector thresholds {gc.get_threshold()}")
    figures = asyncio.run(run(args.traders, args.fills, args.batch_size, args.seed, args.compare))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
