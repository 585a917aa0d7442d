"""A dialect is a value: its name, URL prefixes, routes, pure parser and views, error view and
webhook payload. `Dialects` is the set an app mounts; the error lookup by path, the webhook
payloads and the OpenAPI links are built from it, never from a table of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from fastapi import APIRouter

from vidtask.core.routing import ModelRouter
from vidtask.core.task import Links, Task, TaskSpec
from vidtask.web.errors import ErrorShape, ErrorView, route_class
from vidtask.web.mount import RouteGroup

__all__ = ["Dialect", "Dialects", "Flow", "Parser", "Payload", "StatusView", "TaskView"]

#: A task and its signed links to the dialect's JSON.
TaskView = Callable[[Task, Links], dict[str, Any]]
#: A task and its links to what the dialect's status read answers for it; None where that read
#: cannot reach the task (capcut-mate reads the status of a draft's render only).
StatusView = Callable[[Task, Links], dict[str, Any] | None]
#: (event type, task as of the event, its links) -> the JSON body of a webhook delivery.
Payload = Callable[[str, Task, Links], dict[str, Any]]


class Parser(Protocol):
    """A create request's JSON to a `TaskSpec`; errors name the dialect's own field paths."""

    def __call__(
        self, body: Any, *, router: ModelRouter, idempotency_key: str | None, body_hash: str
    ) -> TaskSpec: ...


@dataclass(frozen=True, slots=True)
class Flow:
    """OpenAPI links: the id a create (``POST create``) answers with, at ``expression`` in its
    ``status`` answer, and the operations (link name, method, path) taking it as ``param``."""

    create: str
    status: str
    expression: str
    param: str
    targets: tuple[tuple[str, str, str], ...]


class Dialect:
    """One API shape. Its routes are declared on `router`, whose route class answers what they
    raise with this dialect's `error_view`."""

    def __init__(
        self,
        *,
        name: str,
        prefixes: tuple[str, ...],
        error_view: ErrorView,
        tags: list[str],
        parse: Parser | None = None,
        view: TaskView | None = None,
        status_view: StatusView | None = None,
        route_prefix: str = "",
        payload: Payload | None = None,
        callback_events: frozenset[str] | None = None,
        flows: tuple[Flow, ...] = (),
        error_view_at: Callable[[str], ErrorView] | None = None,
        challenge: bool = True,
    ) -> None:
        #: ``Task.webhook_format`` of the tasks it creates, when it has a `payload`.
        self.name = name
        #: Every route's path starts with one of these; an error the framework raises for a
        #: path under one (404, 405, 413, a crash) is in this dialect's shape too.
        self.prefixes = prefixes
        #: The create request's parser and the task's view (None: the dialect has no
        #: create-from-JSON, or no view of a plain task, as capcut-mate's drafts).
        self.parse = parse
        self.view = view
        #: The body of its status read for a task (``view`` unless it reads status otherwise);
        #: the dashboard's "how clients see it" shows one per dialect.
        self.status_view: StatusView | None = status_view or view
        self.error_view = error_view
        #: The body of a callback to a task's own ``webhook_url``; None: the native event.
        self.payload = payload
        #: The events a callback is sent for; None: every status change.
        self.callback_events = callback_events
        self.flows = flows
        self._error_view_at = error_view_at
        self._challenge = challenge
        self.router = APIRouter(
            prefix=route_prefix, tags=list(tags), route_class=route_class(self.error_shape)
        )

    def error_shape(self, path: str) -> ErrorShape:
        """How an error at ``path`` is answered (capcut-mate's differ per call)."""
        view = self.error_view if self._error_view_at is None else self._error_view_at(path)
        return ErrorShape(view, self._challenge)

    def routes(self) -> RouteGroup:
        """Its routes, as one route of the app."""
        return RouteGroup(self.prefixes, self.router.routes)


class Dialects:
    """The dialects an app serves, in the order their routes are tried; ``default`` (the native
    API) answers errors on every path outside their prefixes."""

    def __init__(self, dialects: Sequence[Dialect], *, default: Dialect) -> None:
        self.all = tuple(dialects)
        self.default = default
        by_prefix = [(prefix, d) for d in self.all for prefix in d.prefixes]
        self._by_prefix = sorted(by_prefix, key=lambda item: -len(item[0]))

    def shape_at(self, path: str) -> ErrorShape:
        for prefix, dialect in self._by_prefix:
            if path.startswith(prefix):
                return dialect.error_shape(path)
        return self.default.error_shape(path)

    def payloads(self) -> dict[str, Payload]:
        """``Task.webhook_format`` to its callback body."""
        return {d.name: d.payload for d in self.all if d.payload is not None}

    def callback_events(self) -> dict[str, frozenset[str]]:
        """``Task.webhook_format`` to the events its callback is sent for, where not all."""
        return {d.name: d.callback_events for d in self.all if d.callback_events is not None}

    def flows(self) -> list[Flow]:
        return [flow for d in self.all for flow in d.flows]
