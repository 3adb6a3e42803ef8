"""Hyperliquid: turning the venue's recorded and live messages into typed values.

One module per concept, all raising :class:`ingest.hyperliquid.errors.HyperliquidFormatError`
on malformed input and ignoring fields they do not know:

* ``fills``: ``userFills`` / ``userFillsByTime`` as venue-neutral fills;
* ``meta``: ``meta`` and ``metaAndAssetCtxs`` (per-perp parameters and live context);
* ``state``: ``clearinghouseState`` (positions and margin), current and 2023 formats;
* ``mids``: ``allMids``;
* ``funding``: ``userFunding`` payments and ``fundingHistory`` rates;
* ``leaderboard``: the public leaderboard;
* ``portfolio``: account value and PnL histories;
* ``ws``: WebSocket messages (``trades``, ``userFills``, ``allMids``, ``activeAssetCtx``).
"""
