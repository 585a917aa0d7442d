"""The outbox loop: relay new task events into deliveries, send what is due, prune old events.

One runs per embedded server (the data dir's lock guarantees one). Everything it works from is
in the store, so a restart simply carries on: pending deliveries are sent, locks of a crashed
run expire.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from vidtask.store.base import TaskStore
from vidtask.store.webhooks import WebhookStore
from vidtask.webhooks.relay import CURSOR, Relay
from vidtask.webhooks.sender import Sender

__all__ = ["Outbox"]

log = logging.getLogger(__name__)

PRUNE_EVERY_S = 60.0


class Outbox:
    def __init__(
        self,
        store: TaskStore,
        hooks: WebhookStore,
        relay: Relay,
        sender: Sender,
        *,
        event_retention_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.hooks = hooks
        self.relay = relay
        self.sender = sender
        self.event_retention_s = event_retention_s
        self.clock = clock
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pruned_at = 0.0

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="webhook-outbox", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.sender.close()

    def run_once(self) -> None:
        while self.relay.run_once():
            pass
        self.sender.send_due()
        now = self.clock()
        if now - self._pruned_at > PRUNE_EVERY_S:
            self._pruned_at = now
            keep = self.hooks.cursor(CURSOR) + 1
            self.store.prune_events(now - self.event_retention_s, keep)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:
                log.exception("webhook outbox pass failed; retrying")
            due = self.hooks.next_due()
            wait = 1.0 if due is None else min(1.0, max(0.02, due - self.clock()))
            self._wake.wait(wait)
            self._wake.clear()
