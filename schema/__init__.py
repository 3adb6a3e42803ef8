"""The GraphQL contract: ``schema`` is the executable schema; ``schema.graphql`` its SDL."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import aclosing
from pathlib import Path
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors, ParserCache, SchemaExtension, ValidationCache
from strawberry.types import ExecutionContext, ExecutionResult

from schema.access import AccessQuery
from schema.analytics import AnalyticsQuery
from schema.errors import add_codes, should_mask_error
from schema.execution import FastExecutionContext
from schema.query import Query
from schema.subscription import Subscription
from schema.types.market import Market
from schema.types.position import Position
from schema.types.trade import Trade
from schema.types.trader import Trader

SDL_PATH = Path(__file__).resolve().parent / "schema.graphql"


class PerpgraphSchema(strawberry.Schema):
    """Codes every error, and logs only unexpected ones: a caller's bad input is an answer,
    not a server problem."""

    async def execute(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        result = await super().execute(*args, **kwargs)
        add_codes(result.errors)
        return result

    async def stream(self, *args: Any, **kwargs: Any) -> AsyncGenerator[Any, None]:
        """The WebSocket path: the same codes on every streamed result."""
        return _coded(await super().stream(*args, **kwargs))

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        unexpected = [error for error in errors if should_mask_error(error)]
        if unexpected:
            super().process_errors(unexpected, execution_context)


async def _coded(results: AsyncGenerator[Any, None]) -> AsyncGenerator[Any, None]:
    async with aclosing(results):
        async for result in results:
            add_codes(getattr(result, "errors", None))
            yield result


@strawberry.type(name="Query", description=Query.__strawberry_definition__.description)  # type: ignore[attr-defined]
class RootQuery(Query, AnalyticsQuery, AccessQuery):
    """The root: the graph's ``Query``, the analytics views and the caller's ``AccessQuery``
    (what merge_types does, keeping the description)."""


def build_schema(
    extensions: Sequence[Callable[[], SchemaExtension]] = (), *, fast_leaves: bool = True
) -> strawberry.Schema:
    """The executable schema; the gateway adds its access extensions (limits, cost, APQ).
    ``fast_leaves=False`` executes every field through graphql-core's own path (tests compare
    the two)."""
    return PerpgraphSchema(
        query=RootQuery,
        subscription=Subscription,
        types=[Trader, Position, Trade, Market],
        execution_context_class=FastExecutionContext if fast_leaves else None,
        extensions=[
            *extensions,
            lambda: ParserCache(maxsize=256),
            lambda: ValidationCache(maxsize=256),
            lambda: MaskErrors(should_mask_error=should_mask_error),
        ],
    )


schema = build_schema()


def sdl() -> str:
    """The schema as SDL, exactly as committed in ``schema/schema.graphql``."""
    return str(schema) + "\n"
