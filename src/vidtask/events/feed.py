"""The change feed: one interface that tells waiters in this process that tasks changed.

A *source* publishes batches of `Change`s into the feed: `SQLitePoller` reads the event log
(written by triggers, so every process's writes show up); with PostgreSQL, `PostgresListener`
reads it when LISTEN/NOTIFY says it grew. Waiters only get a wake-up hint and re-read the store,
so a missed or coalesced hint can never lose an event.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from vidtask.store.base import Change, TaskStore

__all__ = ["ChangeFeed", "LogPublisher", "SQLitePoller", "Subscription"]

log = logging.getLogger(__name__)

Listener = Callable[[list[Change]], None]


@dataclass(eq=False)
class Subscription:
    """Wakes one asyncio waiter on changes of one owner's tasks (or of one task)."""

    owner: str | None
    task_id: str | None
    loop: asyncio.AbstractEventLoop
    event: asyncio.Event = field(default_factory=asyncio.Event)

    def matches(self, change: Change) -> bool:
        if self.task_id is not None and change.task_id != self.task_id:
            return False
        return self.owner is None or change.owner == self.owner

    async def wait(self, timeout: float) -> bool:
        """True when a matching change arrived (since the last wait), False on timeout."""
        try:
            await asyncio.wait_for(self.event.wait(), timeout)
        except TimeoutError:
            return False
        self.event.clear()
        return True


class ChangeFeed:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscriptions: set[Subscription] = set()
        self._listeners: list[Listener] = []

    def subscribe(self, owner: str | None, task_id: str | None = None) -> Subscription:
        """Call from the event loop; `unsubscribe` when done."""
        sub = Subscription(owner, task_id, asyncio.get_running_loop())
        with self._lock:
            self._subscriptions.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            self._subscriptions.discard(sub)

    def add_listener(self, listener: Listener) -> None:
        """Run ``listener`` (in the source's thread; keep it quick) on every batch."""
        self._listeners.append(listener)

    def publish(self, changes: list[Change]) -> None:
        if not changes:
            return
        with self._lock:
            woken = [s for s in self._subscriptions if any(s.matches(c) for c in changes)]
        for sub in woken:
            try:
                sub.loop.call_soon_threadsafe(sub.event.set)
            except RuntimeError:  # its loop has closed
                self.unsubscribe(sub)
        for listener in self._listeners:
            try:
                listener(changes)
            except Exception:
                log.exception("change listener failed")


class LogPublisher:
    """A thread that publishes the event log's new rows into a feed, from the log position it
    started at. Subclasses decide when to look (``_run``)."""

    def __init__(self, store: TaskStore, feed: ChangeFeed) -> None:
        self.store = store
        self.feed = feed
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        seq = self.store.last_event_seq()
        self._thread = threading.Thread(target=self._run, args=(seq,), name="change-feed")
        self._thread.daemon = True
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self, seq: int) -> None:
        raise NotImplementedError

    def _catch_up(self, seq: int) -> int:
        """Publish every row after ``seq``; return the last seq published."""
        while changes := self.store.events_since(seq):
            seq = changes[-1].seq
            self.feed.publish(changes)
        return seq


class SQLitePoller(LogPublisher):
    """Checks the log every ``interval`` seconds (one primary-key range query; SQLite has no
    cross-process notifications)."""

    def __init__(self, store: TaskStore, feed: ChangeFeed, interval: float = 0.02) -> None:
        super().__init__(store, feed)
        self.interval = interval

    def _run(self, seq: int) -> None:
        while not self._stop.wait(self.interval):
            try:
                seq = self._catch_up(seq)
            except Exception:
                log.exception("reading the event log failed; retrying")
