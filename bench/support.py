"""What the benchmarks share: a fresh database to measure on."""

from __future__ import annotations

import os
import secrets
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from db.embedded import EmbeddedPostgres


@contextmanager
def bench_database(purpose: str, *, keep: bool = False) -> Iterator[str]:
    """A new database URL, dropped afterwards unless ``keep`` (its name is then printed): on
    PERPGRAPH_DATABASE_URL's server when set, else in an embedded Postgres in a temporary
    directory (gone with it, kept or not)."""
    server = os.environ.get("PERPGRAPH_DATABASE_URL")
    if not server:
        with tempfile.TemporaryDirectory() as directory, EmbeddedPostgres(Path(directory)) as pg:
            yield pg.url
        return
    name = f"perpgraph_{purpose}_{secrets.token_hex(4)}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield database_url(make_conninfo(server, dbname=name))
    finally:
        if keep:
            print(f"kept {name}", flush=True)
        else:
            with psycopg.connect(server, autocommit=True) as admin:
                drop = sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name))
                admin.execute(drop)


def database_url(conninfo: str) -> str:
    """A libpq connection string as the postgresql:// URL perpgraph's settings take."""
    params = conninfo_to_dict(conninfo)
    user = params.get("user", "postgres")
    password = params.get("password")
    host = params.get("host", "127.0.0.1")
    port = params.get("port", "5432")
    credentials = f"{user}:{password}@" if password else f"{user}@"
    if isinstance(host, str) and host.startswith("/"):
        return f"postgresql://{credentials}/{params['dbname']}?host={host}&port={port}"
    return f"postgresql://{credentials}{host}:{port}/{params['dbname']}"


def wait_for_health(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Return once the gateway on ``port`` answers ``/healthz``; fail if it exits or does not
    answer within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the gateway exited ({process.returncode}) before answering")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"the gateway did not answer /healthz within {timeout:.0f} s")


async def rewrite_seconds(
    connection: psycopg.AsyncConnection, table: str, order_by: str
) -> tuple[float, float]:
    """Postgres alone writing ``table``'s rows again (``INSERT ... SELECT`` in ``order_by``
    order): seconds into a bare copy of the table, and into a copy with its indexes. A floor
    for any writer of those rows on this server; nothing is kept (the transaction rolls back).
    """
    seconds: list[float] = []
    for copy, like in (("floor_bare", ""), ("floor_indexed", " INCLUDING INDEXES")):
        async with connection.transaction(force_rollback=True):
            await connection.execute("SET LOCAL jit = off")
            await connection.execute(f"CREATE TABLE {copy} (LIKE {table}{like})")
            insert = f"INSERT INTO {copy} SELECT * FROM {table} ORDER BY {order_by}"
            started = time.perf_counter()
            await connection.execute(insert)
            seconds.append(time.perf_counter() - started)
    return seconds[0], seconds[1]
