"""Publishes the PostgreSQL event log into a ``ChangeFeed``, woken by LISTEN/NOTIFY: a change
committed by any process on any machine reaches this process's SSE streams, long-polls and
webhook outbox within milliseconds.

The notification is only a wake-up: the listener always reads the log from its last seq, so
notifications lost while disconnected cost nothing (it catches up on reconnect, and re-reads
every ``fallback_s`` seconds anyway)."""

from __future__ import annotations

import logging
import threading

import psycopg

from vidtask.events.feed import ChangeFeed
from vidtask.store.postgres import EVENTS_CHANNEL, PostgresStore

__all__ = ["PostgresListener"]

log = logging.getLogger(__name__)


class PostgresListener:
    def __init__(self, store: PostgresStore, feed: ChangeFeed, fallback_s: float = 1.0) -> None:
        self.store = store
        self.feed = feed
        self.fallback_s = fallback_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        seq = self.store.last_event_seq()
        self._thread = threading.Thread(target=self._run, args=(seq,), name="pg-listener")
        self._thread.daemon = True
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self, seq: int) -> None:
        backoff = 0.1
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.store.conninfo, autocommit=True) as conn:
                    conn.execute(f"LISTEN {EVENTS_CHANNEL}")
                    backoff = 0.1
                    seq = self._catch_up(seq)  # what was committed while we were not listening
                    while not self._stop.is_set():
                        # Returns after the first notification (draining any burst with it) or
                        # after the fallback interval.
                        for _ in conn.notifies(timeout=self.fallback_s, stop_after=1):
                            pass
                        seq = self._catch_up(seq)
            except psycopg.Error as exc:
                log.warning("event listener lost its connection (%s); reconnecting", exc)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)

    def _catch_up(self, seq: int) -> int:
        while changes := self.store.events_since(seq):
            seq = changes[-1].seq
            self.feed.publish(changes)
        return seq
