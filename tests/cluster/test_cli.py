"""`vidtask db upgrade`, `vidtask doctor` and `vidtask worker`'s refusals, as a user runs them."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.postgres import SERVER, url_for


@pytest.fixture
def empty_database(pg_database: str) -> Iterator[str]:
    """A database with no schema at all (pg_database makes sure the server is there)."""
    name = f"vidtask_empty_{secrets.token_hex(4)}"
    with psycopg.connect(SERVER, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
        try:
            yield url_for(name)
        finally:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def vidtask(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "VIDTASK_DATABASE_URL": url,
        "VIDTASK_DATA_DIR": str(tmp_path / "data"),
        "COLUMNS": "200",
    }
    return subprocess.run(
        [sys.executable, "-m", "vidtask", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_doctor_names_missing_migrations_until_db_upgrade(
    tmp_path: Path, empty_database: str
) -> None:
    before = vidtask(tmp_path, empty_database, "doctor")
    assert before.returncode == 1
    assert "procrastinate schema, 0001_initial" in before.stdout
    assert "vidtask db upgrade" in before.stdout

    refused = vidtask(tmp_path, empty_database, "worker")
    assert refused.returncode == 1 and "run `vidtask db upgrade`" in refused.stderr

    upgraded = vidtask(tmp_path, empty_database, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert "migration(s) applied" in upgraded.stdout
    again = vidtask(tmp_path, empty_database, "db", "upgrade")
    assert "0 migration(s) applied" in again.stdout

    after = vidtask(tmp_path, empty_database, "doctor")
    assert after.returncode == 0, after.stdout
    assert "up to date" in after.stdout
    assert "0 alive" in after.stdout and "vidtask worker" in after.stdout  # a warning only
    for check in ("ffmpeg", "font (Chinese)", "storage (artifacts)", "disk space"):
        assert check in after.stdout


def test_doctor_says_when_postgres_is_unreachable(tmp_path: Path) -> None:
    result = vidtask(tmp_path, "postgresql://nobody@127.0.0.1:1/none", "doctor")
    assert result.returncode == 1
    assert "cannot connect to PostgreSQL" in result.stdout


def test_worker_refuses_sqlite_and_unknown_models(tmp_path: Path, pg_url: str) -> None:
    sqlite = vidtask(tmp_path, f"sqlite:///{tmp_path / 'v.db'}", "worker")
    assert sqlite.returncode == 1 and "postgresql://" in sqlite.stderr
    unknown = vidtask(tmp_path, pg_url, "worker", "--models", "timeline,sora-9")
    assert unknown.returncode == 1 and "unknown model(s) sora-9" in unknown.stderr


def test_keys_live_in_postgres(tmp_path: Path, pg_url: str) -> None:
    created = vidtask(tmp_path, pg_url, "keys", "create", "ci")
    assert created.returncode == 0, created.stderr
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT name FROM api_keys").fetchall() == [("ci",)]
