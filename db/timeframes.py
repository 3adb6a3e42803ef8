"""The rolling windows statistics and leaderboards are computed over (DESIGN.md decision 11)."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum


class Timeframe(StrEnum):
    """A rolling window ending now: 24 hours, 7, 30 or 365 days, or all time."""

    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"
    YEAR = "YEAR"
    ALL_TIME = "ALL_TIME"

    @property
    def length(self) -> timedelta | None:
        """How far back the window reaches; None for all time."""
        return _LENGTHS[self]


#: A trader is in a board's ACTIVE pool with a fill this long before the board's end (the
#: scoring job tiers on it; the leaderboard's ``tier: ACTIVE`` filter selects on it).
ACTIVE_RECENCY = timedelta(days=7)

_LENGTHS: dict[Timeframe, timedelta | None] = {
    Timeframe.DAY: timedelta(days=1),
    Timeframe.WEEK: timedelta(days=7),
    Timeframe.MONTH: timedelta(days=30),
    Timeframe.YEAR: timedelta(days=365),
    Timeframe.ALL_TIME: None,
}
