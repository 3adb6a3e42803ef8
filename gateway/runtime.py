"""What the CLI commands do, as coroutines: demo, serve, ingest simulate, score."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvicorn
from psycopg import AsyncConnection

from db.pool import connect
from gateway.app import create_app
from gateway.database import database
from gateway.keys import create_key
from gateway.settings import Settings
from ingest.replay import FileReport, replay
from ingest.scoring import describe_boards, recompute_leaderboards
from ingest.simulate import HistoryProgress, SimulationPlan, run_live, write_history


class _ProgressLine:
    """One self-rewriting line on stderr while history is written (plain lines when piped)."""

    def __init__(self) -> None:
        self._interactive = sys.stderr.isatty()
        self._last_percent = -1

    def __call__(self, progress: HistoryProgress) -> None:
        percent = int(progress.fraction * 100)
        if percent == self._last_percent:
            return
        # Piped: the first report, then one line per 10 % step (batches rarely land on one).
        if not self._interactive and percent // 10 == self._last_percent // 10:
            return
        self._last_percent = percent
        rate = progress.fills_written / progress.elapsed_seconds if progress.elapsed_seconds else 0
        line = (
            f"history {percent:3d}%  up to {progress.simulated_until:%Y-%m-%d %H:%M} UTC  "
            f"{progress.fills_written:,} fills  {rate:,.0f} fills/s"
        )
        if self._interactive:
            sys.stderr.write("\r" + line)
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def finish(self) -> None:
        """End the self-rewriting line (the last batch rarely reaches 100 %), so that what
        follows starts on a line of its own."""
        if self._interactive and self._last_percent >= 0:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _say(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


async def _simulate(
    url: str,
    plan: SimulationPlan,
    *,
    live: bool,
    settings: Settings,
    stop: asyncio.Event,
    ready: asyncio.Event | None = None,
) -> None:
    connection = await connect(url)
    try:
        started = datetime.now(UTC)
        _say(f"simulating {plan.traders} traders, {plan.days:g} days of history (seed {plan.seed})")
        progress = _ProgressLine()
        try:
            simulator, report = await write_history(
                connection, plan, end=started, on_progress=progress
            )
        finally:
            progress.finish()
        if report is None:
            _say("history from an earlier run is kept as it is; adding live fills only")
        else:
            seconds = (datetime.now(UTC) - started).total_seconds()
            _say(
                f"history written: {report.fills_written:,} fills, {report.traders_created:,} "
                f"traders, {report.positions_opened:,} positions in {seconds:.1f} s"
            )
        await _score(connection, settings)
        if ready is not None:
            ready.set()
        if live:
            await run_live(
                connection,
                simulator,
                rescore_seconds=settings.leaderboard_refresh_seconds,
                long_rescore_seconds=settings.leaderboard_long_refresh_seconds,
                scoring_partitions=settings.scoring_partitions,
                stop=stop,
            )
    finally:
        await connection.close()


def _server_options(settings: Settings) -> dict[str, Any]:
    return {
        "host": settings.host,
        "port": settings.port,
        "log_level": "warning",
        "lifespan": "on",
        "ws_ping_interval": settings.websocket_ping_seconds,
        "ws_ping_timeout": settings.websocket_ping_seconds,
        # Events are small JSON messages sent to many sockets: compressing each one per
        # socket cost more CPU than it saved bytes (measured with bench/fanout.py).
        "ws_per_message_deflate": False,
    }


@asynccontextmanager
async def _serving(settings: Settings, url: str) -> AsyncIterator[asyncio.Task[None]]:
    """Start the API server; yield the task that ends when the server stops (Ctrl-C)."""
    config = uvicorn.Config(create_app(settings, url), **_server_options(settings))
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("the API server stopped during start-up")
            await asyncio.sleep(0.05)
        yield task
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _endpoint(settings: Settings) -> str:
    return f"http://{settings.host}:{settings.port}/graphql"


def demo_access(settings: Settings, url: str) -> Settings:
    """The demo's access settings: anonymous callers welcome (PRO unless configured), and a
    fresh demo key, printed once and pre-filled in GraphiQL's Headers tab."""
    key, record = create_key(url, account="demo", plan="PRO")
    _say(f"demo API key ({record.plan} plan; shown once): {key}")
    return settings.model_copy(
        update={
            "allow_anonymous": True
            if settings.allow_anonymous is None
            else settings.allow_anonymous,
            "anonymous_plan": settings.anonymous_plan or "PRO",
            "graphiql_api_key": settings.graphiql_api_key or key,
        }
    )


async def run_demo(settings: Settings, *, traders: int, days: float, seed: int) -> None:
    with database(settings) as url:
        settings = demo_access(settings, url)
        stop = asyncio.Event()
        ready = asyncio.Event()
        simulation = asyncio.create_task(
            _simulate(
                url,
                SimulationPlan(traders, days, seed),
                live=True,
                settings=settings,
                stop=stop,
                ready=ready,
            )
        )
        waiter = asyncio.create_task(ready.wait())
        await asyncio.wait({simulation, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if simulation.done():
            simulation.result()
        try:
            async with _serving(settings, url) as server:
                _say(f"perpgraph is ready: open {_endpoint(settings)} in your browser (GraphiQL)")
                _say("live fills are flowing; press Ctrl-C to stop")
                await asyncio.wait({server, simulation}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.set()
            await simulation


def serve_workers(settings: Settings) -> None:
    """``settings.workers`` gateway processes on one port (uvicorn's supervisor restarts any
    that dies); the database is resolved here, once, and handed to them."""
    import os

    with database(settings) as url:
        os.environ.update(
            {
                "PERPGRAPH_DATABASE_URL": url,
                "PERPGRAPH_HOST": settings.host,
                "PERPGRAPH_PORT": str(settings.port),
            }
        )
        _say(f"perpgraph API on {_endpoint(settings)} ({settings.workers} worker processes)")
        uvicorn.run(
            "gateway.asgi:app_from_environment",
            factory=True,
            workers=settings.workers,
            **_server_options(settings),
        )


async def run_serve(settings: Settings) -> None:
    with database(settings) as url:
        async with _serving(settings, url) as server:
            _say(f"perpgraph API on {_endpoint(settings)}")
            await server


async def run_ingest_simulate(
    settings: Settings, *, traders: int, days: float, seed: int, live: bool
) -> None:
    with database(settings) as url:
        await _simulate(
            url,
            SimulationPlan(traders, days, seed),
            live=live,
            settings=settings,
            stop=asyncio.Event(),
        )


async def run_score(settings: Settings) -> None:
    with database(settings) as url:
        connection = await connect(url)
        try:
            await _score(connection, settings)
        finally:
            await connection.close()


async def _score(connection: AsyncConnection, settings: Settings) -> None:
    """Recompute every board once and say how large they are and how long it took."""
    started = time.perf_counter()
    boards = await recompute_leaderboards(connection, partitions=settings.scoring_partitions)
    seconds = time.perf_counter() - started
    _say(f"leaderboards: {describe_boards(boards)} (in {seconds:.1f} s)")


async def run_replay(settings: Settings, files: list[Path], *, user: str | None) -> None:
    with database(settings) as url:
        connection = await connect(url)
        try:
            reports = await replay(connection, files, user=user)
        finally:
            await connection.close()
    for report in reports:
        _say(_replay_line(report))


def _replay_line(report: FileReport) -> str:
    name = report.path.name
    if report.kind == "userFills":
        written = report.write
        line = (
            f"{name}: {written.fills_received:,} fills, {written.fills_written:,} written, "
            f"{written.duplicates_skipped:,} already stored; {written.positions_opened:,} "
            f"positions opened, {written.positions_closed:,} closed; {written.reseeded:,} "
            "re-seeded from the venue's startPosition"
        )
        if report.closes_checked:
            line += (
                f"; realized PnL equals the venue's closedPnl on "
                f"{report.closes_matching_venue} of {report.closes_checked} closing fills"
            )
        if report.spot_skipped:
            line += f"; {report.spot_skipped:,} spot trades skipped (not perpetuals)"
        if report.fees_in_other_tokens:
            line += f"; {report.fees_in_other_tokens:,} fees paid in a token other than USDC"
        return line
    if report.reconcile is not None:
        r = report.reconcile
        return (
            f"{name}: {r.bootstrapped} positions bootstrapped, {r.unchanged} unchanged, "
            f"{r.entries_corrected} entries corrected, {r.replaced} replaced, {r.ended} ended, "
            f"{r.older_than_stored} newer than the snapshot kept"
        )
    if report.kind == "userFunding":
        return f"{name}: {report.funding_written:,} funding payments written"
    if report.leaderboard is not None:
        board = report.leaderboard
        return (
            f"{name}: {board.accounts:,} leaderboard accounts, {board.traders_created:,} new "
            f"traders, {board.display_names:,} display names set"
        )
    if report.kind == "allMids":
        return f"{name}: mids of {report.mids} markets"
    return f"{name}: {report.markets} markets"


async def run_ingest_hyperliquid(
    settings: Settings,
    *,
    api_url: str,
    ws_url: str,
    coins: tuple[str, ...] | None,
    since: str,
    marks_interval: float,
    venue_leaderboard_url: str | None,
    seed_top: int,
) -> None:
    import httpx

    from ingest.hyperliquid.info import InfoClient
    from ingest.hyperliquid.live import LiveIngester, LiveSettings

    with database(settings) as url:
        async with httpx.AsyncClient(timeout=30) as http:
            ingester = LiveIngester(
                LiveSettings(
                    database_url=url,
                    ws_url=ws_url,
                    coins=coins,
                    backfill_since=datetime.fromisoformat(since),
                    marks_interval=marks_interval,
                    leaderboard_refresh_seconds=settings.leaderboard_refresh_seconds,
                    leaderboard_long_refresh_seconds=settings.leaderboard_long_refresh_seconds,
                    scoring_partitions=settings.scoring_partitions,
                    venue_leaderboard_url=venue_leaderboard_url,
                    seed_top=seed_top,
                ),
                InfoClient(http, base_url=api_url),
            )
            _say(f"ingesting Hyperliquid from {api_url} and {ws_url}; Ctrl-C to stop")
            await ingester.run(asyncio.Event())
