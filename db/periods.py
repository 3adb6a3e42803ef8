"""The calendar of fixed-period leaderboards (PerpsTracker's snapshots): daily, ISO-weekly and
monthly boards, computed once when the period has ended and frozen from then on
(``ingest/scoring.py: snapshot_periods`` computes them).

A period's board is an ordinary board (``ingest/scoring.py``) over the period's fills, stored
under a key such as ``DAILY:2026-10-31``, ``WEEKLY:2026-W44`` or ``MONTHLY:2026-10``, so it is
read, filtered and paged exactly like a rolling window's. Figures about open positions are as of
the moment the snapshot was taken.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

#: How many of the most recent ended periods of each type one call backfills at most.
BACKFILL_LIMIT = {"DAILY": 35, "WEEKLY": 12, "MONTHLY": 12}


class PeriodType(StrEnum):
    DAILY = "DAILY"
    WEEKLY = "WEEKLY"
    MONTHLY = "MONTHLY"


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """One fixed period: [start, end) in UTC."""

    start: datetime
    end: datetime
    type: PeriodType

    @property
    def name(self) -> str:
        """2026-10-31, 2026-W44 or 2026-10."""
        day = self.start.date()
        if self.type is PeriodType.DAILY:
            return day.isoformat()
        if self.type is PeriodType.WEEKLY:
            year, week, _ = day.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{day.year}-{day.month:02d}"

    @property
    def key(self) -> str:
        """The board key: ``WEEKLY:2026-W44``."""
        return f"{self.type.value}:{self.name}"

    @property
    def days(self) -> int:
        return (self.end - self.start).days


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def period_containing(moment: datetime, period_type: PeriodType) -> Period:
    """The period of ``period_type`` that ``moment`` falls in."""
    day = moment.astimezone(UTC).date()
    if period_type is PeriodType.DAILY:
        start = day
        end = day + timedelta(days=1)
    elif period_type is PeriodType.WEEKLY:
        start = day - timedelta(days=day.weekday())
        end = start + timedelta(days=7)
    else:
        start = day.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
    return Period(_midnight(start), _midnight(end), period_type)


def parse_period(period_type: PeriodType, name: str) -> Period:
    """The period named ``name`` (2026-10-31, 2026-W44, 2026-10); ValueError when malformed."""
    if period_type is PeriodType.DAILY:
        start = date.fromisoformat(name)
    elif period_type is PeriodType.WEEKLY:
        year, _, week = name.partition("-W")
        start = date.fromisocalendar(int(year), int(week), 1)
    else:
        year, _, month = name.partition("-")
        if len(month) != 2:
            raise ValueError(f"not a month: {name!r}")
        start = date(int(year), int(month), 1)
    period = period_containing(_midnight(start), period_type)
    if period.name != name:
        raise ValueError(f"not a {period_type.value.lower()} period: {name!r}")
    return period


def ended_periods(
    first_trade: datetime, as_of: datetime, period_type: PeriodType, limit: int
) -> list[Period]:
    """The ``limit`` most recent periods that ended by ``as_of`` and hold ``first_trade`` or
    later, newest first."""
    periods: list[Period] = []
    current = period_containing(as_of, period_type)
    while len(periods) < limit:
        previous = period_containing(current.start - timedelta(microseconds=1), period_type)
        if previous.end <= first_trade:
            break
        periods.append(previous)
        current = previous
    return periods
