"""API keys, stored as SHA-256 hashes of their secrets: what ``vidtask keys`` manages (`Keys`)
and what the key check of every request asks (`AsyncKeys`, `vidtask.web.auth`)."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable

from vidtask.service.runner import Runner
from vidtask.store.base import ApiKey, TaskStore

__all__ = ["ANONYMOUS", "AsyncKeys", "Keys", "hash_secret", "new_key"]

#: Who a request without a key acts as, while the server has no keys.
ANONYMOUS = "anonymous"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_key(store: TaskStore, name: str, now: float) -> tuple[ApiKey, str]:
    """Create a key; the secret is returned once and never stored."""
    secret = "vtk_" + secrets.token_urlsafe(24)
    key = store.create_key("key_" + secrets.token_hex(6), name, hash_secret(secret), now)
    return key, secret


class Keys:
    def __init__(self, store: TaskStore, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock

    def create(self, name: str) -> tuple[ApiKey, str]:
        return new_key(self._store, name, self._clock())

    def all(self) -> list[ApiKey]:
        return self._store.list_keys()

    def find(self, secret_hash: str) -> ApiKey | None:
        """The active key with this hash."""
        return self._store.find_key(secret_hash)

    def any_active(self) -> bool:
        return self._store.has_active_keys()

    def revoke(self, key_id: str) -> bool:
        return self._store.revoke_key(key_id, self._clock())

    def anonymous_tasks(self) -> int:
        """How many tasks were made without a key."""
        return self._store.count_owned(ANONYMOUS)

    def adopt(self, key_id: str) -> int:
        """Give what was made without a key to ``key_id``; how many tasks moved."""
        return self._store.adopt(ANONYMOUS, key_id)


class AsyncKeys:
    """What the key check asks of the keys, for async callers."""

    def __init__(self, keys: Keys, runner: Runner) -> None:
        self.keys = keys
        self._run = runner

    async def find(self, secret_hash: str) -> ApiKey | None:
        return await self._run.read(self.keys.find, secret_hash)

    async def any_active(self) -> bool:
        return await self._run.read(self.keys.any_active)
