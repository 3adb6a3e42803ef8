"""The embedded default: with no database URL, perpgraph runs PostgreSQL from the pgserver wheel.

Issue: "Without a database URL, start Postgres from the pgserver wheel in PERPGRAPH_DATA_DIR,
reuse it on the next start, stop it cleanly on exit, and say clearly what is wrong if the
directory is locked or corrupt. Never lose data that an earlier run wrote."

Every test has its own data directory and a real server; nothing is mocked.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from db.embedded import POSTGRES_MAJOR_VERSION, EmbeddedPostgres, EmbeddedPostgresError
from db.migrate import upgrade

CLI = [sys.executable, "-c", "from gateway.cli import main; main()"]


# ---------------------------------------------------------------------------------------------
# helpers


def _snapshot(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` with its bytes, to prove nothing was touched."""
    return {
        str(path.relative_to(directory)): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def _postmaster_pid(pgdata: Path) -> int:
    return int((pgdata / "postmaster.pid").read_text(encoding="utf-8").splitlines()[0])


def _pid_alive(pid: int) -> bool:
    """Whether ``pid`` runs. A zombie counts as gone: a stopped postmaster is reparented to
    pid 1, which in some containers never reaps it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except FileNotFoundError:
        return False
    state = stat.rsplit(")", 1)[1].split()[0]
    return state not in {"Z", "X"}


def _processes_mentioning(pgdata: Path) -> list[int]:
    """Pids of running processes whose command line names ``pgdata`` (a postmaster's ``-D``)."""
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if str(pgdata).encode() in cmdline:
            found.append(int(entry.name))
    return found


def _assert_stopped(pgdata: Path, postmaster: int) -> None:
    assert not (pgdata / "postmaster.pid").exists(), "postmaster.pid left behind"
    assert not _pid_alive(postmaster), f"postmaster {postmaster} still running"
    assert _processes_mentioning(pgdata) == [], "a postgres process for this pgdata is left"


def _count_notes(url: str) -> list[str]:
    with psycopg.connect(url) as connection:
        rows = connection.execute("SELECT body FROM note ORDER BY id").fetchall()
    return [str(row[0]) for row in rows]


def _cli_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERPGRAPH_")}
    env["PERPGRAPH_DATA_DIR"] = str(data_dir)
    env["PERPGRAPH_LOG_LEVEL"] = "warning"
    return env


def _run_cli(*args: str, data_dir: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        env=_cli_env(data_dir),
        cwd=cwd,  # no stray .env from the repository
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "perpgraph-data"


@pytest.fixture
def running(data_dir: Path) -> Iterator[EmbeddedPostgres]:
    """An embedded Postgres holding ``data_dir``, stopped at the end of the test."""
    embedded = EmbeddedPostgres(data_dir)
    embedded.start()
    try:
        yield embedded
    finally:
        embedded.stop()


# ---------------------------------------------------------------------------------------------
# start, reuse, stop


def test_fresh_directory_starts_migrates_and_keeps_data_across_restarts(data_dir: Path) -> None:
    # given: a data directory that does not exist yet
    assert not data_dir.exists()
    pgdata = data_dir / "pgdata"

    # when: the embedded server starts, migrations run and a row is written
    first = EmbeddedPostgres(data_dir)
    url = first.start()
    try:
        postmaster = _postmaster_pid(pgdata)
        assert (pgdata / "PG_VERSION").read_text().strip() == POSTGRES_MAJOR_VERSION
        with psycopg.connect(url) as connection:
            assert connection.info.dbname == "perpgraph"
        upgrade(url)
        with psycopg.connect(url) as connection:
            tables = {
                str(row[0])
                for row in connection.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                )
            }
            connection.execute("CREATE TABLE note (id serial PRIMARY KEY, body text)")
            connection.execute("INSERT INTO note (body) VALUES ('written by the first run')")
    finally:
        first.stop()

    # then: the schema was there, and the server is gone after stop()
    assert {"alembic_version", "trader", "trade", "trader_stats"} <= tables
    _assert_stopped(pgdata, postmaster)

    # when: a second run starts on the same directory
    with EmbeddedPostgres(data_dir) as second:
        second_postmaster = _postmaster_pid(pgdata)
        # then: it reuses the cluster, the data is kept, and migrating again changes nothing
        upgrade(second.url)
        assert _count_notes(second.url) == ["written by the first run"]
    _assert_stopped(pgdata, second_postmaster)


def test_a_run_that_was_killed_does_not_stop_later_runs_from_stopping_cleanly(
    data_dir: Path,
) -> None:
    # given: a perpgraph process that started the server, wrote a row, and was killed (-9)
    script = (
        "import os, signal, sys, psycopg\n"
        "from pathlib import Path\n"
        "from db.embedded import EmbeddedPostgres\n"
        "embedded = EmbeddedPostgres(Path(sys.argv[1]))\n"
        "embedded.start()\n"
        "with psycopg.connect(embedded.url, autocommit=True) as connection:\n"
        "    connection.execute('CREATE TABLE note (id serial PRIMARY KEY, body text)')\n"
        "    connection.execute(\"INSERT INTO note (body) VALUES ('before the crash')\")\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    crashed = subprocess.run(
        [sys.executable, "-c", script, str(data_dir)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    pgdata = data_dir / "pgdata"
    orphan = _postmaster_pid(pgdata)
    try:
        # when: the next run starts and stops
        with EmbeddedPostgres(data_dir) as embedded:
            rows = _count_notes(embedded.url)
        # then: the data is there and the server the crashed run left behind is stopped
        assert rows == ["before the crash"]
        _assert_stopped(pgdata, orphan)
    finally:
        if _pid_alive(orphan):
            os.kill(orphan, signal.SIGTERM)


# ---------------------------------------------------------------------------------------------
# locked, damaged, foreign or unusable directories


def test_second_process_on_a_held_directory_is_told_who_holds_it(
    data_dir: Path, running: EmbeddedPostgres
) -> None:
    # given: a running embedded server holding data_dir (this test process, see `running`)
    # when: another EmbeddedPostgres tries the same directory
    with pytest.raises(EmbeddedPostgresError) as caught:
        EmbeddedPostgres(data_dir).start()

    # then: the message names the directory, the holder's pid, and what to do
    message = str(caught.value)
    assert str(data_dir) in message
    assert f"pid {os.getpid()}" in message
    assert "PERPGRAPH_DATA_DIR" in message
    assert "Stop that process" in message
    # and: the first server is unaffected
    with psycopg.connect(running.url) as connection:
        assert connection.execute("SELECT 1").fetchone() == (1,)


def test_non_empty_pgdata_without_pg_version_is_refused_and_left_alone(data_dir: Path) -> None:
    # given: a pgdata directory holding files but no PG_VERSION
    pgdata = data_dir / "pgdata"
    (pgdata / "base" / "1").mkdir(parents=True)
    (pgdata / "base" / "1" / "16384").write_bytes(bytes(range(256)) * 4)
    (pgdata / "postgresql.conf").write_text("shared_buffers = 128MB\n")
    before = _snapshot(pgdata)

    # when: the embedded server starts there
    with pytest.raises(EmbeddedPostgresError) as caught:
        EmbeddedPostgres(data_dir).start()

    # then: the error says it may be damaged, and every file is exactly as it was
    message = str(caught.value)
    assert str(pgdata) in message
    assert "PG_VERSION" in message
    assert "damaged" in message
    assert _snapshot(pgdata) == before


def test_cluster_of_another_major_version_is_refused_and_left_alone(data_dir: Path) -> None:
    # given: a PostgreSQL 15 cluster directory
    pgdata = data_dir / "pgdata"
    (pgdata / "global").mkdir(parents=True)
    (pgdata / "PG_VERSION").write_text("15\n")
    (pgdata / "global" / "pg_control").write_bytes(b"\x00\x01pg15-control" * 64)
    before = _snapshot(pgdata)

    # when: the embedded server (PostgreSQL 16) starts there
    with pytest.raises(EmbeddedPostgresError) as caught:
        EmbeddedPostgres(data_dir).start()

    # then: the error names both versions, and nothing was changed
    message = str(caught.value)
    assert "PostgreSQL 15" in message
    assert f"PostgreSQL {POSTGRES_MAJOR_VERSION}" in message
    assert "pg_dump" in message
    assert _snapshot(pgdata) == before


def test_data_directory_that_cannot_be_created_names_the_setting(tmp_path: Path) -> None:
    # given: a data directory path below a regular file
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("just a file\n")

    # when: the embedded server starts there
    with pytest.raises(EmbeddedPostgresError) as caught:
        EmbeddedPostgres(blocker / "data").start()

    # then: the error names the directory and the setting to change
    message = str(caught.value)
    assert str(blocker / "data") in message
    assert "PERPGRAPH_DATA_DIR" in message
    assert blocker.read_text() == "just a file\n"


def test_server_that_fails_to_start_shows_its_log_and_keeps_the_data(data_dir: Path) -> None:
    # given: a cluster with data in it, whose postgresql.conf then gets a garbage line
    pgdata = data_dir / "pgdata"
    with EmbeddedPostgres(data_dir) as embedded, psycopg.connect(embedded.url) as connection:
        connection.execute("CREATE TABLE note (id serial PRIMARY KEY, body text)")
        connection.execute("INSERT INTO note (body) VALUES ('must survive')")
    conf = pgdata / "postgresql.conf"
    good_conf = conf.read_bytes()
    with conf.open("a", encoding="utf-8") as handle:
        handle.write("\nthis line = = is not valid !!\n")

    # when: the server starts
    started = time.monotonic()
    with pytest.raises(EmbeddedPostgresError) as caught:
        EmbeddedPostgres(data_dir).start()
    elapsed = time.monotonic() - started

    # then: the error quotes the end of the server log, fast, and the cluster is all there
    message = str(caught.value)
    assert "failed to start" in message
    assert str(pgdata / "log") in message
    assert 'configuration file "' in message
    assert "contains errors" in message
    assert elapsed < 15
    assert (pgdata / "PG_VERSION").is_file()
    assert (pgdata / "base").is_dir()
    assert _processes_mentioning(pgdata) == []

    # when: the configuration is repaired and the server starts again (same process)
    conf.write_bytes(good_conf)
    with EmbeddedPostgres(data_dir) as embedded:
        # then: the earlier data is still there
        assert _count_notes(embedded.url) == ["must survive"]


# ---------------------------------------------------------------------------------------------
# the CLI on the embedded default


def test_cli_db_upgrade_uses_the_embedded_server_and_reuses_it(
    data_dir: Path, tmp_path: Path
) -> None:
    # given: no PERPGRAPH_DATABASE_URL, an unused PERPGRAPH_DATA_DIR
    # when: `perpgraph db upgrade` runs twice
    first = _run_cli("db", "upgrade", data_dir=data_dir, cwd=tmp_path)
    second = _run_cli("db", "upgrade", data_dir=data_dir, cwd=tmp_path)

    # then: both succeed on the same cluster, and no server is left running
    for result in (first, second):
        assert result.returncode == 0, result.stderr
        assert "database is up to date" in result.stdout
        assert "Traceback" not in result.stderr
    assert (data_dir / "pgdata" / "PG_VERSION").is_file()
    assert not (data_dir / "pgdata" / "postmaster.pid").exists()
    assert _processes_mentioning(data_dir / "pgdata") == []


def test_cli_on_a_held_directory_exits_1_with_a_clear_message(
    data_dir: Path, tmp_path: Path, running: EmbeddedPostgres
) -> None:
    # given: this test process holds data_dir with a running embedded server
    # when: `perpgraph db upgrade` runs on the same directory
    result = _run_cli("db", "upgrade", data_dir=data_dir, cwd=tmp_path)

    # then: it exits 1 with one clear message and no traceback
    assert result.returncode == 1, result.stdout + result.stderr
    assert "in use by another perpgraph process" in result.stderr
    assert str(data_dir) in result.stderr
    assert f"pid {os.getpid()}" in result.stderr
    assert "Traceback" not in result.stderr
    # and: the holder's server is unaffected
    with psycopg.connect(running.url) as connection:
        assert connection.execute("SELECT 1").fetchone() == (1,)
