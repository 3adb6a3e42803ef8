"""The embedded default: a private PostgreSQL 16 from the ``pgserver`` wheel.

With no ``PERPGRAPH_DATABASE_URL``, perpgraph keeps its database in ``<data dir>/pgdata`` and runs
it only while a perpgraph process holds the data directory. One process at a time holds it (an
exclusive lock file), so two gateways never race over one cluster. Data written by an earlier run
is reused; nothing here ever deletes a data directory.
"""

from __future__ import annotations

import fcntl
import logging
import os
import subprocess
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import psycopg

log = logging.getLogger(__name__)

DATABASE_NAME = "perpgraph"
POSTGRES_MAJOR_VERSION = "16"
_LOCK_FILE = "perpgraph.lock"
_PGSERVER_HANDLES = ".handle_pids.json"


class EmbeddedPostgresError(RuntimeError):
    """The embedded database cannot start; the message says why and what to do."""


class EmbeddedPostgres:
    """Start (or reuse) the embedded cluster in ``data_dir``; stop it on exit.

    Use as a context manager; :attr:`url` is the connection URL while it is running.
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.expanduser().resolve()
        self.pgdata = self.data_dir / "pgdata"
        self._lock: IO[str] | None = None
        self._server: Any = None
        self.url = ""

    def __enter__(self) -> EmbeddedPostgres:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> str:
        """Lock the data directory, start Postgres, make sure our database exists."""
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise EmbeddedPostgresError(
                f"cannot create the data directory {self.data_dir}: {error.strerror}. "
                "Set PERPGRAPH_DATA_DIR to a writable directory."
            ) from error
        self._take_lock()
        try:
            self._check_cluster_directory()
            self._forget_stale_handles()
            self._server = self._start_server()
            self.url = self._server.get_uri(DATABASE_NAME)
            self._ensure_database(self._server.get_uri("postgres"))
        except BaseException:
            self.stop()
            raise
        log.info("embedded Postgres running in %s", self.pgdata)
        return self.url

    def stop(self) -> None:
        """Stop the server (a fast, clean shutdown) and release the data directory."""
        if self._server is not None:
            try:
                self._server.cleanup()
            finally:
                self._server = None
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None

    def _take_lock(self) -> None:
        lock_path = self.data_dir / _LOCK_FILE
        handle = lock_path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise EmbeddedPostgresError(
                f"the data directory {self.data_dir} is in use by another perpgraph process "
                f"(pid {holder}). Stop that process, or point PERPGRAPH_DATA_DIR elsewhere, "
                "or use a server with PERPGRAPH_DATABASE_URL."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._lock = handle

    def _check_cluster_directory(self) -> None:
        if not self.pgdata.exists() or not any(self.pgdata.iterdir()):
            return
        version_file = self.pgdata / "PG_VERSION"
        if not version_file.is_file():
            raise EmbeddedPostgresError(
                f"{self.pgdata} is not empty but holds no PostgreSQL cluster (PG_VERSION is "
                "missing): it may be damaged or belong to something else. perpgraph will not "
                "touch it. Move it away to start afresh, or set PERPGRAPH_DATA_DIR."
            )
        version = version_file.read_text(encoding="utf-8").strip()
        if version != POSTGRES_MAJOR_VERSION:
            raise EmbeddedPostgresError(
                f"{self.pgdata} holds a PostgreSQL {version} cluster, but the embedded server "
                f"is PostgreSQL {POSTGRES_MAJOR_VERSION}. Dump it with pg_dump from version "
                f"{version} and restore it, or set PERPGRAPH_DATA_DIR elsewhere."
            )

    def _forget_stale_handles(self) -> None:
        """pgserver stops the server only when the last process in ``.handle_pids.json`` leaves.
        A run that was killed never removes its pid, so no later run would stop the server.
        This process holds the lock, so it is the only user: start the count afresh."""
        handles = self.pgdata / _PGSERVER_HANDLES
        if handles.is_file():
            handles.write_text("[]", encoding="utf-8")

    def _start_server(self) -> Any:
        from pgserver import postgres_server

        try:
            return postgres_server.get_server(self.pgdata, cleanup_mode="stop")
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
            # pgserver caches a server object before it starts; forget the failed one, or a
            # later start in this process would be handed it back instead of trying again.
            postgres_server.PostgresServer._instances.pop(self.pgdata, None)
            log_file = self.pgdata / "log"
            tail = ""
            if log_file.is_file():
                tail = "\n".join(log_file.read_text(errors="replace").splitlines()[-15:])
            raise EmbeddedPostgresError(
                f"the embedded PostgreSQL in {self.pgdata} failed to start. "
                f"Its log ({log_file}) ends with:\n{tail or '(empty)'}"
            ) from error

    @staticmethod
    def _ensure_database(admin_url: str) -> None:
        with psycopg.connect(admin_url, autocommit=True) as connection:
            exists = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE_NAME,)
            ).fetchone()
            if exists is None:
                connection.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
