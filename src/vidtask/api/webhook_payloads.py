"""What a webhook delivery carries, per ``Task.webhook_format``.

``native`` is a Standard Webhooks event; a dialect registers its own callback body here
(Ark's ``callback_url`` receives the same JSON as its GET, Scenext's ``notify_url`` its
``get_status`` answer).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vidtask.core.task import Links, Task
from vidtask.dialects import ark, native, scenext
from vidtask.dialects.timestamps import iso

__all__ = ["PAYLOADS", "Payload"]

#: (event type, task as of the event, its links) -> the JSON body to POST.
Payload = Callable[[str, Task, Links], dict[str, Any]]


def native_event(event_type: str, task: Task, links: Links) -> dict[str, Any]:
    return {"type": event_type, "timestamp": iso(task.updated_at), "data": native.view(task, links)}


def ark_callback(event_type: str, task: Task, links: Links) -> dict[str, Any]:
    """Ark's ``callback_url`` gets the body of its GET."""
    return ark.view(task, links)


def scenext_notify(event_type: str, task: Task, links: Links) -> dict[str, Any]:
    """Scenext's ``notify_url`` gets the ``get_status`` answer."""
    return scenext.view(task, links)


PAYLOADS: dict[str, Payload] = {
    "native": native_event,
    "ark": ark_callback,
    "scenext": scenext_notify,
}
