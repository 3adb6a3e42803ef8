"""Which tables a statement reads, and how their changes are announced.

Every data table carries a statement-level trigger (migration ``d1_data_changes``) that runs
``pg_notify('perpgraph_data', <table name>)`` after any INSERT, UPDATE, DELETE or TRUNCATE; the
notification is delivered when the transaction commits, and never for one that rolls back.
The response cache (``gateway/response_cache.py``) keys answers by the versions of the tables
they read and moves a table's version on each of its notifications.

:func:`tables_read` names the tables a read statement touches. It is deliberately cautious:
any relation after ``FROM`` or ``JOIN`` that is neither a data table, nor a name the statement
defines itself (a ``WITH`` query or a function call such as ``unnest(...)``), and any mention of
another relation of the database (:data:`OTHER_RELATIONS`, the catalogs) makes it answer
``None``, "cannot tell", and whatever ran that statement is not cached.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

CHANGES_CHANNEL: Final = "perpgraph_data"

#: The tables whose changes are announced on ``CHANGES_CHANNEL``; the graph reads only these.
DATA_TABLES: Final = frozenset(
    {
        "funding_payment",
        "ingest_checkpoint",
        "leaderboard_state",
        "market",
        "market_stats",
        "position",
        "trade",
        "trader",
        "trader_label",
        "trader_stats",
    }
)

_RELATION = re.compile(
    r"(?<!DISTINCT )\b(?:FROM|JOIN)\s+(?:LATERAL\s+|ONLY\s+)?(\(|\"?[A-Za-z_][\w.]*\"?)", re.I
)
_DEFINED = re.compile(r"(?:\bWITH|,)\s+(?:RECURSIVE\s+)?\"?([A-Za-z_]\w*)\"?\s+AS\s+\(", re.I)
_FUNCTION_CALL = re.compile(r"\s*\(")
#: Relations in the database that are not data tables: a statement naming one anywhere (even in
#: a comma join, which the FROM/JOIN scan does not follow) is never cached.
OTHER_RELATIONS: Final = frozenset({"account", "api_key", "alembic_version"})
_OTHER = re.compile(
    r"\b(?:" + "|".join(sorted(OTHER_RELATIONS)) + r"|pg_\w+|information_schema)\b", re.I
)


@lru_cache(maxsize=4096)
def tables_read(statement: str) -> frozenset[str] | None:
    """The data tables ``statement`` reads, or None when it reads something else too."""
    if _OTHER.search(statement):
        return None
    defined = {name.lower() for name in _DEFINED.findall(statement)}
    tables: set[str] = set()
    for match in _RELATION.finditer(statement):
        relation = match.group(1)
        if relation == "(":
            continue  # a subquery: its own FROM is matched on its own
        name = relation.strip('"').lower().removeprefix("public.")
        if "." in name:
            continue  # extract(epoch FROM c.opened_at): a column, not a relation
        if name in DATA_TABLES:
            tables.add(name)
        elif name in defined:
            continue
        elif _FUNCTION_CALL.match(statement, match.end()):
            continue  # unnest(...), generate_series(...): no table
        else:
            return None
    return frozenset(tables)
