"""Apply the numbered SQL migrations with yoyo (it records them and takes a lock).

SQLite and PostgreSQL have their own folders (``migrations``, ``pg_migrations``). On PostgreSQL
Procrastinate's schema is installed first, under an advisory lock, when it is missing.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import yoyo

__all__ = ["MIGRATIONS_DIR", "PG_MIGRATIONS_DIR", "is_postgres", "pending", "upgrade"]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
PG_MIGRATIONS_DIR = Path(__file__).with_name("pg_migrations")

_SCHEMA_LOCK = 7146235002


def is_postgres(database_url: str) -> bool:
    return database_url.startswith(("postgresql://", "postgres://"))


def upgrade(database_url: str) -> int:
    """Apply pending migrations; return how many were applied."""
    if is_postgres(database_url):
        _install_procrastinate(database_url)
    backend, migrations = _yoyo(database_url)
    try:
        with backend.lock():
            todo = backend.to_apply(migrations)
            backend.apply_migrations(todo)
    finally:
        backend.connection.close()
    return len(todo)


def pending(database_url: str) -> list[str]:
    """The ids of the migrations not applied yet (Procrastinate's schema counts as one)."""
    missing = []
    if is_postgres(database_url):
        with psycopg.connect(database_url, connect_timeout=5) as conn:
            if not _procrastinate_present(conn):
                missing.append("procrastinate schema")
    backend, migrations = _yoyo(database_url)
    try:
        return missing + [m.id for m in backend.to_apply(migrations)]
    finally:
        backend.connection.close()


def _yoyo(database_url: str) -> tuple[yoyo.backends.DatabaseBackend, yoyo.migrations.MigrationList]:
    if is_postgres(database_url):
        scheme, rest = database_url.split("://", 1)
        backend = yoyo.get_backend("postgresql+psycopg://" + rest)
        folder = PG_MIGRATIONS_DIR
    else:
        backend = yoyo.get_backend(database_url)
        folder = MIGRATIONS_DIR
    return backend, yoyo.read_migrations(str(folder))


def _procrastinate_present(conn: psycopg.Connection[tuple[object, ...]]) -> bool:
    row = conn.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL").fetchone()
    return bool(row and row[0])


def _install_procrastinate(database_url: str) -> None:
    from procrastinate.schema import SchemaManager  # only the cluster needs it

    with psycopg.connect(database_url, autocommit=True, connect_timeout=10) as conn:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            if not _procrastinate_present(conn):
                conn.execute(SchemaManager.get_schema())
