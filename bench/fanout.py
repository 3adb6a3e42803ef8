"""Live fan-out: N WebSocket subscribers on one gateway process, fills committed at a steady rate.

Starts ``perpgraph serve`` (one process) on a fresh database, connects N subscribers with mixed
filters (by coin, by action, by minimum notional), commits fills at ``--rate`` per second for
``--seconds``, and measures, for every delivered event, the time from the writer's commit to the
client's receipt. Prints p50/p99 latency, events delivered per second and subscribers dropped,
for each subscriber count given, then one JSON line for the largest count.

    .venv/bin/python bench/fanout.py --subscribers 250 500 1000 --rate 200 --seconds 20

Uses PERPGRAPH_DATABASE_URL's server when set (a database is created and dropped), else an
embedded Postgres in a temporary directory. The writer and the clients share this process;
the gateway runs in its own.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import websockets

from bench.support import bench_database, wait_for_health
from db.migrate import upgrade
from db.pool import connect
from ingest.fills import Direction, Fill
from ingest.writer import MarketSpec, upsert_markets, write_fills

COINS = ["BTC", "ETH", "SOL", "HYPE", "DOGE", "XRP", "SUI", "AVAX", "LINK", "ARB"]
SUBSCRIPTION = """
subscription($filter: PositionEventFilter) {
  positionEvents(filter: $filter) {
    cursor action
    trade { coin side size price notional timestamp }
    trader { publicId }
  }
}
"""


def subscriber_filter(index: int) -> dict[str, Any]:
    """Mixed filters: most by one coin, some by action, some by size."""
    kind = index % 10
    if kind < 7:
        return {"coins": [COINS[index % len(COINS)]]}
    if kind == 7:
        return {"actions": ["CLOSE", "FLIP"]}
    if kind == 8:
        return {"minNotional": "50000"}
    return {"coins": [COINS[index % 3]], "sides": ["LONG"]}


@dataclass
class Tally:
    received: dict[int, float] = field(default_factory=dict)  # trade id -> first receipt
    latencies_ms: list[float] = field(default_factory=list)
    delivered: int = 0
    dropped: int = 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def gateway(database_url: str, port: int) -> Iterator[str]:
    environment = {
        **os.environ,
        "PERPGRAPH_DATABASE_URL": database_url,
        "PERPGRAPH_PORT": str(port),
        "PERPGRAPH_LOG_LEVEL": "warning",
        # Fan-out is measured here; access control has its own benchmark.
        "PERPGRAPH_ACCESS_CONTROL": "false",
    }
    process = subprocess.Popen(
        [sys.executable, "-c", "from gateway.cli import main; main()", "serve"],
        env=environment,
        stdin=subprocess.DEVNULL,
    )
    try:
        wait_for_health(port, process)
        yield f"ws://127.0.0.1:{port}/graphql"
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


async def subscriber(
    url: str,
    index: int,
    tally: Tally,
    commits: dict[int, float],
    ready: asyncio.Event,
    stop: asyncio.Event,
) -> None:
    try:
        async with websockets.connect(
            url, subprotocols=[websockets.Subprotocol("graphql-transport-ws")], max_queue=None
        ) as socket_:
            await socket_.send(json.dumps({"type": "connection_init", "payload": {}}))
            await socket_.recv()
            await socket_.send(
                json.dumps(
                    {
                        "id": "1",
                        "type": "subscribe",
                        "payload": {
                            "query": SUBSCRIPTION,
                            "variables": {"filter": subscriber_filter(index)},
                        },
                    }
                )
            )
            ready.set()
            while not stop.is_set():
                try:
                    raw = await asyncio.wait_for(socket_.recv(), timeout=0.5)
                except TimeoutError:
                    continue
                now = time.time()
                message = json.loads(raw)
                if message.get("type") != "next":
                    continue
                data = message["payload"].get("data") or {}
                event = data.get("positionEvents")
                if not event:
                    continue
                tally.delivered += 1
                trade_id = int(_trade_id(event["cursor"]))
                commit = commits.get(trade_id)
                if commit is not None:
                    tally.latencies_ms.append((now - commit) * 1000)
    except websockets.ConnectionClosed:
        tally.dropped += 1


def _trade_id(cursor: str) -> int:
    import base64

    padded = cursor + "=" * (-len(cursor) % 4)
    return int(json.loads(base64.urlsafe_b64decode(padded))[1])


async def writer(
    database_url: str, rate: int, seconds: float, commits: dict[int, float], run: str
) -> int:
    """Commit ``rate`` fills per second in 10 batches a second; record each trade's commit."""
    connection = await connect(database_url)
    rng = random.Random(1)
    sequence = 0
    batch_size = max(1, rate // 10)
    start = time.monotonic()
    written = 0
    while time.monotonic() - start < seconds:
        fills = []
        for _ in range(batch_size):
            sequence += 1
            coin = COINS[rng.randrange(len(COINS))]
            fills.append(
                Fill(
                    venue="bench",
                    fill_id=f"{run}-{sequence}",
                    address=f"0x{rng.randrange(2000):040x}",
                    coin=coin,
                    direction=Direction.BUY if rng.random() < 0.5 else Direction.SELL,
                    size=Decimal(rng.choice(["0.1", "0.5", "1", "2", "5"])),
                    price=Decimal(rng.choice(["100", "1000", "20000", "60000"])),
                    timestamp=datetime.now(UTC),
                    fee=Decimal("0.1"),
                    leverage=5,
                )
            )
        report = await write_fills(connection, fills, source="bench", checkpoint=str(sequence))
        committed = time.time()
        if report.first_trade_id is not None and report.last_trade_id is not None:
            for trade_id in range(report.first_trade_id, report.last_trade_id + 1):
                commits[trade_id] = committed
        written += report.fills_written
        next_tick = start + (sequence / batch_size) / 10
        await asyncio.sleep(max(0.0, next_tick - time.monotonic()))
    await connection.close()
    return written


async def measure(
    url: str, database_url: str, subscribers: int, rate: int, seconds: float
) -> dict[str, float]:
    tally = Tally()
    commits: dict[int, float] = {}
    stop = asyncio.Event()
    readies = [asyncio.Event() for _ in range(subscribers)]
    tasks = []
    for index in range(subscribers):
        tasks.append(
            asyncio.create_task(subscriber(url, index, tally, commits, readies[index], stop))
        )
        if index % 50 == 49:
            await asyncio.sleep(0.05)
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), timeout=120)
    await asyncio.sleep(1)
    gc.collect()
    gc.freeze()
    began = time.monotonic()
    written = await writer(database_url, rate, seconds, commits, run=str(subscribers))
    await asyncio.sleep(2)  # let the last events arrive
    elapsed = time.monotonic() - began
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    latencies = sorted(tally.latencies_ms)

    def pct(p: float) -> float:
        return (
            round(latencies[min(len(latencies) - 1, int(len(latencies) * p))], 1)
            if latencies
            else float("nan")
        )

    figures = {
        "subscribers": float(subscribers),
        "fills_written": float(written),
        "events_per_s": round(tally.delivered / elapsed, 1),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "dropped": float(tally.dropped),
    }
    print(
        f"{subscribers:5d} subscribers: {written} fills at {rate}/s, "
        f"{tally.delivered} events delivered ({figures['events_per_s']}/s), "
        f"latency p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms, "
        f"dropped {tally.dropped}",
        flush=True,
    )
    return figures


async def run(counts: list[int], rate: int, seconds: float) -> dict[str, float]:
    with bench_database("fanout") as database_url:
        upgrade(database_url)
        connection = await connect(database_url)
        await upsert_markets(
            connection, [MarketSpec(c, "bench", 3, 20, Decimal(100)) for c in COINS]
        )
        await connection.close()
        port = free_port()
        results = []
        with gateway(database_url, port) as url:
            for count in counts:
                results.append(await measure(url, database_url, count, rate, seconds))
        passing = [r for r in results if r["p99_ms"] < 100 and r["dropped"] == 0]
        largest = max((r["subscribers"] for r in passing), default=0.0)
        print(f"largest subscriber count with p99 < 100 ms and nothing dropped: {largest:.0f}")
        final = dict(results[-1])
        final["largest_at_target"] = largest
        return final


def main() -> None:
    # The load generator is not what is measured: keep its own collector pauses out of the
    # latencies (the gateway process does the same with gc.freeze at start-up).
    gc.set_threshold(100_000, 50, 100)
    parser = argparse.ArgumentParser(description="Live fan-out benchmark")
    parser.add_argument("--subscribers", type=int, nargs="+", default=[1000])
    parser.add_argument("--rate", type=int, default=200, help="fills committed per second")
    parser.add_argument("--seconds", type=float, default=20)
    arguments = parser.parse_args()
    print(json.dumps(asyncio.run(run(arguments.subscribers, arguments.rate, arguments.seconds))))


if __name__ == "__main__":
    main()
