"""Access control for one gateway process: authentication, limits, cost, persisted queries.

One :class:`AccessControl` per app. HTTP requests are admitted by ``gateway.guard`` before
strawberry sees them; WebSockets in ``gateway.ws`` at ``connection_init``; query cost is charged
by the cost extension once the document is parsed and validated.

    AccessDenied (gateway.auth)   refusals before execution, each with an HTTP status
    └── RateLimited               429 RATE_LIMITED: a window is full; retry after it resets
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from graphql import GraphQLError
from psycopg_pool import AsyncConnectionPool
from starlette.types import ASGIApp
from strawberry.extensions import MaxTokensLimiter, SchemaExtension

from gateway.auth import AccessDenied, Authenticator, Principal
from gateway.cost import QuerySizeLimiter, SizeLimitCodes
from gateway.limits import (
    RateLimiter,
    Scope,
    Verdict,
    WindowCount,
    request_limits,
)
from gateway.persisted_queries import AutomaticPersistedQueries, PersistedQueryStore
from gateway.settings import Settings
from gateway.sockets import SocketSlots
from resolvers.access import ACCESS_KEY, CostReport, UsageWindow
from resolvers.context import Context

Lifespan = Callable[[Any], AbstractAsyncContextManager[None]]


class RateLimited(AccessDenied):
    status = 429
    code = "RATE_LIMITED"
    close_code = 0

    def __init__(self, verdict: Verdict) -> None:
        window = verdict.blocking
        assert window is not None
        self.verdict = verdict
        self.window = window
        self.retry_after = window.seconds_to_reset(verdict.now)
        super().__init__(
            f"Rate limit exceeded: {window.limit} "
            f"{'points per hour' if window.scope is Scope.COST else 'requests per ' + window.scope}"
            f". Retry after {self.retry_after} s.",
            scope=str(window.scope),
            limit=window.limit,
            retryAfterSeconds=self.retry_after,
        )


class SocketRefused(Exception):  # noqa: N818
    """A WebSocket refused at ``connection_init``: closed with ``close_code``."""

    def __init__(self, close_code: int, reason: str) -> None:
        super().__init__(reason)
        self.close_code = close_code
        self.reason = reason


def usage_window(window: WindowCount) -> UsageWindow:
    return UsageWindow(
        scope=str(window.scope),
        limit=window.limit,
        used=window.used,
        reset_at=datetime.fromtimestamp(window.reset_at, UTC),
    )


def rate_limit_headers(window: WindowCount | None, now: float) -> list[tuple[bytes, bytes]]:
    """``RateLimit-Limit/Remaining/Reset`` (IETF draft) for the window nearest to running out."""
    if window is None:
        return []
    return [
        (b"ratelimit-limit", str(window.limit).encode()),
        (b"ratelimit-remaining", str(window.remaining).encode()),
        (b"ratelimit-reset", str(window.seconds_to_reset(now)).encode()),
    ]


@dataclass
class Grant:
    """What one caller was granted; resolvers see it as ``resolvers.access.AccessGrant``."""

    principal: Principal
    limiter: RateLimiter
    cost: CostReport | None = None
    counts_requests: bool = False
    """An HTTP request: it counts once in the request windows (sockets count operations)."""
    verdict: Verdict | None = None
    """The request windows once counted."""
    socket_slot: str | None = None
    """A WebSocket's slot among its key's ``ws_connections``."""

    @property
    def account(self) -> str | None:
        return self.principal.account

    @property
    def plan_name(self) -> str:
        return self.principal.plan_name

    @property
    def access_until(self) -> datetime | None:
        return self.principal.access_until

    @property
    def anonymous(self) -> bool:
        return self.principal.anonymous

    @property
    def leaderboard_timeframes(self) -> frozenset[str] | None:
        return self.principal.plan.leaderboard_timeframes

    @property
    def leaderboard_max_rank(self) -> int | None:
        return self.principal.plan.leaderboard_max_rank

    async def usage(self) -> list[UsageWindow]:
        plan = self.principal.plan
        limits = [*request_limits(plan), (Scope.COST, plan.cost_per_hour)]
        return [
            usage_window(await self.limiter.peek(self.principal.caller, scope, limit))
            for scope, limit in limits
        ]


class AccessControl:
    """Authentication and limits, shared by every request of one app."""

    def __init__(
        self,
        settings: Settings,
        pool: Callable[[], AsyncConnectionPool],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.limiter = RateLimiter(settings.redis_url, clock=clock)
        self.authenticator = Authenticator(
            pool,
            settings.plans,
            allow_anonymous=settings.allow_anonymous,
            anonymous_plan=settings.anonymous_plan,
            cache_seconds=settings.key_cache_seconds,
            clock=clock,
        )
        self.persisted_queries = PersistedQueryStore()
        self.socket_slots = SocketSlots(self.limiter.redis_pool)

    @property
    def enabled(self) -> bool:
        return self.settings.access_control

    def guard(self, app: ASGIApp) -> ASGIApp:
        """``app`` behind the HTTP access guard (or as it is, with access control off)."""
        from gateway.guard import AccessGuard

        return AccessGuard(app, self) if self.enabled else app

    async def admit(self, key: str | None, client: str) -> Grant:
        """Authenticate one HTTP request (raises AccessDenied). It is counted later, in one
        round trip with its cost (:meth:`charge_cost`), or by :meth:`count_request` when it
        ends before execution (bad JSON, syntax or validation errors)."""
        principal = await self.authenticator.authenticate(key, client)
        return Grant(principal, self.limiter, counts_requests=True)

    async def count_request(self, grant: Grant) -> Verdict:
        """Count a request that did not reach execution in the request windows."""
        if grant.verdict is None:
            grant.verdict = await self.limiter.hit(
                grant.principal.caller, request_limits(grant.principal.plan)
            )
        return grant.verdict

    async def charge_cost(self, context: Any, cost: int) -> None:
        """Count the request (HTTP) and spend ``cost`` points of the caller's hourly budget in
        one round trip, before execution; raise a coded 429 error when a window is full.
        The cost extension calls it once the document is parsed, validated and measured."""
        if not isinstance(context, Context):
            return
        grant = context.extras.get(ACCESS_KEY)
        if not isinstance(grant, Grant):
            return
        refusal = await self.spend(grant, cost)
        if refusal is not None:
            extra = {"cost": cost} if refusal.window.scope is Scope.COST else {}
            self._refuse(context, refusal, **extra)

    async def spend(self, grant: Grant, cost: int) -> RateLimited | None:
        """Count the request in its windows (unless already counted) and spend ``cost``
        points of the hourly budget; the refusal when a window is full, else None. A refused
        request gets its points back."""
        plan = grant.principal.plan
        windows = [(scope, limit, 1) for scope, limit in request_limits(plan)]
        counting = grant.counts_requests and grant.verdict is None
        verdict = await self.limiter.count(
            grant.principal.caller,
            [*(windows if counting else []), (Scope.COST, plan.cost_per_hour, cost)],
        )
        if not verdict.windows:  # counters unreachable: served uncounted
            return None
        budget = verdict.windows[-1]
        grant.cost = CostReport(cost=cost, budget=usage_window(budget))
        if counting:
            grant.verdict = Verdict(verdict.windows[:-1], verdict.now)
            if not grant.verdict.allowed:
                # Refused before running: give the points back.
                await self.limiter.count(
                    grant.principal.caller, [(Scope.COST, budget.limit, -cost)]
                )
                return RateLimited(grant.verdict)
        if budget.exceeded:
            return RateLimited(Verdict((budget,), verdict.now))
        return None

    @staticmethod
    def _refuse(context: Context, refusal: RateLimited, **extra: int) -> None:
        response = context.response
        if response is not None and hasattr(response, "status_code"):  # HTTP, not a socket
            response.status_code = refusal.status
            response.headers["Retry-After"] = str(refusal.retry_after)
            for name, value in rate_limit_headers(refusal.window, refusal.verdict.now):
                response.headers[name.decode()] = value.decode()
        raise GraphQLError(refusal.message, extensions={**refusal.extensions, **extra})

    async def admit_socket(self, key: str | None, client: str) -> Grant:
        """Authenticate a WebSocket at ``connection_init`` and take one of its slots."""
        try:
            principal = await self.authenticator.authenticate(key, client)
        except AccessDenied as denied:
            raise SocketRefused(denied.close_code, denied.message) from None
        slot = await self.socket_slots.take(principal.caller, principal.plan.ws_connections)
        if slot is None:
            raise SocketRefused(
                4008, f"Too many WebSockets for this key (at most {principal.plan.ws_connections})."
            )
        return Grant(principal, self.limiter, socket_slot=slot)

    async def release_socket(self, grant: Grant) -> None:
        if grant.socket_slot is not None:
            await self.socket_slots.give_back(grant.principal.caller, grant.socket_slot)
            grant.socket_slot = None

    async def count_socket_message(self, grant: Grant) -> RateLimited | None:
        """Count one WebSocket operation against the plan's per-minute message limit."""
        principal = grant.principal
        verdict = await self.limiter.hit(
            principal.caller + ":ws", [(Scope.MINUTE, principal.plan.ws_messages_per_minute)]
        )
        return None if verdict.allowed else RateLimited(verdict)

    def extensions(self) -> list[Callable[[], SchemaExtension]]:
        """Schema extensions: persisted queries, then the token limit (at parse), then depth,
        aliases and cost (one walk of the document, before execution). strawberry's
        QueryDepthLimiter and MaxAliasesLimiter re-validate every request (about 1 and 2.5 ms
        here); one memoized walk does all three in microseconds."""
        settings = self.settings
        store = self.persisted_queries
        return [
            SizeLimitCodes,
            lambda: AutomaticPersistedQueries(store=store),
            lambda: MaxTokensLimiter(max_token_count=settings.max_query_tokens),
            lambda: QuerySizeLimiter(
                max_cost=settings.max_query_cost,
                max_depth=settings.max_query_depth,
                max_aliases=settings.max_query_aliases,
                charge=self.charge_cost,
            ),
        ]

    def around(self, lifespan: Lifespan) -> Lifespan:
        """``lifespan``, then this object's shutdown (Redis connections, last-use writes)."""

        @asynccontextmanager
        async def wrapped(app: Any) -> AsyncIterator[None]:
            try:
                async with lifespan(app):
                    yield
            finally:
                await self.close()

        return wrapped

    async def close(self) -> None:
        await self.authenticator.drain()
        await self.socket_slots.close()
        await self.limiter.close()


__all__ = ["AccessControl", "Grant", "RateLimited", "SocketRefused"]
