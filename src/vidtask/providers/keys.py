"""A provider's API keys: used in turn; a key the provider refuses (401, 403, out of quota) is
parked for a while, so one dead key does not fail every task, and one bad request (a 4xx about
the input) never parks anything. Keys are shown by the name of their environment variable."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pydantic import SecretStr

__all__ = ["Key", "KeyPool", "Parked"]

#: How long a refused key sits out before it is tried again.
PARK_S = 600.0


@dataclass(frozen=True, slots=True)
class Key:
    #: The environment variable it came from: what logs and `vidtask providers` show.
    label: str
    secret: SecretStr

    def __repr__(self) -> str:
        return f"Key({self.label})"


@dataclass(frozen=True, slots=True)
class Parked:
    label: str
    reason: str
    until: float


class KeyPool:
    def __init__(
        self,
        labels: Sequence[str],
        secrets: Sequence[SecretStr],
        *,
        park_s: float = PARK_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.keys = [Key(label, secret) for label, secret in zip(labels, secrets, strict=True)]
        self.park_s = park_s
        self.clock = clock
        self._parked: dict[str, Parked] = {}
        self._next = 0
        self._lock = threading.Lock()

    def take(self) -> Key | None:
        """The next usable key in turn, or None when every key is parked."""
        now = self.clock()
        with self._lock:
            for _ in range(len(self.keys)):
                key = self.keys[self._next % len(self.keys)]
                self._next += 1
                parked = self._parked.get(key.label)
                if parked is None or parked.until <= now:
                    self._parked.pop(key.label, None)
                    return key
        return None

    def park(self, key: Key, reason: str) -> None:
        with self._lock:
            self._parked[key.label] = Parked(key.label, reason, self.clock() + self.park_s)

    def parked(self) -> list[Parked]:
        now = self.clock()
        with self._lock:
            return [p for p in self._parked.values() if p.until > now]
