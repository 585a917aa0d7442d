"""The Python SDK: `Client` and `AsyncClient` talk to a vidtask server over HTTP, with typed
models. It imports only `vidtask.core`."""

from __future__ import annotations

from vidtask.client.aio import AsyncClient
from vidtask.client.models import Delivery, Task, TaskEvent, WebhookEndpoint
from vidtask.client.sync import Client

__all__ = ["AsyncClient", "Client", "Delivery", "Task", "TaskEvent", "WebhookEndpoint"]
