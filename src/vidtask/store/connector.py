"""The seam between the stores and a database engine: a `Connector` runs the named statements of
`vidtask.store.sql` on its connections. The task, webhook and draft stores are written once over
it; `store/sqlite.py` and `store/postgres.py` each hold one connector.

A statement runs in a `Session`, one connection for a few statements, of three kinds:

- `Connector.read`: reads (SQLite: this thread's connection; PostgreSQL: a pooled one);
- `Connector.write`: a single-statement write (SQLite: in ``BEGIN IMMEDIATE``, so its busy
  handler waits for the lock instead of failing; PostgreSQL: autocommit);
- `Connector.transaction`: several statements at once; a ``versioned`` one writes task versions
  (PostgreSQL takes the event-log lock first; SQLite's write lock already orders them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from vidtask.store import sql
from vidtask.store.rows import Row

__all__ = ["Connector", "Params", "Session"]

#: A statement's parameters, by name.
Params = Mapping[str, Any]


class Session(Protocol):
    #: The driver's connection (``sqlite3.Connection``, ``psycopg.Connection``).
    raw: Any

    def one(self, sql: str, params: Params) -> Row | None:
        """The first row of a statement, or None."""
        ...

    def all(self, sql: str, params: Params) -> Sequence[Row]: ...

    def run(self, sql: str, params: Params) -> int:
        """Run a statement; the number of rows it changed."""
        ...

    def run_many(self, sql: str, params: Sequence[Params]) -> None: ...


class Connector(Protocol):
    #: The engine's statements.
    queries: sql.Queries

    def read(self) -> AbstractContextManager[Session]: ...

    def write(self) -> AbstractContextManager[Session]: ...

    def transaction(self, *, versioned: bool = False) -> AbstractContextManager[Session]: ...

    def json(self, value: Any, *, compact: bool = False) -> Any:
        """``value`` as a JSON column's parameter (``compact``: no spaces, no ``\\u`` escapes,
        where the engine stores text)."""
        ...

    def array(self, values: Sequence[Any]) -> Any:
        """``values`` as one parameter (a JSON array on SQLite, read with ``json_each``)."""
        ...

    def load(self, raw: Any) -> Any:
        """A JSON column's value as read."""
        ...

    def close(self) -> None: ...
