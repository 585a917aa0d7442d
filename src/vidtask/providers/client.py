"""Calls to one provider: its keys in turn, its request rate, retries with backoff.

The kind says how the key travels (`UpstreamKind.auth`) and whether a 2xx answer can still be
a refusal (`UpstreamKind.refusal_in`: MiniMax's ``base_resp``). A call that meets 429, a 5xx or
a network error is retried with exponential backoff and jitter,
waiting at least what ``Retry-After`` asks. A refused key is parked and the call goes on with the
next one. A refusal about the request itself (`Trouble.INPUT`, `Trouble.GONE`) ends the call at
once. No key ever appears in an error message: errors name the key's environment variable.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import itertools
import math
import ssl
import time
from collections.abc import Sequence
from typing import Any

import certifi
import httpx
from aiolimiter import AsyncLimiter
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)
from tenacity.wait import wait_base

from vidtask.core import errors
from vidtask.providers.base import Call, Refusal, Trouble, UpstreamKind
from vidtask.providers.keys import Key, KeyPool
from vidtask.settings import ProviderSettings

__all__ = ["POOL_SIZE", "ProviderClient", "Refused", "Retryable", "connection_pools"]


class Refused(Exception):
    """The provider refused the call for a reason retrying will not fix."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.message)
        self.refusal = refusal


class Retryable(Exception):
    """Worth another try after ``retry_after`` seconds (None: backoff decides). ``answered``:
    the provider answered (429, 5xx), so nothing was done; False after a network error."""

    def __init__(
        self, message: str, retry_after: float | None = None, *, answered: bool = True
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.answered = answered


class _AtLeastRetryAfter(wait_base):
    """Exponential backoff with jitter, but never less than the provider's ``Retry-After``."""

    def __init__(self, backoff: wait_base) -> None:
        self.backoff = backoff

    def __call__(self, retry_state: Any) -> float:
        wait = float(self.backoff(retry_state))
        outcome = retry_state.outcome
        problem = outcome.exception() if outcome is not None else None
        if isinstance(problem, Retryable) and problem.retry_after is not None:
            return max(wait, problem.retry_after)
        return wait


class ProviderClient:
    def __init__(
        self,
        settings: ProviderSettings,
        upstream: UpstreamKind,
        http: httpx.AsyncClient | Sequence[httpx.AsyncClient],
        *,
        connections_per_client: int = 8,
        tries: int = 6,
        backoff_s: float = 1.0,
        backoff_cap_s: float = 60.0,
    ) -> None:
        self.settings = settings
        self.upstream = upstream
        #: Several small connection pools rather than one large one: httpcore's pool costs
        #: time in proportion to its connections on every request it assigns.
        self.pools = [http] if isinstance(http, httpx.AsyncClient) else list(http)
        self.http = self.pools[0]
        self._turn = itertools.cycle(range(len(self.pools)))
        self.keys = KeyPool(settings.api_key_env, settings.keys)
        self.limiter = AsyncLimiter(settings.rate_per_s, 1)
        #: Requests in flight per pool: the rest wait here, in a queue that costs nothing per
        #: waiter (httpcore's pool re-scans its whole queue on every request).
        self.slots = [asyncio.Semaphore(connections_per_client) for _ in self.pools]
        self.tries = tries
        self.wait = _AtLeastRetryAfter(wait_random_exponential(backoff_s, backoff_cap_s))

    @property
    def name(self) -> str:
        return self.settings.name

    async def call(self, call: Call, *, tries: int | None = None) -> Any:
        """The JSON body of a successful answer. Raises `Refused`, or `Retryable` once the
        tries are used up, or `UpstreamError` when every key is parked."""
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(Retryable),
            wait=self.wait,
            stop=stop_after_attempt(tries or self.tries),
            reraise=True,
        ):
            with attempt:
                return await self._once(call)
        raise AssertionError("unreachable")  # AsyncRetrying re-raises the last error

    async def check(self) -> list[tuple[str, str | None]]:
        """One authenticated read per key: ``(env var, None)`` for a key that works, else
        ``(env var, what the provider said)``. Nothing is parked or retried."""
        call = self.upstream.check()
        url = self.settings.base_url.rstrip("/") + call.path
        found: list[tuple[str, str | None]] = []
        for key in self.keys.keys:
            headers = self._headers(call, key)
            try:
                response = await self.http.request(call.method, url, headers=headers)
            except httpx.HTTPError as exc:
                found.append((key.label, f"{type(exc).__name__}: cannot reach {url}"))
                continue
            body = _json(response)
            if response.is_success:
                # An error inside a 2xx answer counts only when it is about the key.
                inner = self.upstream.refusal_in(body)
                bad = inner is not None and inner.trouble is Trouble.KEY
                found.append((key.label, inner.message if inner and bad else None))
                continue
            if response.status_code == 404:
                found.append((key.label, None))
                continue
            refusal = self.upstream.refusal(response.status_code, body)
            found.append((key.label, refusal.message))
        return found

    def serves(self, url: str) -> bool:
        """Whether ``url`` may be fetched with the key: a path under ``base_url``, or an absolute
        URL on the same scheme, host and port as ``base_url`` (Veo's ``files/…:download``)."""
        target = httpx.URL(url)
        if not target.is_absolute_url:
            return url.startswith("/")
        base = httpx.URL(self.settings.base_url)
        return (target.scheme, target.host, target.port) == (base.scheme, base.host, base.port)

    async def open_result(self, path: str) -> httpx.Response:
        """A streaming GET, with a key, of a result the provider serves itself (a path under
        its ``base_url``, e.g. OpenAI's ``/v1/videos/{id}/content``, or an absolute URL on its
        host: `serves`); the caller closes it. Result URLs on other hosts are fetched without
        the key, through the SSRF guard: this refuses them (`ValueError`)."""
        if not self.serves(path):
            raise ValueError(f"{self.name}: the result is not on the provider's host")
        key = self._key()
        absolute = httpx.URL(path).is_absolute_url
        url = path if absolute else self.settings.base_url.rstrip("/") + path
        headers = self.upstream.auth(key.secret.get_secret_value())
        async with self.limiter:
            request = self.http.build_request("GET", url, headers=headers)
            return await self.http.send(request, stream=True)

    async def _once(self, call: Call) -> Any:
        while True:
            key = self._key()
            url = self.settings.base_url.rstrip("/") + call.path
            turn = next(self._turn)
            async with self.limiter, self.slots[turn]:
                try:
                    response = await self.pools[turn].request(
                        call.method,
                        url,
                        json=call.json,
                        headers=self._headers(call, key),
                    )
                except httpx.HTTPError as exc:
                    raise Retryable(
                        f"{type(exc).__name__} calling {self.name}", answered=False
                    ) from None
            body = _json(response)
            if response.is_success:
                refusal = self.upstream.refusal_in(body)
                if refusal is None:
                    return body
            else:
                refusal = self.upstream.refusal(response.status_code, body)
            if refusal.trouble is Trouble.KEY:
                self.keys.park(key, refusal.message)
                continue
            if refusal.trouble is Trouble.RETRY:
                raise Retryable(refusal.message, _retry_after(response))
            raise Refused(refusal)

    def _headers(self, call: Call, key: Key) -> dict[str, str]:
        """The call's own headers, then the key's (a call cannot replace the key's)."""
        return {**(call.headers or {}), **self.upstream.auth(key.secret.get_secret_value())}

    def _key(self) -> Key:
        key = self.keys.take()
        if key is None:
            reasons = "; ".join(f"{p.label}: {p.reason}" for p in self.keys.parked())
            raise errors.UpstreamError(f"provider {self.name!r} has no usable key ({reasons})")
        return key


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds (a number or an HTTP date), or None."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


#: Connections in one pool: httpcore's pool costs time in proportion to its connections on
#: every request it assigns, so a provider gets several small pools.
POOL_SIZE = 4


def connection_pools(connections: int) -> list[httpx.AsyncClient]:
    """Clients for ``connections`` connections at most, in pools of `POOL_SIZE` (open each)."""
    return [_pool(POOL_SIZE) for _ in range(math.ceil(connections / POOL_SIZE))]


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every pool (each would load the CA bundle again)."""
    return ssl.create_default_context(cafile=certifi.where())


def _pool(size: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
    # A request waits for a connection in the client's own queue, never times out there.
    timeout = httpx.Timeout(30, pool=None)
    return httpx.AsyncClient(timeout=timeout, limits=limits, trust_env=False, verify=_tls())
