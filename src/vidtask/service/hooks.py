"""Webhook endpoints of each API key and the delivery log, for the ``/v1/webhooks`` routes.

An endpoint gets its own signing secret; a task's own ``webhook_url`` is signed with the key's
task-webhook secret (`task_secret`). Deliveries queued here (a resend, a test event) wake the
outbox at once.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Sequence
from typing import Any

from vidtask.core import errors
from vidtask.service.runner import Runner
from vidtask.store.webhooks import Attempt, Delivery, DeliveryFilter, Endpoint, WebhookStore
from vidtask.webhooks import relay, signing, targets

__all__ = ["Webhooks"]


class Webhooks:
    def __init__(
        self,
        store: WebhookStore,
        runner: Runner,
        *,
        allow_networks: Sequence[str],
        task_secret: Callable[[str], str],
        wake: Callable[[], None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._run = runner
        self._allow_networks = allow_networks
        #: The secret signing deliveries to tasks' own ``webhook_url``, per API key.
        self.task_secret = task_secret
        self._wake = wake
        self._clock = clock

    async def create_endpoint(
        self, owner: str, url: str, events: Sequence[str], description: str
    ) -> Endpoint:
        # Resolves the host (a public address only): off the loop.
        await self._run.write(targets.check_url, url, self._allow_networks, param="url")
        endpoint = Endpoint(
            id="we_" + secrets.token_hex(10),
            owner=owner,
            url=url,
            secret=signing.new_secret(),
            events=tuple(dict.fromkeys(events)),
            description=description,
            created_at=self._clock(),
        )
        await self._run.write(self._store.create_endpoint, endpoint)
        return endpoint

    async def endpoints(self, owner: str) -> list[Endpoint]:
        return await self._run.read(self._store.list_endpoints, owner)

    async def endpoint(self, owner: str, endpoint_id: str) -> Endpoint:
        """An active endpoint of ``owner``, or `NotFound`."""
        endpoint = await self._run.read(self._store.get_endpoint, owner, endpoint_id)
        if endpoint is None or endpoint.disabled_at is not None:
            raise errors.NotFound(
                f"no webhook endpoint with id {endpoint_id!r}", param="endpoint_id"
            )
        return endpoint

    async def disable(self, endpoint: Endpoint) -> None:
        await self._run.write(
            self._store.disable_endpoint, endpoint.owner, endpoint.id, self._clock()
        )

    async def send(
        self, endpoint: Endpoint, event: str, body: Callable[[float], dict[str, Any]]
    ) -> Delivery:
        """Queue one event to ``endpoint``; ``body(now)`` is its JSON."""
        now = self._clock()
        delivery = relay.new_delivery(
            owner=endpoint.owner,
            url=endpoint.url,
            event=event,
            body=body(now),
            now=now,
            endpoint_id=endpoint.id,
        )
        await self._run.write(self._store.enqueue, [delivery])
        self._wake()
        return delivery

    async def deliveries(self, owner: str, query: DeliveryFilter) -> tuple[list[Delivery], bool]:
        return await self._run.read(self._store.list_deliveries, owner, query)

    async def delivery(self, owner: str, delivery_id: str) -> tuple[Delivery, list[Attempt]]:
        found = await self._run.read(self._store.get_delivery, owner, delivery_id)
        if found is None:
            raise _no_delivery(delivery_id)
        return found

    async def resend(self, owner: str, delivery_id: str) -> Delivery:
        delivery = await self._run.write(self._store.resend, owner, delivery_id, self._clock())
        if delivery is None:
            raise _no_delivery(delivery_id)
        self._wake()
        return delivery


def _no_delivery(delivery_id: str) -> errors.NotFound:
    return errors.NotFound(f"no delivery with id {delivery_id!r}", param="delivery_id")
