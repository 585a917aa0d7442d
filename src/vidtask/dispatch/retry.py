"""Store writes that must land: retried with backoff while the store is away for now."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg

from vidtask.core import errors

__all__ = ["RETRY_FIRST_S", "RETRY_MAX_S", "STORE_ERRORS", "StoreUnavailable", "retry_store"]

log = logging.getLogger(__name__)

#: What a store that is away for now raises: a lost or terminated connection, a pool timeout
#: (``PoolTimeout`` is an ``OperationalError``), a locked SQLite file, a full disk.
STORE_ERRORS: tuple[type[Exception], ...] = (
    psycopg.OperationalError,
    psycopg.InterfaceError,
    sqlite3.OperationalError,
    errors.StorageError,
)
#: First and longest pause between two tries of a store write.
RETRY_FIRST_S, RETRY_MAX_S = 0.1, 2.0

T = TypeVar("T")


class StoreUnavailable(Exception):
    """A store write kept failing for the whole retry period."""


def retry_store(what: str, call: Callable[[], T], *, within: float, extra: dict[str, Any]) -> T:
    """``call()``, retrying `STORE_ERRORS` with backoff for up to ``within`` seconds."""
    deadline = time.monotonic() + within
    delay = RETRY_FIRST_S
    while True:
        try:
            return call()
        except STORE_ERRORS as exc:
            if time.monotonic() + delay > deadline:
                raise StoreUnavailable(f"{what}: {exc}") from exc
            log.warning("%s failed (%s); retrying in %.1f s", what, exc, delay, extra=extra)
            time.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_S)
