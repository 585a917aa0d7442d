"""The task service: validation, the one create path (`submit`: every dialect's, capcut-mate's
render and MCP's tools), reads, cancel and delete, signed links, models and files.

Synchronous and blocking (it may resolve DNS while validating URLs): async callers use it
through `vidtask.service.aio.AsyncTaskService`, which runs each call where the store engine's
`vidtask.service.runner.Runner` says.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from vidtask.backends.base import Backend
from vidtask.core import errors, routing
from vidtask.core.task import Links, Status, Task, TaskSpec
from vidtask.render import assets
from vidtask.service import derived
from vidtask.storage.base import ArtifactInfo, ArtifactStore
from vidtask.storage.inputs import InputStore
from vidtask.storage.signing import UrlSigner
from vidtask.store.base import Page, TaskFilter, TaskStore
from vidtask.webhooks import targets

__all__ = ["Artifact", "InputStore", "Model", "TaskService", "found", "request_hash"]


@dataclass(frozen=True, slots=True)
class Model:
    """A model clients may name: a backend, or an alias of one."""

    id: str
    description: str
    alias_of: str | None = None
    #: The providers that generate it, in the order they are tried (a relayed model).
    providers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Artifact:
    """A stored file, as a reader gets it: a file on this machine (``path``), or the ``info``
    (size, time) of one whose bytes come from ``read_range(start, stop)``."""

    path: Path | None
    info: ArtifactInfo | None
    read_range: Callable[[int, int | None], Iterator[bytes]]


def request_hash(payload: Mapping[str, Any]) -> str:
    """Stable hash of a request body, to tell an idempotent replay from a different request."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def found(task: Task | None, task_id: str) -> Task:
    """The task a read found, or `NotFound` (unknown, another key's, or deleted)."""
    if task is None:
        raise errors.NotFound(f"no task with id {task_id!r}", param="task_id")
    return task


class TaskService:
    def __init__(
        self,
        *,
        store: TaskStore,
        backends: Mapping[str, Backend],
        artifacts: ArtifactStore,
        inputs: InputStore,
        signer: UrlSigner,
        asset_policy: assets.AssetPolicy,
        max_attempts: int,
        model_aliases: Mapping[str, str] = routing.DEFAULT_ALIASES,
        clock: Callable[[], float] = time.time,
        on_created: Callable[[Task], None] | None = None,
    ) -> None:
        self.store = store
        self.backends = backends
        #: Requested model names (dialects' hard-coded ones too) to the local model.
        self.router = routing.ModelRouter(backends, model_aliases)
        self.artifacts = artifacts
        #: Where uploads that timelines name are kept (the routes that take them in write here).
        self.inputs = inputs
        self.signer = signer
        self.asset_policy = asset_policy
        self.max_attempts = max_attempts
        self.clock = clock
        #: Sees every task `submit` created (the app counts them for ``/metrics``).
        self.on_created = on_created

    def validate(self, owner: str, spec: TaskSpec) -> tuple[str, dict[str, Any]]:
        """Every check `submit` makes, without creating a task or looking at the
        Idempotency-Key: the local model and the normalized input (a dry run for clients)."""
        checked = self._checked(*self._routed(spec))
        return checked.model, checked.input

    def submit(self, owner: str, spec: TaskSpec) -> tuple[Task, bool]:
        """Validate and enqueue. Returns (task, created); a replayed Idempotency-Key returns
        the original task with created=False, a reused key with another body is a conflict."""
        spec, backend = self._routed(spec)
        if spec.idempotency_key is not None:
            existing = self._replay(owner, spec)
            if existing is not None:
                return existing, False
        spec = self._checked(spec, backend)
        task, created = self.store.create(Task.create(spec, owner=owner, now=self.clock()))
        if not created and task.request_hash != spec.request_hash:
            raise _key_reused()
        if created and self.on_created is not None:
            self.on_created(task)
        return task, created

    def _routed(self, spec: TaskSpec) -> tuple[TaskSpec, Backend]:
        """The spec on its local model (`InvalidRequest` naming ``model`` if none), keeping
        the name the client asked for and any alias warning, and that model's backend."""
        model = self.router.resolve(spec.model)
        if model != spec.model:  # keep the name the client asked for, for its dialect's view
            ref = {"requested_model": spec.model, **spec.external_ref}
            spec = replace(spec, model=model, external_ref=ref)
        warning = _alias_warning(str(spec.external_ref.get("requested_model", model)), model)
        if warning is not None:
            spec = replace(spec, external_ref={**spec.external_ref, "warnings": [warning]})
        return spec, self.backends[model]

    def _checked(self, spec: TaskSpec, backend: Backend) -> TaskSpec:
        """The spec with its input validated and normalized by the backend (field paths under
        ``input``), its webhook_url checked, and its attempts set."""
        normalized = _prefixed(backend.validate, spec.input, "input")
        if spec.webhook_url is not None:
            targets.check_url(
                spec.webhook_url, self.asset_policy.allow_networks, param="webhook_url"
            )
        # A relayed task that loses its poller resumes polling the same upstream task (nothing
        # is paid twice), so it may be picked up more often than a render is retried.
        attempts = getattr(backend, "max_attempts", None) or self.max_attempts
        return replace(spec, input=normalized, max_attempts=attempts)

    def get(self, owner: str, task_id: str) -> Task:
        return found(self.store.get(task_id, owner), task_id)

    def list_tasks(self, owner: str, query: TaskFilter) -> Page:
        return self.store.list_tasks(owner, query)

    def count_tasks(self, owner: str, query: TaskFilter) -> int:
        return self.store.count_tasks(owner, query)

    def cancel(self, owner: str, task_id: str) -> Task:
        task = self.store.request_cancel(task_id, owner, self.clock())
        if task is None:
            raise errors.NotFound(f"no task with id {task_id!r}", param="task_id")
        return task

    def delete(self, owner: str, task_id: str) -> Task:
        task = self.get(owner, task_id)
        if not task.terminal:
            raise errors.Conflict(
                f"task {task_id} is {task.status.value}; cancel it first, only finished tasks "
                "can be deleted",
                param="task_id",
            )
        if self.store.delete(task_id, owner):
            self.artifacts.delete(task_id)
        return task

    def withdraw(self, owner: str, task_id: str) -> Task:
        """Ark's delete: a queued task is cancelled (and kept), a finished one deleted; a
        running or cancelled one cannot be deleted (Conflict)."""
        task = self.get(owner, task_id)
        if task.status is Status.QUEUED:
            return self.cancel(owner, task_id)
        if task.status in (Status.IN_PROGRESS, Status.CANCELLED):
            raise errors.Conflict(
                f"task {task_id} is {task.status.value}; only queued tasks (which are cancelled) "
                "and finished ones (which are deleted) can be deleted",
                param="task_id",
            )
        return self.delete(owner, task_id)

    def links(self, task: Task) -> Links:
        """The task's artifact URLs: the store's own (presigned) where it makes them, else
        vidtask's signed ``/v1/files`` links. Both expire at `link_expiry`, so a view cached
        until then never hands out a dead link."""
        result = task.result or {}
        now = self.clock()
        expires_at = self.signer.expiry(now)

        def file_url(name: str) -> str:
            direct = self.artifacts.url(task.id, name, expires_at)
            return direct or self.signer.url(task.id, name, now)

        def url(name: Any) -> str | None:
            return file_url(name) if isinstance(name, str) else None

        previews = tuple(
            {"id": str(p["id"]), "url": file_url(str(p["name"]))}
            for p in task.previews
            if "name" in p
        )
        video = result.get("video")
        last_frame = None
        if task.status is Status.COMPLETED and isinstance(video, str) and "/" in video:
            # Always our own link: the frame is made when that link is first fetched.
            frame = f"{video.rsplit('/', 1)[0]}/{derived.LAST_FRAME}"
            last_frame = self.signer.url(task.id, frame, now)
        return Links(url(video), url(result.get("cover")), previews, last_frame)

    def link_expiry(self) -> int:
        """When the links signed now expire (a cached view is good until they change)."""
        return self.signer.expiry(self.clock())

    def link_origins(self) -> tuple[str, ...]:
        """``scheme://host[:port]`` of every place `links` may point (vidtask's public URL,
        and the bucket's when it presigns), for a page's Content-Security-Policy."""
        now = self.clock()
        probe = ("vt_probe", "0/probe")
        urls = [self.signer.url(*probe, now), self.artifacts.url(*probe, self.signer.expiry(now))]
        found = (urlsplit(u) for u in urls if u)
        return tuple(dict.fromkeys(f"{u.scheme}://{u.netloc}".lower() for u in found))

    def models(self) -> list[Model]:
        """The backends, then the names clients may use for them (exact, or a shell-style
        pattern)."""
        found = [
            Model(name, backend.description, providers=tuple(getattr(backend, "providers", ())))
            for name, backend in self.backends.items()
        ]
        for alias, model in self.router.served_aliases().items():
            found.append(Model(alias, f"alias of {model}", model))
        return found

    def input_schema(self, model: str) -> dict[str, Any]:
        backend = self.backends.get(model)
        if backend is None:
            raise errors.NotFound(f"no model {model!r}", param="model")
        return backend.input_schema()

    def check_link(self, task_id: str, name: str, exp: int, sig: str) -> None:
        """`NotFound` unless ``exp`` and ``sig`` are a valid, unexpired link to the file."""
        if not self.signer.verify(task_id, name, exp, sig, self.clock()):
            raise errors.NotFound(
                "this link is invalid or has expired; fetch the task for a new one"
            )

    def artifact(self, task_id: str, name: str) -> Artifact | None:
        """A file of the task, or None if it does not exist."""
        artifacts = self.artifacts
        path = artifacts.local_path(task_id, name)
        read_range = functools.partial(artifacts.read_range, task_id, name)
        if path is not None:
            return Artifact(path, None, read_range)
        info = artifacts.stat(task_id, name)
        return None if info is None else Artifact(None, info, read_range)

    def make_derived(self, task_id: str, name: str) -> bool:
        """Make a derived file (a video's last frame) on first fetch; whether it exists now."""
        return derived.materialize(self.artifacts, task_id, name)

    def local_path(self, task_id: str, name: str) -> Path | None:
        """Where a file of the task is on this machine (None: not here, or not a file)."""
        return self.artifacts.local_path(task_id, name)

    def _replay(self, owner: str, spec: TaskSpec) -> Task | None:
        task = self.store.get_by_idempotency_key(owner, spec.idempotency_key or "")
        if task is not None and task.request_hash != spec.request_hash:
            raise _key_reused()
        return task


#: Local models that stand in for a generative model when a client asks for one by name.
_TEMPLATE_MODELS = {
    "slides": "title cards of the prompt's text",
    "timeline": "a title card of the prompt's text",
}


def _alias_warning(requested: str, model: str) -> str | None:
    """The warning a task gets when an alias (``sora-2``) sent it to a local template model."""
    made = _TEMPLATE_MODELS.get(model)
    if requested == model or made is None:
        return None
    return (
        f"model {requested!r} is served here by the local {model!r} model: the video is "
        f"{made}, not a generated AI video (aliases are set by VIDTASK_MODEL_ALIASES)"
    )


def _key_reused() -> errors.Conflict:
    return errors.Conflict(
        "this Idempotency-Key was already used with a different request body",
        param="Idempotency-Key",
    )


def _prefixed(
    validate: Callable[[dict[str, Any]], dict[str, Any]], data: dict[str, Any], prefix: str
) -> dict[str, Any]:
    """Run a backend's validation and put the field path of any error under ``prefix``."""
    try:
        return validate(data)
    except errors.InvalidRequest as exc:
        param = f"{prefix}.{exc.param}" if exc.param else prefix
        message = exc.message
        if exc.param and message.startswith(exc.param):
            message = param + message[len(exc.param) :]
        raise errors.InvalidRequest(message, param=param) from exc
