"""The stores' SQL: every statement once, as a named block, loaded once per engine.

``queries.sql`` holds the statements both engines run as written; ``sqlite.sql`` and
``postgres.sql`` hold only what one engine needs otherwise (``FOR UPDATE SKIP LOCKED``, JSON
operators, the event-log lock) or alone. A block starts with ``-- name: <name>``; the comment
lines under it describe it. An engine's blocks are its own file's, then the shared file's.

In a block:

- ``:name`` is a parameter (SQLite's own style; PostgreSQL's ``%(name)s`` is made from it);
- ``{name}`` stands for the engine's block ``name`` (a fragment shared by several statements),
  or for a condition on the task's ``status`` from ``core.task``: ``{can_<move>}`` holds for
  the ``sources`` of that move of ``MOVES``, ``{leased}`` for ``LEASED`` and ``{terminal}`` for
  ``TERMINAL``. The state machine's guards are thus rendered from the rules there, as literals
  (``status = 'queued'``, ``status IN ('queued', 'in_progress')``) so that the partial indexes
  on the same terms still apply: SQLite matches an index's ``WHERE`` term for term.

Fragments are what keep the engines from writing a statement twice: where they differ inside a
statement (``SKIP LOCKED``, ``json_each`` against ``= ANY``), the override is that fragment, a
few words, and the statement around it stays shared. Parameters stay ``:name`` until a statement
runs, so the list filters that `SQLTaskStore` composes at run time use the same style.

Named SQL and not an ORM or SQLAlchemy Core: the statements are hand-tuned per engine (partial
indexes, ``SKIP LOCKED``, the event-log lock) and stay readable as they run; procrastinate keeps
its SQL the same way; and the hot read path gets no query-building layer.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping, Sequence
from importlib import resources
from typing import Any, Literal

from vidtask.core import task as task_module

__all__ = ["Engine", "Queries", "parse", "queries", "to_pyformat"]

Engine = Literal["sqlite", "postgres"]

_HEADER = re.compile(r"^-- name: (\w+)[ \t]*$", re.MULTILINE)
_QUOTED = re.compile(r"('(?:[^']|'')*')")
_REFERENCE = re.compile(r"\{(\w+)\}")
_PARAMETER = re.compile(r"(?<![:\w]):(\w+)")


def parse(text: str) -> dict[str, str]:
    """The blocks of one file, by name, without their comment lines."""
    parts = _HEADER.split(text)
    blocks: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in blocks:
            raise ValueError(f"SQL block {name!r} is defined twice")
        lines = [line.rstrip() for line in body.splitlines()]
        sql = "\n".join(line for line in lines if line and not line.lstrip().startswith("--"))
        blocks[name] = sql.rstrip(";")
    return blocks


class Queries(Mapping[str, str]):
    """One engine's statements by name, with fragments and status tuples filled in. They keep
    the ``:name`` parameter style; PostgreSQL's connector turns them into its own as it runs
    them (`to_pyformat`)."""

    def __init__(self, engine: Engine, blocks: Mapping[str, str]) -> None:
        self.engine = engine
        self._blocks = dict(blocks)
        self._done: dict[str, str] = {}
        for name in self._blocks:
            self._render(name, ())

    def __getitem__(self, name: str) -> str:
        return self._done[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._done)

    def __len__(self) -> int:
        return len(self._done)

    def any_of(self, column: str, name: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
        """The term "``column`` is one of ``values``" and its parameters. SQLite gets one
        parameter per value: its planner makes ``IN (:a)`` an ``=``, which an index can serve
        in order. PostgreSQL gets one array."""
        if self.engine == "postgres":
            return f"{column} = ANY(:{name})", {name: list(values)}
        names = [f"{name}_{i}" for i in range(len(values))]
        marks = ", ".join(f":{n}" for n in names)
        return f"{column} IN ({marks})", dict(zip(names, values, strict=True))

    def _render(self, name: str, seen: tuple[str, ...]) -> str:
        done = self._done.get(name)
        if done is not None:
            return done
        if name in seen:
            raise ValueError(f"SQL block {name!r} includes itself: {' > '.join(seen)}")

        def fill(match: re.Match[str]) -> str:
            reference = match[1]
            if reference in _STATUSES:
                return _STATUSES[reference]
            if reference not in self._blocks:
                raise KeyError(f"SQL block {name!r} names an unknown {{{reference}}}")
            return self._render(reference, (*seen, name))

        pieces = _QUOTED.split(self._blocks[name])
        pieces[::2] = [_REFERENCE.sub(fill, piece) for piece in pieces[::2]]
        self._done[name] = "".join(pieces)
        return self._done[name]


@functools.cache
def queries(engine: Engine) -> Queries:
    """The statements of one engine (read once per process)."""
    folder = resources.files(__name__)
    blocks = parse(folder.joinpath("queries.sql").read_text(encoding="utf-8"))
    blocks.update(parse(folder.joinpath(f"{engine}.sql").read_text(encoding="utf-8")))
    return Queries(engine, blocks)


def to_pyformat(sql: str) -> str:
    """``:name`` parameters as psycopg's ``%(name)s`` (and a literal ``%`` doubled). Quoted
    text and ``::`` casts are left alone."""
    pieces = _QUOTED.split(sql.replace("%", "%%"))
    pieces[::2] = [_PARAMETER.sub(r"%(\1)s", piece) for piece in pieces[::2]]
    return "".join(pieces)


def _condition(statuses: frozenset[task_module.Status]) -> str:
    """``status`` is one of ``statuses`` (listed in the order of ``Status``, as the partial
    indexes list them)."""
    values = [f"'{s.value}'" for s in task_module.Status if s in statuses]
    if len(values) == 1:
        return f"status = {values[0]}"
    return f"status IN ({', '.join(values)})"


_STATUSES = {
    **{f"can_{name}": _condition(move.sources) for name, move in task_module.MOVES.items()},
    "leased": _condition(task_module.LEASED),
    "terminal": _condition(task_module.TERMINAL),
}
