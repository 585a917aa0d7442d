"""A worker whose database goes away: its progress, heartbeat and finish writes are retried,
never counted as a render failure; a lease lost meanwhile hands the task to the normal requeue
path. A full disk fails the task with ``storage_error`` and frees the attempt's files."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg_pool import PoolTimeout

from vidtask.backends.base import RunContext, RunResult
from vidtask.core import errors
from vidtask.core.task import Status, Task, TaskSpec
from vidtask.dispatch.worker import Worker
from vidtask.storage.local import LocalArtifacts
from vidtask.store.base import TaskStore
from vidtask.store.sqlite import SQLiteStore

#: Flaky's marker for "the write commits, then the connection drops before the answer".
COMMITTED_THEN_LOST = "committed-then-lost"


class Flaky:
    """A real SQLite store whose methods fail on demand: ``fail[name]`` lists what the next
    calls raise (or ``COMMITTED_THEN_LOST``); while ``down`` is set every write raises."""

    WRITES = frozenset({"claim", "report", "heartbeat", "finish", "release"})

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store
        self.fail: dict[str, list[BaseException | str]] = {}
        self.down = threading.Event()
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        real = getattr(self.store, name)
        if not callable(real) or name not in self.WRITES | {"get"}:
            return real

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            if self.down.is_set() and name in self.WRITES:
                raise psycopg.OperationalError("server closed the connection unexpectedly")
            planned = self.fail.get(name)
            if planned:
                failure = planned.pop(0)
                if failure == COMMITTED_THEN_LOST:
                    real(*args, **kwargs)
                    raise psycopg.OperationalError("consuming input failed: EOF")
                assert isinstance(failure, BaseException)
                raise failure
            return real(*args, **kwargs)

        return call


class Backend:
    name = "timeline"
    description = "test"

    def __init__(self, during: Callable[[RunContext], None] = lambda ctx: None) -> None:
        self.during = during
        self.runs = 0
        self.crashed: BaseException | None = None

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        return data

    def input_schema(self) -> dict[str, Any]:
        return {}

    def run(self, data: dict[str, Any], ctx: RunContext) -> RunResult:
        self.runs += 1
        try:
            ctx.reporter.stage("rendering")
            preview = ctx.workdir / "preview_1.jpg"
            preview.write_bytes(b"jpeg")
            ctx.reporter.preview(preview)
            for percent in range(0, 101, 10):
                ctx.reporter.progress(percent)
            self.during(ctx)
            ctx.reporter.progress(100)
        except BaseException as exc:
            self.crashed = exc
            raise
        video = ctx.workdir / "video.mp4"
        video.write_bytes(b"not really a video")
        return RunResult(video=video, format="mp4", metadata={}, previews=[preview])


def make(
    tmp_path: Path, backend: Backend, **worker_args: Any
) -> tuple[SQLiteStore, Flaky, Worker, Task]:
    real = SQLiteStore(tmp_path / "db.sqlite")
    flaky = Flaky(real)
    task, _ = real.create(Task.create(TaskSpec("timeline", {}), owner="o", now=time.time()))
    store: TaskStore = flaky
    worker = Worker(
        **{
            "worker_id": "w1",
            "store": store,
            "backends": {"timeline": backend},
            "artifacts": LocalArtifacts(tmp_path / "artifacts"),
            "scratch_dir": tmp_path / "scratch",
            "lease_ttl": 30,
            "poll_s": 0.01,
            "cancel_check_s": 0.01,
            **worker_args,
        }
    )
    return real, flaky, worker, task


def run(real: SQLiteStore, worker: Worker) -> Task:
    claimed = real.claim("w1", ("timeline",), time.time(), worker.lease_ttl)
    assert claimed is not None
    worker.run_task(claimed)
    done = real.get(claimed.id)
    assert done is not None
    return done


def attempt_files(tmp_path: Path, task: Task) -> list[str]:
    found = [*(tmp_path / "artifacts").glob(f"{task.id}/**/*")]
    found += (tmp_path / "scratch").glob(f"{task.id}/**/*")
    return sorted(str(p.relative_to(tmp_path)) for p in found if p.is_file())


def test_progress_writes_that_lose_the_database_do_not_fail_the_task(tmp_path: Path) -> None:
    backend = Backend()
    real, flaky, worker, task = make(tmp_path, backend)
    flaky.fail["report"] = [PoolTimeout("couldn't get a connection after 30.00 sec")] * 3
    done = run(real, worker)
    assert backend.crashed is None
    assert done.status is Status.COMPLETED and done.attempt == 1 and done.error is None
    assert done.previews == [{"id": "frame1", "name": "1/preview_1.jpg"}]
    assert backend.runs == 1


def test_heartbeats_are_retried_and_the_render_goes_on(tmp_path: Path) -> None:
    lost = psycopg.OperationalError("terminating connection due to administrator command")

    def outlive_the_failures(ctx: RunContext) -> None:
        deadline = time.monotonic() + 10
        while flaky.fail["heartbeat"] and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)  # a successful heartbeat or two

    backend = Backend(outlive_the_failures)
    real, flaky, worker, task = make(tmp_path, backend, lease_ttl=0.06)
    flaky.fail["heartbeat"] = [lost] * 5
    flaky.fail["get"] = [sqlite3.OperationalError("database is locked")] * 2
    done = run(real, worker)
    assert not flaky.fail["heartbeat"] and flaky.calls["heartbeat"] > 5
    assert done.status is Status.COMPLETED and done.attempt == 1


def test_the_finish_write_is_retried_until_the_database_is_back(tmp_path: Path) -> None:
    real, flaky, worker, task = make(tmp_path, Backend())
    flaky.fail["finish"] = [psycopg.OperationalError("the connection is lost")] * 3
    done = run(real, worker)
    assert done.status is Status.COMPLETED and flaky.calls["finish"] == 4
    assert done.result is not None and done.result["video"] == "1/video.mp4"
    assert (tmp_path / "artifacts" / task.id / "1" / "video.mp4").exists()


def test_a_finish_that_committed_before_its_answer_was_lost_keeps_the_result(
    tmp_path: Path,
) -> None:
    real, flaky, worker, task = make(tmp_path, Backend())
    flaky.fail["finish"] = [COMMITTED_THEN_LOST]
    done = run(real, worker)
    assert done.status is Status.COMPLETED
    # The retry finds the task already finished by this attempt: its files stay.
    assert (tmp_path / "artifacts" / task.id / "1" / "video.mp4").exists()
    assert (tmp_path / "artifacts" / task.id / "1" / "preview_1.jpg").exists()


def test_a_lease_lost_during_an_outage_requeues_the_task_and_drops_the_attempt(
    tmp_path: Path,
) -> None:
    def outage(ctx: RunContext) -> None:
        flaky.down.set()
        for percent in range(10):
            ctx.reporter.progress(percent)
            time.sleep(0.03)
        real.recover(time.time() + 3600)  # meanwhile the supervisor presumed us dead
        flaky.down.clear()
        ctx.cancel.wait(5)  # the next heartbeat finds the lease gone and stops the render

    backend = Backend(outage)
    real, flaky, worker, task = make(tmp_path, backend)
    done = run(real, worker)
    assert done.status is Status.QUEUED and done.error is None  # retried, not failed
    assert attempt_files(tmp_path, task) == []


def test_a_database_that_stays_away_leaves_the_task_to_its_lease(tmp_path: Path) -> None:
    real, flaky, worker, task = make(tmp_path, Backend(), store_retry_s=0.3)
    flaky.fail["finish"] = [psycopg.OperationalError("no connection to the server")] * 1000
    started = time.monotonic()
    done = run(real, worker)  # gives up after about store_retry_s, without raising
    assert time.monotonic() - started < 5
    assert done.status is Status.IN_PROGRESS and done.error is None
    # Recovered like any expired lease: requeued, and the next attempt runs it.
    (requeued,) = real.recover(time.time() + 3600)
    assert requeued.status is Status.QUEUED


def test_a_full_disk_fails_the_task_with_storage_error_and_frees_its_files(
    tmp_path: Path,
) -> None:
    def fill_the_disk(ctx: RunContext) -> None:
        raise errors.RenderFailed(
            "ffmpeg failed: [out#0/mp4] Error writing trailer: No space left on device"
        )

    backend = Backend(fill_the_disk)
    real, flaky, worker, task = make(tmp_path, backend)
    done = run(real, worker)
    assert done.status is Status.FAILED and done.error is not None
    assert done.error["code"] == "storage_error"
    assert done.error["message"].startswith(f"no space left on {tmp_path} (")
    assert done.error["message"].endswith(" free)")
    assert done.previews == []  # the preview files are gone, so are their links
    assert attempt_files(tmp_path, task) == []


def test_a_full_disk_while_saving_is_storage_error(tmp_path: Path) -> None:
    class FullDisk(LocalArtifacts):
        def save(self, task_id: str, attempt: int, files: list[Path]) -> list[str]:
            raise OSError(28, "No space left on device")

    real, flaky, worker, task = make(tmp_path, Backend())
    worker.artifacts = FullDisk(tmp_path / "artifacts")
    done = run(real, worker)
    assert done.error is not None and done.error["code"] == "storage_error"
    assert attempt_files(tmp_path, task) == []


def test_a_full_database_is_retried_like_a_lost_one(tmp_path: Path) -> None:
    real, flaky, worker, task = make(tmp_path, Backend())
    full = errors.no_space(str(tmp_path), 4096)
    flaky.fail["report"] = [full] * 2
    flaky.fail["finish"] = [full] * 2
    done = run(real, worker)
    assert done.status is Status.COMPLETED


def test_sqlite_says_disk_full_as_storage_error_and_stays_usable(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "db.sqlite")
    conn = store.connection()
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages + 2}")  # SQLITE_FULL, as on a full volume
    big = {"blob": "x" * 20_000}
    with pytest.raises(errors.StorageError) as caught:
        for _ in range(50):
            store.create(Task.create(TaskSpec("timeline", big), owner="o", now=1))
    assert caught.value.code == "storage_error" and caught.value.http_status == 507
    assert caught.value.message.startswith(f"no space left on {tmp_path} (")
    assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
    conn.execute("PRAGMA max_page_count = 1073741823")  # space is back
    created, _ = store.create(Task.create(TaskSpec("timeline", {}), owner="o", now=1))
    assert store.get(created.id) is not None  # no transaction was left open


@pytest.mark.parametrize(
    ("count", "text"),
    [(0, "0 bytes"), (1023, "1023 bytes"), (1536, "1.5 KB"), (12 * 1024, "12 KB"),
     (50 * 1024**2, "50 MB"), (3 * 1024**5, "3072 TB")],
)  # fmt: skip
def test_sizes_read_like_df(count: int, text: str) -> None:
    assert errors.size_text(count) == text
    assert errors.no_space("/data", count).message == f"no space left on /data ({text} free)"


def test_a_claim_that_fails_does_not_end_the_worker(tmp_path: Path) -> None:
    backend = Backend()
    real, flaky, worker, task = make(tmp_path, backend)
    flaky.fail["claim"] = [sqlite3.OperationalError("database is locked")]

    def stop_when_done() -> None:
        while (found := real.get(task.id)) is None or found.status is not Status.COMPLETED:
            time.sleep(0.01)
        worker.stop()

    threading.Thread(target=stop_when_done, daemon=True).start()
    worker.run_forever()  # the failed claim is retried, then the task runs
    assert flaky.calls["claim"] >= 2 and backend.runs == 1
