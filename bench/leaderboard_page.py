"""Measure the nested leaderboard page on demo-sized data, over real HTTP.

Seeds a fresh database with the demo's market (300 traders, 30 days, seed 7), starts the
gateway on loopback, sends the LeaderboardPage query sequentially, and prints the history
generation time, the SQL statements per request and the latency distribution. Ends with one
JSON line.

    .venv/bin/python bench/leaderboard_page.py [--requests 300]

Uses PERPGRAPH_DATABASE_URL's server when set (a database is created and dropped), else an
embedded Postgres in a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import time
from datetime import UTC, datetime

import httpx
import uvicorn

from bench.support import bench_database
from db.migrate import upgrade
from db.pool import connect, open_pool
from db.query import record_statements
from gateway.app import create_app
from gateway.settings import Settings
from ingest.scoring import recompute_leaderboards
from ingest.simulate import SimulationPlan, write_history
from resolvers.context import Context
from schema import schema
from tests.schema.test_leaderboard_page import LEADERBOARD_PAGE as QUERY

VARIABLES = {"first": 100}


async def run(requests: int) -> dict[str, float]:
    with bench_database("bench") as url:
        upgrade(url)
        connection = await connect(url)
        started = time.perf_counter()
        _, report = await write_history(
            connection, SimulationPlan(traders=300, days=30, seed=7), end=datetime.now(UTC)
        )
        history_seconds = time.perf_counter() - started
        await recompute_leaderboards(connection)
        await connection.close()
        fills = report.fills_written if report else 0
        print(f"history: {fills:,} fills in {history_seconds:.1f} s")

        pool = await open_pool(url, min_size=1, max_size=2)
        with record_statements() as statements:
            result = await schema.execute(
                QUERY, variable_values=VARIABLES, context_value=Context.for_pool(pool)
            )
        assert result.errors is None, result.errors
        await pool.close()
        print(f"SQL statements per request: {len(statements)}")

        port = 18000 + secrets.randbelow(1000)
        # The graph itself: not access control (bench/auth_overhead.py), not the response cache
        # (every request here is the same one; bench/peer.py measures the cache).
        settings = Settings(database_url=url, port=port, access_control=False, response_cache=False)
        server = uvicorn.Server(
            uvicorn.Config(create_app(settings, url), port=port, log_level="warning")
        )
        task = asyncio.create_task(server.serve())
        while not server.started:  # noqa: ASYNC110  (uvicorn offers a flag, not an event)
            await asyncio.sleep(0.05)
        latencies: list[float] = []
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for index in range(requests + 20):
                begin = time.perf_counter()
                response = await client.post(
                    "/graphql", json={"query": QUERY, "variables": VARIABLES}
                )
                elapsed = (time.perf_counter() - begin) * 1000
                response.raise_for_status()
                if index >= 20:  # the first requests warm caches and connections
                    latencies.append(elapsed)
        server.should_exit = True
        await task
        latencies.sort()
        figures = {
            "history_fills": float(fills),
            "history_s": round(history_seconds, 2),
            "statements": float(len(statements)),
            "median_ms": round(statistics.median(latencies), 2),
            "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1], 2),
            "requests": float(requests),
        }
        print(
            f"latency over {requests} requests: median {figures['median_ms']} ms, "
            f"p95 {figures['p95_ms']} ms"
        )
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    arguments = parser.parse_args()
    print(json.dumps(asyncio.run(run(arguments.requests))))


if __name__ == "__main__":
    main()
