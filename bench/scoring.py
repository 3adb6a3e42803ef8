"""Measure a full recompute of every leaderboard window on a large synthetic market.

Bulk-loads traders, positions and trades straight into a fresh database with set-wise
``generate_series`` SQL (the per-fill writer would take hours at this size), analyzes the
tables, then times ``recompute_leaderboards`` (all five rolling windows and the derived labels,
in one transaction, as the worker runs it). Prints the load time, each window's board size and
the recompute time, then two floors measured on the same data (Postgres alone, one core: one
grouped pass over every trade, and writing the boards' rows again), and ends with one JSON
line.

    .venv/bin/python bench/scoring.py [--traders 100000] [--trades 5000000] [--repeat 1]
                                      [--partitions 2] [--keep] [--reuse URL]

``--partitions N`` computes the traders' figures on N connections at once (the worker's
``PERPGRAPH_SCORING_PARTITIONS``; 1: all on one connection). ``--keep`` leaves the loaded
database in place (its name is printed); ``--reuse URL`` times a kept one again without loading.

Each position gets two fills (open, then close; the newest position of each trader stays open
with an add instead of a close), spread over the year before the benchmark's clock. Uses
PERPGRAPH_DATABASE_URL's server when set (a database is created and dropped), else an embedded
Postgres in a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from psycopg import AsyncConnection

from bench.support import bench_database, rewrite_seconds
from db.migrate import upgrade
from db.pool import connect
from ingest.scoring import RECOMPUTE_SETTINGS, recompute_leaderboards

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
COINS = 12

_LOAD = [
    "SET synchronous_commit = off",
    "SELECT setseed(0.42)",
    """
    INSERT INTO market (coin, venue, size_decimals, max_leverage, mark_price, updated_at)
    SELECT 'C' || i, 'bench', 3, 50, 100 + i, %(as_of)s FROM generate_series(1, %(coins)s) AS i
    """,
    """
    INSERT INTO trader (venue, address, public_id, first_seen_at, last_trade_at)
    SELECT 'bench', '0x' || lpad(to_hex(i), 40, '0'), '#' || (10000000 + i),
           %(as_of)s - interval '400 days', %(as_of)s
    FROM generate_series(1, %(traders)s) AS i
    """,
    # Position p belongs to trader p mod T (+1); its k-th position (k = p div T) opens at a
    # random time in the year, closes up to 2 days later; the last k stays open.
    """
    INSERT INTO position (trader_id, coin, side, size, max_size, entry_price, closed_size,
                          exit_notional, realized_pnl, fees, funding, leverage, mark_price,
                          notional, unrealized_pnl, trade_count, opened_at, last_fill_at,
                          closed_at)
    SELECT trader_id, coin, side,
           CASE WHEN is_open THEN size ELSE 0 END, size, entry,
           CASE WHEN is_open THEN 0 ELSE size END,
           CASE WHEN is_open THEN 0 ELSE round(size * exit, 6) END,
           CASE WHEN is_open THEN 0
                ELSE round(size * (exit - entry) * CASE side WHEN 'LONG' THEN 1 ELSE -1 END, 6)
                END,
           round(size * entry * 0.0007, 6), 0, leverage, exit,
           CASE WHEN is_open THEN round(size * exit, 6) ELSE 0 END,
           CASE WHEN is_open
                THEN round(size * (exit - entry) * CASE side WHEN 'LONG' THEN 1 ELSE -1 END, 6)
                END,
           2, opened_at, least(opened_at + hold, %(as_of)s),
           CASE WHEN is_open THEN NULL ELSE least(opened_at + hold, %(as_of)s) END
    FROM (
        SELECT p %% %(traders)s + 1 AS trader_id,
               p / %(traders)s = %(per_trader)s - 1 AS is_open,
               'C' || (1 + (p / %(traders)s + p %% %(traders)s) %% %(coins)s) AS coin,
               CASE WHEN random() < 0.55 THEN 'LONG' ELSE 'SHORT' END AS side,
               round((0.01 + random() * 5)::numeric, 3) AS size,
               round((100 + random() * 10)::numeric, 4) AS entry,
               round((100 + random() * 10)::numeric, 4) AS exit,
               (1 + floor(random() * 30))::float8 AS leverage,
               %(as_of)s - random() * interval '365 days' AS opened_at,
               random() * interval '2 days' AS hold
        FROM generate_series(0, %(positions)s - 1) AS p
    ) AS g
    """,
    """
    INSERT INTO trade (venue, venue_fill_id, trader_id, position_id, closed_position_id, coin,
                       timestamp, side, direction, action, size, price, notional,
                       start_position, realized_pnl, fee, is_liquidation)
    SELECT 'bench', p.id || '-' || n, p.trader_id, p.id,
           CASE WHEN n = 2 AND p.closed_at IS NOT NULL THEN p.id END,
           p.coin,
           CASE WHEN n = 1 THEN p.opened_at ELSE p.last_fill_at END,
           p.side,
           CASE WHEN (n = 1) = (p.side = 'LONG') THEN 'BUY' ELSE 'SELL' END,
           CASE WHEN n = 1 THEN 'OPEN' WHEN p.closed_at IS NULL THEN 'ADD' ELSE 'CLOSE' END,
           p.max_size, CASE WHEN n = 1 THEN p.entry_price ELSE p.mark_price END,
           round(p.max_size * CASE WHEN n = 1 THEN p.entry_price ELSE p.mark_price END, 6),
           CASE WHEN n = 1 THEN 0 ELSE p.max_size END,
           CASE WHEN n = 2 AND p.closed_at IS NOT NULL THEN p.realized_pnl END,
           round(p.fees / 2, 6),
           n = 2 AND p.closed_at IS NOT NULL AND p.realized_pnl < -0.4 * p.max_size * 100
    FROM position AS p CROSS JOIN generate_series(1, 2) AS n
    """,
    "ANALYZE",
]

#: One grouped pass over every trade (the first step of the recompute's own work): a floor.
_ONE_PASS = """
SELECT count(*) FROM (
    SELECT trader_id, coin, sum(realized_pnl), sum(fee), sum(notional), count(*)
    FROM trade GROUP BY trader_id, coin
) AS grouped
"""


async def floors(connection: AsyncConnection) -> dict[str, float]:
    """What Postgres alone takes for two parts of any recompute, on one core: a grouped pass
    over every trade, and writing the boards' rows (those just written, into copies of
    trader_stats: bare, and with its indexes)."""
    async with connection.transaction():
        for setting in RECOMPUTE_SETTINGS:
            await connection.execute(setting)
        await connection.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        started = time.perf_counter()
        await connection.execute(_ONE_PASS)
        one_pass_s = time.perf_counter() - started
    bare_s, indexed_s = await rewrite_seconds(connection, "trader_stats", "timeframe, rank")
    return {"one_pass_s": one_pass_s, "boards_bare_s": bare_s, "boards_indexed_s": indexed_s}


@contextmanager
def database(reuse: str | None, *, keep: bool) -> Iterator[str]:
    """``reuse``, a database an earlier run loaded (kept as it is), or a fresh one
    (:func:`bench.support.bench_database`)."""
    if reuse is not None:
        yield reuse
        return
    with bench_database("bench", keep=keep) as url:
        yield url


#: Indexes of the bulk-loaded tables that back no constraint: (name, CREATE INDEX statement).
_SECONDARY_INDEXES = """
SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
FROM pg_index AS i
WHERE i.indrelid IN ('trade'::regclass, 'position'::regclass)
  AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c WHERE c.conindid = i.indexrelid)
"""


async def load(connection: AsyncConnection, traders: int, trades: int) -> None:
    """Bulk-load ``traders`` traders and ``trades`` trades (two per position)."""
    positions = trades // 2
    started = time.perf_counter()
    params = {
        "as_of": AS_OF,
        "coins": COINS,
        "traders": traders,
        "positions": positions,
        "per_trader": max(1, positions // traders),
    }
    # Indexes are built once after the load rather than row by row during it.
    cursor = await connection.execute(_SECONDARY_INDEXES)
    indexes = await cursor.fetchall()
    async with connection.transaction():
        for name, _ in indexes:
            await connection.execute(f'DROP INDEX "{name}"')
        for statement in _LOAD[:-1]:
            await connection.execute(statement, params)
        for _, definition in indexes:
            await connection.execute(definition)
    await connection.execute(_LOAD[-1])
    load_s = time.perf_counter() - started
    print(
        f"loaded {traders:,} traders, {positions:,} positions, {trades:,} trades in {load_s:.1f} s",
        flush=True,
    )


async def run(
    traders: int, trades: int, repeat: int, reuse: str | None, partitions: int, keep: bool
) -> dict[str, float]:
    with database(reuse, keep=keep) as url:
        upgrade(url)
        connection = await connect(url)
        try:
            if reuse is None:
                await load(connection, traders, trades)
            cursor = await connection.execute(
                "SELECT count(*), count(DISTINCT trader_id) FROM trade"
            )
            row = await cursor.fetchone()
            stored, traders = (int(row[0]), int(row[1])) if row else (0, 0)
            timings: list[float] = []
            for attempt in range(repeat):
                started = time.perf_counter()
                boards = await recompute_leaderboards(
                    connection, as_of=AS_OF, periods=False, partitions=partitions
                )
                elapsed = time.perf_counter() - started
                timings.append(elapsed)
                sizes = ", ".join(f"{b.timeframe} {b.traders:,}" for b in boards)
                print(f"recompute {attempt + 1}: {elapsed:.2f} s ({sizes})", flush=True)
            floor = await floors(connection)
            board_rows = sum(b.traders for b in boards)
            print(
                f"Postgres alone, one core: one grouped pass over the {stored:,} trades "
                f"{floor['one_pass_s']:.2f} s; writing the {board_rows:,} board rows again "
                f"{floor['boards_bare_s']:.2f} s bare, {floor['boards_indexed_s']:.2f} s with "
                "trader_stats' indexes",
                flush=True,
            )
        finally:
            await connection.close()
    return {
        "recompute_s": round(min(timings), 2),
        "traders": traders,
        "trades": stored,
        "partitions": partitions,
        "one_pass_s": round(floor["one_pass_s"], 2),
        "boards_write_s": round(floor["boards_indexed_s"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--traders", type=int, default=100_000)
    parser.add_argument("--trades", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--partitions", type=int, default=2, help="connections computing at once (default 2)"
    )
    parser.add_argument(
        "--reuse", metavar="URL", help="time a database an earlier run loaded (no load, no drop)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the loaded database")
    arguments = parser.parse_args()
    # The recompute logs how long its phases took (figures, boards, vacuum) at debug level.
    logging.basicConfig(format="  %(message)s")
    logging.getLogger("ingest.scoring").setLevel(logging.DEBUG)
    figures = run(
        arguments.traders,
        arguments.trades,
        arguments.repeat,
        arguments.reuse,
        arguments.partitions,
        arguments.keep,
    )
    print(json.dumps(asyncio.run(figures)))


if __name__ == "__main__":
    main()
