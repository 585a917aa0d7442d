"""The relay poller: follows relayed tasks on an asyncio loop of its own, thousands at once,
without holding a render slot.

For each task it takes (a lease, like a render worker's, renewed at every poll):

1. **Submit once.** Unless the task already names its upstream task, it is created at the first
   provider of its model that has room; 429, 5xx and network errors move on to the next one, a
   refusal of the input does not. Before the create call a fenced checkpoint marks the task as
   being submitted, and right after it the upstream id is checkpointed. A later attempt (a
   restart, a lost lease) resumes polling that id and never creates again; one that finds the
   mark without an id fails rather than risk paying twice.
2. **Poll** every ``poll_interval_s`` (sooner after a provider callback, see `poke`), mapping
   the upstream word through `vidtask.core.upstream` (an unknown word fails the task). Progress
   is the provider's, or an estimate from the time it has been running against the typical
   duration of the model's finished tasks, which never goes down.
3. **Keep the result**: download the video (and the last frame) into the scratch folder, probe
   it, cut its stills and save it all as the attempt's artifacts, then write ``completed``. A
   download is retried with backoff before the task fails with ``upstream_error``.

A cancel asks the provider to stop where it can; the task ends ``cancelled`` either way, and its
error message says whether the upstream task was stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
import shutil
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import psycopg

from vidtask.backends.base import RunResult
from vidtask.backends.mirror import AssetPolicy
from vidtask.core import errors
from vidtask.core.task import Task
from vidtask.core.upstream import Phase
from vidtask.dispatch.relay_notes import UpstreamNotes
from vidtask.dispatch.relay_results import ResultKeeper
from vidtask.dispatch.retry import STORE_ERRORS, StoreUnavailable
from vidtask.dispatch.settle import Settler, fence_extra
from vidtask.providers import KINDS
from vidtask.providers.base import RelayInput, UpstreamState
from vidtask.providers.client import (
    POOL_SIZE,
    ProviderClient,
    Refused,
    Retryable,
    connection_pools,
)
from vidtask.settings import ProviderSettings
from vidtask.storage.base import ArtifactStore
from vidtask.store.base import Fence, TaskStore

__all__ = ["POKE_CHANNEL", "RELAY_LEASE_FACTOR", "RelayPoller", "poke_over_postgres"]

#: In the cluster mode an API process that gets a provider callback tells the workers' pollers
#: on this LISTEN/NOTIFY channel (the payload is the task id).
POKE_CHANNEL = "vidtask_relay_poke"

log = logging.getLogger(__name__)

T = TypeVar("T")

#: A relayed task's lease, in render leases (``lease_ttl_s``): renewed three times per lease,
#: so a stalled store or a slow provider does not cost it.
RELAY_LEASE_FACTOR = 4
LEASE_S = 60.0
#: Until a model has finished tasks to go by, a generation is expected to take this long.
TYPICAL_S = 60.0
#: Estimated progress stops here until the provider says the task is done.
ESTIMATE_CAP = 95.0
#: Connections to one provider at most.
MAX_CONNECTIONS = 256
#: Why a provider was skipped: it follows as many tasks as it may.
_FULL = "at its max_concurrency"
#: Longest wait between polls of a task whose provider keeps failing.
MAX_BACKOFF_S = 60.0


class RelayPoller:
    def __init__(
        self,
        *,
        worker_id: str,
        store: TaskStore,
        artifacts: ArtifactStore,
        scratch_dir: Path,
        providers: Iterable[ProviderSettings],
        asset_policy: AssetPolicy,
        callback_url: Callable[[str], str | None] = lambda task_id: None,
        lease_ttl: float = LEASE_S,
        claim_every_s: float = 0.5,
        store_retry_s: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.worker_id = worker_id
        self.store = store
        self.scratch_dir = scratch_dir
        self.providers = {p.name: p for p in providers}
        #: Model name -> its providers, in the order they are tried.
        self.models: dict[str, list[str]] = {}
        for provider in self.providers.values():
            for model in provider.models:
                self.models.setdefault(model, []).append(provider.name)
        self.callback_url = callback_url
        self.lease_ttl = lease_ttl
        self.claim_every_s = claim_every_s
        self.clock = clock
        self.stopping = threading.Event()
        self.settler = Settler(
            store=store,
            artifacts=artifacts,
            scratch_dir=scratch_dir,
            lease_ttl=lease_ttl,
            store_retry_s=store_retry_s,
            stopping=self.stopping,
            clock=clock,
        )
        #: Task id -> the provider it holds a place at (from claim to the end).
        self._holding: dict[str, str] = {}
        self._durations: dict[str, deque[float]] = {}
        self._clients: dict[str, ProviderClient] = {}
        self._wakers: dict[str, asyncio.Event] = {}
        #: Tasks to poll now (a callback came), whose lease is gone, whose cancel was asked.
        self._poked: dict[str, bool] = {}
        self._lost: set[str] = set()
        self._cancelled: set[str] = set()
        self._claimed_at: dict[str, float] = {}
        #: Tasks this poller stopped following without settling them (the store was away):
        #: `renew_leases` would keep their leases for ever, so their leases are ended instead,
        #: and the supervisor requeues them (the next attempt resumes polling their upstream).
        self._let_go: dict[str, Fence] = {}
        self.keeper = ResultKeeper(artifacts, asset_policy)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    # --- lifecycle (called from other threads) ---------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="relay-poller", daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop following; tasks in flight are handed back (their upstream id is saved, so
        whoever takes them next resumes polling)."""
        self.stopping.set()
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake_all)
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def in_flight(self) -> dict[str, int]:
        """Tasks followed (or being submitted) per provider."""
        counts = dict.fromkeys(self.providers, 0)
        for name in self._holding.values():
            counts[name] += 1
        return counts

    def status(self) -> list[dict[str, Any]]:
        """Each provider: its models, tasks in flight and parked keys (by variable name)."""
        now = time.monotonic()
        rows = []
        in_flight = self.in_flight
        for name, provider in self.providers.items():
            client = self._clients.get(name)
            parked = client.keys.parked() if client is not None else []
            rows.append(
                {
                    "name": name,
                    "kind": provider.kind,
                    "models": provider.models,
                    "max_concurrency": provider.max_concurrency,
                    "in_flight": in_flight[name],
                    "parked_keys": [
                        {"key": p.label, "reason": p.reason, "seconds_left": round(p.until - now)}
                        for p in parked
                    ],
                }
            )
        return rows

    def listen_postgres(self, conninfo: str) -> None:
        """Take pokes from API processes (`poke_over_postgres`), until `stop`."""
        threading.Thread(
            target=self._listen, args=(conninfo,), name="relay-pokes", daemon=True
        ).start()

    def _listen(self, conninfo: str) -> None:
        while not self.stopping.is_set():
            try:
                with psycopg.connect(conninfo, autocommit=True) as conn:
                    conn.execute(f"LISTEN {POKE_CHANNEL}")
                    while not self.stopping.is_set():
                        for notice in conn.notifies(timeout=1.0):
                            self.poke(notice.payload)
            except psycopg.Error as exc:  # the database went away: listen again shortly
                log.warning("relay pokes not received (%s); retrying", exc)
                self.stopping.wait(1.0)

    def poke(self, task_id: str) -> None:
        """A provider called back about ``task_id``: poll it now (the callback is only a hint)."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake, task_id)

    def _wake(self, task_id: str) -> None:
        waker = self._wakers.get(task_id)
        if waker is not None:
            self._poked[task_id] = True
            waker.set()

    def _wake_all(self) -> None:
        for waker in self._wakers.values():
            waker.set()

    # --- the loop ----------------------------------------------------------------------

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except Exception:
            log.exception("the relay poller stopped")

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        async with contextlib.AsyncExitStack() as stack:
            for name, settings in self.providers.items():
                pools = [
                    await stack.enter_async_context(pool)
                    for pool in connection_pools(min(MAX_CONNECTIONS, settings.max_concurrency))
                ]
                self._clients[name] = ProviderClient(
                    settings, KINDS[settings.kind], pools, connections_per_client=POOL_SIZE
                )
            self._ready.set()
            watch = asyncio.create_task(self._watch_leases())
            running: set[asyncio.Task[None]] = set()
            while not self.stopping.is_set():
                models = self._models_with_room()
                task = await self._claim(models) if models else None
                if task is None:
                    await asyncio.sleep(self.claim_every_s)
                    continue
                follow = asyncio.create_task(self._follow(task))
                running.add(follow)
                follow.add_done_callback(running.discard)
            self._wake_all()
            if running:
                await asyncio.wait(running, timeout=10)
            watch.cancel()
            self.keeper.close()

    async def _watch_leases(self) -> None:
        """Every second, notice cancels asked for the tasks followed here; three times per
        lease, renew all their leases in one write and let go of any no longer held."""
        renewed = self.clock()
        while True:
            await asyncio.sleep(min(1.0, self.lease_ttl / 3))
            try:
                for task_id in await asyncio.to_thread(
                    self.store.cancels_requested, self.worker_id
                ):
                    if task_id in self._wakers and task_id not in self._cancelled:
                        self._cancelled.add(task_id)
                        self._wakers[task_id].set()
                if self.clock() - renewed >= self.lease_ttl / 3:
                    renewed = self.clock()
                    held = await asyncio.to_thread(
                        self.store.renew_leases, self.worker_id, renewed, self.lease_ttl
                    )
                    for task_id, waker in list(self._wakers.items()):
                        claimed = self._claimed_at.get(task_id, renewed)
                        if task_id not in held and claimed < renewed:
                            self._lost.add(task_id)
                            waker.set()
                for task_id, fence in list(self._let_go.items()):
                    # A lease ending now: the supervisor's next recovery requeues the task.
                    await asyncio.to_thread(self.store.heartbeat, fence, self.clock(), 0.0)
                    del self._let_go[task_id]
            except STORE_ERRORS as exc:
                log.warning("relay leases not renewed (%s); retrying", exc)

    def _models_with_room(self) -> tuple[str, ...]:
        in_flight = self.in_flight
        room = {n for n, p in self.providers.items() if in_flight[n] < p.max_concurrency}
        return tuple(m for m, names in self.models.items() if room.intersection(names))

    async def _claim(self, models: tuple[str, ...]) -> Task | None:
        try:
            return await asyncio.to_thread(
                self.store.claim, self.worker_id, models, self.clock(), self.lease_ttl
            )
        except STORE_ERRORS as exc:
            log.warning("relay claim failed (%s); retrying", exc)
            return None

    async def _follow(self, task: Task) -> None:
        fence = Fence(task.id, self.worker_id, task.attempt)
        extra = fence_extra(fence)
        self._wakers[task.id] = asyncio.Event()
        self._claimed_at[task.id] = self.clock()
        workdir = self.scratch_dir / task.id / str(task.attempt)
        self._hold(task)
        try:
            provider, upstream_id, problem = await self._upstream(task, fence)
            if provider is not None and upstream_id is not None:
                outcome = await self._poll(task, fence, provider, upstream_id, workdir)
            else:
                outcome = problem
            if isinstance(outcome, RunResult):
                problem = await asyncio.to_thread(self.settler.complete, task, fence, outcome)
                if problem is None:
                    log.info("relayed task completed", extra=extra)
                    return
                outcome = problem
            if isinstance(outcome, errors.VidtaskError):
                await asyncio.to_thread(self.settler.fail, fence, outcome, workdir, published=False)
            elif self.stopping.is_set():
                await self._store(self.store.release, fence, self.clock())
        except StoreUnavailable as exc:
            log.error("store unavailable (%s); the task is left to its lease", exc, extra=extra)
            self._let_go[task.id] = fence
        except Exception:
            # As a crash in a renderer ends its task (a task left to a lease that this poller
            # renews with all the others would never end).
            log.exception("relay crashed", extra=extra)
            crashed = errors.UpstreamError("the relay failed on this task; see the server log")
            try:
                await asyncio.to_thread(self.settler.fail, fence, crashed, workdir, published=True)
            except Exception:
                self._let_go[task.id] = fence
        finally:
            self._holding.pop(task.id, None)
            self._wakers.pop(task.id, None)
            self._claimed_at.pop(task.id, None)
            self._poked.pop(task.id, None)
            self._lost.discard(task.id)
            self._cancelled.discard(task.id)
            shutil.rmtree(workdir, ignore_errors=True)

    # --- submit ------------------------------------------------------------------------

    def _hold(self, task: Task) -> None:
        """Take a place at the task's provider at once (before any await, so the claim loop
        sees it): the saved one, else the first of its model with room."""
        saved = (task.external_ref.get("checkpoint") or {}).get("upstream")
        if isinstance(saved, dict) and saved.get("provider") in self.providers:
            self._holding[task.id] = str(saved["provider"])
            return
        in_flight = self.in_flight
        for name in self.models.get(task.model, []):
            if in_flight[name] < self.providers[name].max_concurrency:
                self._holding[task.id] = name
                return

    async def _upstream(
        self, task: Task, fence: Fence
    ) -> tuple[ProviderClient | None, str | None, errors.VidtaskError | None]:
        """The task's provider and upstream id: the saved one, or a new one made now."""
        saved = (task.external_ref.get("checkpoint") or {}).get("upstream")
        if isinstance(saved, dict):
            client = self._clients.get(str(saved.get("provider")))
            if client is None:
                return (
                    None,
                    None,
                    errors.UpstreamError(
                        f"provider {saved.get('provider')!r} of this task is no longer configured"
                    ),
                )
            if not saved.get("id"):
                return (
                    None,
                    None,
                    errors.UpstreamError(
                        f"the server stopped while this task was being submitted to "
                        f"{client.name!r}; it was not submitted again, so that it is never paid "
                        "for twice: submit it again"
                    ),
                )
            return client, str(saved["id"]), None
        return await self._submit(task, fence)

    async def _submit(
        self, task: Task, fence: Fence
    ) -> tuple[ProviderClient | None, str | None, errors.VidtaskError | None]:
        """Create the upstream task at the first provider with room that takes it. When every
        provider fails for a passing reason (429, 5xx, the network), wait and go round again,
        until the task's timeout."""
        names = self.models.get(task.model, [])
        if not names:
            return None, None, errors.UpstreamError(f"no provider serves model {task.model!r}")
        deadline = task.created_at + max(self.providers[n].timeout_s for n in names)
        for round_ in itertools.count():
            outcome = await self._submit_round(task, fence, names)
            if not isinstance(outcome, list):
                return outcome
            problems = outcome
            if all(p.endswith(_FULL) for p in problems):
                await self._store(self.store.checkpoint, fence, self.clock(), {"upstream": None})
                await self._store(self.store.release, fence, self.clock())
                return None, None, None  # every provider is full: back to the queue
            delay = min(2.0**round_, MAX_BACKOFF_S, self.lease_ttl / 3)
            if self.clock() + delay > deadline:
                why = "; ".join(problems)
                return None, None, errors.UpstreamError(f"no provider accepted the task: {why}")
            await asyncio.sleep(delay)
            current = await self._store(self.store.heartbeat, fence, self.clock(), self.lease_ttl)
            if current is None or self.stopping.is_set():
                return None, None, None
            if current.cancel_requested:
                return None, None, errors.Cancelled("cancelled before any provider took it")
        raise AssertionError("unreachable")

    async def _submit_round(
        self, task: Task, fence: Fence, names: list[str]
    ) -> tuple[ProviderClient | None, str | None, errors.VidtaskError | None] | list[str]:
        """One try at each provider in turn: the outcome, or what went wrong at each."""
        request = RelayInput.from_input(task.input)
        problems: list[str] = []
        for name in names:
            client = self._clients[name]
            moving = self._holding.get(task.id) != name
            if moving and self.in_flight[name] >= client.settings.max_concurrency:
                problems.append(f"{name}: {_FULL}")
                continue
            self._holding[task.id] = name
            mark = {"upstream": {"provider": name}}
            if not await self._store(self.store.checkpoint, fence, self.clock(), mark):
                return None, None, None  # the lease is gone
            model = client.settings.models[task.model]
            call = client.upstream.create(model, request, self.callback_url(task.id))
            try:
                body = await client.call(call, tries=3)
                upstream_id = client.upstream.created_id(body)
            except Refused as exc:
                return None, None, errors.UpstreamError(f"{name} refused the task: {exc}")
            except (Retryable, errors.UpstreamError, ValueError) as exc:
                problems.append(f"{name}: {exc}")
                log.warning("create failed at %s (%s)", name, exc, extra=fence_extra(fence))
                if not isinstance(exc, Retryable) or exc.answered:
                    # The provider answered: nothing was created. (After a network error the
                    # mark stays: the create may have gone through.)
                    clear = {"upstream": None}
                    await self._store(self.store.checkpoint, fence, self.clock(), clear)
                continue
            progress = "provider" if client.upstream.reports_progress else "estimated"
            upstream = {
                "provider": name,
                "id": upstream_id,
                "at": self.clock(),
                "progress": progress,
            }
            saved = {"upstream": upstream}
            if not await self._store(self.store.checkpoint, fence, self.clock(), saved):
                return None, None, None
            log.info("submitted to %s as %s", name, upstream_id, extra=fence_extra(fence))
            return client, upstream_id, None
        return problems

    # --- poll --------------------------------------------------------------------------

    async def _poll(
        self, task: Task, fence: Fence, client: ProviderClient, upstream_id: str, workdir: Path
    ) -> RunResult | errors.VidtaskError | None:
        settings, upstream = client.settings, client.upstream
        deadline = task.created_at + settings.timeout_s
        waker = self._wakers[task.id]
        # The first poll comes soon, then one every poll_interval_s (sooner when poked). The
        # leases of all tasks are renewed together, and cancels noticed, by `_watch_leases`.
        next_poll = self.clock() + random.uniform(0.1, 1.0) * min(1.0, settings.poll_interval_s)
        failures = 0
        lost_since: float | None = None
        running_since: float | None = None
        shown: tuple[str, float] | None = None  # the stage and progress last written
        notes = UpstreamNotes()
        while True:
            wait = max(0.0, next_poll - self.clock())
            try:
                await asyncio.wait_for(waker.wait(), timeout=wait)
            except TimeoutError:
                pass
            waker.clear()
            if self.stopping.is_set() or task.id in self._lost:
                return None  # stopping, or the lease is gone: someone else follows it now
            if task.id in self._cancelled:
                return await self._cancel(client, upstream_id)
            now = self.clock()
            if now > deadline:
                await self._try_cancel(client, upstream_id)
                return errors.Expired(
                    f"{client.name} did not finish the task within its {settings.timeout_s:g} s "
                    "timeout_s"
                )
            if now < next_poll and not self._poked.pop(task.id, False):
                continue
            next_poll = now + settings.poll_interval_s * random.uniform(0.9, 1.1)  # no herds
            try:
                body = await client.call(upstream.status(upstream_id), tries=1)
                state = upstream.state(client.name, upstream_id, body)
                if state.phase is Phase.SUCCEEDED and state.then is not None:
                    # The result needs one more read (MiniMax: file id -> download URL).
                    more = await client.call(state.then, tries=1)
                    state = upstream.resolve(client.name, state, more)
            except Retryable as exc:
                failures += 1
                backoff = min(settings.poll_interval_s * 2**failures, MAX_BACKOFF_S)
                next_poll = now + max(backoff, exc.retry_after or 0.0)
                log.warning("poll failed (%s)", exc, extra=fence_extra(fence))
                continue
            except Refused as exc:
                return errors.UpstreamError(f"{client.name} task {upstream_id}: {exc}")
            except errors.UpstreamError as exc:
                return exc
            failures = 0
            phase = state.phase
            if phase is Phase.LOST:
                lost_since = lost_since or now
                if now - lost_since > settings.unknown_grace_s:
                    return errors.UpstreamError(
                        f"{client.name} lost track of task {upstream_id}: its status stayed "
                        f"'{state.word}' for more than {settings.unknown_grace_s:g} s"
                    )
                continue
            lost_since = None
            if not await self._note(task, fence, state, notes, workdir):
                return None
            if phase is Phase.SUCCEEDED:
                started = running_since or task.started_at or task.created_at
                self._typical(task.model).append(max(0.0, now - started))
                return await self._keep(task, fence, client, state, workdir, notes)
            if phase is Phase.FAILED:
                why = state.error or "the provider reported the task as failed"
                return errors.UpstreamError(f"{client.name}: {why}")
            if phase is Phase.CANCELLED:
                return errors.UpstreamError(f"{client.name} cancelled the task upstream")
            if phase is Phase.EXPIRED:
                return errors.Expired(f"{client.name}: the task expired upstream")
            if phase is Phase.RUNNING and running_since is None:
                running_since = now
            progress = state.progress
            if progress is None:
                progress = (
                    0.0
                    if running_since is None
                    else self._estimate(task.model, now - running_since)
                )
            # Written when it changed by a point or more: most polls of a long task write nothing.
            if shown is None or shown[0] != phase.value or progress >= shown[1] + 1:
                shown = (phase.value, progress)
                if not await self._store(
                    self.store.report,
                    fence,
                    now,
                    self.lease_ttl,
                    stage=phase.value,
                    progress=progress,
                ):
                    return None

    async def _note(
        self, task: Task, fence: Fence, state: UpstreamState, notes: UpstreamNotes, workdir: Path
    ) -> bool:
        """Write what the provider said besides its status, where it changed: the queue position
        and logs, and preview frames (kept like results). False when the lease is lost."""
        live = notes.live(state)
        if live is not None:
            saved = {"upstream_live": live}
            if not await self._store(self.store.checkpoint, fence, self.clock(), saved):
                return False
        taken = len(notes.preview_urls)
        fresh = notes.new_previews(state)
        fetched = [
            await self.keeper.preview(url, workdir / "previews" / f"upstream{n}")
            for n, url in enumerate(fresh, taken + 1)
        ]
        files = [path for path in fetched if path is not None]
        if not files:
            return True
        try:
            names = await asyncio.to_thread(self.keeper.publish, task, files, workdir / "staging")
        except OSError as exc:  # a full disk, a bucket away: the previews are only a courtesy
            log.warning("preview frames not kept (%s)", exc, extra=fence_extra(fence))
            return True
        notes.keep_previews(files, names)
        return await self._store(
            self.store.report, fence, self.clock(), self.lease_ttl, previews=notes.previews
        )

    def _typical(self, model: str) -> deque[float]:
        return self._durations.setdefault(model, deque(maxlen=51))

    def _estimate(self, model: str, running_s: float) -> float:
        """Progress from time spent against the model's median generation time."""
        done = self._typical(model)
        typical = statistics.median(done) if done else TYPICAL_S
        return min(ESTIMATE_CAP, 100.0 * running_s / max(typical, 1.0))

    # --- cancel ------------------------------------------------------------------------

    async def _cancel(self, client: ProviderClient, upstream_id: str) -> errors.VidtaskError:
        stopped = await self._try_cancel(client, upstream_id)
        return errors.Cancelled(
            "cancelled; the upstream task was stopped"
            if stopped
            else f"cancelled here; {client.name} could not stop the upstream task, which may "
            "still run (and be charged)"
        )

    async def _try_cancel(self, client: ProviderClient, upstream_id: str) -> bool:
        call = client.upstream.cancel(upstream_id)
        if call is None:
            return False
        try:
            await client.call(call, tries=2)
        except (Refused, Retryable, errors.UpstreamError) as exc:
            log.info("%s did not cancel %s: %s", client.name, upstream_id, exc)
            return False
        return True

    # --- keep the result ---------------------------------------------------------------

    async def _keep(
        self,
        task: Task,
        fence: Fence,
        client: ProviderClient,
        state: UpstreamState,
        workdir: Path,
        notes: UpstreamNotes,
    ) -> RunResult | errors.VidtaskError | None:
        if not state.video_url:
            return errors.UpstreamError(f"{client.name} reported success but gave no video URL")
        if not await self._store(
            self.store.report, fence, self.clock(), self.lease_ttl, stage="downloading"
        ):
            return None
        await self._store(
            self.store.checkpoint, fence, self.clock(), {"upstream_video_url": state.video_url}
        )
        kept = await self.keeper.keep(task, client, state, workdir)
        if isinstance(kept, RunResult):
            kept.previews[:0] = notes.preview_files
        return kept

    async def _store(self, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """A store call off the loop, retried while the store is away (then `StoreUnavailable`)."""
        deadline = time.monotonic() + self.settler.store_retry_s
        delay = 0.1
        while True:
            try:
                return await asyncio.to_thread(call, *args, **kwargs)
            except STORE_ERRORS as exc:
                if time.monotonic() + delay > deadline:
                    raise StoreUnavailable(str(exc)) from exc
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)


def poke_over_postgres(conninfo: str) -> Callable[[str], None]:
    """What an API process in the cluster mode does with a provider callback: tell whichever
    worker follows the task to poll it now."""

    def poke(task_id: str) -> None:
        try:
            with psycopg.connect(conninfo, autocommit=True) as conn:
                conn.execute("SELECT pg_notify(%s, %s)", (POKE_CHANNEL, task_id))
        except psycopg.Error as exc:  # a hint lost: the task is polled on its interval
            log.warning("relay poke not sent (%s)", exc, extra={"task_id": task_id})

    return poke
