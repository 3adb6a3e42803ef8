"""Join methods pinned for one statement, where the planner cannot size its inputs.

A batch's keys (arrays, a temporary table) and a recompute's fresh stage tables carry no
statistics, and with guessed sizes the planner has picked plans whose cost grows with the whole
table or with the square of a board. The callers say which plan shape they need around the one
statement concerned; the reason is written where each is used.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from psycopg import AsyncConnection, AsyncCursor

#: Each row of the small side probes the big side's index: cost grows with the rows given.
KEY_PROBES_ONLY = {"enable_hashjoin": "off", "enable_mergejoin": "off"}
#: Both sides hashed: cost grows with the rows, never with their product.
HASH_JOINS_ONLY = {"enable_mergejoin": "off", "enable_nestloop": "off"}


@asynccontextmanager
async def planner_settings(
    executor: AsyncConnection[Any] | AsyncCursor[Any], settings: Mapping[str, str]
) -> AsyncIterator[None]:
    """``SET LOCAL`` ``settings`` (names and values are the caller's constants) for the block,
    then back to their defaults. Inside a transaction; one round trip each way. After an error
    nothing is reset: the transaction is failing, and its ``SET LOCAL`` ends with it."""
    await executor.execute("; ".join(f"SET LOCAL {n} = {v}" for n, v in settings.items()))
    yield
    await executor.execute("; ".join(f"SET LOCAL {n} TO DEFAULT" for n in settings))
