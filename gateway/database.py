"""Which database perpgraph talks to: the configured server, or the embedded default."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from db.embedded import EmbeddedPostgres
from db.migrate import upgrade
from gateway.settings import Settings


@contextmanager
def database(settings: Settings, *, migrate: bool = True) -> Iterator[str]:
    """Yield the URL of a ready database: ``PERPGRAPH_DATABASE_URL`` when set, else an embedded
    Postgres in ``PERPGRAPH_DATA_DIR`` that stops when the block ends. Migrations run first."""
    if settings.database_url is not None:
        if migrate:
            upgrade(settings.database_url)
        yield settings.database_url
        return
    with EmbeddedPostgres(settings.data_dir) as embedded:
        if migrate:
            upgrade(embedded.url)
        yield embedded.url
