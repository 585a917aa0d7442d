"""The embedded store: one SQLite file in WAL mode, shared by the API process and its workers.

Each thread gets its own connection (reads never wait on writes in WAL mode). Every write is
one statement or one ``BEGIN IMMEDIATE`` transaction, so the API and worker processes never
interleave half-done changes. A write that finds the disk full raises ``StorageError``
(``storage_error``), naming the folder and its free space.

The logic is `SQLTaskStore`'s, the statements `store/sql`'s; this module holds the connections.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from vidtask.core import errors
from vidtask.store import migrate, sql, tasks
from vidtask.store.base import TaskFilter
from vidtask.store.connector import Params

__all__ = ["SQLiteConnector", "SQLiteSession", "SQLiteStore"]


class SQLiteSession:
    """Statements on one connection (the `Session` of `store.connector`)."""

    __slots__ = ("raw",)

    def __init__(self, raw: sqlite3.Connection) -> None:
        self.raw = raw

    def __enter__(self) -> SQLiteSession:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def one(self, sql: str, params: Params) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.raw.execute(sql, params).fetchone()
        return row

    def all(self, sql: str, params: Params) -> list[sqlite3.Row]:
        return self.raw.execute(sql, params).fetchall()

    def run(self, sql: str, params: Params) -> int:
        return self.raw.execute(sql, params).rowcount

    def run_many(self, sql: str, params: Sequence[Params]) -> None:
        self.raw.executemany(sql, params)


class SQLiteConnector:
    """This thread's connection to one SQLite file (the `Connector` of `store.connector`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.queries = sql.queries("sqlite")
        self._local = threading.local()

    def connect(self) -> sqlite3.Connection:
        """This thread's connection (autocommit: each statement is its own transaction)."""
        return self.read().raw

    def read(self) -> SQLiteSession:
        session: SQLiteSession | None = getattr(self._local, "session", None)
        if session is None:
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            session = self._local.session = SQLiteSession(conn)
        return session

    @contextmanager
    def write(self) -> Iterator[SQLiteSession]:
        """A write transaction (``BEGIN IMMEDIATE``)."""
        session = self.read()
        conn = session.raw
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield session
                conn.execute("COMMIT")
            except BaseException:
                # SQLite may have rolled back already (SQLITE_FULL does); a failed COMMIT
                # must not leave the transaction open on this thread's connection.
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_FULL:
                raise
            folder = self.path.parent
            raise errors.no_space(str(folder), shutil.disk_usage(folder).free) from exc

    def transaction(self, *, versioned: bool = False) -> AbstractContextManager[SQLiteSession]:
        """``BEGIN IMMEDIATE`` (the write lock orders task versions too)."""
        return self.write()

    def json(self, value: Any, *, compact: bool = False) -> str:
        if compact:
            return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        return json.dumps(value)

    def array(self, values: Sequence[Any]) -> str:
        return json.dumps(list(values))

    def load(self, raw: Any) -> Any:
        return json.loads(raw)

    def close(self) -> None:
        session: SQLiteSession | None = getattr(self._local, "session", None)
        if session is not None:
            session.raw.close()
            self._local.session = None


class SQLiteStore(tasks.SQLTaskStore[SQLiteConnector]):
    def __init__(self, path: Path, *, migrate_schema: bool = True) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        if migrate_schema:
            migrate.upgrade(f"sqlite:///{path}")
        super().__init__(SQLiteConnector(path))
        self.db.connect()  # fail fast on an unreadable file

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (autocommit: each statement is its own transaction)."""
        return self.db.connect()

    _conn = connection  # the name tests and bench/status_get.py know

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE``)."""
        with self.db.write() as session:
            yield session.raw


def _filter(owner: str, query: TaskFilter) -> tuple[list[str], dict[str, Any]]:
    """The WHERE terms and parameters of a task query (without its paging)."""
    return tasks.task_filter(sql.queries("sqlite"), owner, query)
