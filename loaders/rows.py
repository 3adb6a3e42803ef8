"""The row types loaders hand to the layers above (defined next to the tables in ``db``)."""

from db.rows import MarketRow, PositionRow, TradeRow, TraderRow, TraderStatsRow

__all__ = ["MarketRow", "PositionRow", "TradeRow", "TraderRow", "TraderStatsRow"]
