"""The Procrastinate side of the cluster: one job per task attempt, deferred in the transaction
that made the task ``queued``. A job carries only ``(task_id, attempt)``; the ``tasks`` table
stays the single source of truth, so a duplicate or stale job finds nothing to claim."""

from __future__ import annotations

from typing import Any

import procrastinate
import psycopg
from procrastinate.jobs import Job

from vidtask.core.task import Task

__all__ = ["TASK_NAME", "JobQueue", "build_app", "queue_for"]

#: The one Procrastinate task vidtask registers.
TASK_NAME = "vidtask.run_task"


def queue_for(model: str) -> str:
    """Each model has its own queue, so a worker can serve a subset of models."""
    return f"vidtask.{model}"


def build_app(conninfo: str) -> procrastinate.App:
    return procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo))


class JobQueue:
    """The store's ``on_queued`` hook: defers each task's next attempt on the caller's
    connection, inside its open transaction. Give it an app that is not opened with
    ``open_async`` (that one would send these sync calls through its async pool)."""

    def __init__(self, app: procrastinate.App, *, relayed: frozenset[str] = frozenset()) -> None:
        self.app = app
        #: Models the relay poller follows (it claims their tasks itself): no job for them.
        self.relayed = relayed

    def __call__(self, conn: psycopg.Connection[Any], tasks: list[Task]) -> None:
        jobs = [
            Job(
                queue=queue_for(task.model),
                task_name=TASK_NAME,
                lock=None,
                queueing_lock=None,
                priority=task.priority,
                task_kwargs={"task_id": task.id, "attempt": task.attempt + 1},
            )
            for task in tasks
            if task.model not in self.relayed
        ]
        if jobs:
            self.app.job_manager.batch_defer_jobs(jobs, connection=conn)
