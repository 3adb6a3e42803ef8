"""Running the real gateway on loopback for a test: uvicorn in this event loop."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn

from gateway.app import create_app
from gateway.settings import Settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def served(settings: Settings, **kwargs: Any) -> AsyncIterator[str]:
    """The gateway for ``settings.database_url`` on loopback; yields ``host:port``."""
    assert settings.database_url is not None
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, settings.database_url, **kwargs),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="on",
            # Open sockets (a browser's keep-alive, a live subscription) must not hold the
            # test run at shutdown.
            timeout_graceful_shutdown=2,
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
