"""Request and cost limits per key: fixed windows aligned to the UTC clock, counted in Redis.

Windows are the clock's own: a second, a minute (reset at :00), an hour (cost points) and a UTC
day (reset at midnight), as MillionScan's are. Each window's counter is a ``limits`` item keyed by
the caller and the window's index since the epoch, so a counter starts at zero at the boundary
whichever worker sees the first request, and every worker and host increments the same counter
(Redis, ``PERPGRAPH_REDIS_URL``; in-process memory when unset).

Counting uses the ``limits`` storage's atomic increment (a Lua script on Redis), which returns
the new count: one round trip gives both the verdict and what remains. Exactly ``limit`` hits
of a window succeed however many race for them.

When Redis cannot be reached, requests are served uncounted (fail open, with a warning in the
log) rather than refused: limits protect the service, and an outage of the counters should not
become an outage of the API.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from limits import (
    RateLimitItem,
    RateLimitItemPerDay,
    RateLimitItemPerHour,
    RateLimitItemPerMinute,
    RateLimitItemPerSecond,
)
from limits.aio.storage import MemoryStorage, RedisStorage

from gateway.plans import PlanLimits

Clock = Callable[[], float]


class Scope(StrEnum):
    """Which window a count belongs to (``extensions.scope`` of a RATE_LIMITED error)."""

    SECOND = "second"
    MINUTE = "minute"
    DAY = "day"
    COST = "cost"


_ITEMS: Final[dict[Scope, type[RateLimitItem]]] = {
    Scope.SECOND: RateLimitItemPerSecond,
    Scope.MINUTE: RateLimitItemPerMinute,
    Scope.DAY: RateLimitItemPerDay,
    Scope.COST: RateLimitItemPerHour,
}
REQUEST_SCOPES: Final = (Scope.SECOND, Scope.MINUTE, Scope.DAY)
_WARN_EVERY_SECONDS: Final = 30.0
_log = logging.getLogger(__name__)


def request_limits(plan: PlanLimits) -> list[tuple[Scope, int]]:
    return [
        (Scope.SECOND, plan.per_second),
        (Scope.MINUTE, plan.per_minute),
        (Scope.DAY, plan.per_day),
    ]


@dataclass(frozen=True)
class WindowCount:
    """One window after a hit: its limit, what has been used, and when it resets (epoch s)."""

    scope: Scope
    limit: int
    used: int
    reset_at: float

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    @property
    def exceeded(self) -> bool:
        return self.used > self.limit

    def seconds_to_reset(self, now: float) -> int:
        """Whole seconds until the window resets, at least 1 (the ``Retry-After`` value)."""
        return max(1, math.ceil(self.reset_at - now))


@dataclass(frozen=True)
class Verdict:
    """The windows one request counted in, and whether it fits all of them."""

    windows: tuple[WindowCount, ...]
    now: float

    @property
    def allowed(self) -> bool:
        return not any(window.exceeded for window in self.windows)

    @property
    def blocking(self) -> WindowCount | None:
        """The exceeded window that resets last: retrying before then is refused again."""
        exceeded = [window for window in self.windows if window.exceeded]
        return max(exceeded, key=lambda window: window.reset_at) if exceeded else None

    @property
    def tightest(self) -> WindowCount | None:
        """The window closest to running out (reported in the ``RateLimit-*`` headers)."""
        if not self.windows:
            return None
        return min(self.windows, key=lambda window: (window.remaining / window.limit, window.limit))


class RateLimiter:
    """Counts hits per caller in fixed windows; Redis when ``redis_url`` is given."""

    def __init__(self, redis_url: str | None, *, clock: Clock = time.time) -> None:
        self.clock = clock
        self._redis_pool: Any = None
        """redis-py's connection pool when counting in Redis (shared with gateway.sockets)."""
        self._warned_at = -_WARN_EVERY_SECONDS
        self._unavailable: tuple[type[BaseException], ...] = (OSError,)
        self.storage: MemoryStorage | RedisStorage
        if redis_url:
            import redis.asyncio
            import redis.exceptions

            self._unavailable = (OSError, redis.exceptions.RedisError)
            self._redis_pool = redis.asyncio.ConnectionPool.from_url(redis_url)
            options: dict[str, Any] = {"connection_pool": self._redis_pool}
            self.storage = RedisStorage(
                "async+" + redis_url, implementation="redispy", key_prefix="perpgraph", **options
            )
        else:
            self.storage = MemoryStorage()

    def _window(self, scope: Scope, limit: int, caller: str, now: float) -> tuple[str, int, float]:
        item = _ITEMS[scope](limit)
        period = item.get_expiry()
        index = int(now // period)
        return item.key_for(caller, index), period, float((index + 1) * period)

    async def hit(
        self, caller: str, limits: Sequence[tuple[Scope, int]], *, amount: int = 1
    ) -> Verdict:
        """Count ``amount`` against each of ``limits`` for ``caller``."""
        return await self.count(caller, [(scope, limit, amount) for scope, limit in limits])

    async def count(self, caller: str, windows: Sequence[tuple[Scope, int, int]]) -> Verdict:
        """Count each ``(scope, limit, amount)`` for ``caller``, all in one round trip."""
        now = self.clock()
        counters = [
            (*self._window(scope, limit, caller, now), amount) for scope, limit, amount in windows
        ]
        try:
            counts = await self._increment(
                [(key, period, amount) for key, period, _, amount in counters]
            )
        except self._unavailable as error:
            self._warn(error)
            return Verdict((), now)
        return Verdict(
            tuple(
                WindowCount(scope, limit, used, reset_at)
                for (scope, limit, _), (_, _, reset_at, _), used in zip(
                    windows, counters, counts, strict=True
                )
            ),
            now,
        )

    async def _increment(self, counters: list[tuple[str, int, int]]) -> list[int]:
        """Increment each (key, expiry) counter; on Redis, several in one round trip.

        The library's increment is one Lua script call per counter; a request counts in three
        windows and its cost in a fourth, so the same script is sent pipelined (by its SHA, as
        the library registered it) rather than in four round trips. A Redis that lost its
        scripts (restart, SCRIPT FLUSH) answers NOSCRIPT and the library's own call, which
        reloads the script, is used instead.
        """
        if self._redis_pool is None or len(counters) < 2:
            return [await self.storage.incr(key, expiry, amount=n) for key, expiry, n in counters]
        import redis.exceptions

        bridge: Any = getattr(self.storage, "bridge")  # noqa: B009  (limits' redis-py bridge)
        pipeline = bridge.storage.pipeline(transaction=False)
        for key, expiry, amount in counters:
            pipeline.evalsha(
                bridge.lua_incr_expire.sha, 1, bridge.prefixed_key(key), expiry, amount
            )
        try:
            return [int(count) for count in await pipeline.execute()]
        except redis.exceptions.NoScriptError:
            return [await self.storage.incr(key, expiry, amount=n) for key, expiry, n in counters]

    async def peek(self, caller: str, scope: Scope, limit: int) -> WindowCount:
        """A window's count without counting anything."""
        key, _, reset_at = self._window(scope, limit, caller, self.clock())
        try:
            used = await self.storage.get(key)
        except self._unavailable as error:
            self._warn(error)
            used = 0
        return WindowCount(scope, limit, used, reset_at)

    def _warn(self, error: BaseException) -> None:
        """Counters unreachable: serve uncounted (fail open), and say so at most every 30 s."""
        now = time.monotonic()
        if now - self._warned_at >= _WARN_EVERY_SECONDS:
            self._warned_at = now
            _log.warning("rate-limit counters unreachable, serving uncounted: %s", error)

    @property
    def redis_pool(self) -> Any:
        return self._redis_pool

    async def close(self) -> None:
        if self._redis_pool is not None:
            await self._redis_pool.aclose()
