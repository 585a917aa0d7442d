"""The real PostgreSQL server tests run against (``VIDTASK_TEST_POSTGRES``, default the CI
service on 127.0.0.1:5432). Each test session gets its own database, dropped at the end; each
test starts from empty tables. Under ``CI=true`` a missing server fails the run."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from vidtask.store import migrate
from vidtask.store.base import TaskStore
from vidtask.store.postgres import PostgresStore
from vidtask.store.sqlite import SQLiteStore

SERVER = os.environ.get("VIDTASK_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")

TABLES = (
    "tasks, task_events, drafts, api_keys, webhook_endpoints, webhook_deliveries, webhook_attempts,"
    " cursors, procrastinate_jobs, procrastinate_events, procrastinate_workers,"
    " procrastinate_periodic_defers"
)


def url_for(database: str) -> str:
    base, _, _ = SERVER.rpartition("/")
    return f"{base}/{database}"


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    try:
        admin = psycopg.connect(SERVER, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI=true: {exc}")
        pytest.skip(f"no PostgreSQL at {SERVER}: {exc}")
    name = f"vidtask_test_{secrets.token_hex(4)}"
    with admin:
        admin.execute(f"CREATE DATABASE {name}")
        url = url_for(name)
        try:
            migrate.upgrade(url)
            yield url
        finally:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def pg_url(pg_database: str) -> str:
    """The session database, emptied."""
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")
    return pg_database


@pytest.fixture(params=["sqlite", "postgres"])
def each_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TaskStore]:
    """The same test against a real SQLite file and a real PostgreSQL database."""
    opened: TaskStore
    if request.param == "sqlite":
        opened = SQLiteStore(tmp_path / "vidtask.db")
    else:
        opened = PostgresStore(request.getfixturevalue("pg_url"))
    yield opened
    opened.close()
