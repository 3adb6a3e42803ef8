"""Running the live ingester in a test: until a condition holds, failing if it stops first."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ingest.hyperliquid.live import LiveIngester


async def until(task: asyncio.Task[None], condition: Callable[[], bool]) -> None:
    """Wait for ``condition``; the ingester ending meanwhile is a failure (its error raised)."""
    while not condition():
        if task.done():
            task.result()
            raise AssertionError("the ingester stopped by itself")
        await asyncio.sleep(0.05)


async def run_until(
    ingester: LiveIngester, condition: Callable[[], bool], *, seconds: float = 60
) -> None:
    """Run ``ingester`` until ``condition`` holds (at most ``seconds``), then stop it."""
    stop = asyncio.Event()
    task = asyncio.create_task(ingester.run(stop))
    try:
        async with asyncio.timeout(seconds):
            await until(task, condition)
    finally:
        stop.set()
        await task
