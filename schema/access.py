"""The caller's side of the graph: ``viewer`` and ``rateLimit``, and plan gating of fields."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.extensions import FieldExtension

from resolvers.access import ForbiddenError, UsageWindow, access_of
from resolvers.context import Context
from schema.connection import PageInfo
from schema.types.leaderboard import LeaderboardConnection

Info = strawberry.Info[Context, None]


@strawberry.enum(description="Which limit window a count belongs to.")
class LimitScope(Enum):
    SECOND = strawberry.enum_value("second", description="Requests per clock second (burst).")
    MINUTE = strawberry.enum_value("minute", description="Requests per clock minute.")
    DAY = strawberry.enum_value("day", description="Requests per UTC day.")
    COST = strawberry.enum_value("cost", description="Query cost points per clock hour.")


@strawberry.type(description="One limit window of the caller.")
class LimitWindow:
    scope: LimitScope = strawberry.field(description="The window.")
    limit: int = strawberry.field(description="Most allowed in the window.")
    used: int = strawberry.field(description="Used so far in the window.")
    remaining: int = strawberry.field(description="Left in the window (0 when over).")
    reset_at: datetime = strawberry.field(description="When the window starts afresh (UTC).")

    @classmethod
    def of(cls, window: UsageWindow) -> LimitWindow:
        return cls(
            scope=LimitScope(window.scope),
            limit=window.limit,
            used=window.used,
            remaining=window.remaining,
            reset_at=window.reset_at,
        )


@strawberry.type(description="Who is calling: account, plan, access window and usage.")
class Viewer:
    account: str | None = strawberry.field(description="Account name; null when anonymous.")
    plan: str = strawberry.field(description="The account's plan, e.g. FREE, PRO, ELITE.")
    anonymous: bool = strawberry.field(description="Whether the request carried no key.")
    access_expires_at: datetime | None = strawberry.field(
        description="When the account's API access ends (UTC); null: open-ended."
    )
    _usage: strawberry.Private[Callable[[], Awaitable[list[UsageWindow]]]]

    @strawberry.field(description="Current usage of every limit window, this request included.")
    async def usage(self) -> list[LimitWindow]:
        return [LimitWindow.of(window) for window in await self._usage()]


@strawberry.type(
    description="Query cost accounting, as GitHub's API does: points per query, budget per hour."
)
class RateLimit:
    cost: int = strawberry.field(description="Points this query cost (computed before it ran).")
    limit: int = strawberry.field(description="Points the caller may spend per clock hour.")
    used: int = strawberry.field(description="Points spent this hour, this query included.")
    remaining: int = strawberry.field(description="Points left this hour.")
    reset_at: datetime = strawberry.field(description="When the budget starts afresh (UTC).")


@strawberry.type(description="Root fields about the caller.")
class AccessQuery:
    @strawberry.field(description="The caller; null when the server runs without access control.")
    async def viewer(self, info: Info) -> Viewer | None:
        grant = access_of(info.context)
        if grant is None:
            return None
        return Viewer(
            account=grant.account,
            plan=grant.plan_name,
            anonymous=grant.anonymous,
            access_expires_at=grant.access_until,
            _usage=grant.usage,
        )

    @strawberry.field(
        description="This query's cost and the hourly points budget; null without access control."
    )
    def rate_limit(self, info: Info) -> RateLimit | None:
        grant = access_of(info.context)
        report = None if grant is None else grant.cost
        if report is None:
            return None
        return RateLimit(
            cost=report.cost,
            limit=report.budget.limit,
            used=report.budget.used,
            remaining=report.budget.remaining,
            reset_at=report.budget.reset_at,
        )


class LeaderboardPlanGate(FieldExtension):
    """FORBIDDEN for windows the plan lacks; entries below the plan's deepest rank are cut."""

    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info, **kwargs: Any
    ) -> Any:
        grant = access_of(info.context)
        if grant is None:
            return await next_(source, info, **kwargs)
        timeframes = grant.leaderboard_timeframes
        timeframe = kwargs.get("timeframe")
        name = getattr(timeframe, "name", str(timeframe))
        if timeframes is not None and name not in timeframes:
            raise ForbiddenError(
                f"The {grant.plan_name} plan reads the leaderboard over "
                f"{', '.join(sorted(timeframes))} only; upgrade for {name}.",
                plan=grant.plan_name,
            )
        connection: LeaderboardConnection = await next_(source, info, **kwargs)
        cap = grant.leaderboard_max_rank
        if cap is not None:
            _cut_below(connection, cap)
        return connection


def _cut_below(connection: LeaderboardConnection, cap: int) -> None:
    kept = [edge for edge in connection.edges if edge.node.rank <= cap]
    ends_at_cap = bool(kept) and kept[-1].node.rank >= cap
    if len(kept) == len(connection.edges) and not ends_at_cap:
        return
    count = connection._count
    connection.edges = kept
    connection.nodes = [edge.node for edge in kept]
    connection.page_info = PageInfo(
        has_next_page=False,
        has_previous_page=connection.page_info.has_previous_page,
        _cursors=[edge.cursor_value() for edge in kept],
    )

    async def capped_count() -> int:
        return min(cap, await count())

    connection._count = capped_count
