"""The app factory: builds the store, service and dispatcher from settings, once."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from vidtask import __version__
from vidtask.api import errors as api_errors
from vidtask.api import events, files, native, newapi, ops
from vidtask.api.auth import Authenticator
from vidtask.api.limits import BodyLimit
from vidtask.api.metrics import Metrics
from vidtask.api.state import AppState
from vidtask.api.viewcache import ViewCache
from vidtask.backends import registry
from vidtask.core import errors
from vidtask.dispatch.embedded import EmbeddedDispatcher
from vidtask.events.feed import ChangeFeed, SQLitePoller
from vidtask.service import TaskService
from vidtask.settings import Settings
from vidtask.storage.local import LocalArtifacts
from vidtask.storage.signing import UrlSigner, load_or_create_secret
from vidtask.store.sqlite import SQLiteStore

__all__ = ["build_service", "check_bind", "create_app"]

log = logging.getLogger(__name__)


def build_service(settings: Settings, store: SQLiteStore | None = None) -> TaskService:
    store = store or SQLiteStore(settings.database_path)
    secret = settings.secret or load_or_create_secret(settings.data_dir / "secret.key")
    for root in settings.effective_asset_roots:
        root.mkdir(parents=True, exist_ok=True)
    return TaskService(
        store=store,
        backends=registry.build_backends(settings),
        artifacts=LocalArtifacts(settings.artifacts_dir),
        signer=UrlSigner(secret, settings.base_url, settings.url_ttl_s),
        asset_policy=registry.asset_policy(settings),
        max_attempts=settings.max_attempts,
        model_aliases=settings.model_aliases,
    )


def check_bind(settings: Settings, store: SQLiteStore) -> None:
    """Refuse to serve anonymously on anything but loopback."""
    if store.has_active_keys():
        return
    host = settings.host
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise errors.Unauthorized(
            f"refusing to bind to {host}: no API keys exist, so anyone could use this server. "
            "Create one with `vidtask keys create`, or bind to 127.0.0.1."
        )


def create_app(settings: Settings, *, start_workers: bool = True) -> FastAPI:
    service = build_service(settings)
    store = service.store
    assert isinstance(store, SQLiteStore)
    check_bind(settings, store)
    app_state = AppState(
        settings=settings,
        service=service,
        auth=Authenticator(store),
        metrics=Metrics(store.counts),
        views=ViewCache(lambda: service.signer.expiry(service.clock())),
        feed=ChangeFeed(),
    )
    dispatcher = EmbeddedDispatcher(settings, store)
    poller = SQLitePoller(store, app_state.feed)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        poller.start()
        if start_workers:
            dispatcher.start()
        app_state.ready = True
        log.info("vidtask ready", extra={"url": settings.base_url, "workers": settings.workers})
        try:
            yield
        finally:
            app_state.ready = False
            if start_workers:
                dispatcher.stop()
            poller.stop()

    app = FastAPI(
        title="vidtask",
        version=__version__,
        description="Durable, self-hosted task service for video generation.",
        lifespan=lifespan,
    )
    app.state.vidtask = app_state
    app.state.dispatcher = dispatcher
    api_errors.install(app)
    for module in (native, events, newapi, files, ops):
        app.include_router(module.router)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    return app
