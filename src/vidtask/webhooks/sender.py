"""The sender: POSTs due deliveries, signed, through the SSRF guard, and schedules retries
(exponential backoff with jitter) until one succeeds or the delivery is too old."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx

from vidtask.netguard import Refused, host_port, pinned_request, resolve_public
from vidtask.store.webhooks import Attempt, Delivery, DeliveryStatus, WebhookStore
from vidtask.webhooks import signing

__all__ = ["RetryPolicy", "Sender"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    base_s: float = 5.0
    cap_s: float = 3600.0
    max_age_s: float = 24 * 3600.0

    def delay(self, attempt: int) -> float:
        """Wait before attempt ``attempt + 1``: doubling from ``base_s``, capped, and
        jittered down by up to half so failed receivers are not hit in lockstep."""
        backoff: float = min(self.cap_s, self.base_s * 2.0 ** (attempt - 1))
        return backoff * random.uniform(0.5, 1.0)


class Sender:
    def __init__(
        self,
        hooks: WebhookStore,
        *,
        secret_for: Callable[[Delivery], str | None],
        allow_networks: Sequence[str] = (),
        timeout_s: float = 10.0,
        retry: RetryPolicy = RetryPolicy(),
        parallel: int = 4,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.hooks = hooks
        self.secret_for = secret_for
        self.allow_networks = tuple(allow_networks)
        self.timeout_s = timeout_s
        self.retry = retry
        self.parallel = parallel
        self.clock = clock
        self._http = httpx.Client(timeout=timeout_s, follow_redirects=False, trust_env=False)
        self._pool = ThreadPoolExecutor(parallel, thread_name_prefix="webhook")
        self._lock = threading.Lock()
        self._inflight = 0

    def send_due(self) -> int:
        """Start sending what is due, up to the free parallel slots; returns how many."""
        with self._lock:
            free = self.parallel - self._inflight
        if free <= 0:
            return 0
        due = self.hooks.claim_due(self.clock(), free, lock_s=self.timeout_s * 2 + 5)
        for delivery in due:
            with self._lock:
                self._inflight += 1
            self._pool.submit(self._send_and_release, delivery)
        return len(due)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._http.close()

    def _send_and_release(self, delivery: Delivery) -> None:
        try:
            self.send(delivery)
        except Exception:
            log.exception("webhook delivery %s failed unexpectedly", delivery.id)
        finally:
            with self._lock:
                self._inflight -= 1

    def send(self, delivery: Delivery) -> Attempt:
        number = delivery.attempts + 1
        now = self.clock()
        started = time.monotonic()
        status_code: int | None = None
        error: str | None = None
        secret = self.secret_for(delivery)
        if secret is None:
            error = "the endpoint was deleted"
        else:
            try:
                status_code = self._post(delivery, secret, int(now))
            except Refused as exc:
                error = f"refused: {exc}"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"[:500]
        attempt = Attempt(number, now, (time.monotonic() - started) * 1000, status_code, error)
        if status_code is not None and 200 <= status_code < 300:
            status, next_at = DeliveryStatus.DELIVERED, None
        else:
            next_at = self.clock() + self.retry.delay(number)
            too_old = next_at > delivery.created_at + self.retry.max_age_s
            if secret is None or too_old:
                status, next_at = DeliveryStatus.FAILED, None
            else:
                status = DeliveryStatus.PENDING
        self.hooks.record_attempt(delivery.id, attempt, status=status, next_attempt_at=next_at)
        log.info(
            "webhook %s %s attempt %d: %s",
            delivery.id,
            delivery.event_type,
            number,
            status_code or error,
        )
        return attempt

    def _post(self, delivery: Delivery, secret: str, timestamp: int) -> int:
        body = delivery.payload.encode()
        ip = resolve_public(*host_port(delivery.url), self.allow_networks)[0]
        request = pinned_request(
            self._http,
            "POST",
            delivery.url,
            ip,
            content=body,
            headers=signing.headers(secret, delivery.id, timestamp, body),
        )
        response = self._http.send(request)
        response.close()
        return response.status_code
