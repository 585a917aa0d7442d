"""Publishes the PostgreSQL event log into a ``ChangeFeed``, woken by LISTEN/NOTIFY: a change
committed by any process on any machine reaches this process's SSE streams, long-polls and
webhook outbox within milliseconds.

The notification is only a wake-up: the listener always reads the log from its last seq, so
notifications lost while disconnected cost nothing (it catches up on reconnect, and re-reads
every ``fallback_s`` seconds anyway)."""

from __future__ import annotations

import logging

import psycopg

from vidtask.events.feed import ChangeFeed, LogPublisher
from vidtask.store.postgres import EVENTS_CHANNEL, PostgresStore

__all__ = ["PostgresListener"]

log = logging.getLogger(__name__)


class PostgresListener(LogPublisher):
    def __init__(self, store: PostgresStore, feed: ChangeFeed, fallback_s: float = 1.0) -> None:
        super().__init__(store, feed)
        self.conninfo = store.conninfo
        self.fallback_s = fallback_s

    def _run(self, seq: int) -> None:
        backoff = 0.1
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True) as conn:
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
