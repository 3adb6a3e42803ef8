"""Hyperliquid's ``/info`` endpoint over HTTP, within the venue's weight limits.

The venue allows 1,200 weight per minute per IP (research/market.md §2.3): ``clearinghouseState``
and ``allMids`` weigh 2, ``metaAndAssetCtxs`` 20, and ``userFillsByTime`` and ``userFunding`` 20
plus 1 per 20 items returned. Every request first takes its weight from one shared
``aiolimiter.AsyncLimiter`` (a leaky bucket of 1,200 per 60 s); the per-item part is taken when
the response shows how many items it held. Transport errors, 429 and 5xx answers are retried
with exponential backoff and jitter (tenacity); other answers fail at once.

The transport is injectable (an ``httpx.AsyncClient`` made by the caller), so tests run against
a local fake server or ``httpx.MockTransport``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime

import httpx
from aiolimiter import AsyncLimiter
from tenacity import (
    AsyncRetrying,
    before_sleep_log,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from ingest.hyperliquid.errors import HyperliquidFormatError, decode_json
from ingest.hyperliquid.fills import HyperliquidFill, parse_user_fills
from ingest.hyperliquid.funding import FundingPayment, parse_user_funding
from ingest.hyperliquid.leaderboard import LeaderboardRow, parse_leaderboard
from ingest.hyperliquid.meta import AssetContext, parse_meta_and_asset_ctxs
from ingest.hyperliquid.state import AccountState, parse_clearinghouse_state

log = logging.getLogger(__name__)

MAINNET_URL = "https://api.hyperliquid.xyz"
STATS_LEADERBOARD_URL = "https://stats-data.hyperliquid.xyz/Mainnet/leaderboard"
WEIGHT_PER_MINUTE = 1_200
LIGHT_WEIGHT = 2
INFO_WEIGHT = 20
ITEMS_PER_EXTRA_WEIGHT = 20


def _is_retryable(error: BaseException) -> bool:
    if isinstance(error, httpx.TransportError):
        return True
    if isinstance(error, httpx.HTTPStatusError):
        status = error.response.status_code
        return status == httpx.codes.TOO_MANY_REQUESTS or status >= 500
    return False


class InfoClient:
    """Typed ``/info`` requests; one instance per process shares the weight budget."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str = MAINNET_URL,
        limiter: AsyncLimiter | None = None,
        attempts: int = 6,
        max_backoff_seconds: float = 10.0,
    ) -> None:
        self._http = http
        self._url = base_url.rstrip("/") + "/info"
        self.limiter = limiter or AsyncLimiter(WEIGHT_PER_MINUTE, 60)
        self._attempts = attempts
        self._max_backoff = max_backoff_seconds
        self.requests = 0
        self.retries = 0

    async def post(self, body: dict[str, object], *, weight: int) -> object:
        """One ``/info`` request, retried on transient failures; the decoded JSON answer."""
        return await self._fetch(
            lambda: self._http.post(self._url, json=body),
            weight=weight,
            what=f"{body['type']} response",
        )

    async def leaderboard(self, url: str = STATS_LEADERBOARD_URL) -> list[LeaderboardRow]:
        """The venue's stats leaderboard (every ranked account; a separate host, no weight)."""
        payload = await self._fetch(lambda: self._http.get(url), weight=0, what="leaderboard")
        return parse_leaderboard(payload)

    async def _fetch(
        self, send: Callable[[], Awaitable[httpx.Response]], *, weight: int, what: str
    ) -> object:
        async for attempt in AsyncRetrying(
            retry=retry_if_exception(_is_retryable),
            wait=wait_exponential_jitter(multiplier=0.05, max=self._max_backoff),
            stop=stop_after_attempt(self._attempts),
            before_sleep=before_sleep_log(log, logging.WARNING),
            reraise=True,
        ):
            with attempt:
                if attempt.retry_state.attempt_number > 1:
                    self.retries += 1
                if weight:
                    await self.limiter.acquire(weight)
                self.requests += 1
                response = await send()
                response.raise_for_status()
                return decode_json(response.content, what=what)
        raise AssertionError("unreachable")  # pragma: no cover

    async def meta_and_asset_ctxs(self) -> list[AssetContext]:
        payload = await self.post({"type": "metaAndAssetCtxs"}, weight=INFO_WEIGHT)
        return parse_meta_and_asset_ctxs(payload)

    async def clearinghouse_state(self, user: str) -> AccountState:
        payload = await self.post({"type": "clearinghouseState", "user": user}, weight=LIGHT_WEIGHT)
        return parse_clearinghouse_state(payload, user=user)

    async def user_fills_pages(
        self, user: str, since: datetime
    ) -> AsyncIterator[list[HyperliquidFill]]:
        """``user``'s fills from ``since`` on, one parsed page at a time, oldest first.

        Pages move forward from the last fill's time, inclusive (fills of one millisecond can
        straddle pages; the writer drops the repeats). Paging stops at a page with no fill
        newer than the previous page's last: that covers any page size the venue uses.
        """
        start_ms = int(since.timestamp() * 1000)
        last_ms: int | None = None
        while True:
            body: dict[str, object] = {
                "type": "userFillsByTime",
                "user": user,
                "startTime": start_ms,
            }
            payload = await self.post(body, weight=INFO_WEIGHT)
            await self._charge_items(payload)
            page = parse_user_fills(payload, user=user)
            newest = max((int(f.fill.timestamp.timestamp() * 1000) for f in page), default=None)
            if newest is None or (last_ms is not None and newest <= last_ms):
                return
            yield page
            last_ms = start_ms = newest

    async def user_funding(self, user: str, since: datetime) -> list[FundingPayment]:
        """``user``'s funding payments from ``since`` on, oldest first, paged like fills."""
        payments: list[FundingPayment] = []
        start_ms = int(since.timestamp() * 1000)
        last_ms: int | None = None
        while True:
            body: dict[str, object] = {"type": "userFunding", "user": user, "startTime": start_ms}
            payload = await self.post(body, weight=INFO_WEIGHT)
            await self._charge_items(payload)
            page = parse_user_funding(payload, user=user)
            newest = max((_ms(p.time) for p in page), default=None)
            if newest is None or (last_ms is not None and newest <= last_ms):
                return payments
            payments.extend(
                p for p in page if last_ms is None or p.time.timestamp() * 1000 > last_ms
            )
            last_ms = start_ms = newest

    async def _charge_items(self, payload: object) -> None:
        """The weight a list answer adds once its size is known: 1 per 20 items."""
        if isinstance(payload, list) and len(payload) >= ITEMS_PER_EXTRA_WEIGHT:
            await self.limiter.acquire(len(payload) // ITEMS_PER_EXTRA_WEIGHT)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


__all__ = ["HyperliquidFormatError", "InfoClient"]
