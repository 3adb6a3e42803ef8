"""Access control over HTTP: every refusal with its exact status, code and headers."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from graphql import get_introspection_query

from gateway.keys import KEY_PREFIX, list_keys, revoke_key
from gateway.plans import PlanLimits
from tests.gateway.access_support import (
    ROOMY,
    bearer,
    client_for,
    error_of,
    new_key,
    settings_for,
)

PING = "{ viewer { plan } }"
VIEWER = """
{ viewer { account plan anonymous accessExpiresAt usage { scope limit used remaining resetAt } } }
"""
RATE_LIMIT = """
{ leaderboard(timeframe: DAY, first: 2) { nodes { rank } }
  rateLimit { cost limit used remaining resetAt } }
"""
WEEK_BOARD = "{ leaderboard(timeframe: WEEK, first: 5) { nodes { rank } } }"
DAY_BOARD = """
query DayBoard($first: Int!, $after: String) {
  leaderboard(timeframe: DAY, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } nodes { rank }
  }
}
"""


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "An API key is required"),
        ({"authorization": "Bearer"}, "malformed"),
        ({"authorization": "Basic dXNlcjpwYXNz"}, "malformed"),
        ({"authorization": "Bearer pgk_live_short"}, "malformed"),
        ({"x-api-key": "not-a-key"}, "malformed"),
        ({"authorization": "Bearer " + KEY_PREFIX + "A" * 43}, "unknown or revoked"),
    ],
)
async def test_missing_malformed_or_unknown_key_is_401(
    seeded_url: str, headers: dict[str, str], message: str
) -> None:
    # given a gateway without anonymous access
    async with client_for(settings_for(seeded_url)) as client:
        # when a request comes without a usable key
        response = await client.post("/graphql", json={"query": PING}, headers=headers)
    # then it is refused with 401 UNAUTHENTICATED and a Bearer challenge
    assert response.status_code == 401
    error = error_of(response)
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert message in error["message"]
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "data" not in response.json()


async def test_revoked_key_is_401(seeded_url: str) -> None:
    # given a key that worked, then was revoked
    key = new_key(seeded_url)
    revoke_key(seeded_url, key[:17])
    async with client_for(settings_for(seeded_url)) as client:
        response = await client.post("/graphql", json={"query": PING}, headers=bearer(key))
    assert response.status_code == 401
    assert error_of(response)["extensions"]["code"] == "UNAUTHENTICATED"


async def test_expired_access_is_402_with_a_renewal_hint(seeded_url: str) -> None:
    # given an account whose access window has ended (or never began)
    key = new_key(seeded_url, expires_in=timedelta(0))
    async with client_for(settings_for(seeded_url)) as client:
        response = await client.post("/graphql", json={"query": PING}, headers={"x-api-key": key})
    # then 402 ACCESS_EXPIRED says when and how to renew
    assert response.status_code == 402
    error = error_of(response)
    assert error["extensions"]["code"] == "ACCESS_EXPIRED"
    assert "perpgraph keys create" in error["extensions"]["renew"]
    assert error["extensions"]["accessUntil"]


async def test_valid_key_answers_with_rate_limit_headers_and_viewer(seeded_url: str) -> None:
    key = new_key(seeded_url, expires_in=timedelta(days=30))
    async with client_for(settings_for(seeded_url)) as client:
        response = await client.post("/graphql", json={"query": VIEWER}, headers=bearer(key))
    assert response.status_code == 200
    viewer = response.json()["data"]["viewer"]
    assert viewer["plan"] == "TEST"
    assert viewer["anonymous"] is False
    assert viewer["accessExpiresAt"] is not None
    usage = {window["scope"]: window for window in viewer["usage"]}
    assert set(usage) == {"SECOND", "MINUTE", "DAY", "COST"}
    assert usage["MINUTE"]["used"] == 1
    assert usage["MINUTE"]["limit"] == ROOMY.per_minute
    # every counted response carries the window nearest to running out
    assert int(response.headers["ratelimit-limit"]) > 0
    assert int(response.headers["ratelimit-remaining"]) >= 0
    assert 1 <= int(response.headers["ratelimit-reset"]) <= 86400


async def test_rate_limit_field_reports_this_query_cost(seeded_url: str) -> None:
    key = new_key(seeded_url)
    async with client_for(settings_for(seeded_url)) as client:
        first = await client.post("/graphql", json={"query": RATE_LIMIT}, headers=bearer(key))
        second = await client.post("/graphql", json={"query": RATE_LIMIT}, headers=bearer(key))
    one = first.json()["data"]["rateLimit"]
    two = second.json()["data"]["rateLimit"]
    # leaderboard 1 + 2 items; rateLimit 1
    assert one["cost"] == 4
    assert one["limit"] == ROOMY.cost_per_hour
    assert two["used"] == one["used"] + 4
    assert two["remaining"] == one["remaining"] - 4


async def test_over_budget_cost_is_429_with_scope_cost(seeded_url: str) -> None:
    # given a plan with 10 points per hour
    key = new_key(seeded_url)
    plan = PlanLimits(**{**ROOMY.model_dump(), "cost_per_hour": 10})
    async with client_for(settings_for(seeded_url, plan=plan)) as client:
        # when two 4-point queries fit and the third does not
        statuses = []
        for _ in range(3):
            response = await client.post(
                "/graphql", json={"query": RATE_LIMIT}, headers=bearer(key)
            )
            statuses.append(response.status_code)
    # then the third is 429 RATE_LIMITED, scope cost, with Retry-After to the hour
    assert statuses == [200, 200, 429]
    error = error_of(response)
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert error["extensions"]["scope"] == "cost"
    assert error["extensions"]["limit"] == 10
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= 3600
    assert error["extensions"]["retryAfterSeconds"] == retry_after
    assert response.headers["ratelimit-remaining"] == "0"


async def test_query_over_the_maximum_cost_is_rejected_before_it_runs(seeded_url: str) -> None:
    key = new_key(seeded_url)
    query = (
        "{ leaderboard(timeframe: DAY, first: 100) { nodes { trader {"
        " trades(first: 100) { nodes { price } } } } } }"
    )
    async with client_for(settings_for(seeded_url, max_query_cost=5000)) as client:
        response = await client.post("/graphql", json={"query": query}, headers=bearer(key))
    body = response.json()
    assert body["data"] is None
    error = body["errors"][0]
    assert error["extensions"] == {"code": "QUERY_TOO_COMPLEX", "cost": 10301, "maxCost": 5000}


@pytest.mark.parametrize(
    "query",
    [
        "{ " + " ".join(f"a{i}: viewer {{ plan }}" for i in range(31)) + " }",
        "{ leaderboard { nodes { trader { positions { trader { positions { trader"
        " { positions { trader { positions { trader { publicId } } } } } } } } } } } }",
        "{ viewer { " + "plan " * 6000 + "} }",
    ],
    ids=["aliases", "depth", "tokens"],
)
async def test_too_many_aliases_too_deep_or_too_long_is_query_too_complex(
    seeded_url: str, query: str
) -> None:
    key = new_key(seeded_url)
    async with client_for(settings_for(seeded_url)) as client:
        response = await client.post("/graphql", json={"query": query}, headers=bearer(key))
    assert response.status_code in {200, 400}
    assert error_of(response)["extensions"]["code"] == "QUERY_TOO_COMPLEX"


async def test_free_plan_is_forbidden_other_windows_than_day(seeded_url: str) -> None:
    key = new_key(seeded_url, "FREE")
    async with client_for(settings_for(seeded_url)) as client:
        response = await client.post("/graphql", json={"query": WEEK_BOARD}, headers=bearer(key))
    error = error_of(response)
    assert response.status_code == 200
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert error["path"] == ["leaderboard"]
    assert "DAY" in error["message"]


async def test_free_plan_sees_the_top_50_only(seeded_url: str) -> None:
    # given a FREE key and a DAY board longer than 50
    key = new_key(seeded_url, "FREE")
    pro = new_key(seeded_url, "PRO")
    async with client_for(settings_for(seeded_url)) as client:
        full = await client.post(
            "/graphql", json={"query": DAY_BOARD, "variables": {"first": 100}}, headers=bearer(pro)
        )
        free = await client.post(
            "/graphql", json={"query": DAY_BOARD, "variables": {"first": 100}}, headers=bearer(key)
        )
        cursor = free.json()["data"]["leaderboard"]["pageInfo"]["endCursor"]
        beyond = await client.post(
            "/graphql",
            json={"query": DAY_BOARD, "variables": {"first": 10, "after": cursor}},
            headers=bearer(key),
        )
    assert full.json()["data"]["leaderboard"]["totalCount"] > 50
    board = free.json()["data"]["leaderboard"]
    # then ranks stop at 50, the page says there is no more, and paging on shows nothing
    assert [node["rank"] for node in board["nodes"]] == list(range(1, 51))
    assert board["pageInfo"]["hasNextPage"] is False
    assert board["totalCount"] == 50
    assert beyond.json()["data"]["leaderboard"]["nodes"] == []


async def test_graphiql_page_needs_no_key_and_carries_the_configured_one(seeded_url: str) -> None:
    settings = settings_for(seeded_url, graphiql_api_key="pgk_live_" + "k" * 43)
    async with client_for(settings) as client:
        page = await client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "Bearer pgk_live_kkkk" in page.text


async def test_anonymous_access_when_allowed_uses_the_anonymous_plan(seeded_url: str) -> None:
    settings = settings_for(seeded_url, allow_anonymous=True, anonymous_plan="FREE")
    async with client_for(settings) as client:
        response = await client.post("/graphql", json={"query": VIEWER})
    viewer = response.json()["data"]["viewer"]
    assert viewer["anonymous"] is True
    assert viewer["plan"] == "FREE"
    assert viewer["account"] is None


async def test_persisted_query_by_hash(seeded_url: str) -> None:
    key = new_key(seeded_url)
    digest = hashlib.sha256(PING.encode()).hexdigest()
    persisted = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    async with client_for(settings_for(seeded_url)) as client:
        # when the hash comes alone first, then with its query, then alone again
        unknown = await client.post("/graphql", json={"extensions": persisted}, headers=bearer(key))
        registered = await client.post(
            "/graphql", json={"query": PING, "extensions": persisted}, headers=bearer(key)
        )
        by_hash = await client.post("/graphql", json={"extensions": persisted}, headers=bearer(key))
        wrong = await client.post(
            "/graphql",
            json={"query": "{ viewer { account } }", "extensions": persisted},
            headers=bearer(key),
        )
    assert error_of(unknown)["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert registered.json()["data"] == {"viewer": {"plan": "TEST"}}
    assert by_hash.json()["data"] == {"viewer": {"plan": "TEST"}}
    assert error_of(wrong)["extensions"]["code"] == "PERSISTED_QUERY_HASH_MISMATCH"


async def test_persisted_query_by_hash_over_get(seeded_url: str) -> None:
    # given a query the gateway has seen with its hash
    key = new_key(seeded_url)
    digest = hashlib.sha256(PING.encode()).hexdigest()
    extensions = json.dumps({"persistedQuery": {"version": 1, "sha256Hash": digest}})
    async with client_for(settings_for(seeded_url)) as client:
        await client.post(
            "/graphql",
            json={"query": PING, "extensions": json.loads(extensions)},
            headers=bearer(key),
        )
        # when a browser-like GET (Accept: */*) sends the hash alone
        got = await client.get(
            "/graphql", params={"extensions": extensions}, headers={**bearer(key), "accept": "*/*"}
        )
    # then it is answered as JSON, not with the GraphiQL page
    assert got.json()["data"] == {"viewer": {"plan": "TEST"}}


async def test_graphiql_introspection_passes_the_size_limits(seeded_url: str) -> None:
    # given the introspection query GraphiQL sends for its Docs pane (deeply nested ofType)
    key = new_key(seeded_url)
    async with client_for(settings_for(seeded_url)) as client:
        response = await client.post(
            "/graphql", json={"query": get_introspection_query()}, headers=bearer(key)
        )
    # then it is answered in full
    body = response.json()
    assert response.status_code == 200
    assert "errors" not in body, body.get("errors")
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_use_of_a_key_is_recorded(seeded_url: str) -> None:
    key = new_key(seeded_url)
    async with client_for(settings_for(seeded_url)) as client:
        await client.post("/graphql", json={"query": PING}, headers=bearer(key))
    # the write happens off the request's path; the app's shutdown waits for it
    listed = {item.prefix: item for item in list_keys(seeded_url)}
    assert listed[key[:17]].last_used_at is not None
