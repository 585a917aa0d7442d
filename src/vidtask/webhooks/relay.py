"""The relay: turns task events into webhook deliveries, exactly once.

It reads the event log after its cursor and writes the deliveries of a batch together with the
new cursor position, in one transaction. Which events become deliveries:
- a task's own ``webhook_url`` in the native format: started, progress (each 10 % step),
  completed, failed, cancelled; in a dialect's format: status changes, or the events that
  dialect names (``callback_events``: Scenext's is called back at the end);
- endpoints registered for the key: the event types they subscribed to.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any

from vidtask.core.events import TERMINAL_EVENTS, event_type, progress_step_crossed
from vidtask.core.task import Task
from vidtask.store.base import TaskStore
from vidtask.store.webhooks import Delivery, DeliveryStatus, Endpoint, WebhookStore

__all__ = ["CURSOR", "Relay", "Render", "new_delivery"]

CURSOR = "webhooks"

#: (webhook format, event type, task as of the event) -> the JSON body.
Render = Callable[[str, str, Task], dict[str, Any]]

_STATUS_EVENTS = TERMINAL_EVENTS | {"task.started"}


def new_delivery(
    *,
    owner: str,
    url: str,
    event: str,
    body: dict[str, Any],
    now: float,
    task_id: str | None = None,
    endpoint_id: str | None = None,
) -> Delivery:
    return Delivery(
        id="msg_" + secrets.token_hex(12),
        owner=owner,
        task_id=task_id,
        endpoint_id=endpoint_id,
        url=url,
        event_type=event,
        payload=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status=DeliveryStatus.PENDING,
        created_at=now,
        next_attempt_at=now,
    )


class Relay:
    def __init__(
        self,
        store: TaskStore,
        hooks: WebhookStore,
        render: Render,
        clock: Callable[[], float] = time.time,
        *,
        callback_events: Mapping[str, frozenset[str]] | None = None,
    ) -> None:
        self.store = store
        self.hooks = hooks
        self.render = render
        self.clock = clock
        #: Webhook format to what its callback is sent for (``native`` gets progress too,
        #: a format not named here every status change).
        self.callback_events = dict(callback_events or {})

    def run_once(self, limit: int = 500) -> int:
        """Relay one batch of events; returns how many events it consumed."""
        start = self.hooks.cursor(CURSOR)
        changes = self.store.events_since(start, limit)
        if not changes:
            return 0
        endpoints: dict[str, list[Endpoint]] = {}
        deliveries: list[Delivery] = []
        for change in changes:
            if change.owner not in endpoints:
                endpoints[change.owner] = self.hooks.list_endpoints(change.owner)
            task = self.store.event_at(change.seq) if endpoints[change.owner] else None
            if task is None:
                task = self._with_webhook(change.seq)
            if task is not None:
                deliveries += self._deliveries(task, endpoints[change.owner])
        if not self.hooks.enqueue(deliveries, cursor=(CURSOR, start, changes[-1].seq)):
            return 0  # another process relayed these events first
        return len(changes)

    def _with_webhook(self, seq: int) -> Task | None:
        task = self.store.event_at(seq)
        return task if task is not None and task.webhook_url else None

    def _deliveries(self, task: Task, endpoints: list[Endpoint]) -> list[Delivery]:
        before = self.store.task_history(task.id, task.owner, task.version - 2, limit=1)
        previous = before[0] if before and before[0].version == task.version - 1 else None
        event = event_type(None if previous is None else previous.status, task)
        if event == "task.progress":
            if previous is None or not progress_step_crossed(previous.progress, task.progress):
                return []
        elif event not in _STATUS_EVENTS:
            return []
        now = self.clock()
        found = []
        wanted = self.callback_events.get(task.webhook_format, _STATUS_EVENTS)
        if task.webhook_url and (task.webhook_format == "native" or event in wanted):
            body = self.render(task.webhook_format, event, task)
            found.append(
                new_delivery(
                    owner=task.owner,
                    url=task.webhook_url,
                    event=event,
                    body=body,
                    now=now,
                    task_id=task.id,
                )
            )
        for endpoint in endpoints:
            if event in endpoint.events:
                found.append(
                    new_delivery(
                        owner=task.owner,
                        url=endpoint.url,
                        event=event,
                        body=self.render("native", event, task),
                        now=now,
                        task_id=task.id,
                        endpoint_id=endpoint.id,
                    )
                )
        return found
