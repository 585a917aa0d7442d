"""The cluster's housekeeping, run by every ``vidtask worker`` but by one at a time (a session
advisory lock): tasks of dead workers (expired leases) are requeued or failed, tasks past their
deadline expire, queued tasks that lost their job get a new one."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from vidtask.store.postgres import PostgresStore

__all__ = ["Reaper"]

log = logging.getLogger(__name__)

_LOCK = 7146235003
#: A queued task without a job for this long gets a new job (jobs are deferred in the task's
#: own transaction, so this only happens after a failure).
STRANDED_AFTER_S = 30.0


class Reaper:
    def __init__(self, store: PostgresStore, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock

    def run_once(self) -> bool:
        """One sweep; False when another process holds the reaper lock."""
        with self.store.connection() as conn:
            row = conn.execute("SELECT pg_try_advisory_lock(%s) AS got", (_LOCK,)).fetchone()
            if not row or not row["got"]:
                return False
            try:
                self._sweep()
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK,))
        return True

    def _sweep(self) -> None:
        now = self.clock()
        for task in self.store.recover(now):
            log.warning(
                "lease expired (worker gone): task is now %s",
                task.status.value,
                extra={"task_id": task.id},
            )
        for task in self.store.expire_overdue(now):
            log.warning("task passed its deadline: expired", extra={"task_id": task.id})
        for task in self.store.requeue_stranded(now - STRANDED_AFTER_S):
            log.warning("queued task had no job: deferred a new one", extra={"task_id": task.id})
