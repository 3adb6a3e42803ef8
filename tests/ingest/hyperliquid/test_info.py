"""The ``/info`` client charges every request its weight, paged answers per item, and waits
when the minute's budget is spent. The answers are the recorded responses, served in memory."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import httpx
from aiolimiter import AsyncLimiter

from ingest.hyperliquid.info import InfoClient
from tests.ingest.hyperliquid.fake_venue import FILLS, FUNDING, META, STATE_08C14B, USER_08C14B
from tests.ingest.hyperliquid.recorded import load

SINCE = datetime(2020, 1, 1, tzinfo=UTC)


class _CountingLimiter(AsyncLimiter):
    """An unbounded budget that records every amount taken."""

    def __init__(self) -> None:
        super().__init__(10**9, 60)
        self.taken: list[float] = []

    async def acquire(self, amount: float = 1) -> None:
        self.taken.append(amount)
        await super().acquire(amount)


def _venue(page_size: int, sizes: list[int] | None = None) -> httpx.MockTransport:
    """Recorded answers; fills and funding paged ``page_size`` items at a time, from the
    request's ``startTime`` inclusive (each page's size appended to ``sizes``)."""

    def page(items: list[dict[str, Any]], start_ms: int) -> list[dict[str, Any]]:
        ordered = sorted(items, key=lambda item: item["time"])
        answer = [item for item in ordered if item["time"] >= start_ms][:page_size]
        if sizes is not None:
            sizes.append(len(answer))
        return answer

    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        kind = body["type"]
        if kind == "metaAndAssetCtxs":
            return httpx.Response(200, json=load(META))
        if kind == "clearinghouseState":
            return httpx.Response(200, json=load(STATE_08C14B))
        if kind == "userFillsByTime":
            return httpx.Response(200, json=page(load(FILLS[USER_08C14B]), body["startTime"]))
        if kind == "userFunding":
            return httpx.Response(200, json=page(load(FUNDING), body["startTime"]))
        return httpx.Response(422, json={"error": kind})

    return httpx.MockTransport(answer)


async def test_each_request_is_charged_its_weight_and_pages_per_item() -> None:
    # given a client whose budget records what it is charged, over pages of 400 items
    limiter = _CountingLimiter()
    sizes: list[int] = []
    async with httpx.AsyncClient(transport=_venue(400, sizes)) as http:
        info = InfoClient(http, base_url="http://venue.test", limiter=limiter)
        # when it reads the markets, an account, and a full fill and funding history
        await info.meta_and_asset_ctxs()
        await info.clearinghouse_state(USER_08C14B)
        async for _ in info.user_fills_pages(USER_08C14B, SINCE):
            pass
        payments = await info.user_funding(USER_08C14B, SINCE)
    # then the heavy and light requests weigh 20 and 2
    assert limiter.taken[:2] == [20, 2]
    # and every fills or funding page weighs 20, plus 1 per 20 items it held
    expected: list[float] = []
    for items in sizes:
        expected += [20] + ([items // 20] if items >= 20 else [])
    assert limiter.taken[2:] == expected
    # by hand: 962 fills in pages from each page's last time on (400, 400, 173, then a short
    # page of repeats that ends it): 4 * 20 + 20 + 20 + 8; 218 payments (a page of 218, then
    # one of the 15 payments of the last hour again): 2 * 20 + 10
    assert len(payments) == 218
    assert sizes[:3] == [400, 400, 173]
    assert sizes[4:] == [218, 15]
    assert sum(limiter.taken[2:]) == 128 + 50


async def test_a_spent_budget_makes_the_next_request_wait() -> None:
    # given a budget of 40 weight a second
    limiter = AsyncLimiter(40, 1)
    async with httpx.AsyncClient(transport=_venue(400)) as http:
        info = InfoClient(http, base_url="http://venue.test", limiter=limiter)
        # when three requests of 20 are made at once
        started = time.perf_counter()
        for _ in range(3):
            await info.meta_and_asset_ctxs()
        elapsed = time.perf_counter() - started
    # then the third waited for the budget to leak (20 of 40 a second: about half a second)
    assert info.requests == 3
    assert elapsed >= 0.4
