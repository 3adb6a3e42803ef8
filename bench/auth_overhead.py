"""Measure what authentication and limits add to a request, over real HTTP on loopback.

Starts two gateways on one fresh database: one with access control (a key, its lookup cached,
three request windows and the cost budget counted in Redis, the cost computed, persisted-query,
depth, alias and token checks), one with ``access_control`` off. Sends the same small query to
each, alternating request by request so that both see the same machine, and prints the median
latency of each and their difference. Ends with one JSON line.

    .venv/bin/python -m bench.auth_overhead [--requests 2000]     (from the repository root)

Redis: PERPGRAPH_REDIS_URL, else redis://127.0.0.1:6379/0. Postgres: as bench/leaderboard_page.py.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import uvicorn

from bench.support import bench_database
from db.migrate import upgrade
from gateway.app import create_app
from gateway.keys import create_key
from gateway.plans import DEFAULT_PLANS, PlanLimits
from gateway.settings import Settings

QUERY = "{ markets { coin markPrice } viewer { plan } }"
BENCH_PLAN = PlanLimits(
    per_second=10**9,
    per_minute=10**9,
    per_day=10**9,
    cost_per_hour=10**12,
    ws_connections=10,
    ws_messages_per_minute=10**9,
)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def _serving(settings: Settings, url: str) -> AsyncIterator[str]:
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, url), host="127.0.0.1", port=port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}/graphql"
    finally:
        server.should_exit = True
        await task


async def _timed(client: httpx.AsyncClient, endpoint: str, headers: dict[str, str]) -> float:
    started = time.perf_counter()
    response = await client.post(endpoint, json={"query": QUERY}, headers=headers)
    elapsed = time.perf_counter() - started
    if response.status_code != 200 or "errors" in response.json():
        raise RuntimeError(f"unexpected answer {response.status_code}: {response.text[:300]}")
    return elapsed * 1000


async def run(requests: int) -> dict[str, float | int | str]:
    redis_url = os.environ.get("PERPGRAPH_REDIS_URL") or "redis://127.0.0.1:6379/0"
    with bench_database("auth") as url:
        upgrade(url)
        key, _ = create_key(url, account="bench", plan="BENCH")
        base = {"database_url": url, "plans": {**DEFAULT_PLANS, "BENCH": BENCH_PLAN}}
        guarded = Settings.model_validate({**base, "redis_url": redis_url})
        open_door = Settings.model_validate({**base, "access_control": False})
        print(f"redis {redis_url}; {requests} requests to each gateway, alternating")
        async with (
            _serving(guarded, url) as with_access,
            _serving(open_door, url) as without_access,
            httpx.AsyncClient() as client,
        ):
            auth = {"authorization": f"Bearer {key}"}
            for _ in range(50):  # warm up: connections, caches, key lookup
                await _timed(client, with_access, auth)
                await _timed(client, without_access, {})
            on: list[float] = []
            off: list[float] = []
            for _ in range(requests):
                on.append(await _timed(client, with_access, auth))
                off.append(await _timed(client, without_access, {}))
    median_on, median_off = statistics.median(on), statistics.median(off)
    p90_on = statistics.quantiles(on, n=10)[-1]
    p90_off = statistics.quantiles(off, n=10)[-1]
    print(f"with access control    median {median_on:.3f} ms  p90 {p90_on:.3f} ms")
    print(f"without access control median {median_off:.3f} ms  p90 {p90_off:.3f} ms")
    overhead = median_on - median_off
    print(f"added by auth + limits: {overhead:.3f} ms per request (median)")
    print(
        f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs (the figure grows with it)"
    )
    return {
        "auth_limits_overhead_ms": round(overhead, 3),
        "median_ms_with_access": round(median_on, 3),
        "median_ms_without_access": round(median_off, 3),
        "requests": requests,
        "redis": redis_url,
        "cpus": os.cpu_count() or 0,
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    arguments = parser.parse_args()
    print(json.dumps(asyncio.run(run(arguments.requests))))


if __name__ == "__main__":
    main()
