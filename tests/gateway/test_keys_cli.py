"""``perpgraph keys``: create prints the key once, list shows it without the secret, revoke
makes it unusable, and mistakes are one clear line."""

from __future__ import annotations

import subprocess
from pathlib import Path

import psycopg

from gateway.keys import KEY_PATTERN, key_digest
from tests.conftest import DatabaseFactory
from tests.gateway.test_cli import _output, _perpgraph


def test_create_list_revoke(make_database: DatabaseFactory, tmp_path: Path) -> None:
    url = make_database.create("keys_cli")
    # given a key made for a new account
    created = _perpgraph(
        "keys",
        "create",
        "--account",
        "acme",
        "--plan",
        "pro",
        "--expires-in",
        "30d",
        cwd=tmp_path,
        database_url=url,
    )
    assert created.returncode == 0, _output(created)
    key = created.stdout.strip()
    assert KEY_PATTERN.fullmatch(key), created.stdout
    assert "PRO" in created.stderr
    assert "not shown again" in created.stderr
    # then only its hash and prefix are stored
    with psycopg.connect(url) as connection:
        stored = connection.execute(
            "SELECT prefix, key_sha256, a.plan, a.access_until IS NOT NULL"
            " FROM api_key JOIN account AS a ON a.id = account_id"
        ).fetchall()
    assert stored == [(key[:17], key_digest(key), "PRO", True)]
    # when listed
    listed = _perpgraph("keys", "list", cwd=tmp_path, database_url=url)
    assert listed.returncode == 0, _output(listed)
    assert key[:17] in listed.stdout
    assert key not in listed.stdout
    assert "acme" in listed.stdout
    # when revoked
    revoked = _perpgraph("keys", "revoke", key[:17], cwd=tmp_path, database_url=url)
    assert revoked.returncode == 0, _output(revoked)
    with psycopg.connect(url) as connection:
        row = connection.execute("SELECT revoked_at IS NOT NULL FROM api_key").fetchone()
    assert row == (True,)
    # and revoking again says there is no such active key
    again = _perpgraph("keys", "revoke", key[:17], cwd=tmp_path, database_url=url)
    assert again.returncode == 1
    assert "no active key" in again.stderr


def test_mistakes_are_one_clear_line(make_database: DatabaseFactory, tmp_path: Path) -> None:
    url = make_database.create("keys_cli_errors")
    cases: list[tuple[list[str], str]] = [
        (["keys", "create", "--account", "a", "--plan", "GOLD"], "unknown plan"),
        (["keys", "create", "--account", "a", "--expires-in", "soon"], "not a duration"),
        (["keys", "revoke", "pgk_"], "whole prefix"),
    ]
    for args, message in cases:
        result: subprocess.CompletedProcess[str] = _perpgraph(*args, cwd=tmp_path, database_url=url)
        assert result.returncode == 1, _output(result)
        assert message in result.stderr, _output(result)
        assert "Traceback" not in result.stderr
