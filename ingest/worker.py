"""The writer loop for a replayable fill stream: resume from the checkpoint, survive outages.

A stream is a function that yields the same batches, in the same order, every time it is
called (the simulator with a fixed seed, plan and end; a recorded file). Batch ``n`` is written
with checkpoint ``n + 1`` in the same transaction as its fills (ingest.writer; each batch folded
while the one before is written, ingest.pipeline), so after any
crash, kill or lost connection the worker reads the checkpoint, skips the batches already
written and goes on: nothing is lost and nothing is written twice. A lost connection
(``psycopg.OperationalError``, e.g. Postgres restarted or the backend terminated) is retried
with exponential backoff and jitter (tenacity); other errors stop the worker.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

import psycopg
from tenacity import (
    AsyncRetrying,
    before_sleep_log,
    retry_if_exception_type,
    stop_after_delay,
    wait_exponential_jitter,
)

from db.pool import connect
from ingest.collector import tune_for_writing
from ingest.fills import Fill
from ingest.pipeline import Batch, write_stream
from ingest.simulate import prepare_markets
from ingest.simulator import MarketSimulator
from ingest.writer import read_checkpoint

log = logging.getLogger(__name__)

Stream = Callable[[], Iterator[list[Fill]]]


@dataclass(slots=True)
class StreamReport:
    batches_written: int = 0
    fills_written: int = 0
    reconnects: int = 0


async def ingest_stream(
    url: str,
    stream: Stream,
    *,
    source: str,
    prepare: Callable[[psycopg.AsyncConnection], object] | None = None,
    give_up_after_seconds: float = 300.0,
) -> StreamReport:
    """Write every batch of ``stream`` not yet written for ``source``; returns when done."""
    report = StreamReport()
    attempts = 0
    async for attempt in AsyncRetrying(
        retry=retry_if_exception_type(psycopg.OperationalError),
        wait=wait_exponential_jitter(multiplier=0.1, max=5.0),
        stop=stop_after_delay(give_up_after_seconds),
        before_sleep=before_sleep_log(log, logging.WARNING),
        reraise=True,
    ):
        with attempt:
            attempts += 1
            report.reconnects = attempts - 1
            await _resume(url, stream, source, prepare, report)
    return report


async def _resume(
    url: str,
    stream: Stream,
    source: str,
    prepare: Callable[[psycopg.AsyncConnection], object] | None,
    report: StreamReport,
) -> None:
    connection = await connect(url)
    try:
        if prepare is not None:
            result = prepare(connection)
            if asyncio.iscoroutine(result):
                await result
        done = int(await read_checkpoint(connection, source) or 0)
        batches = (
            Batch(str(index + 1), fills) for index, fills in enumerate(stream()) if index >= done
        )
        async for _, written in write_stream(connection, batches, source=source):
            report.batches_written += 1
            report.fills_written += written.fills_written
    finally:
        await connection.close()


def simulated_stream(traders: int, days: float, seed: int, end: datetime) -> Stream:
    """The simulator's history as a replayable stream (same arguments, same batches)."""

    def batches() -> Iterator[list[Fill]]:
        simulator = MarketSimulator(traders=traders, seed=seed)
        yield from (batch for batch in simulator.history(days=days, end=end) if batch)

    return batches


async def _prepare_simulated_markets(connection: psycopg.AsyncConnection, seed: int) -> None:
    await prepare_markets(connection, MarketSimulator(traders=1, seed=seed))


def main() -> None:
    """``python -m ingest.worker URL``: write a simulated stream, resuming where it stopped."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("url")
    parser.add_argument("--traders", type=int, default=300)
    parser.add_argument("--days", type=float, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--end", default="2026-11-01T00:00:00+00:00")
    parser.add_argument("--source", default="simulator-stream")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    tune_for_writing()
    stream = simulated_stream(args.traders, args.days, args.seed, datetime.fromisoformat(args.end))
    report = asyncio.run(
        ingest_stream(
            args.url,
            stream,
            source=args.source,
            prepare=lambda connection: _prepare_simulated_markets(connection, args.seed),
        )
    )
    print(
        f"done: {report.batches_written} batches, {report.fills_written} fills, "
        f"{report.reconnects} reconnects",
        flush=True,
    )


if __name__ == "__main__":
    main()
