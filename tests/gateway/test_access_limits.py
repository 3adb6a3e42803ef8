"""Request limits against real Redis: exact under concurrency across app instances, and windows
that reset at the clock's boundaries (second, minute, UTC midnight) under a controlled clock."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from datetime import UTC, datetime

import httpx
import pytest

from gateway.plans import PlanLimits
from tests.gateway.access_support import (
    ROOMY,
    Clock,
    bearer,
    client_for,
    error_of,
    new_key,
    settings_for,
)

PING = "{ viewer { plan } }"
INSTANCES = 3
LIMIT = 25
REQUESTS = 60


def plan_with(**limits: int) -> PlanLimits:
    return PlanLimits(**{**ROOMY.model_dump(), **limits})


async def _ping(client: httpx.AsyncClient, key: str) -> httpx.Response:
    return await client.post("/graphql", json={"query": PING}, headers=bearer(key))


async def test_concurrent_requests_through_several_instances_admit_exactly_the_limit(
    seeded_url: str,
) -> None:
    # given three gateway instances sharing one Redis, a key allowed 25 requests a minute, and
    # a clock 17.25 s into a minute
    key = new_key(seeded_url)
    clock = Clock(datetime(2026, 11, 21, 10, 0, 17, 250000, tzinfo=UTC))
    settings = settings_for(seeded_url, plan=plan_with(per_minute=LIMIT))
    async with AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(client_for(settings, clock=clock))
            for _ in range(INSTANCES)
        ]
        # when 60 requests race through them at once
        responses = await asyncio.gather(
            *(_ping(clients[i % INSTANCES], key) for i in range(REQUESTS))
        )
    # then exactly 25 are served and every other one is 429 until the minute ends (43 s)
    statuses = [response.status_code for response in responses]
    assert statuses.count(200) == LIMIT
    assert statuses.count(429) == REQUESTS - LIMIT
    for response in responses:
        if response.status_code == 429:
            assert response.headers["retry-after"] == "43"
            assert response.headers["ratelimit-limit"] == str(LIMIT)
            assert response.headers["ratelimit-remaining"] == "0"
            assert response.headers["ratelimit-reset"] == "43"
            error = error_of(response)
            assert error["extensions"] == {
                "code": "RATE_LIMITED",
                "scope": "minute",
                "limit": LIMIT,
                "retryAfterSeconds": 43,
            }
    served = [r for r in responses if r.status_code == 200]
    assert sorted(int(r.headers["ratelimit-remaining"]) for r in served) == list(range(LIMIT))


async def test_second_and_minute_windows_reset_at_their_boundaries(seeded_url: str) -> None:
    key = new_key(seeded_url)
    clock = Clock(datetime(2026, 11, 21, 10, 0, 58, 600000, tzinfo=UTC))
    settings = settings_for(seeded_url, plan=plan_with(per_second=2, per_minute=4))
    async with client_for(settings, clock=clock) as client:
        # given a burst of 2 per second: the third in the same second waits for the next one
        burst = [(await _ping(client, key)).status_code for _ in range(2)]
        over = await _ping(client, key)
        assert burst == [200, 200]
        assert over.status_code == 429
        assert error_of(over)["extensions"]["scope"] == "second"
        assert over.headers["retry-after"] == "1"
        # when the next second starts, one more fits the minute (refused requests count too:
        # 2 + 1 + 1 = 4), and the one after waits for the top of the minute
        clock.set(datetime(2026, 11, 21, 10, 0, 59, 100000, tzinfo=UTC))
        assert (await _ping(client, key)).status_code == 200
        full = await _ping(client, key)
        assert full.status_code == 429
        assert error_of(full)["extensions"]["scope"] == "minute"
        assert full.headers["retry-after"] == "1"
        # then at the top of the minute both windows are fresh
        clock.set(datetime(2026, 11, 21, 10, 1, 0, 10000, tzinfo=UTC))
        assert (await _ping(client, key)).status_code == 200


async def test_day_limit_resets_at_utc_midnight(seeded_url: str) -> None:
    # given 3 requests a day, used up at 23:59:30 UTC
    key = new_key(seeded_url)
    clock = Clock(datetime(2026, 11, 21, 23, 59, 30, tzinfo=UTC))
    async with client_for(settings_for(seeded_url, plan=plan_with(per_day=3)), clock=clock) as c:
        assert [(await _ping(c, key)).status_code for _ in range(3)] == [200, 200, 200]
        refused = await _ping(c, key)
        # then the refusal says the day ends in 30 s
        assert refused.status_code == 429
        assert error_of(refused)["extensions"]["scope"] == "day"
        assert refused.headers["retry-after"] == "30"
        # and 25 s later it is still refused, now for 5 s
        clock.set(datetime(2026, 11, 21, 23, 59, 55, tzinfo=UTC))
        later = await _ping(c, key)
        assert later.status_code == 429
        assert later.headers["retry-after"] == "5"
        # when the UTC day turns
        clock.set(datetime(2026, 11, 22, 0, 0, 0, 500000, tzinfo=UTC))
        # then the key is served again
        assert (await _ping(c, key)).status_code == 200


async def test_keys_do_not_share_counters(seeded_url: str) -> None:
    first, second = new_key(seeded_url), new_key(seeded_url)
    clock = Clock(datetime(2026, 11, 21, 12, 0, 0, tzinfo=UTC))
    async with client_for(settings_for(seeded_url, plan=plan_with(per_minute=1)), clock=clock) as c:
        assert (await _ping(c, first)).status_code == 200
        assert (await _ping(c, first)).status_code == 429
        assert (await _ping(c, second)).status_code == 200


async def test_unreachable_counters_serve_uncounted(
    seeded_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # given a gateway whose Redis does not answer
    key = new_key(seeded_url)
    settings = settings_for(seeded_url, redis_url="redis://127.0.0.1:1/0")
    async with client_for(settings) as client:
        # when a request comes
        response = await _ping(client, key)
    # then it is served (fail open), without limit headers, and the log says why
    assert response.status_code == 200
    assert response.json()["data"] == {"viewer": {"plan": "TEST"}}
    assert "ratelimit-limit" not in response.headers
    assert "counters unreachable" in caplog.text
