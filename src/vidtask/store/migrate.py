"""Apply the numbered SQL migrations with yoyo (it records them and takes a lock)."""

from __future__ import annotations

from pathlib import Path

import yoyo

__all__ = ["MIGRATIONS_DIR", "upgrade"]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def upgrade(database_url: str) -> int:
    """Apply pending migrations; return how many were applied."""
    backend = yoyo.get_backend(database_url)
    migrations = yoyo.read_migrations(str(MIGRATIONS_DIR))
    with backend.lock():
        pending = backend.to_apply(migrations)
        backend.apply_migrations(pending)
    return len(pending)
