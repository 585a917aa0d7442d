"""Shared machinery of the provider simulators.

A simulator plays one upstream video provider, as its public API documentation describes it, as
a real HTTP server on loopback (``server.py``). This module holds what every provider shares:

- the task table and its clock-driven life: ``queued`` for ``queue_s``, ``running`` for
  ``run_s`` (progress grows linearly), then the scripted end. Timers move each task on, so
  callbacks fire on time; every read also brings the task up to date. ``skip()`` moves the
  simulator's clock forward (hours of expiry in no time);
- accounting: accepted creates per API key (``creates``) and requests per operation
  (``requests``), which is how tests assert exactly one create per task;
- fault injection, set from Python: valid keys, revoked keys (401), keys whose quota is
  exhausted, bursts of 429 with ``Retry-After``, bursts of 5xx, and per-task scripts
  (``script.py``: fail, hang, unknown status word, expire, result 404 or truncated, callback
  before the create response, duplicate callbacks), plus forged callbacks;
- result files: the sample MP4 (``media.py``), served under an unguessable URL.

A provider module subclasses ``Simulator``: its routes, status words, task view and error
envelope. Adding a provider is one module; ``ark.py`` is the fullest example.

In a test::

    with ArkSimulator(keys=["k1"], queue_s=0.05, run_s=0.1) as ark:
        ark.script("a cat", Outcome.FAIL)        # prompts containing "a cat" fail
        ark.rate_limit_burst(2, retry_after=1)  # the next 2 API requests answer 429
        ark.server_errors(3, on=Op.CREATE)      # the next 3 creates answer 500, 502, 503
        ...
        assert ark.creates == {"k1": 1}

A marker in the prompt does the same without the object: ``"a cat [sim:fail]"``.
"""

from __future__ import annotations

import asyncio
import json
import math
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, ClassVar, Self, TypedDict, Unpack

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from tests.simulators import files as files_module
from tests.simulators import media as media_module
from tests.simulators import server as server_module
from tests.simulators.script import (
    TERMINAL,
    Op,
    Outcome,
    Phase,
    Refusal,
    Script,
    ScriptOptions,
    marker,
)

__all__ = [
    "Delivery",
    "JSONObject",
    "SimTask",
    "Simulator",
    "SimulatorOptions",
    "iso_time",
    "json_body",
]

JSONObject = dict[str, Any]


class SimulatorOptions(TypedDict, total=False):
    """The constructor options every simulator takes (see ``Simulator.__init__``)."""

    keys: Iterable[str]
    queue_s: float
    run_s: float
    media: media_module.Media | None
    host: str
    port: int


def iso_time(at: float, digits: int = 3) -> str:
    """``at`` (unix seconds) as ISO 8601 UTC with ``digits`` decimals of a second and a ``Z``,
    as the providers write their timestamps (milliseconds or microseconds)."""
    fraction = int(at * 10**digits) % 10**digits
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at)) + f".{fraction:0{digits}d}Z"


async def json_body(request: Request) -> Any:
    """The request's JSON, or None when it is not JSON."""
    try:
        return json.loads(await request.body())
    except ValueError:
        return None


@dataclass(slots=True, kw_only=True)
class SimTask:
    """One simulated upstream task. Times are the simulator's clock, unix seconds."""

    id: str
    key: str
    prompt: str
    model: str
    #: The create request as the provider module normalised it (defaults filled in).
    request: JSONObject
    script: Script
    created_at: float
    updated_at: float
    queue_s: float
    run_s: float
    phase: Phase = Phase.QUEUED
    finished_at: float | None = None
    callback_url: str | None = None
    #: Status reads so far (the unknown-word script counts them).
    reads: int = 0
    #: Result downloads started (the 404/truncation scripts count them).
    downloads: int = 0
    file_token: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    chain: asyncio.Task[None] | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One callback POST the simulator made: ``status_code`` None when no answer came."""

    url: str
    body: JSONObject
    status_code: int | None
    attempt: int
    forged: bool = False


@dataclass(slots=True)
class _Burst:
    statuses: tuple[int, ...]
    remaining: int
    on: Op | None
    retry_after: int | None
    sent: int = 0


class Simulator:
    """Base of the provider simulators; see the module docstring."""

    #: Short name (thread names, error messages).
    name: ClassVar[str] = "simulator"
    #: The provider's API root below ``url``, e.g. ``/api/v3``; ``base_url`` joins them.
    api_root: ClassVar[str] = ""
    #: The provider's status word for each phase it has.
    words: ClassVar[Mapping[Phase, str]] = {}
    #: The word ``Outcome.UNKNOWN_STATUS`` reports unless the script names one.
    unknown_word: ClassVar[str] = "paused"
    #: Phases whose start is announced to the task's callback URL, and retries per phase.
    callback_phases: ClassVar[frozenset[Phase]] = frozenset()
    callback_retries: ClassVar[Mapping[Phase, int]] = {}
    callback_timeout_s: ClassVar[float] = 5.0
    #: How long result files are served after the task finishes; None: for ever.
    url_lifetime_s: float | None = None

    def __init__(
        self,
        *,
        keys: Iterable[str] = ("sk-sim",),
        queue_s: float = 0.2,
        run_s: float = 0.5,
        media: media_module.Media | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        #: Keys that authenticate; any other key (or none) answers 401.
        self.valid_keys: set[str] = set(keys)
        #: Keys that authenticate but answer the provider's "quota exhausted".
        self.exhausted_keys: set[str] = set()
        self.queue_s = queue_s
        self.run_s = run_s
        self.media = media or media_module.sample_media()
        self.tasks: dict[str, SimTask] = {}
        #: Accepted creates per API key: one per task the simulator created.
        self.creates: Counter[str] = Counter()
        #: Every API request per operation, refused ones included.
        self.requests: Counter[Op] = Counter()
        #: Every callback attempt, in order.
        self.callbacks: list[Delivery] = []
        self._by_token: dict[str, SimTask] = {}
        self._scripts: list[tuple[str, Script]] = []
        self._bursts: list[_Burst] = []
        self._lock = threading.Lock()
        self._offset = 0.0
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._pending: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None
        routes = [
            *self.routes(),
            Route("/_sim/files/{token}/{name}", self._file),
            Route("/_sim/stats", self._stats),
        ]
        self.server = server_module.LoopbackServer(
            Starlette(routes=routes), name=self.name, host=host, port=port
        )

    # -- what a provider module supplies ------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        raise NotImplementedError

    def view(self, task: SimTask, word: str) -> JSONObject:
        """The task as the provider's status call (and its callbacks) show it."""
        raise NotImplementedError

    def refuse(
        self,
        refusal: Refusal,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """The provider's error response; ``code`` and ``status`` override its defaults."""
        raise NotImplementedError

    def deadline(self, task: SimTask) -> float | None:
        """Seconds after creation when the provider expires an unfinished task; None: never."""
        return None

    def gone(self, task: SimTask) -> bool:
        """Whether the provider has forgotten the task (its retention rules)."""
        return False

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The server root, e.g. ``http://127.0.0.1:41234``."""
        return self.server.url

    @property
    def base_url(self) -> str:
        """The provider's API root, what a client is configured with."""
        return self.server.url + self.api_root

    def start(self) -> Self:
        self.server.start()
        return self

    def stop(self) -> None:
        if self.server.loop is not None:
            self.server.call(self._close())
        self.server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    async def _close(self) -> None:
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        for pending in list(self._pending):
            pending.cancel()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # -- scripting (call from the test's thread) ------------------------------------------------

    def script(
        self,
        prompt_contains: str,
        outcome: Outcome = Outcome.SUCCEED,
        **options: Unpack[ScriptOptions],
    ) -> Script:
        """Script the tasks created from now on whose prompt contains ``prompt_contains``
        (``""`` matches every prompt). The latest matching script wins."""
        script = Script(outcome=outcome, **options)
        with self._lock:
            self._scripts.append((prompt_contains, script))
        return script

    def clear_scripts(self) -> None:
        with self._lock:
            self._scripts.clear()

    def revoke(self, key: str) -> None:
        """From now on ``key`` answers 401."""
        self.valid_keys.discard(key)

    def exhaust_quota(self, key: str) -> None:
        """From now on ``key`` answers the provider's "quota exhausted" error."""
        self.exhausted_keys.add(key)

    def rate_limit_burst(
        self, n: int, retry_after: int | None = 1, *, on: Op | None = None
    ) -> None:
        """The next ``n`` API requests (of operation ``on``, or any) answer 429, with
        ``Retry-After: <retry_after>`` unless it is None."""
        with self._lock:
            self._bursts.append(_Burst((429,), n, on, retry_after))

    def server_errors(
        self, n: int, *, statuses: Iterable[int] = (500, 502, 503), on: Op | None = None
    ) -> None:
        """The next ``n`` API requests (of operation ``on``, or any) answer the given 5xx
        statuses in turn."""
        with self._lock:
            self._bursts.append(_Burst(tuple(statuses), n, on, None))

    def skip(self, seconds: float) -> None:
        """Move the simulator's clock forward; tasks move on (and call back) at once."""
        self.server.call(self._skip(seconds))

    def task(self, task_id: str) -> SimTask:
        return self.tasks[task_id]

    @property
    def creates_total(self) -> int:
        return sum(self.creates.values())

    def callback_view(self, task_id: str, *, status: str | None = None) -> JSONObject:
        """The task's callback body now, with ``status`` replaced: material for a forgery."""
        return self.server.call(self._callback_view(task_id, status))

    def forge_callback(self, url: str, body: JSONObject) -> int | None:
        """POST ``body`` to ``url`` as the provider's callbacks are sent; the answer's status.
        Blocks, so do not call it from the event loop of the server that receives it (use
        ``anyio.to_thread.run_sync`` there)."""
        return self.server.call(self._deliver(url, body, retries=0, forged=True))

    # -- helpers for provider modules (run on the server's loop) ------------------------------

    def now(self) -> float:
        return time.time() + self._offset

    async def gate(self, request: Request, op: Op) -> str | Response:
        """Count the request, apply the injected faults, authenticate: the API key, or the
        response to send instead."""
        self.requests[op] += 1
        burst = self._take_burst(op)
        if burst is not None:
            status = burst.statuses[(burst.sent - 1) % len(burst.statuses)]
            if status == 429:
                headers = (
                    {} if burst.retry_after is None else {"Retry-After": str(burst.retry_after)}
                )
                return self.refuse(Refusal.RATE_LIMITED, "rate limit reached", headers=headers)
            return self.refuse(Refusal.SERVER_ERROR, "internal error", status=status)
        key = self.presented_key(request)
        if key is None or key not in self.valid_keys:
            return self.refuse(Refusal.UNAUTHORIZED, "the API key is missing or invalid")
        if key in self.exhausted_keys:
            return self.refuse(Refusal.QUOTA, "the quota of this key is exhausted")
        return key

    def presented_key(self, request: Request) -> str | None:
        """The API key the request carries: the bearer token (Kling signs a token instead)."""
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        return key if scheme.lower() == "bearer" else None

    def _take_burst(self, op: Op) -> _Burst | None:
        with self._lock:
            for burst in self._bursts:
                if burst.remaining > 0 and burst.on in (None, op):
                    burst.remaining -= 1
                    burst.sent += 1
                    return burst
            return None

    def new_task(
        self,
        *,
        task_id: str,
        key: str,
        prompt: str,
        model: str,
        request: JSONObject,
        callback_url: str | None = None,
    ) -> SimTask:
        """Register an accepted create (and count it); then build the response, then ``admit``."""
        script = self._script_for(prompt)
        now = self.now()
        task = SimTask(
            id=task_id,
            key=key,
            prompt=prompt,
            model=model,
            request=request,
            script=script,
            created_at=now,
            updated_at=now,
            queue_s=self.queue_s if script.queue_s is None else script.queue_s,
            run_s=self.run_s if script.run_s is None else script.run_s,
            callback_url=callback_url,
        )
        self.tasks[task.id] = task
        self._by_token[task.file_token] = task
        self.creates[key] += 1
        return task

    async def accept_create(
        self, request: Request, problem: Callable[[Any], str | None]
    ) -> tuple[str, JSONObject] | Response:
        """The front half of a create handler: the faults and the key, then the JSON body checked
        by ``problem`` (what the provider's reference contradicts in it, or None). Answers
        ``(key, body)``, or the response to send instead (the provider's 400 for a problem)."""
        key = await self.gate(request, Op.CREATE)
        if isinstance(key, Response):
            return key
        body = await json_body(request)
        found = problem(body)
        if found is not None:
            return self.refuse(Refusal.INVALID, found)
        return key, body

    async def created(self, task: SimTask, answer: JSONObject, status_code: int = 200) -> Response:
        """The back half: the create response for ``task``, its clock started (``admit``)."""
        response = JSONResponse(answer, status_code)
        await self.admit(task)
        return response

    async def admit(self, task: SimTask) -> None:
        """Start the task's clock and announce ``queued``; with ``callback_before_create`` the
        callback is delivered before this returns, i.e. before the create response."""
        self._schedule(task)
        delivery = self._announce(task)
        if delivery is not None and task.script.callback_before_create:
            await delivery

    def not_found(self, task_id: str) -> Response:
        """The provider's answer about a task id it does not know."""
        raise NotImplementedError

    async def answer_status(self, request: Request, task_id: str) -> Response:
        """A status read: the faults and the key, then the task as the status call shows it."""
        key = await self.gate(request, Op.GET)
        if isinstance(key, Response):
            return key
        task = self.lookup(task_id)
        return self.not_found(task_id) if task is None else JSONResponse(self.read(task))

    def lookup(self, task_id: str) -> SimTask | None:
        """The task brought up to date, or None if unknown, deleted or forgotten."""
        task = self.tasks.get(task_id)
        if task is None:
            return None
        self.advance(task)
        return None if self.gone(task) else task

    def read(self, task: SimTask) -> JSONObject:
        """A status read: counts it and renders the view."""
        task.reads += 1
        return self.view(task, self._word(task, read=True))

    def forget(self, task: SimTask) -> None:
        """Delete the task (the provider's DELETE)."""
        self.tasks.pop(task.id, None)
        self._by_token.pop(task.file_token, None)
        handle = self._timers.pop(task.id, None)
        if handle is not None:
            handle.cancel()

    def cancel(self, task: SimTask) -> None:
        """End an unfinished task as cancelled."""
        self._enter(task, Phase.CANCELLED, self.now())

    def progress(self, task: SimTask) -> int:
        """Percent done: linear over ``run_s``; 99 at most until it succeeds."""
        if task.phase is Phase.SUCCEEDED:
            return 100
        if task.phase is Phase.QUEUED:
            return 0
        at = self.now() if task.finished_at is None else task.finished_at
        if task.run_s <= 0:
            return 99
        return max(0, min(99, int(100 * (at - task.created_at - task.queue_s) / task.run_s)))

    def file_url(self, task: SimTask, name: str) -> str:
        """An unguessable URL of one result file (``video.mp4``, ``last_frame.png``) that needs
        no key, as object-storage links are."""
        return f"{self.url}/_sim/files/{task.file_token}/{name}"

    def assets_expire_at(self, task: SimTask) -> float | None:
        """When the result files stop being served: ``Outcome.EXPIRE`` makes it the finish."""
        if task.finished_at is None:
            return None
        if task.script.outcome is Outcome.EXPIRE:
            return task.finished_at
        if self.url_lifetime_s is None:
            return None
        return task.finished_at + self.url_lifetime_s

    def result(
        self,
        request: Request,
        task: SimTask,
        data: bytes,
        media_type: str,
        *,
        not_found: Callable[[], Response],
        ranges: bool = False,
    ) -> Response:
        """Serve a result file with the task's download faults applied."""
        task.downloads += 1
        script = task.script
        faulty = script.bad_downloads is None or task.downloads <= script.bad_downloads
        if script.outcome is Outcome.RESULT_404 and faulty:
            return not_found()
        truncate = script.outcome is Outcome.RESULT_TRUNCATED and faulty
        return files_module.body(request, data, media_type, truncate=truncate, ranges=ranges)

    # -- the life of a task -------------------------------------------------------------------

    def _script_for(self, prompt: str) -> Script:
        with self._lock:
            for needle, script in reversed(self._scripts):
                if needle in prompt:
                    return script
        return marker(prompt) or Script()

    def advance(self, task: SimTask) -> None:
        """Bring the task's phase up to the simulator's clock, announcing each change."""
        if task.phase in TERMINAL:
            return
        age = self.now() - task.created_at
        end = math.inf if task.script.outcome is Outcome.HANG else task.queue_s + task.run_s
        deadline = self.deadline(task)
        stop = end if deadline is None else min(end, deadline)
        if age < min(task.queue_s, stop):
            return
        if task.phase is Phase.QUEUED and task.queue_s < stop:
            self._enter(task, Phase.RUNNING, task.created_at + task.queue_s)
        if age < stop:
            return
        if deadline is not None and deadline <= end:
            final = Phase.EXPIRED
        else:
            final = {Outcome.FAIL: Phase.FAILED}.get(task.script.outcome, Phase.SUCCEEDED)
            if task.script.outcome is Outcome.EXPIRE and Phase.EXPIRED in self.words:
                final = Phase.EXPIRED
        self._enter(task, final, task.created_at + stop)

    def _enter(self, task: SimTask, phase: Phase, at: float) -> None:
        task.phase = phase
        task.updated_at = at
        if phase in TERMINAL:
            task.finished_at = at
            handle = self._timers.pop(task.id, None)
            if handle is not None:
                handle.cancel()
        self._announce(task)

    def _schedule(self, task: SimTask) -> None:
        handle = self._timers.pop(task.id, None)
        if handle is not None:
            handle.cancel()
        if task.phase in TERMINAL:
            return
        now = self.now()
        moments = [task.created_at + task.queue_s]
        if task.script.outcome is not Outcome.HANG:
            moments.append(task.created_at + task.queue_s + task.run_s)
        deadline = self.deadline(task)
        if deadline is not None:
            moments.append(task.created_at + deadline)
        upcoming = [moment for moment in moments if moment > now]
        if upcoming:
            delay = min(upcoming) - now + 0.001
            self._timers[task.id] = asyncio.get_running_loop().call_later(delay, self._tick, task)

    def _tick(self, task: SimTask) -> None:
        self._timers.pop(task.id, None)
        if task.id in self.tasks:
            self.advance(task)
            self._schedule(task)

    async def _skip(self, seconds: float) -> None:
        self._offset += seconds
        for task in list(self.tasks.values()):
            self.advance(task)
            self._schedule(task)

    def _word(self, task: SimTask, *, read: bool) -> str:
        script = task.script
        if script.outcome is Outcome.UNKNOWN_STATUS:
            if script.word_polls is None or (read and task.reads <= script.word_polls):
                return script.status_word or self.unknown_word
        return self.words.get(task.phase, task.phase.value)

    # -- callbacks -----------------------------------------------------------------------------

    def _announce(self, task: SimTask) -> asyncio.Task[None] | None:
        if task.callback_url is None or task.phase not in self.callback_phases:
            return None
        body = self.view(task, self._word(task, read=False))
        retries = self.callback_retries.get(task.phase, 0)
        send = asyncio.get_running_loop().create_task(
            self._announce_after(task.chain, task.callback_url, body, retries, task.script)
        )
        task.chain = send
        self._pending.add(send)
        send.add_done_callback(self._pending.discard)
        return send

    async def _announce_after(
        self,
        previous: asyncio.Task[None] | None,
        url: str,
        body: JSONObject,
        retries: int,
        script: Script,
    ) -> None:
        if previous is not None:  # callbacks of one task arrive in order
            await asyncio.wait([previous])
        for _ in range(script.callback_copies):
            await self._deliver(url, body, retries=retries)

    async def _deliver(
        self, url: str, body: JSONObject, *, retries: int, forged: bool = False
    ) -> int | None:
        if self._client is None:
            # Waiting for a pooled connection is the simulator's business, not the receiver's:
            # only connect/read/write count against the acknowledgement window.
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.callback_timeout_s, pool=None),
                limits=httpx.Limits(max_connections=500, max_keepalive_connections=100),
            )
        code: int | None = None
        for attempt in range(1, retries + 2):
            try:
                code = (await self._client.post(url, json=body)).status_code
            except httpx.HTTPError:
                code = None
            self.callbacks.append(Delivery(url, body, code, attempt, forged))
            if code is not None and 200 <= code < 300:
                break
        return code

    async def _callback_view(self, task_id: str, status: str | None) -> JSONObject:
        task = self.tasks[task_id]
        self.advance(task)
        return self.view(task, status or self._word(task, read=False))

    # -- routes every simulator has -------------------------------------------------------------

    async def _file(self, request: Request) -> Response:
        task = self._by_token.get(request.path_params["token"])
        name = request.path_params["name"]
        if task is None or name not in ("video.mp4", "last_frame.png"):
            return Response("no such object", status_code=404)
        self.advance(task)
        if task.phase is not Phase.SUCCEEDED:
            return Response("no such object", status_code=404)
        expires = self.assets_expire_at(task)
        if expires is not None and self.now() >= expires:
            return Response("the link has expired", status_code=403)
        data, media_type = (
            (self.media.video, "video/mp4")
            if name == "video.mp4"
            else (self.media.last_frame, "image/png")
        )
        return self.result(
            request,
            task,
            data,
            media_type,
            not_found=lambda: Response("no such object", status_code=404),
            ranges=True,
        )

    async def _stats(self, request: Request) -> Response:
        """Counters as JSON, for a benchmark that runs the simulator in another process."""
        phases = Counter(task.phase.value for task in self.tasks.values())
        return JSONResponse(
            {
                "creates": dict(self.creates),
                "creates_total": self.creates_total,
                "requests": {op.value: n for op, n in self.requests.items()},
                "tasks": dict(phases),
                "callbacks": len(self.callbacks),
                "downloads": sum(task.downloads for task in self.tasks.values()),
            }
        )
