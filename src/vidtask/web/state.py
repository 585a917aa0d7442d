"""What routes need, built once by the app factory and kept on ``app.state.vidtask``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import Request

from vidtask.events.feed import ChangeFeed
from vidtask.service import TaskService
from vidtask.settings import Settings
from vidtask.store.drafts import DraftStore
from vidtask.store.webhooks import WebhookStore
from vidtask.web.auth import Authenticator
from vidtask.web.metrics import Metrics
from vidtask.web.viewcache import ViewCache

__all__ = ["AppState", "state"]


@dataclass(slots=True)
class AppState:
    settings: Settings
    service: TaskService
    auth: Authenticator
    metrics: Metrics
    views: ViewCache
    feed: ChangeFeed
    webhooks: WebhookStore
    #: The signing secret of deliveries to tasks' own ``webhook_url``, per API key.
    task_webhook_secret: Callable[[str], str]
    wake_outbox: Callable[[], None]
    ready: bool = False
    #: capcut-mate drafts (`vidtask.dialects.capcut_mate.routes`).
    drafts: DraftStore | None = None


def state(request: Request) -> AppState:
    app_state: AppState = request.app.state.vidtask
    return app_state
