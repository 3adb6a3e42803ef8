"""Shared fixtures: real PostgreSQL databases, made fresh for this run and dropped after it.

With ``PERPGRAPH_DATABASE_URL`` set (CI and the developers' machines point it at the local
server), each database is created on that server. Without it, one embedded Postgres is started
in a temporary directory for the session. Nothing depends on state a previous run left.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import AsyncConnectionPool

from db.embedded import EmbeddedPostgres
from db.migrate import upgrade
from db.pool import connect, open_pool
from gateway.plans import DEFAULT_PLANS, PlanLimits
from gateway.settings import Settings
from ingest.scoring import recompute_leaderboards
from ingest.simulate import SimulationPlan, write_history
from tests.serving import served

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data" / "hyperliquid"

#: The simulated market the graph tests read: small enough to write in a few seconds, large
#: enough that a 100-entry board has open positions and full trade pages.
SEEDED_PLAN = SimulationPlan(traders=150, days=10, seed=11)
SEEDED_END = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A URL to a server's maintenance database, where test databases are created."""
    configured = os.environ.get("PERPGRAPH_DATABASE_URL")
    if configured:
        yield configured
        return
    with EmbeddedPostgres(tmp_path_factory.mktemp("embedded")) as embedded:
        yield embedded.url


@pytest.fixture(scope="session")
def make_database(server_url: str) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(server_url)
    yield factory
    factory.drop_all()


class DatabaseFactory:
    """Creates uniquely named, migrated databases on one server and drops them at the end."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.created: list[str] = []

    def create(self, purpose: str, *, migrate: bool = True) -> str:
        name = f"perpgraph_test_{purpose}_{os.getpid()}_{secrets.token_hex(3)}"
        with psycopg.connect(self.server_url, autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self.created.append(name)
        url = make_conninfo(self.server_url, dbname=name)
        url = _as_url(url)
        if migrate:
            upgrade(url)
        return url

    def drop_all(self) -> None:
        with psycopg.connect(self.server_url, autocommit=True) as connection:
            for name in self.created:
                connection.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


def _as_url(conninfo: str) -> str:
    """A libpq key/value string as a postgresql:// URL (SQLAlchemy and uvicorn need URLs)."""
    params = conninfo_to_dict(conninfo)
    user = params.pop("user", "postgres")
    password = params.pop("password", None)
    host = params.pop("host", None)
    port = params.pop("port", None)
    dbname = params.pop("dbname", "postgres")
    credentials = f"{user}:{password}@" if password else f"{user}@"
    if isinstance(host, str) and host.startswith("/"):
        query = f"?host={host}" + (f"&port={port}" if port else "")
        return f"postgresql://{credentials}/{dbname}{query}"
    location = f"{host or 'localhost'}" + (f":{port}" if port else "")
    return f"postgresql://{credentials}{location}/{dbname}"


@pytest.fixture(scope="session")
def seeded_url(make_database: DatabaseFactory) -> str:
    """A database holding a simulated market and its leaderboards; tests only read it."""
    url = make_database.create("seeded")

    async def seed() -> None:
        connection = await connect(url)
        try:
            await write_history(connection, SEEDED_PLAN, end=SEEDED_END)
            await recompute_leaderboards(connection, as_of=SEEDED_END)
        finally:
            await connection.close()

    asyncio.run(seed())
    return url


@pytest.fixture(scope="session")
async def seeded_pool(seeded_url: str) -> AsyncIterator[AsyncConnectionPool]:
    pool = await open_pool(seeded_url, min_size=1, max_size=4)
    yield pool
    await pool.close()


@pytest.fixture
async def empty_url(make_database: DatabaseFactory) -> str:
    """A fresh, migrated, empty database for one test."""
    return make_database.create("empty")


UNLIMITED_PLAN = PlanLimits(
    per_second=10**9,
    per_minute=10**9,
    per_day=10**9,
    cost_per_hour=10**12,
    ws_connections=10**6,
    ws_messages_per_minute=10**9,
)


def open_access_settings(**values: object) -> Settings:
    """Settings for tests of the graph itself: anonymous callers, no limit that could bite."""
    return Settings.model_validate(
        {
            "allow_anonymous": True,
            "anonymous_plan": "UNLIMITED",
            "plans": {**DEFAULT_PLANS, "UNLIMITED": UNLIMITED_PLAN},
            **values,
        }
    )


@pytest.fixture(scope="session")
async def gateway_url(seeded_url: str) -> AsyncIterator[str]:
    """A real gateway (uvicorn on loopback) serving the seeded database; its base URL."""
    settings = open_access_settings(database_url=seeded_url)
    async with served(settings) as address:
        yield f"http://{address}"


@pytest.fixture(scope="session")
def graphiql_url(gateway_url: str) -> str:
    return f"{gateway_url}/graphql"


@pytest.fixture(scope="session")
def graphiql_expected_text() -> str:
    """Text the default GraphiQL query's result must show on the seeded data."""
    return '"publicId"'


@pytest.fixture
def cluster_dir() -> Iterator[Path]:
    """A directory for a private cluster, outside pytest's ``pytest-of-<user>``.

    Run as root, pgserver opens the directory's ancestors to its ``pgserver`` user; another
    pytest session starting meanwhile resets ``pytest-of-root`` to 0700, and initdb fails.
    """
    with tempfile.TemporaryDirectory(prefix="perpgraph-cluster-", ignore_cleanup_errors=True) as d:
        yield Path(d)
