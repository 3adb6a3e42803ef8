"""At most N queries of one gateway process execute at once; the rest wait their turn.

A query's work is Python CPU between short database waits, so a process gains nothing from
running many at once: interleaved, they hold more objects in memory at the same time, collect
garbage more often and share the CPU caches worse. Measured on the leaderboard page with 16
concurrent clients: 62-67 ms of CPU per page with no limit, 52-54 ms with a limit of 1, 2 or 4
(docs/operations.md). WebSockets are not affected; answers from the response cache do not queue.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Receive, Scope, Send


class ConcurrencyLimit:
    """ASGI wrapper admitting at most ``limit`` HTTP requests into ``app`` at once (FIFO)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self._slots = asyncio.Semaphore(limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        async with self._slots:
            await self.app(scope, receive, send)
