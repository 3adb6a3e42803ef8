"""Settings: read once from the environment (``PERPGRAPH_*``) and an optional ``.env`` file.

Build one :class:`Settings` at the entry point and pass it down; nothing reads the environment at
import time.
"""

from __future__ import annotations

from pathlib import Path

import platformdirs
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gateway.plans import DEFAULT_PLANS, PlanLimits


def default_data_dir() -> Path:
    """Per-user data directory (``~/.local/share/perpgraph`` on Linux)."""
    return Path(platformdirs.user_data_dir("perpgraph", appauthor=False))


class Settings(BaseSettings):
    """Everything perpgraph can be told. Every CLI option has one of these as its default."""

    model_config = SettingsConfigDict(
        env_prefix="PERPGRAPH_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL (postgresql://user@host:port/db). Unset: embedded Postgres.",
    )
    redis_url: str | None = Field(default=None, description="Redis URL for shared counters.")
    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Where the embedded Postgres and demo state live.",
    )
    host: str = Field(default="127.0.0.1", description="Address the API listens on.")
    port: int = Field(default=8000, ge=0, le=65535, description="Port the API listens on.")
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Gateway processes sharing the port (`serve`): about one per core.",
    )
    max_concurrent_queries: int = Field(
        default=4,
        ge=1,
        description="HTTP queries one gateway process executes at once; more wait their turn.",
    )
    response_cache: bool = Field(
        default=True,
        description="Serve repeated queries from memory while the data they read is unchanged "
        "(exact: invalidated by committed changes; see docs/operations.md).",
    )
    response_cache_mb: int = Field(
        default=256, ge=1, description="Memory the response cache may hold per process, MiB."
    )
    pool_min_size: int = Field(default=2, ge=1, description="Connections the pool keeps open.")
    pool_max_size: int = Field(default=10, ge=1, description="Most connections the pool opens.")
    leaderboard_refresh_seconds: float = Field(
        default=60.0,
        gt=0,
        description="How often the live writers (the demo's and `ingest hyperliquid`) "
        "recompute leaderboards, counted from the end of the last recompute.",
    )
    leaderboard_long_refresh_seconds: float | None = Field(
        default=None,
        gt=0,
        description="How often the live writers recompute YEAR and ALL_TIME (and the labels "
        "derived from ALL_TIME); the recomputes in between compute DAY, WEEK and MONTH only. "
        "Unset: every recompute computes every board.",
    )
    scoring_partitions: int = Field(
        default=2,
        ge=1,
        le=64,
        description="Connections that compute leaderboards at once, each for a share of the "
        "traders: about the cores Postgres can spare.",
    )
    log_level: str = Field(default="info", description="debug, info, warning or error.")
    max_websocket_connections: int = Field(
        default=2_000, ge=1, description="WebSocket connections one gateway process accepts."
    )
    max_subscriptions_per_connection: int = Field(
        default=20, ge=1, description="Operations one WebSocket connection may run at once."
    )
    subscriber_queue_size: int = Field(
        default=256,
        ge=1,
        description="Event batches a live subscriber may fall behind before it is dropped.",
    )
    subscriber_buffer_events: int = Field(
        default=4_096,
        ge=1,
        description="Events a member of a shared subscription may have unsent before it is "
        "dropped.",
    )
    live_update_seconds: float = Field(
        default=1.0,
        gt=0,
        description="markPrices and positionUpdates send at most once per this many seconds.",
    )
    websocket_ping_seconds: float = Field(
        default=20.0,
        gt=0,
        description="Interval of WebSocket keep-alive pings (and their timeout).",
    )
    # Access control (gateway/auth.py, gateway/limits.py; docs/operations.md).
    access_control: bool = Field(
        default=True,
        description="Keys and limits. Off: every request is served, nothing is counted "
        "(a private deployment behind another gateway, or a benchmark's baseline).",
    )
    plans: dict[str, PlanLimits] = Field(
        default_factory=lambda: dict(DEFAULT_PLANS), description="Plans and their limits."
    )
    allow_anonymous: bool | None = Field(
        default=None,
        description="Serve requests without a key (limited per client address, anonymous_plan). "
        "Unset: off for `serve`, on for `demo`.",
    )
    graphiql_api_key: str | None = Field(
        default=None, description="Key GraphiQL's Headers tab starts with (demo sets its own)."
    )
    anonymous_plan: str | None = Field(
        default=None,
        description="The plan anonymous callers get. Unset: FREE for `serve`, PRO for `demo`.",
    )
    max_query_cost: int = Field(default=5_000, ge=1, description="Most points one query may cost.")
    max_query_depth: int = Field(default=10, ge=1, description="Deepest selection nesting.")
    max_query_aliases: int = Field(default=30, ge=0, description="Most aliases in one query.")
    max_query_tokens: int = Field(default=5_000, ge=1, description="Most tokens in one document.")
    key_cache_seconds: float = Field(
        default=10.0, ge=0, description="How long a process trusts a key lookup (revocation lag)."
    )

    @field_validator("database_url")
    @classmethod
    def _blank_means_embedded(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("plans")
    @classmethod
    def _some_plan(cls, value: dict[str, PlanLimits]) -> dict[str, PlanLimits]:
        if not value:
            raise ValueError("at least one plan is needed")
        return {name.upper(): limits for name, limits in value.items()}

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.lower()
        if level not in {"debug", "info", "warning", "error"}:
            raise ValueError("log level must be one of debug, info, warning, error")
        return level
