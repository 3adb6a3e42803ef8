"""API keys: making them, storing only their SHA-256, listing, revoking and looking them up.

A key reads ``pgk_live_<43 url-safe characters>`` (256 random bits). Its first 17 characters are
its *prefix*: unique, stored in clear, shown by ``perpgraph keys list`` and used to revoke it.
The whole key is shown once, when it is made.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

import psycopg
from psycopg_pool import AsyncConnectionPool

from db.query import fetch_rows

KEY_PREFIX: Final = "pgk_live_"
PREFIX_LENGTH: Final = len(KEY_PREFIX) + 8
KEY_PATTERN: Final = re.compile(r"pgk_live_[A-Za-z0-9_-]{43}")
_DURATION: Final = re.compile(r"(\d+)([smhdw])")
_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def is_well_formed(key: str) -> bool:
    """Whether ``key`` can be a perpgraph key at all (checked before any lookup)."""
    return KEY_PATTERN.fullmatch(key) is not None


def parse_duration(text: str) -> timedelta:
    """``30d``, ``12h``, ``2w``, ``90m``, ``45s`` as a timedelta."""
    match = _DURATION.fullmatch(text.strip().lower())
    if match is None:
        raise ValueError(f"not a duration: {text!r} (use e.g. 30d, 12h, 2w)")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


@dataclass(frozen=True)
class KeyRecord:
    """What a key grants: its account, plan and access window."""

    prefix: str
    account: str
    plan: str
    access_until: datetime | None
    revoked: bool


@dataclass(frozen=True)
class KeyListing:
    prefix: str
    account: str
    plan: str
    access_until: datetime | None
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


def create_key(
    database_url: str,
    *,
    account: str,
    plan: str,
    expires_in: timedelta | None = None,
    now: datetime | None = None,
) -> tuple[str, KeyRecord]:
    """Make a key for ``account`` (created if new; its plan and access window are set)."""
    moment = now or datetime.now(UTC)
    access_until = None if expires_in is None else moment + expires_in
    key = new_key()
    with psycopg.connect(database_url) as connection:
        row = connection.execute(
            """
            INSERT INTO account (name, plan, access_until, created_at)
            VALUES (%s, %s, %s, %s)
            ON CONFLICT (name) DO UPDATE SET plan = excluded.plan,
                                             access_until = excluded.access_until
            RETURNING id
            """,
            (account, plan, access_until, moment),
        ).fetchone()
        assert row is not None
        connection.execute(
            "INSERT INTO api_key (account_id, prefix, key_sha256, created_at) "
            "VALUES (%s, %s, %s, %s)",
            (row[0], key[:PREFIX_LENGTH], key_digest(key), moment),
        )
    return key, KeyRecord(key[:PREFIX_LENGTH], account, plan, access_until, revoked=False)


def list_keys(database_url: str) -> list[KeyListing]:
    with psycopg.connect(database_url) as connection:
        rows = connection.execute(
            """
            SELECT k.prefix, a.name, a.plan, a.access_until, k.created_at, k.revoked_at,
                   k.last_used_at
            FROM api_key AS k JOIN account AS a ON a.id = k.account_id
            ORDER BY k.created_at, k.id
            """
        ).fetchall()
    return [KeyListing(*row) for row in rows]


def revoke_key(database_url: str, prefix: str, *, now: datetime | None = None) -> int:
    """Revoke the keys starting with ``prefix`` (at least the 17-character key prefix)."""
    if len(prefix) < PREFIX_LENGTH:
        raise ValueError(f"give the key's whole prefix ({PREFIX_LENGTH} characters)")
    with psycopg.connect(database_url) as connection:
        cursor = connection.execute(
            "UPDATE api_key SET revoked_at = %s WHERE prefix = %s AND revoked_at IS NULL",
            (now or datetime.now(UTC), prefix[:PREFIX_LENGTH]),
        )
        return cursor.rowcount


async def find_key(pool: AsyncConnectionPool, key: str) -> KeyRecord | None:
    """The record of ``key``, by its digest; None when unknown. Compared in constant time."""
    digest = key_digest(key)
    rows = await fetch_rows(
        pool,
        """
        SELECT k.prefix, a.name, a.plan, a.access_until, k.revoked_at IS NOT NULL, k.key_sha256
        FROM api_key AS k JOIN account AS a ON a.id = k.account_id
        WHERE k.key_sha256 = %s
        """,
        (digest,),
    )
    if not rows:
        return None
    prefix, account, plan, access_until, revoked, stored = rows[0]
    if not hmac.compare_digest(str(stored), digest):
        return None
    return KeyRecord(prefix, account, plan, access_until, revoked)


async def touch_key(pool: AsyncConnectionPool, prefix: str, moment: datetime) -> None:
    """Record that the key was used (callers throttle this to once a minute per key)."""
    async with pool.connection() as connection:
        await connection.execute(
            "UPDATE api_key SET last_used_at = %s WHERE prefix = %s", (moment, prefix)
        )
