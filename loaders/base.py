"""The base of every loader: an aiodataloader ``DataLoader`` that reads through a pool."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Generic, TypeVar

from aiodataloader import DataLoader
from psycopg_pool import AsyncConnectionPool

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
R = TypeVar("R")


class PoolLoader(DataLoader[K, V], Generic[K, V]):
    """A per-request loader: batches the keys asked for in one tick into one statement."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        super().__init__()
        self.pool = pool

    async def batch_load_fn(self, keys: list[K]) -> list[V]:
        raise NotImplementedError


def one_per_key(keys: Sequence[K], rows: Iterable[R], key_of: Callable[[R], K]) -> list[R | None]:
    """Results in key order: the row whose key matches, or None (a missing row is not an error)."""
    by_key = {key_of(row): row for row in rows}
    return [by_key.get(key) for key in keys]


def many_per_key(keys: Sequence[K], rows: Iterable[R], key_of: Callable[[R], K]) -> list[list[R]]:
    """Results in key order: every row whose key matches, in the order the rows came."""
    grouped: defaultdict[K, list[R]] = defaultdict(list)
    for row in rows:
        grouped[key_of(row)].append(row)
    return [grouped.get(key, []) for key in keys]
