"""Who is calling: API keys from HTTP headers or a WebSocket's ``connection_init`` payload.

    AccessDenied            a request-level refusal: HTTP status, GraphQL code, WebSocket close code
    ├── 401 UNAUTHENTICATED  missing, malformed, unknown or revoked key        (WebSocket 4001)
    └── 402 ACCESS_EXPIRED   the account's access window is over or never began (WebSocket 4002)

Keys are checked for shape before any lookup, so garbage never reaches the database; lookups are
cached per process for ``key_cache_seconds`` (the lag of a revocation).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from psycopg_pool import AsyncConnectionPool

from gateway.keys import KeyRecord, find_key, is_well_formed, key_digest, touch_key
from gateway.plans import PlanLimits

RENEW_HINT: Final = "Renew the account's access (perpgraph keys create --account NAME --expires-in)"
_TOUCH_EVERY_SECONDS: Final = 60.0
_CACHE_MAX: Final = 10_000


class AccessDenied(Exception):  # noqa: N818  (a refusal, not a failure)
    """A request refused before any of it runs."""

    status = 401
    code = "UNAUTHENTICATED"
    close_code = 4001

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions: dict[str, Any] = {"code": self.code, **extra}


class Unauthenticated(AccessDenied):
    pass


class AccessExpired(AccessDenied):
    status = 402
    code = "ACCESS_EXPIRED"
    close_code = 4002


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: whose counters it uses and what its plan allows."""

    caller: str
    account: str | None
    plan_name: str
    plan: PlanLimits
    access_until: datetime | None
    key_prefix: str | None

    @property
    def anonymous(self) -> bool:
        return self.key_prefix is None


def key_from_headers(headers: Mapping[str, str]) -> str | None:
    """The key in ``Authorization: Bearer <key>`` or ``X-API-Key`` (None when neither is sent).

    A header that is present but not of that form yields the empty string: a malformed key.
    """
    authorization = headers.get("authorization")
    if authorization is not None:
        scheme, _, token = authorization.strip().partition(" ")
        return token.strip() if scheme.lower() == "bearer" else ""
    api_key = headers.get("x-api-key")
    return None if api_key is None else api_key.strip()


def key_from_connection_params(params: object) -> str | None:
    """The key in a ``connection_init`` payload: ``Authorization``, ``apiKey``, ``X-API-Key``
    (any case; GraphiQL sends its Headers tab here), or nested under ``headers``."""
    if not isinstance(params, dict):
        return None
    lowered = {str(k).lower(): v for k, v in params.items()}
    headers = lowered.get("headers")
    if isinstance(headers, dict):
        lowered = {**{str(k).lower(): v for k, v in headers.items()}, **lowered}
    if isinstance(lowered.get("apikey"), str):
        return str(lowered["apikey"]).strip()
    as_headers = {k: v for k, v in lowered.items() if isinstance(v, str)}
    if "authorization" in lowered or "x-api-key" in lowered:
        return key_from_headers(as_headers) or ""
    return None


class Authenticator:
    """Turns a presented key (or none) into a :class:`Principal`, or refuses it."""

    def __init__(
        self,
        pool: Callable[[], AsyncConnectionPool],
        plans: Mapping[str, PlanLimits],
        *,
        allow_anonymous: bool | None,
        anonymous_plan: str | None,
        cache_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._pool = pool
        self._plans = plans
        self._allow_anonymous = bool(allow_anonymous)
        self._anonymous_plan = (anonymous_plan or "FREE").upper()
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._cache: dict[str, tuple[float, KeyRecord | None]] = {}
        self._touched: dict[str, float] = {}
        self._background: set[asyncio.Task[None]] = set()

    async def authenticate(self, key: str | None, client: str) -> Principal:
        if key is None:
            if self._allow_anonymous:
                limits = self._plans.get(self._anonymous_plan) or next(iter(self._plans.values()))
                return Principal(f"anon:{client}", None, self._anonymous_plan, limits, None, None)
            raise Unauthenticated(
                "An API key is required: send `Authorization: Bearer <key>` (or `X-API-Key`)."
            )
        if not is_well_formed(key):
            raise Unauthenticated("The API key is malformed.")
        record = await self._lookup(key)
        if record is None or record.revoked:
            raise Unauthenticated("The API key is unknown or revoked.")
        plan = self._plans.get(record.plan.upper())
        if plan is None:
            raise AccessExpired(f"The account's plan {record.plan!r} is not offered.")
        now = self._clock()
        if record.access_until is not None and record.access_until.timestamp() <= now:
            raise AccessExpired(
                f"API access for this account ended at {record.access_until.isoformat()}. "
                f"{RENEW_HINT}.",
                accessUntil=record.access_until.isoformat(),
                renew=RENEW_HINT,
            )
        self._touch(record.prefix, now)
        return Principal(
            f"key:{record.prefix}",
            record.account,
            record.plan.upper(),
            plan,
            record.access_until,
            record.prefix,
        )

    async def _lookup(self, key: str) -> KeyRecord | None:
        now = self._clock()
        digest = key_digest(key)  # the cache holds no key in clear
        cached = self._cache.get(digest)
        if cached is not None and cached[0] > now:
            return cached[1]
        record = await find_key(self._pool(), key)
        if self._cache_seconds > 0:
            if len(self._cache) >= _CACHE_MAX:
                self._cache.clear()
            self._cache[digest] = (now + self._cache_seconds, record)
        return record

    def _touch(self, prefix: str, now: float) -> None:
        """Record last use at most once a minute per key, off the request's path."""
        if now - self._touched.get(prefix, 0.0) < _TOUCH_EVERY_SECONDS:
            return
        self._touched[prefix] = now
        task = asyncio.create_task(
            touch_key(self._pool(), prefix, datetime.fromtimestamp(now, UTC))
        )
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def drain(self) -> None:
        """Wait for pending last-use writes (at shutdown)."""
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
