"""What the benchmarks share: a fresh database to measure on."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from db.embedded import EmbeddedPostgres


@contextmanager
def bench_database(purpose: str) -> Iterator[str]:
    """A new database URL, dropped afterwards: on PERPGRAPH_DATABASE_URL's server when set,
    else in an embedded Postgres in a temporary directory."""
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
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


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
