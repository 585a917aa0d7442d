"""The store a process uses, chosen by ``VIDTASK_DATABASE_URL``: the embedded SQLite file, or
PostgreSQL for the cluster mode. Everything else sees only the protocols."""

from __future__ import annotations

from vidtask.core import errors
from vidtask.events.feed import ChangeFeed, LogPublisher, SQLitePoller
from vidtask.events.pg_listener import PostgresListener
from vidtask.settings import Settings
from vidtask.store import migrate
from vidtask.store.base import TaskStore
from vidtask.store.drafts import DraftStore, SQLDraftStore
from vidtask.store.postgres import PostgresStore
from vidtask.store.sqlite import SQLiteStore
from vidtask.store.tasks import SQLTaskStore
from vidtask.store.webhooks import SQLWebhookStore, WebhookStore

__all__ = ["change_source", "draft_store", "open_store", "webhook_store"]


def open_store(settings: Settings) -> TaskStore:
    """SQLite migrates itself; a PostgreSQL cluster is upgraded explicitly (`vidtask db
    upgrade`), so a process of an older or newer version never changes the schema under the
    others."""
    url = settings.postgres_url
    if url is None:
        return SQLiteStore(settings.database_path)
    from vidtask.dispatch import jobs  # the cluster mode's dispatcher: Procrastinate

    missing = migrate.pending(url)
    if missing:
        raise errors.Conflict(
            f"the database at {_redacted(url)} is missing migrations {', '.join(missing)}: "
            "run `vidtask db upgrade`"
        )
    relayed = frozenset(model for provider in settings.providers for model in provider.models)
    return PostgresStore(url, on_queued=jobs.JobQueue(jobs.build_app(url), relayed=relayed))


def webhook_store(store: TaskStore) -> WebhookStore:
    """The webhook tables of ``store``'s database."""
    assert isinstance(store, SQLTaskStore)
    return SQLWebhookStore(store)


def draft_store(store: TaskStore) -> DraftStore:
    """The drafts table of ``store``'s database."""
    assert isinstance(store, SQLTaskStore)
    return SQLDraftStore(store)


def change_source(store: TaskStore, feed: ChangeFeed) -> LogPublisher:
    """What publishes the event log into ``feed``: LISTEN/NOTIFY, or polling the SQLite file."""
    if isinstance(store, PostgresStore):
        return PostgresListener(store, feed)
    return SQLitePoller(store, feed)


def _redacted(url: str) -> str:
    """The URL without its password."""
    scheme, _, rest = url.partition("://")
    credentials, at, location = rest.rpartition("@")
    if not at:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}@{location}"
