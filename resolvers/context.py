"""What every resolver can reach: the pool and this request's loaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from psycopg_pool import AsyncConnectionPool

from loaders import Loaders


@dataclass
class Context:
    pool: AsyncConnectionPool
    loaders: Loaders
    request: Any = None
    response: Any = None
    connection_params: dict[str, Any] | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def for_pool(
        cls, pool: AsyncConnectionPool, request: Any = None, response: Any = None
    ) -> Context:
        return cls(pool=pool, loaders=Loaders(pool), request=request, response=response)
