"""Which leaderboards each scheduled recompute computes.

The live writers recompute the boards every ``PERPGRAPH_LEADERBOARD_REFRESH_SECONDS``. YEAR and
ALL_TIME read almost every fill and move little in a minute, so an operator may recompute them
less often (``PERPGRAPH_LEADERBOARD_LONG_REFRESH_SECONDS``): the recomputes in between compute
DAY, WEEK and MONTH only, and YEAR, ALL_TIME and the labels derived from ALL_TIME keep their
last figures (each board's ``leaderboardUpdatedAt`` says how fresh it is). Unset, every
recompute computes every board.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from psycopg import AsyncConnection

from db.timeframes import Timeframe
from ingest.scoring import BoardSize, recompute_leaderboards

#: The windows a long interval applies to.
LONG_WINDOWS = (Timeframe.YEAR, Timeframe.ALL_TIME)
SHORT_WINDOWS = tuple(window for window in Timeframe if window not in LONG_WINDOWS)


@dataclass(slots=True)
class BoardSchedule:
    """Every board at the first recompute and whenever the long windows' last recompute began
    ``long_every`` seconds ago or more; the short windows alone otherwise. Only a recompute
    that finished counts (:meth:`done`), so a failed one is tried again in full."""

    long_every: float | None = None
    _long_started: float | None = field(default=None, init=False)

    def due(self, now: float) -> tuple[Timeframe, ...]:
        """The boards a recompute beginning at ``now`` (monotonic seconds) computes."""
        if (
            self.long_every is None
            or self._long_started is None
            or now - self._long_started >= self.long_every
        ):
            return tuple(Timeframe)
        return SHORT_WINDOWS

    def done(self, timeframes: tuple[Timeframe, ...], started: float) -> None:
        """Record a recompute of ``timeframes`` that began at ``started`` and finished."""
        if all(window in timeframes for window in LONG_WINDOWS):
            self._long_started = started


async def recompute_due(
    connection: AsyncConnection, schedule: BoardSchedule, *, partitions: int
) -> list[BoardSize]:
    """Recompute the boards ``schedule`` says are due now."""
    started = time.monotonic()
    timeframes = schedule.due(started)
    boards = await recompute_leaderboards(connection, timeframes=timeframes, partitions=partitions)
    schedule.done(timeframes, started)
    return boards
