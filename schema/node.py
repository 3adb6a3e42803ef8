"""The ``Node`` interface: every object with a global id can be fetched with ``node(id:)``."""

from __future__ import annotations

import strawberry


@strawberry.interface(
    description="An object with a global id: fetch any of them again with `node(id:)`."
)
class Node:
    id: strawberry.ID = strawberry.field(
        description="Global id, opaque and stable: pass it to `node(id:)`."
    )
