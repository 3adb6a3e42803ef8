"""Helpers for the access-control tests: real Redis, keys in real Postgres, gateways in process
or on loopback, and a clock the test moves."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.keys import create_key
from gateway.plans import DEFAULT_PLANS, PlanLimits
from gateway.settings import Settings

#: Generous in everything; tests lower the one limit they exercise.
ROOMY = PlanLimits(
    per_second=10_000,
    per_minute=10_000,
    per_day=1_000_000,
    cost_per_hour=10_000_000,
    ws_connections=100,
    ws_messages_per_minute=10_000,
)


def real_redis_url() -> str:
    """PERPGRAPH_REDIS_URL; these tests prove behaviour across processes and need a real Redis."""
    url = os.environ.get("PERPGRAPH_REDIS_URL")
    if not url:
        pytest.fail(
            "PERPGRAPH_REDIS_URL is not set: the access-control tests need a real Redis "
            "(CI's .ci/run sets redis://127.0.0.1:6379/0; start redis-server and export it)"
        )
    return url


class Clock:
    """Epoch seconds that move only when told."""

    def __init__(self, moment: datetime) -> None:
        self.now = moment.timestamp()

    def __call__(self) -> float:
        return self.now

    def set(self, moment: datetime) -> None:
        self.now = moment.timestamp()

    def advance(self, seconds: float) -> None:
        self.now += seconds


def settings_for(database_url: str, *, plan: PlanLimits = ROOMY, **values: Any) -> Settings:
    """Settings with the default plans plus TEST (``plan``), anonymous access off."""
    return Settings.model_validate(
        {
            "database_url": database_url,
            "redis_url": real_redis_url(),
            "plans": {**DEFAULT_PLANS, "TEST": plan},
            "allow_anonymous": False,
            **values,
        }
    )


def new_key(database_url: str, plan: str = "TEST", *, expires_in: timedelta | None = None) -> str:
    key, _ = create_key(
        database_url,
        account=f"acct-{os.urandom(4).hex()}",
        plan=plan,
        expires_in=expires_in,
        now=datetime.now(UTC),
    )
    return key


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


@asynccontextmanager
async def in_process(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client wired straight to ``app`` (its lifespan run), no sockets."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield client


@asynccontextmanager
async def client_for(settings: Settings, **kwargs: Any) -> AsyncIterator[httpx.AsyncClient]:
    assert settings.database_url is not None
    async with in_process(create_app(settings, settings.database_url, **kwargs)) as client:
        yield client


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert body.get("errors"), body
    error: dict[str, Any] = body["errors"][0]
    return error
