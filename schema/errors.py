"""Every error the graph returns carries an ``extensions.code`` (DESIGN.md decision 9).

Errors from resolvers keep the code they were raised with; errors found before execution
(syntax, unknown fields, unknown enum values, bad variables) become ``BAD_USER_INPUT`` with
graphql-core's message, which already says what to fix; anything else is masked as
``INTERNAL_SERVER_ERROR``.
"""

from __future__ import annotations

from graphql import GraphQLError

from resolvers.errors import PerpgraphError


def should_mask_error(error: GraphQLError) -> bool:
    """Mask unexpected exceptions raised while resolving; keep coded and GraphQL errors."""
    original = error.original_error
    return original is not None and not isinstance(original, PerpgraphError | GraphQLError)


def add_codes(errors: list[GraphQLError] | None) -> None:
    """Give every error without a code one: BAD_USER_INPUT for errors found before execution."""
    for error in errors or []:
        extensions = error.extensions if error.extensions is not None else {}
        if "code" not in extensions:
            # Variable coercion errors wrap graphql-core's own GraphQLError: bad input too.
            before_execution = error.original_error is None or (
                error.path is None and isinstance(error.original_error, GraphQLError)
            )
            code = "BAD_USER_INPUT" if before_execution else "INTERNAL_SERVER_ERROR"
            error.extensions = {**extensions, "code": code}
