"""Anonymous access is off for ``serve`` and on for ``demo``, whose key GraphiQL starts with."""

from __future__ import annotations

import psycopg
import pytest

from gateway.keys import KEY_PATTERN, key_digest
from gateway.runtime import demo_access
from gateway.settings import Settings
from tests.gateway.access_support import client_for, real_redis_url

VIEWER = "{ viewer { plan anonymous } }"


async def test_serve_refuses_callers_without_a_key_by_default(seeded_url: str) -> None:
    # given the settings `serve` runs with: nothing said about anonymous access
    settings = Settings(database_url=seeded_url, redis_url=real_redis_url())
    assert settings.allow_anonymous is None
    async with client_for(settings) as client:
        response = await client.post("/graphql", json={"query": VIEWER})
    assert response.status_code == 401


async def test_demo_serves_anonymous_callers_and_prefills_graphiql_with_its_key(
    seeded_url: str,
) -> None:
    # given the settings `demo` derives (it makes and prints a key)
    settings = demo_access(
        Settings(database_url=seeded_url, redis_url=real_redis_url()), seeded_url
    )
    key = settings.graphiql_api_key
    assert key is not None
    assert KEY_PATTERN.fullmatch(key)
    with psycopg.connect(seeded_url) as connection:
        row = connection.execute(
            "SELECT a.plan FROM api_key JOIN account AS a ON a.id = account_id"
            " WHERE key_sha256 = %s",
            (key_digest(key),),
        ).fetchone()
    assert row == ("PRO",)
    async with client_for(settings) as client:
        anonymous = await client.post("/graphql", json={"query": VIEWER})
        keyed = await client.post(
            "/graphql", json={"query": VIEWER}, headers={"authorization": f"Bearer {key}"}
        )
        page = await client.get("/graphql", headers={"accept": "text/html"})
    # then callers without a key get the PRO plan, the key works, and GraphiQL carries it
    assert anonymous.json()["data"]["viewer"] == {"plan": "PRO", "anonymous": True}
    assert keyed.json()["data"]["viewer"] == {"plan": "PRO", "anonymous": False}
    assert f"Bearer {key}" in page.text


def test_plans_come_from_the_environment_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "PERPGRAPH_PLANS",
        '{"team": {"per_second": 3, "per_minute": 30, "per_day": 300, "cost_per_hour": 900,'
        ' "ws_connections": 1, "ws_messages_per_minute": 9, "leaderboard_timeframes": ["DAY"]}}',
    )
    plans = Settings().plans
    assert list(plans) == ["TEAM"]
    assert plans["TEAM"].per_minute == 30
    assert plans["TEAM"].leaderboard_timeframes == frozenset({"DAY"})
