"""The ``perpgraph`` command line as a user runs it: a separate process, no stdin, real databases.

Each command runs as ``python -c "from gateway.cli import main; main()" ...`` with this test
run's interpreter (what the ``perpgraph`` console script does), in a scratch directory (so no
stray ``.env`` is read) and with every ``PERPGRAPH_*`` variable cleared except those a test sets.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
import psycopg
import pytest

from gateway.graphiql import PAGE_TITLE
from tests.conftest import DatabaseFactory
from tests.schema.test_leaderboard_page import LEADERBOARD_PAGE

REPO_ROOT = Path(__file__).resolve().parents[2]
COMMITTED_SDL = REPO_ROOT / "schema" / "schema.graphql"
CLI = [sys.executable, "-c", "from gateway.cli import main; main()"]
UNREACHABLE_URL = "postgresql://postgres@127.0.0.1:1/nope"

READY_LINE = "perpgraph is ready"
READY_TIMEOUT_S = 90
EXIT_TIMEOUT_S = 15


HISTORY_WRITTEN = re.compile(r"history written: ([\d,]+) fills, ([\d,]+) traders")
PROGRESS_LINE = re.compile(r"^history +\d+%  up to ", re.MULTILINE)
LEADERBOARDS_LINE = re.compile(
    r"^leaderboards: DAY \d+, WEEK \d+, MONTH \d+, YEAR \d+, ALL_TIME \d+ \(in \d+\.\d s\)$"
)


# ---------------------------------------------------------------------------------------------
# helpers


def _env(scratch: Path, **settings: str) -> dict[str, str]:
    """The caller's environment without PERPGRAPH_*, plus ``settings`` (``port="1"`` sets
    PERPGRAPH_PORT=1). The data directory is always a scratch one, never the user's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERPGRAPH_")}
    env["PERPGRAPH_DATA_DIR"] = str(scratch / "data")
    env.update({f"PERPGRAPH_{name.upper()}": value for name, value in settings.items()})
    return env


def _perpgraph(
    *args: str, cwd: Path, timeout: float = 120, **settings: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        env=_env(cwd, **settings),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _output(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def _counts(url: str) -> tuple[int, int, int]:
    """(trades, traders, trader_stats rows) in the database at ``url``."""
    with psycopg.connect(url) as connection:
        row = connection.execute(
            "SELECT (SELECT count(*) FROM trade), (SELECT count(*) FROM trader), "
            "(SELECT count(*) FROM trader_stats)"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _LineReader:
    """Drains a child's pipe on a thread, keeping every line and when a wanted one arrived."""

    def __init__(self, stream: IO[str], wanted: str | None = None) -> None:
        self.lines: list[str] = []
        self.wanted = wanted
        self.seen = threading.Event()
        self.seen_at = 0.0
        self._thread = threading.Thread(target=self._drain, args=(stream,), daemon=True)
        self._thread.start()

    def _drain(self, stream: IO[str]) -> None:
        try:
            for line in stream:
                if self.wanted is not None and self.wanted in line and not self.seen.is_set():
                    self.seen_at = time.monotonic()
                    self.seen.set()
                self.lines.append(line)
        except (OSError, ValueError):  # the pipe was closed under us: the test is over
            return

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    @property
    def text(self) -> str:
        return "".join(self.lines)


@dataclass(frozen=True)
class _Simulated:
    url: str
    first: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def simulated(
    make_database: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> _Simulated:
    """A fresh database that ``perpgraph ingest simulate ... --no-live`` ran on once."""
    url = make_database.create("cli_simulate")
    first = _perpgraph(
        *("ingest", "simulate", "--traders", "20", "--days", "2", "--seed", "3", "--no-live"),
        cwd=tmp_path_factory.mktemp("cli-simulate"),
        database_url=url,
    )
    return _Simulated(url, first)


# ---------------------------------------------------------------------------------------------
# export-schema


def _committed_sdl() -> str:
    if not COMMITTED_SDL.is_file():
        pytest.fail(
            f"{COMMITTED_SDL.relative_to(REPO_ROOT)} is not committed yet: run "
            "`perpgraph export-schema -o schema/schema.graphql`, review it and commit it"
        )
    return COMMITTED_SDL.read_text(encoding="utf-8")


def test_export_schema_prints_the_committed_sdl(tmp_path: Path) -> None:
    # given: the committed schema/schema.graphql
    committed = _committed_sdl()
    # when: `perpgraph export-schema` runs
    result = _perpgraph("export-schema", cwd=tmp_path)
    # then: it prints exactly that file
    assert result.returncode == 0, _output(result)
    assert result.stdout == committed, (
        "`perpgraph export-schema` differs from schema/schema.graphql: review the change, then "
        "run `perpgraph export-schema -o schema/schema.graphql`"
    )


def test_export_schema_with_output_writes_the_file(tmp_path: Path) -> None:
    # given: the committed SDL and a target file that does not exist yet
    committed = _committed_sdl()
    target = tmp_path / "out" / "schema.graphql"
    target.parent.mkdir()
    # when: `perpgraph export-schema -o FILE` runs
    result = _perpgraph("export-schema", "-o", str(target), cwd=tmp_path)
    # then: the file holds the SDL, and stdout says where it went (and nothing else)
    assert result.returncode == 0, _output(result)
    assert target.read_text(encoding="utf-8") == committed
    assert result.stdout.strip() == f"wrote {target}"


# ---------------------------------------------------------------------------------------------
# ingest simulate and score


@pytest.mark.slow
def test_ingest_simulate_writes_history_with_progress(simulated: _Simulated) -> None:
    # given: a fresh database, and `perpgraph ingest simulate --traders 20 --days 2 --seed 3
    # --no-live` run on it (the `simulated` fixture)
    result = simulated.first

    # then: it exits 0, showing what it does and a progress line while writing
    assert result.returncode == 0, _output(result)
    assert "Traceback" not in result.stderr
    assert "simulating 20 traders, 2 days of history (seed 3)" in result.stderr
    assert PROGRESS_LINE.search(result.stderr), _output(result)
    written = HISTORY_WRITTEN.search(result.stderr)
    assert written, _output(result)
    fills = int(written.group(1).replace(",", ""))
    traders = int(written.group(2).replace(",", ""))

    # and: the database holds exactly what it reported. Traders appear with their first fill,
    # so a simulated trader who did not trade in those 2 days is not (yet) in the database.
    trades, trader_rows, stats_rows = _counts(simulated.url)
    assert fills > 0
    assert trades == fills
    assert trader_rows == traders
    assert 0 < traders <= 20
    assert stats_rows >= traders  # a row per trader and timeframe they traded in


@pytest.mark.slow
def test_ingest_simulate_again_keeps_the_history(simulated: _Simulated, tmp_path: Path) -> None:
    # given: a database that already holds simulated history
    before = _counts(simulated.url)

    # when: the same command runs again
    result = _perpgraph(
        *("ingest", "simulate", "--traders", "20", "--days", "2", "--seed", "3", "--no-live"),
        cwd=tmp_path,
        database_url=simulated.url,
    )

    # then: it exits 0, says the history was kept, and nothing was lost or written twice
    assert result.returncode == 0, _output(result)
    assert "history from an earlier run is kept" in result.stderr
    assert "history written" not in result.stderr
    assert _counts(simulated.url) == before


@pytest.mark.slow
def test_score_prints_the_board_sizes(simulated: _Simulated, tmp_path: Path) -> None:
    # given: a database with simulated history
    _, traders, _ = _counts(simulated.url)
    # when: `perpgraph score` runs
    result = _perpgraph("score", cwd=tmp_path, database_url=simulated.url)
    # then: it exits 0 and prints one line with every board's size
    assert result.returncode == 0, _output(result)
    boards = [line for line in result.stderr.splitlines() if line.startswith("leaderboards:")]
    assert len(boards) == 1, _output(result)
    assert LEADERBOARDS_LINE.match(boards[0]), boards[0]
    assert f"ALL_TIME {traders}" in boards[0]


def test_ingest_replay_reports_every_shape(empty_url: str, tmp_path: Path) -> None:
    # given: the 08c14b fills, its account snapshot and the markets, as recorded
    data = REPO_ROOT.parent / "shared" / "data" / "hyperliquid"
    files = [
        data / "user_fills_by_time_08c14b_2026-09-25_to_2026-10-02.json",
        data / "clearinghouse_state_08c14b_2026-10-02.json",
        data / "meta_and_asset_ctxs_2026-02-06.json",
    ]
    if not all(f.is_file() for f in files):
        pytest.fail(f"recorded venue data missing under {data}")
    user = "0x08c14b32c8a48894e4b933090ebcc9ce33b21135"
    # when: `perpgraph ingest replay` runs
    result = _perpgraph(
        "ingest", "replay", *map(str, files), "--user", user, cwd=tmp_path, database_url=empty_url
    )
    # then: one line per file, in the order applied
    assert result.returncode == 0, _output(result)
    lines = result.stderr.splitlines()
    assert "meta_and_asset_ctxs_2026-02-06.json: 228 markets" in lines, _output(result)
    assert any(
        "962 fills, 962 written" in line and "closedPnl on 400 of 400" in line for line in lines
    ), _output(result)
    assert any(
        "8 positions bootstrapped" in line and "2 entries corrected" in line for line in lines
    ), _output(result)


# ---------------------------------------------------------------------------------------------
# mistakes a user makes


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["ingest", "simulate", "--traders", "0"], "'--traders'"),
        (["ingest", "simulate", "--traders", "abc"], "'--traders'"),
        (["ingest", "simulate", "--days", "-1"], "'--days'"),
        (["demo", "--port", "70000"], "'--port'"),
        (["frobnicate"], "'frobnicate'"),
        (["ingest", "hyperliquid", "--since", "last tuesday"], "'--since'"),
        (["ingest", "hyperliquid", "--api-url", "ftp://api.example"], "'--api-url'"),
        (["ingest", "hyperliquid", "--ws-url", "https://api.hyperliquid.xyz/ws"], "'--ws-url'"),
        (["ingest", "hyperliquid", "--marks-interval", "0"], "'--marks-interval'"),
    ],
    ids=[
        "traders-zero",
        "traders-not-a-number",
        "days-negative",
        "port-too-big",
        "no-command",
        "since-not-a-date",
        "api-url-not-http",
        "ws-url-not-ws",
        "marks-interval-zero",
    ],
)
def test_bad_option_is_named_without_a_traceback(
    args: list[str], named: str, tmp_path: Path
) -> None:
    # given: a bad command line (and a database that would fail fast, were it ever reached)
    # when: perpgraph runs with it
    result = _perpgraph(*args, cwd=tmp_path, database_url=UNREACHABLE_URL)
    # then: a usage error (exit 2) that names the culprit, and no traceback
    assert result.returncode == 2, _output(result)
    assert named in result.stderr, _output(result)
    assert "Traceback" not in result.stdout + result.stderr
    assert "cannot reach the database" not in result.stderr  # refused before doing anything


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("port", "notaport"),
        ("scoring_partitions", "0"),
        ("scoring_partitions", "many"),
        ("leaderboard_long_refresh_seconds", "-60"),
    ],
    ids=["port-not-a-number", "no-partitions", "partitions-not-a-number", "negative-interval"],
)
def test_invalid_setting_from_the_environment_exits_2(
    tmp_path: Path, setting: str, value: str
) -> None:
    # given: a PERPGRAPH_* setting out of its range or not a number
    # when: `perpgraph score` runs
    settings = {setting: value, "database_url": UNREACHABLE_URL}
    result = _perpgraph("score", cwd=tmp_path, timeout=120, **settings)
    # then: exit 2, "invalid settings" naming the setting, no traceback
    assert result.returncode == 2, _output(result)
    assert "invalid settings" in result.stderr
    assert setting in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "args",
    [["score"], ["db", "upgrade"], ["ingest", "simulate", "--no-live"]],
    ids=["score", "db-upgrade", "ingest-simulate"],
)
def test_unreachable_database_exits_1_with_one_clear_line(args: list[str], tmp_path: Path) -> None:
    # given: PERPGRAPH_DATABASE_URL pointing where no server listens
    # when: a command that needs the database runs
    result = _perpgraph(*args, cwd=tmp_path, database_url=UNREACHABLE_URL)
    # then: exit 1, "cannot reach the database" with the driver's reason, no traceback
    assert result.returncode == 1, _output(result)
    assert "error: cannot reach the database" in result.stderr
    assert "Connection refused" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "sqlalche.me" not in result.stderr


# ---------------------------------------------------------------------------------------------
# demo, end to end


@pytest.fixture
def demo_url(make_database: DatabaseFactory) -> str:
    return make_database.create("cli_demo")


@pytest.fixture
def demo_process(demo_url: str, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """`perpgraph demo --traders 40 --days 2 --port PORT` on a fresh database; killed if a test
    leaves it running."""
    port = _free_port()
    with subprocess.Popen(
        [*CLI, "demo", "--traders", "40", "--days", "2", "--port", str(port)],
        env=_env(tmp_path, database_url=demo_url),
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:  # closes the pipes on the way out
        try:
            yield process, port
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(10)


@pytest.mark.slow
def test_demo_serves_the_leaderboard_page_as_soon_as_it_says_ready(
    demo_process: tuple[subprocess.Popen[str], int],
    capsys: pytest.CaptureFixture[str],
    record_property: Callable[[str, object], None],
) -> None:
    # given: `perpgraph demo` starting on a fresh database
    process, port = demo_process
    assert process.stdout is not None
    assert process.stderr is not None
    stderr = _LineReader(process.stderr, READY_LINE)
    stdout = _LineReader(process.stdout)

    # when: it says it is ready
    if not stderr.seen.wait(READY_TIMEOUT_S):
        process.kill()
        stderr.join(5)
        pytest.fail(f"no {READY_LINE!r} within {READY_TIMEOUT_S} s:\n{stderr.text}")
    endpoint = f"http://127.0.0.1:{port}/graphql"
    assert endpoint in next(line for line in stderr.lines if READY_LINE in line)

    # then: the LeaderboardPage query, sent within 1 s, is answered in full
    with httpx.Client(timeout=10) as client:
        sent_after = time.monotonic() - stderr.seen_at
        response = client.post(
            endpoint, json={"query": LEADERBOARD_PAGE, "variables": {"first": 100}}
        )
        answered_after = time.monotonic() - stderr.seen_at
        assert sent_after < 1.0
        record_property("ready_to_first_answer_s", round(answered_after, 3))
        with capsys.disabled():
            print(f"\n[demo] ready -> first LeaderboardPage answer: {answered_after * 1000:.0f} ms")

        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body.get("errors")
        board = body["data"]["leaderboard"]
        edges = board["edges"]
        assert edges, "the demo's WEEK leaderboard is empty"
        assert board["totalCount"] == len(edges)  # 40 traders fit on one page
        assert board["pageInfo"]["hasNextPage"] is False
        assert [edge["node"]["rank"] for edge in edges] == list(range(1, len(edges) + 1))
        traders = [edge["node"]["trader"] for edge in edges]
        assert all(isinstance(trader["positions"], list) for trader in traders)
        assert any(trader["positions"] for trader in traders), "no open position on the board"
        assert all(trader["trades"]["nodes"] for trader in traders), "a ranked trader has no trade"
        position = next(p for trader in traders for p in trader["positions"])
        assert position["side"] in {"LONG", "SHORT"}
        assert float(position["size"]) > 0

        # and: a browser asking for HTML gets GraphiQL
        page = client.get(endpoint, headers={"Accept": "text/html"})
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert f"<title>{PAGE_TITLE}</title>" in page.text

    # when: the user presses Ctrl-C
    process.send_signal(signal.SIGINT)

    # then: it stops cleanly, exit 0, no traceback
    try:
        returncode = process.wait(EXIT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"demo still running {EXIT_TIMEOUT_S} s after SIGINT:\n{stderr.text}")
    stderr.join(5)
    stdout.join(5)
    assert returncode == 0, f"exit {returncode}\n{stdout.text}\n{stderr.text}"
    assert "Traceback" not in stderr.text + stdout.text


# ---------------------------------------------------------------------------------------------
# serve with several worker processes


def test_serve_with_two_workers_answers_from_both_and_stops_on_ctrl_c(
    seeded_url: str, tmp_path: Path
) -> None:
    # given: `perpgraph serve --workers 2` (access control off: this is about processes)
    port = _free_port()
    with subprocess.Popen(
        [*CLI, "serve", "--workers", "2", "--port", str(port)],
        env=_env(tmp_path, database_url=seeded_url, access_control="false"),
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            # when: it is up
            deadline = time.monotonic() + READY_TIMEOUT_S
            with httpx.Client(timeout=10) as client:
                while time.monotonic() < deadline:
                    try:
                        if client.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                            break
                    except httpx.HTTPError:
                        time.sleep(0.2)
                # then: two gateway processes share the port and answer the graph
                workers = subprocess.run(
                    ["pgrep", "-P", str(process.pid)], capture_output=True, text=True, check=False
                ).stdout.split()
                answers = [
                    client.post(
                        f"http://127.0.0.1:{port}/graphql",
                        json={"query": LEADERBOARD_PAGE, "variables": {"first": 5}},
                    )
                    for _ in range(6)
                ]
            assert all(a.status_code == 200 and "errors" not in a.json() for a in answers)
            assert len({a.content for a in answers}) == 1
            assert len(workers) >= 2
            # and Ctrl-C stops them all
            process.send_signal(signal.SIGINT)
            process.wait(EXIT_TIMEOUT_S)
            deadline = time.monotonic() + EXIT_TIMEOUT_S
            while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in workers):
                time.sleep(0.1)
            assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(10)
