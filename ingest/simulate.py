"""Run the simulator into Postgres: history first, then live fills in real time.

The same runner backs ``perpgraph demo`` and ``perpgraph ingest simulate``. History is written
in the simulator's own batches (one transaction each, with the source's checkpoint). When the
database already holds a run's history, it is kept as it is and only live fills are added:
nothing an earlier run wrote is lost or rewritten.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from psycopg import AsyncConnection

from ingest.board_schedule import BoardSchedule, recompute_due
from ingest.pipeline import Batch, write_stream
from ingest.simulator import VENUE, MarketSimulator
from ingest.writer import (
    MarketSpec,
    WriteReport,
    read_checkpoint,
    update_marks,
    upsert_markets,
    write_fills,
)

log = logging.getLogger(__name__)

SOURCE = "simulator"


@dataclass(frozen=True, slots=True)
class HistoryProgress:
    """Where history generation is, for a progress display."""

    simulated_until: datetime
    start: datetime
    end: datetime
    fills_written: int
    elapsed_seconds: float

    @property
    def fraction(self) -> float:
        total = (self.end - self.start).total_seconds()
        return 1.0 if total <= 0 else (self.simulated_until - self.start).total_seconds() / total


@dataclass(frozen=True, slots=True)
class SimulationPlan:
    traders: int = 300
    days: float = 30.0
    seed: int = 7


async def prepare_markets(connection: AsyncConnection, simulator: MarketSimulator) -> None:
    marks = simulator.marks()
    await upsert_markets(
        connection,
        [
            MarketSpec(
                coin=spec.coin,
                venue=VENUE,
                size_decimals=spec.sz_decimals,
                max_leverage=spec.max_leverage,
                mark_price=marks.get(spec.coin, spec.start_price),
            )
            for spec in simulator.coins
        ],
    )


async def write_history(
    connection: AsyncConnection,
    plan: SimulationPlan,
    *,
    end: datetime,
    on_progress: Callable[[HistoryProgress], None] | None = None,
) -> tuple[MarketSimulator, WriteReport | None]:
    """Simulate ``plan.days`` up to ``end`` and write it, unless history was written before.

    Returns the simulator (its clock at ``end``) and the report, or None when an earlier run's
    history was found and kept.
    """
    simulator = MarketSimulator(traders=plan.traders, seed=plan.seed)
    previous = await read_checkpoint(connection, SOURCE)
    if previous is not None:
        log.info("keeping the simulated history already in the database (up to %s)", previous)
        simulator = MarketSimulator(traders=plan.traders, seed=plan.seed, start=end)
        await prepare_markets(connection, simulator)
        return simulator, None
    start = end - timedelta(days=plan.days)
    await prepare_markets(connection, simulator)
    total = WriteReport()
    started = time.perf_counter()
    batches = (
        Batch(fills[-1].timestamp.isoformat(), fills)
        for fills in simulator.history(days=plan.days, end=end)
        if fills
    )
    # Nothing else writes positions while the history is written (the stream's cache holds).
    async for batch, report in write_stream(connection, batches, source=SOURCE):
        total.add(report)
        if on_progress is not None:
            on_progress(
                HistoryProgress(
                    simulated_until=batch.fills[-1].timestamp,
                    start=start,
                    end=end,
                    fills_written=total.fills_written,
                    elapsed_seconds=time.perf_counter() - started,
                )
            )
    await update_marks(connection, simulator.marks())
    return simulator, total


async def run_live(
    connection: AsyncConnection,
    simulator: MarketSimulator,
    *,
    tick_seconds: float = 1.0,
    rescore_seconds: float = 60.0,
    long_rescore_seconds: float | None = None,
    scoring_partitions: int = 1,
    stop: asyncio.Event | None = None,
) -> None:
    """Keep producing fills in real time until ``stop`` is set, rescoring every
    ``rescore_seconds`` (YEAR and ALL_TIME every ``long_rescore_seconds`` when set; see
    :mod:`ingest.board_schedule`).

    The simulator's fill ids carry a tag of its run, so a later run never collides with an
    earlier one's fills.
    """
    stop = stop or asyncio.Event()
    schedule = BoardSchedule(long_rescore_seconds)
    last_scored = time.monotonic()
    while not stop.is_set():
        fills = simulator.advance(datetime.now(UTC))
        if fills:
            await write_fills(
                connection, fills, source=SOURCE, checkpoint=fills[-1].timestamp.isoformat()
            )
        await update_marks(connection, simulator.marks())
        if time.monotonic() - last_scored >= rescore_seconds:
            await recompute_due(connection, schedule, partitions=scoring_partitions)
            last_scored = time.monotonic()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=tick_seconds)
