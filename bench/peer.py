"""perpgraph against PostGraphile v5 on the same data, the same machine, in one run.

    .venv/bin/python -m bench.peer            # or: make bench-peer

1. Runs the PostGraphile harness (``shared/bench/peer-postgraphile/run.sh``): it starts its
   Postgres (127.0.0.1:55432), seeds 20,000 traders and 2,000,000 trades once, installs
   PostGraphile from npm, and measures it with the harness's ``measure.sh`` (sequential
   latency, then wrk at 16 connections, with CPU accounting). Then PostGraphile is stopped.
2. Copies the same rows into a perpgraph database on that server (``bench/peer_data.py``;
   reused while the peer data is unchanged).
3. Starts ``perpgraph serve`` on it (access control off, as PostGraphile has none) and
   measures the equivalent query (``bench/peer_query.py``) with the same ``measure.sh``:
   without the response cache, then with it (warm).
4. Does 1-3 again with two processes each (PostGraphile's node:cluster, ``serve --workers 2``).
5. Checks that both gateways answered with the same values, counts perpgraph's SQL
   statements for the query, prints both gateways' figures and the ratios perpgraph /
   PostGraphile, and ends with one JSON line.

Needs what the harness needs (bash, npm, PostgreSQL 15 server binaries, wrk; run.sh installs
wrk when root). Results go to ``--results`` (default /tmp/perpgraph-peer/<time>).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.peer_data import load_peer_data
from bench.peer_query import QUERY, VARIABLES, differences
from bench.support import wait_for_health
from db.migrate import upgrade

REPOSITORY = Path(__file__).resolve().parents[1]
DEFAULT_HARNESS = REPOSITORY.parent / "shared" / "bench" / "peer-postgraphile"
PEER_URL = "postgresql://postgres@127.0.0.1:55432/perp"
PERPGRAPH_DATABASE = "perpgraph_peer"


@dataclass(frozen=True)
class Figures:
    """One gateway's measurement: what measure.sh wrote."""

    name: str
    latency: dict[str, Any]
    wrk: dict[str, Any]
    cpu: dict[str, Any]
    response: Path

    @property
    def median_ms(self) -> float:
        return float(self.latency["median_ms"])

    @property
    def p95_ms(self) -> float:
        return float(self.latency["p95_ms"])

    @property
    def rps(self) -> float:
        return float(self.wrk["rps"])

    @property
    def cpu_ms(self) -> float:
        return float(self.cpu.get("gateway_cpu_ms_per_request", float("nan")))

    @classmethod
    def read(cls, name: str, directory: Path) -> Figures:
        def load(file: str) -> dict[str, Any]:
            return dict(json.loads((directory / file).read_text()))

        return cls(
            name,
            load("latency.json"),
            load("wrk.json"),
            load("wrk_cpu.json"),
            directory / "response.json",
        )

    def line(self) -> str:
        return (
            f"{self.name:<34} median {self.median_ms:6.1f} ms  p95 {self.p95_ms:6.1f} ms  "
            f"{self.rps:8.1f} req/s  gateway CPU {self.cpu_ms:6.2f} ms/req  "
            f"({self.latency['response_bytes']:,} bytes, bad {self.wrk.get('bad', 0)}, "
            f"load {' '.join(self.cpu.get('loadavg_before', []))})"
        )


def say(line: str) -> None:
    print(line, flush=True)


def measurement_env(args: argparse.Namespace) -> dict[str, str]:
    return {**os.environ, "N": str(args.requests), "DURATION": args.duration}


def run_postgraphile(args: argparse.Namespace, workers: int) -> Figures:
    results = args.results / f"postgraphile-{workers}w"
    say(f"\n== PostGraphile, {workers} process(es): harness run.sh (log: {results}/run.log)")
    results.mkdir(parents=True, exist_ok=True)
    env = {
        **measurement_env(args),
        "KEEP_RUNNING": "1",
        "SKIP_SQL_FLOOR": "1",
        "PGL_WORKERS": str(workers),
        "RESULTS": str(results),
    }
    with (results / "run.log").open("w") as log:
        finished = subprocess.run(
            ["bash", str(args.harness / "run.sh")],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    text = (results / "run.log").read_text()
    pid = re.search(r"leaving PostGraphile \(pid (\d+)\)", text)
    if pid is not None:
        _stop_tree(int(pid.group(1)))
    if finished.returncode != 0:
        tail = "\n".join(text.splitlines()[-25:])
        raise SystemExit(f"the PostGraphile harness failed ({finished.returncode}):\n{tail}")
    return Figures.read(f"PostGraphile {workers} process(es)", results)


def run_perpgraph(
    args: argparse.Namespace, database_url: str, workers: int, *, cached: bool
) -> Figures:
    label = f"perpgraph {workers} worker(s), cache {'on' if cached else 'off'}"
    results = args.results / f"perpgraph-{workers}w-{'cached' if cached else 'uncached'}"
    results.mkdir(parents=True, exist_ok=True)
    say(f"\n== {label}")
    port = _free_port()
    body = results / "body.json"
    body.write_text(json.dumps({"query": QUERY, "variables": VARIABLES}))
    env = {
        **os.environ,
        "PERPGRAPH_DATABASE_URL": database_url,
        "PERPGRAPH_ACCESS_CONTROL": "false",
        "PERPGRAPH_RESPONSE_CACHE": "true" if cached else "false",
        "PERPGRAPH_LOG_LEVEL": "warning",
    }
    command = [
        str(Path(sys.executable).parent / "perpgraph"),
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    with (results / "serve.log").open("w") as log:
        server = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        try:
            wait_for_health(port, server)
            url = f"http://127.0.0.1:{port}/graphql"
            measure = subprocess.run(
                [str(args.harness / "measure.sh"), url, str(body), str(results)],
                env={
                    **measurement_env(args),
                    "GATEWAY_PIDS": str(server.pid),
                    "POSTMASTER_PID": _postmaster_pid(),
                },
                stdout=subprocess.DEVNULL,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                check=False,
            )
            if measure.returncode != 0:
                raise SystemExit(f"measure.sh failed for {label} ({measure.returncode})")
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                _stop_tree(server.pid)
    return Figures.read(label, results)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _postmaster_pid() -> str:
    pid_file = Path(os.environ.get("PG_ROOT", "/tmp/pgpeer")) / "data" / "postmaster.pid"
    return pid_file.read_text().splitlines()[0]


def _stop_tree(pid: int) -> None:
    """Stop a process and its children (PostGraphile's cluster workers)."""
    children = subprocess.run(
        ["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False
    ).stdout.split()
    for target in [pid, *map(int, children)]:
        try:
            os.kill(target, signal.SIGTERM)
        except ProcessLookupError:
            continue
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)


def statements_per_request(database_url: str) -> int:
    from db.pool import open_pool
    from db.query import record_statements
    from resolvers.context import Context
    from schema import schema

    async def count() -> int:
        pool = await open_pool(database_url, min_size=1, max_size=2)
        try:
            with record_statements() as statements:
                result = await schema.execute(
                    QUERY, variable_values=VARIABLES, context_value=Context.for_pool(pool)
                )
            assert result.errors is None, result.errors
            return len(statements)
        finally:
            await pool.close()

    return asyncio.run(count())


def same_answers(peer: Figures, ours: Figures) -> int:
    compared, found = differences(
        json.loads(peer.response.read_text()), json.loads(ours.response.read_text())
    )
    if found:
        raise SystemExit("the gateways answered differently:\n" + "\n".join(found))
    return compared


def ratio(ours: float, theirs: float) -> float:
    return round(ours / theirs, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--harness", type=Path, default=DEFAULT_HARNESS)
    parser.add_argument(
        "--results",
        type=Path,
        default=Path("/tmp/perpgraph-peer") / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"),
    )
    parser.add_argument("--requests", type=int, default=200, help="sequential requests (N)")
    parser.add_argument("--duration", default="20s", help="wrk run length (DURATION)")
    parser.add_argument(
        "--keep-running", action="store_true", help="leave the peer Postgres up afterwards"
    )
    args = parser.parse_args()
    if not (args.harness / "run.sh").is_file():
        raise SystemExit(
            f"the PostGraphile harness is not at {args.harness} (pass --harness DIRECTORY)"
        )
    args.results.mkdir(parents=True, exist_ok=True)
    say(f"results: {args.results}")
    started = time.perf_counter()
    try:
        figures = compare(args)
    finally:
        if not args.keep_running:
            _stop_peer_postgres()
    say(f"\n(whole comparison: {time.perf_counter() - started:.0f} s)")
    print(json.dumps(figures))


def compare(args: argparse.Namespace) -> dict[str, float]:
    peer_1 = run_postgraphile(args, 1)
    database_url, _ = load_peer_data(PEER_URL, PERPGRAPH_DATABASE, say)
    upgrade(database_url)
    ours_1 = run_perpgraph(args, database_url, 1, cached=False)
    cached_1 = run_perpgraph(args, database_url, 1, cached=True)
    peer_2 = run_postgraphile(args, 2)
    ours_2 = run_perpgraph(args, database_url, 2, cached=False)
    cached_2 = run_perpgraph(args, database_url, 2, cached=True)

    compared = same_answers(peer_1, ours_1)
    for other in (cached_1, ours_2, cached_2):
        same_answers(peer_1, other)
    statements = statements_per_request(database_url)

    say("\n== Results (sequential latency on one keep-alive connection; req/s and CPU under wrk)")
    for figures in (peer_1, ours_1, cached_1, peer_2, ours_2, cached_2):
        say(figures.line())
    say(
        f"same answers: {compared:,} values compared per response, all equal; perpgraph ran "
        f"{statements} SQL statements per request (PostGraphile: 1)"
    )
    result = {
        "median_ratio": ratio(ours_1.median_ms, peer_1.median_ms),
        "p95_ratio": ratio(ours_1.p95_ms, peer_1.p95_ms),
        "rps_ratio": ratio(ours_1.rps, peer_1.rps),
        "rps_ratio_2workers": ratio(ours_2.rps, peer_2.rps),
        "cached_rps_ratio": ratio(cached_2.rps, peer_2.rps),
        "cpu_ratio": ratio(ours_1.cpu_ms, peer_1.cpu_ms),
    }
    say(
        "ratios perpgraph / PostGraphile: "
        f"median latency {result['median_ratio']} (lower is better), "
        f"p95 {result['p95_ratio']}, req/s {result['rps_ratio']} (higher is better), "
        f"req/s with 2 workers {result['rps_ratio_2workers']}, "
        f"req/s with the cache warm (2 workers vs 2 processes) {result['cached_rps_ratio']} "
        f"(1 worker vs 1 process: {ratio(cached_1.rps, peer_1.rps)}), "
        f"CPU per request {result['cpu_ratio']} (lower is better)"
    )
    return result


def _stop_peer_postgres() -> None:
    data = Path(os.environ.get("PG_ROOT", "/tmp/pgpeer")) / "data"
    if not (data / "postmaster.pid").exists():
        return
    pg_ctl = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")) / "pg_ctl"
    command = [str(pg_ctl), "-D", str(data), "-m", "fast", "-w", "stop"]
    if os.geteuid() == 0:
        owner = data.stat().st_uid
        user = subprocess.run(
            ["id", "-nu", str(owner)], capture_output=True, text=True, check=False
        ).stdout.strip()
        command = ["runuser", "-u", user, "--", *command]
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, check=False)
    say("peer Postgres stopped")


if __name__ == "__main__":
    main()
