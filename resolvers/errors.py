"""Errors a caller can act on, each with a stable ``extensions.code`` (DESIGN.md decision 9).

    PerpgraphError            any coded error; its message is shown to the caller
    ├── BadUserInputError     BAD_USER_INPUT: an argument is malformed or out of range
    └── NotFoundError         NOT_FOUND: a named object does not exist

Anything else raised while resolving is an internal error and is masked.
"""

from __future__ import annotations

from typing import Any


class PerpgraphError(Exception):
    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.extensions: dict[str, Any] = {"code": self.code, **extra}


class BadUserInputError(PerpgraphError):
    code = "BAD_USER_INPUT"


class NotFoundError(PerpgraphError):
    code = "NOT_FOUND"
