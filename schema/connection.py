"""Relay connections: ``edges { cursor node }``, ``nodes``, ``pageInfo`` and ``totalCount``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Generic, TypeVar

import strawberry

from resolvers.keyset import Page

T = TypeVar("T")
R = TypeVar("R")

PageSize = Annotated[int, strawberry.argument(description="Page size, 1-100.")]
"""The ``first`` argument of every connection field."""
After = Annotated[str | None, strawberry.argument(description="endCursor of the previous page.")]
"""The ``after`` argument of every connection field."""


@strawberry.type(description="Where a page sits in its connection.")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="Whether more items follow: ask again with `after: endCursor`."
    )
    has_previous_page: bool = strawberry.field(
        description="Whether items come before this page (true when `after` was given)."
    )
    _cursors: strawberry.Private[Sequence[str]]

    @strawberry.field(description="Cursor of the first item.")
    def start_cursor(self) -> str | None:
        return self._cursors[0] if self._cursors else None

    @strawberry.field(description="Cursor of the last item: pass it as `after` for the next page.")
    def end_cursor(self) -> str | None:
        return self._cursors[-1] if self._cursors else None


@strawberry.type(description="An item of a connection with its cursor.")
class Edge(Generic[T]):
    node: T = strawberry.field(description="The item.")
    _cursors: strawberry.Private[Sequence[str]]
    _index: strawberry.Private[int]

    @strawberry.field(description="Opaque cursor of this item, for `after`.")
    def cursor(self) -> str:
        return self.cursor_value()

    def cursor_value(self) -> str:
        """This item's cursor (encoded on demand: see ``LazyCursors``)."""
        return self._cursors[self._index]


@strawberry.type(
    description="A page of items. Cursors are keyset cursors: stable while new items arrive."
)
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The items with their cursors.")
    page_info: PageInfo = strawberry.field(description="How to get the next page.")
    nodes: list[T] = strawberry.field(description="The items, without cursors.")
    _count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(
        description="How many items the whole connection holds (all pages), under the same "
        "filter. Costs one extra count query, so ask only when needed."
    )
    async def total_count(self) -> int:
        return await self._count()


def to_connection(
    page: Page[R],
    make_node: Callable[[R], T],
    count: Callable[[], Awaitable[int]],
) -> Connection[T]:
    cursors = page.cursors
    edges = [
        Edge(node=make_node(item), _cursors=cursors, _index=index)
        for index, item in enumerate(page.items)
    ]
    return Connection(
        edges=edges,
        page_info=_page_info(page.cursors, page.has_next_page, page.has_previous_page),
        nodes=[edge.node for edge in edges],
        _count=count,
    )


def _page_info(cursors: Sequence[str], has_next: bool, has_previous: bool) -> PageInfo:
    return PageInfo(has_next_page=has_next, has_previous_page=has_previous, _cursors=cursors)
