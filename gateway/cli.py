"""The ``perpgraph`` command line. Every option defaults to its ``PERPGRAPH_*`` setting."""

from __future__ import annotations

import asyncio
import logging
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from gateway.settings import Settings
from ingest.collector import tune_for_writing

app = typer.Typer(
    help="perpgraph: a GraphQL API for perpetual-futures trader analytics.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database administration.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)
ingest_app = typer.Typer(help="Write fills into the database (the writer).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(ingest_app, name="ingest")
app.add_typer(keys_app, name="keys")

Traders = Annotated[
    int, typer.Option("--traders", min=1, max=1_000_000, help="How many simulated traders.")
]
Days = Annotated[
    float, typer.Option("--days", min=0, max=3650, help="Days of history to simulate first.")
]
Seed = Annotated[int, typer.Option("--seed", help="Simulator seed (same seed, same market).")]
Host = Annotated[str | None, typer.Option("--host", help="Listen address [PERPGRAPH_HOST].")]
Port = Annotated[
    int | None, typer.Option("--port", min=0, max=65535, help="Listen port [PERPGRAPH_PORT].")
]


def _settings(host: str | None = None, port: int | None = None) -> Settings:
    try:
        settings = Settings()
    except ValueError as error:
        typer.secho(f"error: invalid settings: {error}", fg="red", err=True)
        raise typer.Exit(2) from None
    updates: dict[str, object] = {}
    if host is not None:
        updates["host"] = host
    if port is not None:
        updates["port"] = port
    settings = settings.model_copy(update=updates)
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # pgserver looks up a per-user runtime directory it does not need; without
    # XDG_RUNTIME_DIR (containers, CI) platformdirs warns on every start.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    # pgserver and alembic narrate every start and migration step at INFO; their warnings
    # and errors still show.
    for chatty in ("pgserver", "alembic"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.root.level))
    return settings


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg="red", err=True)
    return typer.Exit(1)


@app.command()
def demo(
    traders: Traders = 300,
    days: Days = 30,
    seed: Seed = 7,
    host: Host = None,
    port: Port = None,
) -> None:
    """Simulated market + API + GraphiQL, on the embedded Postgres unless
    PERPGRAPH_DATABASE_URL is set."""
    from gateway.runtime import run_demo

    tune_for_writing()
    settings = _settings(host, port)
    _run(run_demo(settings, traders=traders, days=days, seed=seed))


Workers = Annotated[
    int | None,
    typer.Option(
        "--workers", min=1, max=64, help="Gateway processes sharing the port [PERPGRAPH_WORKERS]."
    ),
]


@app.command()
def serve(host: Host = None, port: Port = None, workers: Workers = None) -> None:
    """The API only, on PERPGRAPH_DATABASE_URL (or the embedded Postgres)."""
    from gateway.runtime import run_serve, serve_workers

    settings = _settings(host, port)
    if workers is not None:
        settings = settings.model_copy(update={"workers": workers})
    if settings.workers > 1:
        with _database_errors():
            serve_workers(settings)
        return
    _run(run_serve(settings))


@ingest_app.command("simulate")
def ingest_simulate(
    traders: Traders = 300,
    days: Days = 30,
    seed: Seed = 7,
    live: Annotated[
        bool, typer.Option("--live/--no-live", help="Keep producing live fills after history.")
    ] = True,
) -> None:
    """Write simulated history, then (unless --no-live) live fills until interrupted."""
    from gateway.runtime import run_ingest_simulate

    tune_for_writing()
    _run(run_ingest_simulate(_settings(), traders=traders, days=days, seed=seed, live=live))


@ingest_app.command("replay")
def ingest_replay(
    files: Annotated[
        list[Path],
        typer.Argument(
            exists=True, dir_okay=False, readable=True, help="Recorded venue responses (JSON)."
        ),
    ],
    user: Annotated[
        str | None,
        typer.Option("--user", help="Whose fills: needed for responses that do not say."),
    ] = None,
) -> None:
    """Replay recorded Hyperliquid responses (meta, metaAndAssetCtxs, allMids, userFills,
    userFillsByTime, clearinghouseState, userFunding) and report what was written.
    Replaying again changes nothing."""
    from gateway.runtime import run_replay

    tune_for_writing()
    _run(run_replay(_settings(), files, user=user))


def _http_url(value: str) -> str:
    return _url(value, ("http", "https"))


def _optional_http_url(value: str) -> str:
    return value and _http_url(value)


def _ws_url(value: str) -> str:
    return _url(value, ("ws", "wss"))


def _url(value: str, schemes: tuple[str, ...]) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.hostname:
        raise typer.BadParameter(f"expected a {' or '.join(schemes)} URL, got {value!r}")
    return value


def _moment(value: str) -> str:
    """An ISO date or time, as an ISO time in UTC when it names no offset."""
    from datetime import UTC, datetime

    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"expected an ISO date or time such as 2025-01-01 or 2025-01-01T12:00:00+00:00, "
            f"got {value!r}"
        ) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


@ingest_app.command("hyperliquid")
def ingest_hyperliquid(
    api_url: Annotated[
        str,
        typer.Option(
            "--api-url",
            envvar="PERPGRAPH_HYPERLIQUID_API_URL",
            callback=_http_url,
            help="REST base.",
        ),
    ] = "https://api.hyperliquid.xyz",
    ws_url: Annotated[
        str,
        typer.Option(
            "--ws-url", envvar="PERPGRAPH_HYPERLIQUID_WS_URL", callback=_ws_url, help="WebSocket."
        ),
    ] = "wss://api.hyperliquid.xyz/ws",
    coins: Annotated[
        str | None,
        typer.Option(
            "--coins",
            envvar="PERPGRAPH_HYPERLIQUID_COINS",
            help="Comma-separated coins whose trades discover traders (default: every perp).",
        ),
    ] = None,
    since: Annotated[
        str,
        typer.Option(
            "--since",
            envvar="PERPGRAPH_HYPERLIQUID_SINCE",
            callback=_moment,
            help="Backfill new traders' fills from this ISO date or time (UTC unless it says).",
        ),
    ] = "2025-01-01T00:00:00+00:00",
    marks_interval: Annotated[
        float,
        typer.Option(
            "--marks-interval",
            min=1,
            envvar="PERPGRAPH_HYPERLIQUID_MARKS_INTERVAL",
            help="Seconds between mark refreshes.",
        ),
    ] = 30.0,
    venue_leaderboard_url: Annotated[
        str,
        typer.Option(
            "--venue-leaderboard-url",
            envvar="PERPGRAPH_HYPERLIQUID_LEADERBOARD_URL",
            callback=_optional_http_url,
            help="The venue's stats leaderboard, read hourly for display names and account "
            "values ('' to skip it).",
        ),
    ] = "https://stats-data.hyperliquid.xyz/Mainnet/leaderboard",
    seed_top: Annotated[
        int,
        typer.Option(
            "--seed-top",
            min=0,
            max=100_000,
            envvar="PERPGRAPH_HYPERLIQUID_SEED_TOP",
            help="Also backfill the N largest accounts of the venue's leaderboard.",
        ),
    ] = 0,
) -> None:
    """Ingest Hyperliquid live: discover traders from public trades, backfill their fills,
    reconcile their positions, refresh marks. Runs until interrupted."""
    from gateway.runtime import run_ingest_hyperliquid

    tune_for_writing()
    _run(
        run_ingest_hyperliquid(
            _settings(),
            api_url=api_url,
            ws_url=ws_url,
            coins=tuple(c.strip() for c in coins.split(",") if c.strip()) if coins else None,
            since=since,
            marks_interval=marks_interval,
            venue_leaderboard_url=venue_leaderboard_url or None,
            seed_top=seed_top,
        )
    )


@app.command()
def score() -> None:
    """Recompute statistics and leaderboards once."""
    from gateway.runtime import run_score

    _run(run_score(_settings()))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations (idempotent)."""
    from gateway.database import database

    with _database_errors(), database(_settings()) as url:
        typer.echo(f"database is up to date ({_redact(url)})")


@keys_app.command("create")
def keys_create(
    account: Annotated[str, typer.Option("--account", help="Account name (created if new).")],
    plan: Annotated[str, typer.Option("--plan", help="Plan: FREE, PRO, ELITE, ...")] = "FREE",
    expires_in: Annotated[
        str | None,
        typer.Option("--expires-in", help="Access window from now, e.g. 30d, 12h; open-ended."),
    ] = None,
) -> None:
    """Make an API key for ACCOUNT and print it once (only its SHA-256 is stored). Sets the
    account's plan and access window."""
    from gateway.database import database
    from gateway.keys import create_key, parse_duration

    settings = _settings()
    plan = plan.upper()
    if plan not in settings.plans:
        raise _fail(f"unknown plan {plan!r}; plans: {', '.join(settings.plans)}")
    try:
        window = None if expires_in is None else parse_duration(expires_in)
    except ValueError as error:
        raise _fail(str(error)) from None
    with _database_errors(), database(settings) as url:
        key, record = create_key(url, account=account, plan=plan, expires_in=window)
    until = (
        "open-ended" if record.access_until is None else f"{record.access_until:%Y-%m-%d %H:%M} UTC"
    )
    typer.echo(key)
    typer.echo(
        f"account {account}, plan {plan}, access {until}; store the key now, it is not shown again",
        err=True,
    )


@keys_app.command("list")
def keys_list() -> None:
    """Every key: prefix, account, plan, access window, last use, revocation."""
    from gateway.database import database
    from gateway.keys import list_keys

    with _database_errors(), database(_settings()) as url:
        listings = list_keys(url)

    def moment(value: object) -> str:
        return "-" if value is None else f"{value:%Y-%m-%d %H:%M}"

    typer.echo(
        f"{'PREFIX':<18} {'ACCOUNT':<16} {'PLAN':<6} {'ACCESS UNTIL':<17} {'LAST USED':<17} REVOKED"
    )
    for item in listings:
        typer.echo(
            f"{item.prefix:<18} {item.account:<16} {item.plan:<6} "
            f"{moment(item.access_until) if item.access_until else 'open-ended':<17} "
            f"{moment(item.last_used_at):<17} {moment(item.revoked_at)}"
        )


@keys_app.command("revoke")
def keys_revoke(
    prefix: Annotated[str, typer.Argument(help="The key's prefix as `keys list` shows it.")],
) -> None:
    """Revoke a key (takes effect within PERPGRAPH_KEY_CACHE_SECONDS on every gateway)."""
    from gateway.database import database
    from gateway.keys import revoke_key

    with _database_errors(), database(_settings()) as url:
        try:
            count = revoke_key(url, prefix)
        except ValueError as error:
            raise _fail(str(error)) from None
    if count == 0:
        raise _fail(f"no active key with prefix {prefix!r}")
    typer.echo(f"revoked {prefix}")


@app.command("export-schema")
def export_schema(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Print the GraphQL schema (SDL), as committed in schema/schema.graphql."""
    from schema import sdl

    text = sdl()
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}")


def _run(coroutine: object) -> None:
    from collections.abc import Coroutine
    from typing import Any, cast

    import uvloop

    with _database_errors():
        try:
            # uvloop: the event loop uvicorn itself picks when it owns the loop.
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                runner.run(cast("Coroutine[Any, Any, None]", coroutine))
        except KeyboardInterrupt:
            typer.echo("stopped")


@contextmanager
def _database_errors() -> Iterator[None]:
    """Turn the errors an operator can fix into one clear line and exit status 1."""
    import psycopg
    import psycopg_pool
    import sqlalchemy.exc

    from db.embedded import EmbeddedPostgresError
    from ingest.engine import FillRejectedError
    from ingest.replay import ReplayError

    try:
        yield
    except (EmbeddedPostgresError, FillRejectedError, ReplayError) as error:
        raise _fail(str(error)) from None
    except (psycopg.OperationalError, psycopg_pool.PoolTimeout) as error:
        raise _fail(f"cannot reach the database: {str(error).strip()}") from None
    except sqlalchemy.exc.OperationalError as error:
        # Migrations (Alembic) connect through SQLAlchemy, which wraps the driver's error.
        raise _fail(f"cannot reach the database: {str(error.orig).strip()}") from None


def _redact(url: str) -> str:
    """Hide a password in a URL before printing it."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}@{host}" if ":" in credentials else url


def main() -> None:
    app()
