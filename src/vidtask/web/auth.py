"""The key check of every request: ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``
(the keys themselves are `vidtask.service.keys`).

Anonymous access is decided once, when the server starts: only with no active key (and then
only on loopback, see `vidtask.api.app.check_bind`). Creating a key later narrows it (requests
then need a key, within seconds); revoking keys never widens it again until a restart.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable

from starlette.requests import Request

from vidtask.core import errors
from vidtask.service import keys as service_keys
from vidtask.service.keys import ANONYMOUS

__all__ = ["ANONYMOUS", "Authenticator"]

#: Revocations and new keys take effect within this many seconds.
CACHE_TTL_S = 2.0


class Authenticator:
    def __init__(
        self, keys: service_keys.AsyncKeys, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.keys = keys
        self.clock = clock
        self._keys: dict[str, tuple[str | None, float]] = {}
        #: Whether requests without a key are served: decided now, and only ever narrowed.
        self._anonymous = not keys.keys.any_active()
        self._checked_at = clock()

    async def owner(self, request: Request) -> str:
        """The key id the request acts as, or raise `Unauthorized`."""
        secret = _presented_secret(request)
        if secret is None:
            if await self._anonymous_allowed():
                return ANONYMOUS
            raise errors.Unauthorized()
        digest = service_keys.hash_secret(secret)
        now = self.clock()
        cached = self._keys.get(digest)
        if cached is None or now - cached[1] > CACHE_TTL_S:
            key = await self.keys.find(digest)
            cached = (key.id if key else None, now)
            if len(self._keys) > 10_000:
                self._keys.clear()
            self._keys[digest] = cached
        if cached[0] is None:
            raise errors.Unauthorized("the API key is not valid (unknown or revoked)")
        return cached[0]

    async def _anonymous_allowed(self) -> bool:
        if self._anonymous and self.clock() - self._checked_at > CACHE_TTL_S:
            self._checked_at = self.clock()
            self._anonymous = not await self.keys.any_active()
        return self._anonymous


def _presented_secret(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if hmac.compare_digest(scheme.lower(), "bearer") and value.strip():
            return value.strip()
        raise errors.Unauthorized("the Authorization header must be `Bearer <key>`")
    key = request.headers.get("x-api-key")
    return key.strip() if key and key.strip() else None
