"""The loop/thread boundary is decided once per store engine: on SQLite a read runs on the event
loop and a write in a worker thread; on PostgreSQL both run in a worker thread, except the task
read of a serving process, awaited over an async pool."""

from __future__ import annotations

import asyncio
import functools
import threading
from pathlib import Path

import anyio

from vidtask.core.task import Task, TaskSpec
from vidtask.service import runner
from vidtask.settings import Settings
from vidtask.store.postgres import PostgresStore


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


def test_postgres_task_reads_await_the_database_on_the_loop(tmp_path: Path, pg_url: str) -> None:
    """The status GET's read: awaited over the async pool while the app serves (no thread),
    the same answers as the store's; a thread again once it stopped."""
    store = PostgresStore(pg_url)
    task, _ = store.create(Task.create(TaskSpec("timeline", {}), owner="key_a", now=1.0))
    policy = runner.for_settings(Settings(data_dir=tmp_path, database_url=pg_url), store)
    seen: list[str] = []

    def get(task_id: str, owner: str | None) -> Task | None:
        seen.append(where())
        return store.get(task_id, owner)

    async def read(task_id: str, owner: str | None) -> Task | None:
        return await policy.task(task_id, owner, functools.partial(get, task_id, owner))

    async def main() -> list[Task | None]:
        async with policy.serving():
            found = [
                await read(task.id, "key_a"),
                await read(task.id, "key_b"),
                await read("vt_unknown", None),
            ]
            # Reads asked for together are read in one statement, each with its own answer.
            together = await asyncio.gather(
                *(read(i, o) for i in (task.id, "vt_unknown") for o in ("key_a", None))
            )
            assert together == [task, task, None, None]
        found.append(await read(task.id, "key_a"))
        return found

    try:
        for _ in range(2):  # a closed pool is not reopened: each serving opens its own
            seen.clear()
            mine, others, unknown, after = anyio.run(main)
            assert mine == task and after == task
            assert others is None and unknown is None
            assert len(seen) == 1 and seen[0] != threading.main_thread().name
    finally:
        store.close()
