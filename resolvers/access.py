"""What the graph may know about the caller: their plan's grants, usage and query cost.

The gateway authenticates and counts; it puts an :class:`AccessGrant` in the request context
(``context.extras["access"]``) and resolvers read it through :func:`access_of`. Without one
(in-process tests, scripts) nothing is gated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final, Protocol

from resolvers.context import Context
from resolvers.errors import PerpgraphError

ACCESS_KEY: Final = "access"


class ForbiddenError(PerpgraphError):
    """FORBIDDEN: the caller's plan does not include this field or argument."""

    code = "FORBIDDEN"


@dataclass(frozen=True)
class UsageWindow:
    """One limit window of the caller: its limit, what is used, and when it resets."""

    scope: str
    limit: int
    used: int
    reset_at: datetime

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)


@dataclass(frozen=True)
class CostReport:
    """This query's cost and the caller's hourly points budget after paying it."""

    cost: int
    budget: UsageWindow


class AccessGrant(Protocol):
    @property
    def account(self) -> str | None: ...
    @property
    def plan_name(self) -> str: ...
    @property
    def access_until(self) -> datetime | None: ...
    @property
    def anonymous(self) -> bool: ...
    @property
    def leaderboard_timeframes(self) -> frozenset[str] | None: ...
    @property
    def leaderboard_max_rank(self) -> int | None: ...
    @property
    def cost(self) -> CostReport | None: ...
    async def usage(self) -> list[UsageWindow]: ...


def access_of(context: Context) -> AccessGrant | None:
    grant: AccessGrant | None = context.extras.get(ACCESS_KEY)
    return grant
