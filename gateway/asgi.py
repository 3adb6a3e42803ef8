"""The gateway as an application factory that worker processes import (``serve --workers``).

The parent process (``perpgraph serve``) resolves the database, starting the embedded one if
needed, and passes everything through ``PERPGRAPH_*`` environment variables: each worker
builds its own gateway (pool, LISTEN connections, cache) from them.
"""

from __future__ import annotations

from starlette.applications import Starlette

from gateway.app import create_app
from gateway.settings import Settings


def app_from_environment() -> Starlette:
    settings = Settings()
    if settings.database_url is None:
        raise RuntimeError("a gateway worker needs PERPGRAPH_DATABASE_URL (set by `serve`)")
    return create_app(settings, settings.database_url)
