"""What routes need, built once by the app factory and kept on ``app.state.vidtask``."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from vidtask.service.aio import AsyncTaskService
from vidtask.service.drafts import Drafts
from vidtask.service.hooks import Webhooks
from vidtask.service.tasks import TaskService
from vidtask.settings import Settings
from vidtask.web.auth import Authenticator
from vidtask.web.metrics import Metrics
from vidtask.web.viewcache import ViewCache

__all__ = ["AppState", "state"]


@dataclass(slots=True)
class AppState:
    settings: Settings
    #: The doors routes use: tasks (with the event log, files and waiting), webhook endpoints
    #: and deliveries, capcut-mate drafts.
    tasks: AsyncTaskService
    hooks: Webhooks
    drafts: Drafts
    auth: Authenticator
    metrics: Metrics
    views: ViewCache
    #: The synchronous service behind `tasks`, as the app factory built it (for tests and
    #: tools beside the server; a route never uses it).
    service: TaskService
    ready: bool = False


def state(request: Request) -> AppState:
    app_state: AppState = request.app.state.vidtask
    return app_state
