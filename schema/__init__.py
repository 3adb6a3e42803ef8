"""The GraphQL contract: ``schema`` is the executable schema; ``schema.graphql`` its SDL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors, ParserCache, ValidationCache
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext, ExecutionResult

from schema.analytics import AnalyticsQuery
from schema.errors import add_codes, should_mask_error
from schema.query import Query
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

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        unexpected = [error for error in errors if should_mask_error(error)]
        if unexpected:
            super().process_errors(unexpected, execution_context)


def root_query() -> type:
    """The root ``Query``: the core fields and the analytics views, as one type."""
    root: type = merge_types("Query", (Query, AnalyticsQuery))
    root.__strawberry_definition__.description = Query.__strawberry_definition__.description  # type: ignore[attr-defined]
    return root


def build_schema() -> strawberry.Schema:
    return PerpgraphSchema(
        query=root_query(),
        types=[Trader, Position, Trade, Market],
        extensions=[
            lambda: ParserCache(maxsize=256),
            lambda: ValidationCache(maxsize=256),
            lambda: MaskErrors(should_mask_error=should_mask_error),
        ],
    )


schema = build_schema()


def sdl() -> str:
    """The schema as SDL, exactly as committed in ``schema/schema.graphql``."""
    return str(schema) + "\n"
