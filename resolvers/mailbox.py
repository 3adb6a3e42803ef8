"""A bounded mailbox for one live reader: the writer never waits, a reader that falls behind
is dropped.

Used by the live event feed (one mailbox per subscription) and by shared subscription groups
(one per member). Offering never blocks; when the mailbox already holds ``capacity`` items the
reader has fallen behind: what it held is discarded, ``on_overflow`` is called at once (its
reader may be stuck writing to a stalled client and never read again) and its next ``get``
raises :class:`MailboxOverflowError`.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class MailboxOverflowError(RuntimeError):
    """The reader fell more than the mailbox's capacity behind."""


class Mailbox(Generic[T]):
    def __init__(self, capacity: int, on_overflow: Callable[[], None] | None = None) -> None:
        self.capacity = capacity
        self.on_overflow = on_overflow
        self.overflowed = False
        self.closed = False
        self._items: deque[T] = deque()
        self._ready = asyncio.Event()

    def offer(self, item: T) -> bool:
        """Queue ``item``; False when the mailbox is closed or has just overflowed."""
        if self.closed or self.overflowed:
            return False
        if len(self._items) >= self.capacity:
            self.drop()
            return False
        self._items.append(item)
        self._ready.set()
        return True

    def drop(self) -> None:
        """Treat the reader as fallen behind, now."""
        if self.overflowed:
            return
        self.overflowed = True
        self._items.clear()
        self._ready.set()
        if self.on_overflow is not None:
            self.on_overflow()

    def close(self) -> None:
        """No more items: a waiting reader gets what is queued, then None."""
        self.closed = True
        self._ready.set()

    async def get(self) -> T | None:
        """The next item; None once closed and empty. Raises after an overflow."""
        while True:
            if self.overflowed:
                raise MailboxOverflowError
            if self._items:
                return self._items.popleft()
            if self.closed:
                return None
            self._ready.clear()
            await self._ready.wait()
