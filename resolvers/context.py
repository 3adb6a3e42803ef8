"""What every resolver can reach: the pool, this request's loaders and the live feed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from psycopg_pool import AsyncConnectionPool

from loaders import Loaders
from resolvers.live import EventFeed


@dataclass
class Context:
    pool: AsyncConnectionPool
    loaders: Loaders
    request: Any = None
    response: Any = None
    connection_params: dict[str, Any] | None = None
    feed: EventFeed | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def for_pool(
        cls,
        pool: AsyncConnectionPool,
        request: Any = None,
        response: Any = None,
        feed: EventFeed | None = None,
    ) -> Context:
        return cls(pool=pool, loaders=Loaders(pool), request=request, response=response, feed=feed)

    def fresh_loaders(self) -> Loaders:
        """New loaders for the next subscription event, so nothing is served stale."""
        self.loaders = Loaders(self.pool)
        return self.loaders
