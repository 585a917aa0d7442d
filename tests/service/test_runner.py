"""The loop/thread boundary is decided once per store engine: on SQLite a read runs on the event
loop and a write in a worker thread; on PostgreSQL both run in a worker thread."""

from __future__ import annotations

import threading
from pathlib import Path

import anyio

from vidtask.service import runner
from vidtask.settings import Settings


def where() -> str:
    return threading.current_thread().name


async def threads(policy: runner.Runner) -> tuple[str, str, str]:
    return where(), await policy.read(where), await policy.write(where)


def engine(tmp_path: Path, database_url: str | None = None) -> runner.Runner:
    return runner.for_settings(Settings(data_dir=tmp_path, database_url=database_url))


def test_sqlite_reads_on_the_loop_and_writes_in_a_worker_thread(tmp_path: Path) -> None:
    loop, read, write = anyio.run(threads, engine(tmp_path))
    assert read == loop
    assert write != loop


def test_postgres_never_blocks_the_loop(tmp_path: Path) -> None:
    postgres = engine(tmp_path, "postgresql://localhost/test")
    loop, read, write = anyio.run(threads, postgres)
    assert read != loop and write != loop
    assert postgres.threads == runner.POSTGRES_THREADS


def test_arguments_pass_through(tmp_path: Path) -> None:
    sqlite, postgres = engine(tmp_path), engine(tmp_path, "postgresql://localhost/test")

    async def main() -> tuple[str, str]:
        joined = await sqlite.read("-".join, ["a", "b"])
        keyed = await postgres.write(dict, a="1")
        return joined, keyed["a"]

    assert anyio.run(main) == ("a-b", "1")
