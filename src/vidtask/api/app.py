"""The app factory, the HTTP app's composition root: opens the store, builds the service and
its doors (with the store engine's `Runner`), the outbox and the dispatcher from settings,
once, and mounts the dialects (`vidtask.dialects.registry`), the routes of no dialect, the
dashboard and ``/mcp``. Nothing else touches the store."""

from __future__ import annotations

import gc
import ipaddress
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from vidtask import __version__, stores
from vidtask.api import (
    asset_uploads,
    events,
    files,
    openapi,
    ops,
    relays,
    task_dialects,
    webhooks,
)
from vidtask.api.limits import BodyLimit
from vidtask.backends import registry
from vidtask.core import errors
from vidtask.core.task import Task
from vidtask.dashboard import routes as dashboard
from vidtask.dialects.registry import DIALECTS
from vidtask.dispatch import relay as relay_poller
from vidtask.dispatch.embedded import EmbeddedDispatcher
from vidtask.events.feed import ChangeFeed
from vidtask.mcp_server import http as mcp_http
from vidtask.providers import callbacks
from vidtask.service import runner as run_policy
from vidtask.service.aio import AsyncTaskService
from vidtask.service.drafts import Drafts
from vidtask.service.hooks import Webhooks
from vidtask.service.keys import AsyncKeys, Keys
from vidtask.service.tasks import TaskService
from vidtask.settings import ProviderSettings, Settings
from vidtask.storage import InputStore, LocalInputs, bucket_inputs, open_artifacts
from vidtask.storage.signing import UrlSigner, load_or_create_secret
from vidtask.store.base import TaskStore
from vidtask.store.webhooks import Delivery, WebhookStore
from vidtask.web import errors as web_errors
from vidtask.web.auth import Authenticator
from vidtask.web.metrics import Metrics
from vidtask.web.state import AppState
from vidtask.web.viewcache import ViewCache
from vidtask.webhooks import signing
from vidtask.webhooks.outbox import Outbox
from vidtask.webhooks.relay import Relay
from vidtask.webhooks.sender import RetryPolicy, Sender

__all__ = ["build_service", "check_bind", "create_app", "freeze_heap"]

log = logging.getLogger(__name__)


def master_secret(settings: Settings) -> str:
    return settings.secret or load_or_create_secret(settings.data_dir / "secret.key")


def build_service(
    settings: Settings,
    store: TaskStore | None = None,
    *,
    on_created: Callable[[Task], None] | None = None,
) -> TaskService:
    """The service on the settings' store; ``on_created`` sees each task it creates."""
    store = store or stores.open_store(settings)
    secret = master_secret(settings)
    for root in settings.effective_asset_roots:
        root.mkdir(parents=True, exist_ok=True)
    # Uploads go to the artifacts' bucket when there is one (submit checks look them up
    # there, and so do renderers on every machine), else to the first asset root.
    remote = bucket_inputs(settings)
    inputs: InputStore = remote or LocalInputs(settings.effective_asset_roots[0])
    return TaskService(
        store=store,
        backends=registry.build_backends(settings, remote),
        artifacts=open_artifacts(settings),
        inputs=inputs,
        signer=UrlSigner(secret, settings.base_url, settings.url_ttl_s),
        asset_policy=registry.asset_policy(settings, remote),
        max_attempts=settings.max_attempts,
        model_aliases=settings.model_aliases,
        on_created=on_created,
    )


def check_bind(settings: Settings, store: TaskStore) -> None:
    """Refuse to serve anonymously on anything but loopback."""
    if Keys(store).any_active():
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


def build_outbox(
    settings: Settings,
    store: TaskStore,
    service: TaskService,
    hooks: WebhookStore,
    task_secret: Callable[[str], str],
) -> Outbox:
    payloads = DIALECTS.payloads()

    def render(webhook_format: str, event: str, task: Task) -> dict[str, Any]:
        payload = payloads.get(webhook_format, payloads["native"])
        return payload(event, task, service.links(task))

    def secret_for(delivery: Delivery) -> str | None:
        if delivery.endpoint_id is None:
            return task_secret(delivery.owner)
        endpoint = hooks.get_endpoint(delivery.owner, delivery.endpoint_id)
        return None if endpoint is None or endpoint.disabled_at is not None else endpoint.secret

    sender = Sender(
        hooks,
        secret_for=secret_for,
        allow_networks=settings.asset_allow_networks,
        timeout_s=settings.webhook_timeout_s,
        retry=RetryPolicy(
            settings.webhook_retry_base_s,
            settings.webhook_retry_cap_s,
            settings.webhook_max_age_s,
        ),
    )
    callbacks = DIALECTS.callback_events()
    relay = Relay(store, hooks, render, service.clock, callback_events=callbacks)
    return Outbox(
        store,
        hooks,
        relay,
        sender,
        event_retention_s=settings.event_retention_s,
        clock=service.clock,
    )


def create_app(settings: Settings, *, start_workers: bool = True) -> FastAPI:
    store = stores.open_store(settings)
    metrics = Metrics()
    service = build_service(settings, store, on_created=metrics.created)
    check_bind(settings, store)
    secret = master_secret(settings)

    def task_secret(owner: str) -> str:
        """Signs deliveries to a task's own ``webhook_url``, per API key."""
        return signing.derive_secret(secret, "task-webhooks:" + owner)

    hooks = stores.webhook_store(store)
    outbox = build_outbox(settings, store, service, hooks, task_secret)
    runner = run_policy.for_settings(settings, store)
    feed = ChangeFeed()
    feed.add_listener(lambda _changes: outbox.wake())
    tasks = AsyncTaskService(service, runner, feed)
    app_state = AppState(
        settings=settings,
        tasks=tasks,
        hooks=Webhooks(
            hooks,
            runner,
            allow_networks=service.asset_policy.allow_networks,
            task_secret=task_secret,
            wake=outbox.wake,
            clock=service.clock,
        ),
        drafts=Drafts(stores.draft_store(store), runner),
        auth=Authenticator(AsyncKeys(Keys(store), runner)),
        metrics=metrics,
        views=ViewCache(service.link_expiry),
        service=service,
    )
    # With PostgreSQL, `vidtask worker` processes run the tasks; with SQLite, this server does.
    dispatcher = (
        None
        if settings.postgres_url
        else EmbeddedDispatcher(
            settings, store, relay_callback=callbacks.callback_urls(settings.public_url, secret)
        )
    )
    relay = dispatcher.relay if dispatcher is not None else None
    poller = stores.change_source(store, feed)
    mcp = mcp_http.endpoint(settings, tasks, app_state.auth)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        poller.start()
        outbox.start()
        if start_workers and dispatcher is not None:
            dispatcher.start()
        try:
            async with runner.serving(), mcp.running():
                app_state.ready = True
                log.info(
                    "vidtask ready", extra={"url": settings.base_url, "workers": settings.workers}
                )
                yield
        finally:
            app_state.ready = False
            if start_workers and dispatcher is not None:
                dispatcher.stop()
            poller.stop()
            outbox.stop()

    app = FastAPI(
        title="vidtask",
        version=__version__,
        description="Durable, self-hosted task service for video generation.",
        lifespan=lifespan,
    )
    app.state.vidtask = app_state
    app.state.dispatcher = dispatcher
    web_errors.install(app, DIALECTS.shape_at)
    # Each dialect is one route of the app (its routes behind its URL prefixes), tried first,
    # before FastAPI's own /openapi.json and /docs: status polls are the hot path.
    app.router.routes[:0] = [dialect.routes() for dialect in DIALECTS.all]
    for module in (events, webhooks, files, asset_uploads, ops):
        app.include_router(module.router)
    app.include_router(
        relays.router(
            secret,
            relay.poke if relay else relay_poller.poke_over_postgres(settings.postgres_url or ""),
            lambda: relay.status() if relay else [_provider_row(p) for p in settings.providers],
        )
    )
    app.include_router(task_dialects.router(DIALECTS.all))
    # The dashboard after every API route: `/` is an exact path, shadowing none of them.
    app.router.routes.extend(dashboard.routes())
    openapi.install(app, DIALECTS.flows())
    app.router.routes.append(mcp.route)  # streamable HTTP
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        shape_at=DIALECTS.shape_at,
        larger={asset_uploads.PATH: settings.max_asset_bytes},
    )
    return app


def freeze_heap() -> None:
    """Keep what is alive now (the app just built: modules, routes, schemas, ~160k objects) out
    of the cyclic garbage collector's full collections, for the life of the process; call it
    once, before serving. A status poll awaits its database read, so its objects outlive a
    young collection and pile up in the oldest generation until a full one: without this,
    each full one walked the whole app again (measured on PostgreSQL: ~0.1 s each, a third of
    the serving loop's time under status polling, and the p99 latency). Young collections
    then run every 50,000 allocations rather than 700: a request allocates a few hundred
    objects and frees nearly all of them by reference counting, so the default ran the
    collector several times per request for little (measured: 1M tasks 59-63 % -> 70-75 % of
    the constant route)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def _provider_row(provider: ProviderSettings) -> dict[str, Any]:
    """A provider as configured, for a process that does not follow its tasks."""
    return {
        "name": provider.name,
        "kind": provider.kind,
        "models": provider.models,
        "max_concurrency": provider.max_concurrency,
        "in_flight": None,
        "parked_keys": None,
    }
