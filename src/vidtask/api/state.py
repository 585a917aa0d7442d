"""What routes need, built once by the app factory and kept on ``app.state.vidtask``."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from vidtask.api.auth import Authenticator
from vidtask.api.metrics import Metrics
from vidtask.api.viewcache import ViewCache
from vidtask.events.feed import ChangeFeed
from vidtask.service import TaskService
from vidtask.settings import Settings

__all__ = ["AppState", "state"]


@dataclass(slots=True)
class AppState:
    settings: Settings
    service: TaskService
    auth: Authenticator
    metrics: Metrics
    views: ViewCache
    feed: ChangeFeed
    ready: bool = False


def state(request: Request) -> AppState:
    app_state: AppState = request.app.state.vidtask
    return app_state
