"""Exactly once, whatever happens: SIGKILL at random points, and a lost connection.

A worker subprocess (``python -m ingest.worker``) writes a simulated stream and is killed with
SIGKILL at random moments, then restarted until it finishes; the trades, positions and
checkpoint must equal those of an uninterrupted run. A worker whose Postgres backend is
terminated mid-run (``pg_terminate_backend``) must reconnect and finish by itself.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import psycopg
import pytest_asyncio

from db.embedded import EmbeddedPostgres
from db.migrate import upgrade
from ingest.simulate import prepare_markets
from ingest.simulator import MarketSimulator
from ingest.worker import ingest_stream, simulated_stream
from tests.conftest import REPO_ROOT, DatabaseFactory
from tests.ingest.snapshots import CHECKPOINT, snapshot

TRADERS, DAYS, SEED = 400, 8.0, 23
END = "2026-11-01T00:00:00+00:00"
SOURCE = "simulator-stream"


def _checkpoint(url: str) -> int:
    with psycopg.connect(url) as connection:
        row = connection.execute(CHECKPOINT).fetchone()
    return 0 if row is None else int(row[1])


async def _prepare(connection: psycopg.AsyncConnection) -> None:
    """The simulated markets, as the worker subprocess makes them."""
    await prepare_markets(connection, MarketSimulator(traders=1, seed=SEED))


def _worker(url: str, *, output: int = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ingest.worker",
            url,
            f"--traders={TRADERS}",
            f"--days={DAYS}",
            f"--seed={SEED}",
            f"--end={END}",
            f"--source={SOURCE}",
        ],
        cwd=REPO_ROOT,
        stdout=output,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )


async def _uninterrupted(make_database: DatabaseFactory) -> str:
    url = make_database.create("crash_reference")
    stream = simulated_stream(TRADERS, DAYS, SEED, datetime.fromisoformat(END))
    await ingest_stream(url, stream, source=SOURCE, prepare=_prepare)
    return url


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def reference(make_database: DatabaseFactory) -> dict[str, list[tuple[object, ...]]]:
    """What an uninterrupted run leaves behind."""
    return snapshot(await _uninterrupted(make_database))


async def test_sigkill_at_random_points_then_restart_equals_an_uninterrupted_run(
    make_database: DatabaseFactory, reference: dict[str, list[tuple[object, ...]]]
) -> None:
    # given the result of an uninterrupted run
    total_batches = int(str(reference["checkpoint"][0][1]))
    url = make_database.create("crash")
    # when a worker is killed with SIGKILL at random moments, five times, then left to finish
    chance = random.Random(20261121)
    kills_mid_stream = 0
    for _ in range(5):
        worker = _worker(url)
        await asyncio.sleep(chance.uniform(0.5, 3.0))
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        kills_mid_stream += 0 < _checkpoint(url) < total_batches
    worker = _worker(url, output=subprocess.PIPE)
    out, _ = worker.communicate(timeout=240)
    # then it was really interrupted mid-stream, and finished
    assert worker.returncode == 0, out
    assert kills_mid_stream >= 2
    # and what it left equals the uninterrupted run's: no fill lost, none written twice
    assert snapshot(url) == reference


async def test_a_lost_connection_is_reconnected_and_the_stream_resumes(
    make_database: DatabaseFactory, reference: dict[str, list[tuple[object, ...]]]
) -> None:
    url = make_database.create("disconnect")
    stream = simulated_stream(TRADERS, DAYS, SEED, datetime.fromisoformat(END))
    # given a worker writing the stream
    worker = asyncio.create_task(ingest_stream(url, stream, source=SOURCE, prepare=_prepare))
    # when its backend is terminated twice while it writes
    terminated = 0
    dbname = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(url, autocommit=True) as admin:
        for threshold in (3, 10):
            while _checkpoint(url) < threshold and not worker.done():  # noqa: ASYNC110 - polls Postgres
                await asyncio.sleep(0.05)
            row = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (dbname,),
            ).fetchone()
            terminated += 0 if row is None else int(row[0])
    report = await asyncio.wait_for(worker, timeout=240)
    # then it reconnected by itself and the result equals an uninterrupted run's
    assert terminated >= 2
    assert report.reconnects >= 2
    assert snapshot(url) == reference


async def test_a_full_postgres_restart_mid_run_is_ridden_out(
    cluster_dir: Path, reference: dict[str, list[tuple[object, ...]]]
) -> None:
    # given a worker writing the stream into a private cluster (its own, so it can be restarted)
    server = EmbeddedPostgres(cluster_dir)
    url = await asyncio.to_thread(server.start)
    await asyncio.to_thread(upgrade, url)
    stream = simulated_stream(TRADERS, DAYS, SEED, datetime.fromisoformat(END))
    worker = asyncio.create_task(ingest_stream(url, stream, source=SOURCE, prepare=_prepare))
    try:
        # when the server shuts down twice mid-stream and stays down a moment each time
        restarts_mid_stream = 0
        for threshold in (3, 10):
            while _checkpoint(url) < threshold and not worker.done():  # noqa: ASYNC110 - polls Postgres
                await asyncio.sleep(0.05)
            await asyncio.to_thread(server.stop)
            restarts_mid_stream += not worker.done()
            await asyncio.sleep(1.0)  # the worker's reconnect attempts are refused meanwhile
            server = EmbeddedPostgres(cluster_dir)
            assert await asyncio.to_thread(server.start) == url
        report = await asyncio.wait_for(worker, timeout=240)
        # then it reconnected by itself and the result equals an uninterrupted run's
        assert restarts_mid_stream == 2
        assert report.reconnects >= 2
        assert snapshot(url) == reference
    finally:
        worker.cancel()
        await asyncio.to_thread(server.stop)
