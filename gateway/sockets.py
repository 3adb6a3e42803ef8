"""WebSocket slots per key (``ws_connections``), shared by every gateway process through Redis.

Each open socket holds a lease in a Redis sorted set per caller (member: the socket's slot id,
score: when the lease ends). Taking a slot drops expired leases, adds this one and counts, in one
MULTI transaction; over the plan's number, the slot is given back and the socket refused (4008).
Leases are renewed every third of their length while the socket is open and removed when it
closes, so a crashed process's sockets free their slots within ``LEASE_SECONDS``. Without Redis
(or when it cannot be reached) slots are counted in this process only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from typing import Any, Final

LEASE_SECONDS: Final = 60.0
_log = logging.getLogger(__name__)


class SocketSlots:
    def __init__(self, redis_pool: Any | None) -> None:
        self._redis: Any = None
        self._unavailable: tuple[type[BaseException], ...] = (OSError,)
        if redis_pool is not None:
            import redis.asyncio
            import redis.exceptions

            self._redis = redis.asyncio.Redis(connection_pool=redis_pool)
            self._unavailable = (OSError, redis.exceptions.RedisError)
        self._held: dict[str, int] = {}
        self._renewals: dict[str, asyncio.Task[None]] = {}

    @staticmethod
    def _key(caller: str) -> str:
        return f"perpgraph:ws:{caller}"

    async def take(self, caller: str, limit: int) -> str | None:
        """A slot id for one more socket of ``caller``, or None when it holds ``limit``."""
        slot = secrets.token_hex(8)
        if self._redis is not None:
            try:
                return await self._take_shared(caller, limit, slot)
            except self._unavailable as error:
                _log.warning("socket slots unreachable in Redis, counting locally: %s", error)
        held = self._held.get(caller, 0)
        if held >= limit:
            return None
        self._held[caller] = held + 1
        return "local:" + slot

    async def _take_shared(self, caller: str, limit: int, slot: str) -> str | None:
        key, now = self._key(caller), time.time()
        async with self._redis.pipeline(transaction=True) as pipeline:
            pipeline.zremrangebyscore(key, "-inf", now)
            pipeline.zadd(key, {slot: now + LEASE_SECONDS})
            pipeline.zcard(key)
            pipeline.expire(key, int(LEASE_SECONDS) + 1)
            _, _, held, _ = await pipeline.execute()
        if int(held) > limit:
            await self._redis.zrem(key, slot)
            return None
        self._renewals[slot] = asyncio.create_task(self._renew(key, slot))
        return slot

    async def _renew(self, key: str, slot: str) -> None:
        while True:
            await asyncio.sleep(LEASE_SECONDS / 3)
            try:
                await self._redis.zadd(key, {slot: time.time() + LEASE_SECONDS})
                await self._redis.expire(key, int(LEASE_SECONDS) + 1)
            except self._unavailable as error:
                _log.warning("could not renew a socket's lease: %s", error)

    async def give_back(self, caller: str, slot: str) -> None:
        if slot.startswith("local:"):
            held = self._held.get(caller, 0) - 1
            if held > 0:
                self._held[caller] = held
            else:
                self._held.pop(caller, None)
            return
        renewal = self._renewals.pop(slot, None)
        if renewal is not None:
            renewal.cancel()
        try:
            await self._redis.zrem(self._key(caller), slot)
        except self._unavailable as error:
            _log.warning("could not give a socket's slot back (its lease will end): %s", error)

    async def close(self) -> None:
        for renewal in self._renewals.values():
            renewal.cancel()
        for renewal in self._renewals.values():
            with contextlib.suppress(asyncio.CancelledError):
                await renewal
        self._renewals.clear()
        if self._redis is not None:
            await self._redis.aclose(close_connection_pool=False)
