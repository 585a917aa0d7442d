"""``vidtask worker``: one worker process of the cluster mode (PostgreSQL + Procrastinate).

Procrastinate fetches jobs (``SKIP LOCKED``, woken by LISTEN/NOTIFY) from the queues of the
models this worker serves and runs up to ``concurrency`` at once. Each job claims its task
attempt in the ``tasks`` table, then the same fenced ``Worker.run_task`` as the embedded mode
renders it in a thread (heartbeats, progress, cancel checks, artifacts).

Shutdown (SIGTERM or SIGINT): no new jobs; running tasks get ``shutdown_grace_s`` to finish,
then they are interrupted and handed back to the queue without using up an attempt.

A database that goes away (restart, terminated connections) fails no task: claims and the
worker's writes are retried (see ``worker``), and housekeeping tries again next round.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import time

from procrastinate.jobs import DeleteJobCondition, Status

from vidtask.backends import registry
from vidtask.core import errors
from vidtask.core.task import Task
from vidtask.dispatch import jobs
from vidtask.dispatch.reaper import Reaper
from vidtask.dispatch.relay import RELAY_LEASE_FACTOR, RelayPoller
from vidtask.dispatch.worker import Worker, retry_store
from vidtask.providers import callbacks
from vidtask.settings import Settings
from vidtask.storage import bucket_inputs, leftovers, open_artifacts
from vidtask.storage.signing import load_or_create_secret
from vidtask.store import migrate
from vidtask.store.postgres import PostgresStore

__all__ = ["ClusterWorker"]

log = logging.getLogger(__name__)

REAP_EVERY_S = 1.0
#: Procrastinate's worker heartbeat is every 10 s; a job of a worker silent this long is stalled.
STALLED_AFTER_S = 30.0
#: How often the files of attempts that died are looked for (one query per scratch folder).
LEFTOVERS_EVERY_S = 3.0
#: A claim that fails for this long leaves the job to the reaper (a stranded task's new job).
CLAIM_RETRY_S = 30.0


class ClusterWorker:
    def __init__(
        self, settings: Settings, *, models: tuple[str, ...] = (), concurrency: int = 1
    ) -> None:
        url = settings.postgres_url
        if url is None:
            raise errors.InvalidRequest(
                "vidtask worker needs VIDTASK_DATABASE_URL=postgresql://...: with SQLite, "
                "`vidtask serve` runs its own workers"
            )
        missing = migrate.pending(url)
        if missing:
            raise errors.Conflict(
                f"the database is missing migrations {', '.join(missing)}: run `vidtask db upgrade`"
            )
        backends = registry.render_backends(settings, bucket_inputs(settings))
        relay = registry.relay_backends(settings)
        unknown = sorted(set(models) - set(backends))
        if unknown:
            raise errors.InvalidRequest(
                f"--models: unknown model(s) {', '.join(unknown)}; "
                f"this build serves {', '.join(sorted(backends))}"
            )
        self.settings = settings
        self.concurrency = concurrency
        self.backends = {m: backends[m] for m in models} if models else backends
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        self.app = jobs.build_app(url)
        # Deferring inside the store's (sync) transactions needs an app that is never opened
        # for async use: an opened app routes sync calls through its async pool.
        self.store = PostgresStore(
            url,
            on_queued=jobs.JobQueue(jobs.build_app(url), relayed=frozenset(relay)),
            max_size=2 * concurrency + 2,
        )
        self.reaper = Reaper(self.store)
        self.artifacts = open_artifacts(settings)
        #: Follows relayed tasks beside the render jobs (their lease keeps one poller per task).
        self.relay = (
            RelayPoller(
                worker_id=f"relay:{self.worker_id}",
                store=self.store,
                artifacts=self.artifacts,
                scratch_dir=settings.scratch_dir,
                providers=settings.providers,
                asset_policy=registry.asset_policy(settings),
                lease_ttl=RELAY_LEASE_FACTOR * settings.lease_ttl_s,
                callback_url=callbacks.callback_urls(
                    settings.public_url,
                    settings.secret or load_or_create_secret(settings.data_dir / "secret.key"),
                ),
            )
            if relay
            else None
        )
        self.app.task(name=jobs.TASK_NAME, pass_context=False)(self._run_job)

    @property
    def queues(self) -> list[str]:
        return [jobs.queue_for(model) for model in self.backends]

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        async with self.app.open_async():
            fetching = asyncio.create_task(
                self.app.run_worker_async(
                    queues=self.queues,
                    concurrency=self.concurrency,
                    name=self.worker_id,
                    install_signal_handlers=False,
                    shutdown_graceful_timeout=self.settings.shutdown_grace_s,
                    delete_jobs=DeleteJobCondition.SUCCESSFUL,
                )
            )
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, fetching.cancel)
            housekeeping = asyncio.create_task(self._housekeeping())
            if self.relay is not None:
                self.relay.start()
                self.relay.listen_postgres(self.settings.postgres_url or "")
            log.info(
                "worker ready",
                extra={"worker": self.worker_id, "models": list(self.backends)},
            )
            try:
                await fetching
            except asyncio.CancelledError:
                log.info("worker stopped", extra={"worker": self.worker_id})
            finally:
                housekeeping.cancel()
                if self.relay is not None:
                    await asyncio.to_thread(self.relay.stop)
        self.store.close()

    # --- one job -------------------------------------------------------------------------
    async def _run_job(self, task_id: str, attempt: int) -> None:
        worker = Worker(
            worker_id=self.worker_id,
            store=self.store,
            backends=self.backends,
            artifacts=self.artifacts,
            scratch_dir=self.settings.scratch_dir,
            lease_ttl=self.settings.lease_ttl_s,
            poll_s=self.settings.worker_poll_s,
        )
        run = asyncio.ensure_future(asyncio.to_thread(self._run, worker, task_id, attempt))
        try:
            await asyncio.shield(run)
        except asyncio.CancelledError:
            # The shutdown grace is over: interrupt the render; the worker hands the task back.
            worker.stop()
            await run
            raise

    def _run(self, worker: Worker, task_id: str, attempt: int) -> None:
        extra = {"task_id": task_id, "attempt": attempt}
        tries = 0

        def claim() -> Task | None:
            nonlocal tries
            tries += 1
            now = time.time()
            return self.store.claim_task(
                task_id, attempt, self.worker_id, now, self.settings.lease_ttl_s
            )

        task = retry_store("claim", claim, within=CLAIM_RETRY_S, extra=extra)
        if task is None and tries > 1:
            # The connection may have dropped after the claim committed: then it is ours.
            task = self.store.get(task_id)
            if task is None or (task.lease_owner, task.attempt) != (self.worker_id, attempt):
                task = None
        if task is None:  # cancelled, finished, or a duplicate job: nothing to do
            log.info("job has nothing to run", extra=extra)
            return
        worker.run_task(task)

    # --- housekeeping --------------------------------------------------------------------
    async def _housekeeping(self) -> None:
        last_stalled_check = last_leftovers = 0.0
        while True:
            await asyncio.sleep(REAP_EVERY_S)
            try:
                await asyncio.to_thread(self.reaper.run_once)
                # Every worker, not only the reaper's: scratch folders are per machine when
                # machines share no folder (artifacts in a bucket), and sweeping a shared one
                # twice deletes nothing twice.
                if time.monotonic() - last_leftovers > LEFTOVERS_EVERY_S:
                    last_leftovers = time.monotonic()
                    await asyncio.to_thread(self._sweep_leftovers)
                if time.monotonic() - last_stalled_check > STALLED_AFTER_S / 2:
                    last_stalled_check = time.monotonic()
                    await self._finish_stalled_jobs()
            except Exception:  # e.g. the database restarting: try again next round
                log.exception("housekeeping failed; retrying")

    def _sweep_leftovers(self) -> None:
        """Delete the scratch files and previews of attempts whose worker died on this machine
        (or this worker, before a restart), and abort abandoned uploads to the bucket."""
        found = leftovers.sweep(self.settings.scratch_dir, self.artifacts, self.store.get)
        for task_id, attempt in found:
            log.info(
                "deleted the files of an unfinished attempt %d", attempt, extra={"task_id": task_id}
            )

    async def _finish_stalled_jobs(self) -> None:
        """Jobs of dead workers stay ``doing`` in Procrastinate's table; their tasks were
        already requeued (with a new job) by the reaper, so they are only closed here."""
        manager = self.app.job_manager
        for job in await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER_S):
            await manager.finish_job(job, status=Status.FAILED, delete_job=False)
            log.info("closed the job of a dead worker", extra={"job": job.id})
