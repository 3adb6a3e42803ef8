"""Plans: what each kind of account may do, and how much of it (DESIGN.md decision 8).

Every number here is a default; ``PERPGRAPH_PLANS`` (JSON, e.g.
``{"FREE": {"per_minute": 30, ...}}``) replaces the table. docs/operations.md lists them.
"""

from __future__ import annotations

from typing import Final

from pydantic import BaseModel, ConfigDict, Field


class PlanLimits(BaseModel):
    """The limits of one plan. Request windows are fixed and aligned to the UTC clock."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    per_second: int = Field(ge=1, description="Requests per clock second (burst).")
    per_minute: int = Field(ge=1, description="Requests per clock minute.")
    per_day: int = Field(ge=1, description="Requests per UTC day.")
    cost_per_hour: int = Field(ge=1, description="Query cost points per clock hour.")
    ws_connections: int = Field(ge=1, description="Concurrent WebSockets per key.")
    ws_messages_per_minute: int = Field(ge=1, description="WebSocket operations per minute.")
    leaderboard_timeframes: frozenset[str] | None = Field(
        default=None, description="Leaderboard windows this plan may read; null: all."
    )
    leaderboard_max_rank: int | None = Field(
        default=None, ge=1, description="Deepest leaderboard rank this plan sees; null: all."
    )


DEFAULT_PLANS: Final[dict[str, PlanLimits]] = {
    "FREE": PlanLimits(
        per_second=5,
        per_minute=60,
        per_day=5_000,
        cost_per_hour=20_000,
        ws_connections=2,
        ws_messages_per_minute=60,
        leaderboard_timeframes=frozenset({"DAY"}),
        leaderboard_max_rank=50,
    ),
    "PRO": PlanLimits(
        per_second=20,
        per_minute=600,
        per_day=100_000,
        cost_per_hour=500_000,
        ws_connections=10,
        ws_messages_per_minute=500,
    ),
    "ELITE": PlanLimits(
        per_second=100,
        per_minute=3_000,
        per_day=1_000_000,
        cost_per_hour=5_000_000,
        ws_connections=50,
        ws_messages_per_minute=3_000,
    ),
}
