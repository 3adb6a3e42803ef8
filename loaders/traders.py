"""Traders by id, by address and by public id."""

from __future__ import annotations

from psycopg import sql

from db.query import fetch_rows
from db.rows import TraderRow, select_list
from loaders.base import PoolLoader, one_per_key

_BY_ID = sql.SQL("SELECT {} FROM trader WHERE id = ANY(%s)").format(select_list(TraderRow))
_BY_PUBLIC_ID = sql.SQL("SELECT {} FROM trader WHERE public_id = ANY(%s)").format(
    select_list(TraderRow)
)
_BY_ADDRESS = sql.SQL(
    "SELECT DISTINCT ON (address) {} FROM trader WHERE address = ANY(%s) ORDER BY address, id"
).format(select_list(TraderRow))


class TraderByIdLoader(PoolLoader[int, TraderRow | None]):
    async def batch_load_fn(self, keys: list[int]) -> list[TraderRow | None]:
        rows = await fetch_rows(self.pool, _BY_ID, (keys,))
        return one_per_key(keys, map(TraderRow.from_row, rows), lambda t: t.id)


class TraderByAddressLoader(PoolLoader[str, TraderRow | None]):
    """Keys are lower-case addresses; when venues share an address, the oldest trader wins."""

    async def batch_load_fn(self, keys: list[str]) -> list[TraderRow | None]:
        rows = await fetch_rows(self.pool, _BY_ADDRESS, (keys,))
        return one_per_key(keys, map(TraderRow.from_row, rows), lambda t: t.address)


class TraderByPublicIdLoader(PoolLoader[str, TraderRow | None]):
    """Keys are public ids with their leading ``#``."""

    async def batch_load_fn(self, keys: list[str]) -> list[TraderRow | None]:
        rows = await fetch_rows(self.pool, _BY_PUBLIC_ID, (keys,))
        return one_per_key(keys, map(TraderRow.from_row, rows), lambda t: t.public_id)
