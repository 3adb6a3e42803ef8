"""A trader's derived labels (WHALE, SMART_MONEY), as the scoring job last assigned them."""

from __future__ import annotations

from db.query import fetch_rows
from loaders.base import PoolLoader, many_per_key


class LabelsByTraderLoader(PoolLoader[int, list[str]]):
    async def batch_load_fn(self, keys: list[int]) -> list[list[str]]:
        rows = await fetch_rows(
            self.pool,
            "SELECT trader_id, label FROM trader_label WHERE trader_id = ANY(%s) "
            "ORDER BY trader_id, label",
            (keys,),
        )
        grouped = many_per_key(keys, rows, lambda row: row[0])
        return [[label for _, label in labels] for labels in grouped]
