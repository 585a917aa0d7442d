"""The ``vidtask`` command: thin calls into the server (over HTTP) or the local store (keys)."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import httpx
import psycopg
import typer
from pydantic import ValidationError
from pydantic_settings import SettingsError
from rich import box
from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.progress_bar import ProgressBar
from rich.table import Column, Table

from vidtask import logs, stores
from vidtask.client import Client, Task
from vidtask.core import errors
from vidtask.service.keys import Keys
from vidtask.settings import Settings, describe_settings_error
from vidtask.store import migrate

if TYPE_CHECKING:
    import uvicorn

__all__ = ["app", "main"]

# Plain click help: typer's rich help labels every flag `<bool>`.
_TYPER: dict[str, Any] = {"rich_markup_mode": None, "pretty_exceptions_enable": False}
app = typer.Typer(help="vidtask: durable video generation tasks.", no_args_is_help=True, **_TYPER)
keys_app = typer.Typer(help="Manage API keys (stored hashed in the local store).", **_TYPER)
app.add_typer(keys_app, name="keys")
webhooks_app = typer.Typer(help="Webhook endpoints of your key, and the delivery log.", **_TYPER)
app.add_typer(webhooks_app, name="webhooks")
db_app = typer.Typer(help="The database schema (SQLite or PostgreSQL).", **_TYPER)
app.add_typer(db_app, name="db")
providers_app = typer.Typer(
    help="Upstream providers that generate videos ([[providers]] in the config).",
    invoke_without_command=True,
    **_TYPER,
)
app.add_typer(providers_app, name="providers")
console = Console()
err = Console(stderr=True)

URL = typer.Option("http://127.0.0.1:8000", "--url", envvar="VIDTASK_URL", help="Server URL.")
KEY = typer.Option(None, "--api-key", envvar="VIDTASK_API_KEY", help="API key.")
JSON = typer.Option(False, "--json", help="Print JSON for scripts.")


def _fail(exc: BaseException) -> NoReturn:
    chain = []
    current: BaseException | None = exc
    while current is not None:
        chain.append(str(current) or type(current).__name__)
        current = current.__cause__
    err.print(f"[red]error:[/red] {escape(': '.join(chain))}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


@contextmanager
def _connected(url: str, api_key: str | None) -> Iterator[Client]:
    """A client whose failures end the command with the chain of causes and exit code 1."""
    with Client(url, api_key) as client:
        try:
            yield client
        except httpx.ConnectError:
            _fail(
                ConnectionError(
                    f"nothing answers at {url}: start a server with `vidtask serve`, or point "
                    "--url (VIDTASK_URL) at a running one"
                )
            )
        except httpx.TimeoutException:
            _fail(TimeoutError(f"{url} did not answer in time; is the server overloaded?"))
        except httpx.HTTPError as exc:
            _fail(ConnectionError(f"talking to {url} failed: {exc}"))
        except errors.Unauthorized as exc:
            hint = "" if api_key else " (set VIDTASK_API_KEY, or pass --api-key)"
            _fail(errors.Unauthorized(exc.message + hint))
        except (errors.VidtaskError, OSError) as exc:
            _fail(exc)


def _not_running_here(settings: Settings) -> None:
    """Exit at once if another server holds this data directory (embedded mode)."""
    from vidtask.dispatch.embedded import running_server, server_running

    if settings.postgres_url is None:
        pid = running_server(settings.data_dir)
        if pid is not None:
            _fail(server_running(settings.data_dir, pid))


@app.command()
def serve(
    host: str = typer.Option(None, help="Bind address (VIDTASK_HOST)."),
    port: int = typer.Option(None, help="Port (VIDTASK_PORT)."),
    workers: int = typer.Option(None, help="Worker processes (VIDTASK_WORKERS)."),
) -> None:
    """Run the API server with its embedded worker pool."""
    import uvicorn

    from vidtask.api import app as api_app

    overrides: dict[str, Any] = {"host": host, "port": port, "workers": workers}
    settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    logs.configure(settings)
    _not_running_here(settings)
    try:
        application = api_app.create_app(settings)
    except errors.VidtaskError as exc:
        _fail(exc)
    # On stdout: stderr carries the logs, JSON lines when it is not a terminal.
    console.print(f"dashboard: {settings.base_url}/", highlight=False, soft_wrap=True)
    api_app.freeze_heap()
    uvicorn.run(
        application,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=settings.access_log,
    )


@app.command()
def worker(
    concurrency: int = typer.Option(
        None, "--concurrency", "-c", help="Tasks run at once. Default: number of cores."
    ),
    models: str = typer.Option(
        "", "--models", help="Comma-separated models to serve, e.g. timeline,slides. Default: all."
    ),
) -> None:
    """Run a cluster worker: takes tasks from PostgreSQL (VIDTASK_DATABASE_URL=postgresql://...).
    SIGTERM lets running tasks finish (VIDTASK_SHUTDOWN_GRACE_S), then hands them back."""
    from vidtask.dispatch.cluster import ClusterWorker

    settings = Settings()
    logs.configure(settings)
    served = tuple(m.strip() for m in models.split(",") if m.strip())
    try:
        cluster_worker = ClusterWorker(
            settings, models=served, concurrency=concurrency or os.cpu_count() or 1
        )
    except (errors.VidtaskError, OSError) as exc:
        _fail(exc)
    asyncio.run(cluster_worker.run())


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations (on PostgreSQL, Procrastinate's schema too). Safe to run from
    several machines at once: it takes a lock."""
    settings = Settings()
    url = settings.postgres_url
    if url is None:
        settings.database_path.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{settings.database_path}"
    try:
        applied = migrate.upgrade(url)
    except (psycopg.Error, OSError) as exc:
        _fail(exc)
    console.print(f"{applied} migration(s) applied; the schema is up to date")


@app.command()
def doctor() -> None:
    """Check the store, migrations, workers, ffmpeg, fonts and storage; exit 1 on a failure."""
    from vidtask.doctor import run_checks

    checks = run_checks(Settings())
    table = Table("check", "", "detail", show_lines=False)
    for check in checks:
        mark = (
            "[yellow]warn[/yellow]"
            if check.warning
            else ("[green]ok[/green]" if check.ok else "[red]FAIL[/red]")
        )
        table.add_row(check.name, mark, check.detail)
    console.print(table)
    if any(not check.ok and not check.warning for check in checks):
        raise typer.Exit(1)


@app.command("mcp")
def mcp_cmd(
    url: str = typer.Option(
        None,
        "--url",
        envvar="VIDTASK_URL",
        help="A running server to drive. Default: the local store, in this process (which "
        "starts the workers unless a server already runs on the data directory).",
    ),
    api_key: str = KEY,
    workers: int = typer.Option(None, help="Workers on the local store (VIDTASK_WORKERS)."),
) -> None:
    """Serve MCP over stdio, for agents (Claude Desktop, Claude Code, Cursor). See docs/mcp.md."""
    from vidtask import composition
    from vidtask.mcp_server import stdio as mcp_stdio

    overrides: dict[str, Any] = {} if workers is None else {"workers": workers}
    settings = Settings(**overrides)
    logs.configure(settings)
    mcp_stdio.serve(
        url=url,
        api_key=api_key,
        local=lambda: composition.mcp_runtime(settings, api_key=api_key),
    )


@app.command()
def submit(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="JSON input, e.g. a timeline."
    ),
    model: str = typer.Option("timeline", help="Model to run."),
    priority: int = typer.Option(0, help="Higher runs first."),
    idempotency_key: str = typer.Option(None, help="Replays return the same task."),
    webhook_url: str = typer.Option(None, help="POST signed events of this task here."),
    wait: bool = typer.Option(False, "--wait", help="Show progress until it finishes."),
    upload: bool = typer.Option(
        True,
        "--upload/--no-upload",
        help="Upload the local files the input names (relative to the JSON file) first.",
    ),
    url: str = URL,
    api_key: str = KEY,
    as_json: bool = JSON,
) -> None:
    """Submit a task from a JSON file. Local files it names (a clip's src, relative to the
    file's folder) are uploaded, so the server need not share this machine's disk."""
    try:
        data = json.loads(file.read_text())
    except ValueError as exc:
        _fail(ValueError(f"{file} is not valid JSON: {exc}"))
    with _connected(url, api_key) as client:
        task = client.submit(
            data,
            model=model,
            priority=priority,
            webhook_url=webhook_url,
            idempotency_key=idempotency_key,
            files_from=file.resolve().parent if upload else None,
        )
        if wait:
            task = _wait_with_progress(client, task.id)
    _show(task, as_json)
    if task.status in ("failed", "cancelled"):
        raise typer.Exit(1)


@app.command()
def status(task_id: str, url: str = URL, api_key: str = KEY, as_json: bool = JSON) -> None:
    """Show a task."""
    with _connected(url, api_key) as client:
        _show(_find_task(client, task_id), as_json)


@app.command("wait")
def wait_cmd(task_id: str, url: str = URL, api_key: str = KEY, as_json: bool = JSON) -> None:
    """Wait for a task with a progress bar."""
    with _connected(url, api_key) as client:
        task = _wait_with_progress(client, _find_task(client, task_id).id)
    _show(task, as_json)
    if task.status != "completed":
        raise typer.Exit(1)


@app.command()
def cancel(task_id: str, url: str = URL, api_key: str = KEY, as_json: bool = JSON) -> None:
    """Cancel a task (queued: at once; running: stopped within seconds)."""
    with _connected(url, api_key) as client:
        _show(client.cancel(_find_task(client, task_id).id), as_json)


@app.command()
def download(
    task_id: str,
    output: Path = typer.Option(None, "-o", "--output", help="File to write (default <id>.mp4)."),
    cover: bool = typer.Option(False, "--cover", help="Download the cover image instead."),
    url: str = URL,
    api_key: str = KEY,
) -> None:
    """Download a finished task's video (or cover)."""
    with _connected(url, api_key) as client:
        task = _find_task(client, task_id)
        fmt = (task.result.format if task.result else None) or "mp4"
        suffix = ".jpg" if cover else "." + fmt
        dest = client.download(
            task, output or Path(task.id + suffix), variant="cover" if cover else "video"
        )
    console.print(f"saved {dest}")


@app.command("list")
def list_cmd(
    status: list[str] = typer.Option(None, "--status", help="Filter by status (repeatable)."),
    model: str = typer.Option(None, help="Filter by model."),
    limit: int = typer.Option(20, help="How many."),
    url: str = URL,
    api_key: str = KEY,
    as_json: bool = JSON,
) -> None:
    """List tasks, newest first."""
    with _connected(url, api_key) as client:
        found = client.list_tasks(status=status or None, model=model, page_size=min(limit, 100))
        tasks = list(itertools.islice(found, limit))
    if as_json:
        console.print_json(data=[t.model_dump(mode="json") for t in tasks])
        return
    table = Table(
        _id_column(tasks),
        Column("model", no_wrap=True),
        Column("status", no_wrap=True),
        "stage",
        Column("created", no_wrap=True),
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    for task in tasks:
        state = task.status if task.terminal else f"{task.status} {task.progress:.0f}%"
        created = task.created_at.astimezone().strftime("%m-%d %H:%M")
        table.add_row(task.id, task.model, state, task.stage, created)
    console.print(table)


@app.command()
def watch(
    show_all: bool = typer.Option(False, "--all", help="Keep finished tasks in the table."),
    limit: int = typer.Option(20, help="Rows to show."),
    url: str = URL,
    api_key: str = KEY,
) -> None:
    """A live table of your tasks: progress bars, stages and ETAs, pushed by the server."""
    with _connected(url, api_key) as client:
        rows = {t.id: t for t in itertools.islice(client.list_tasks(page_size=limit), limit)}
        with Live(_watch_table(rows, show_all, limit), console=console, auto_refresh=False) as live:
            try:
                for event in client.events():
                    rows[event.task.id] = event.task
                    live.update(_watch_table(rows, show_all, limit), refresh=True)
            except KeyboardInterrupt:
                pass


def _watch_table(rows: dict[str, Task], show_all: bool, limit: int) -> Table:
    shown = [t for t in rows.values() if show_all or not t.terminal]
    shown.sort(key=lambda t: t.created_at, reverse=True)
    table = Table(_id_column(shown), "model", "status", "stage", "progress", "eta", "updated")
    for task in shown[:limit]:
        bar = ProgressBar(total=100, completed=task.progress, width=20)
        eta = "" if task.eta_seconds is None else f"{task.eta_seconds:.0f} s"
        row = Table.grid(padding=(0, 1))
        row.add_row(bar, f"{task.progress:3.0f}%")
        updated = task.updated_at.astimezone().strftime("%H:%M:%S")
        table.add_row(task.id, task.model, task.status, task.stage, row, eta, updated)
    if not shown:
        table.caption = "no active tasks; waiting for new ones (Ctrl-C to stop)"
    return table


@webhooks_app.command("add")
def webhooks_add(
    target: str = typer.Argument(..., metavar="URL", help="Where to POST events."),
    event: list[str] = typer.Option(None, "--event", help="Event type to send (repeatable)."),
    description: str = typer.Option("", help="A note for yourself."),
    url: str = URL,
    api_key: str = KEY,
) -> None:
    """Register an endpoint; prints its signing secret."""
    with _connected(url, api_key) as client:
        endpoint = client.create_webhook(target, events=event or None, description=description)
    console.print(f"created {endpoint.id} for {', '.join(endpoint.events)}. Signing secret:")
    print(endpoint.secret)


@webhooks_app.command("list")
def webhooks_list(url: str = URL, api_key: str = KEY) -> None:
    """List endpoints."""
    with _connected(url, api_key) as client:
        endpoints = client.list_webhooks()
    table = Table(Column("id", no_wrap=True), "url", "events", "description")
    for e in endpoints:
        table.add_row(e.id, e.url, ", ".join(e.events), e.description)
    console.print(table)


@webhooks_app.command("remove")
def webhooks_remove(endpoint_id: str, url: str = URL, api_key: str = KEY) -> None:
    """Remove an endpoint (its pending deliveries fail)."""
    with _connected(url, api_key) as client:
        client.delete_webhook(endpoint_id)
    console.print(f"removed {endpoint_id}")


@webhooks_app.command("test")
def webhooks_test(endpoint_id: str, url: str = URL, api_key: str = KEY) -> None:
    """Send a webhook.test event and wait for its first attempt."""
    with _connected(url, api_key) as client:
        delivery = client.test_webhook(endpoint_id)
        deadline = time.monotonic() + 30
        while delivery.attempts == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
            delivery = client.get_delivery(delivery.id)
    attempt = (delivery.attempt_log or [{}])[-1]
    outcome = attempt.get("status_code") or attempt.get("error") or "not tried yet"
    console.print(f"{delivery.id}: {delivery.status} ({outcome})")
    if delivery.status != "delivered":
        raise typer.Exit(1)


@webhooks_app.command("deliveries")
def webhooks_deliveries(
    task_id: str = typer.Option(None, "--task", help="Only this task's deliveries."),
    status: str = typer.Option(None, help="pending, delivered or failed."),
    limit: int = typer.Option(20, help="Rows to show."),
    url: str = URL,
    api_key: str = KEY,
) -> None:
    """The delivery log, newest first."""
    with _connected(url, api_key) as client:
        task_id = task_id and _find_task(client, task_id).id
        found = client.deliveries(task_id=task_id, status=status, page_size=min(limit, 100))
        deliveries = list(itertools.islice(found, limit))
    table = Table(
        Column("id", no_wrap=True),
        Column("event", no_wrap=True),
        Column("status", no_wrap=True),
        "attempts",
        "last error",
        Column("url", overflow="fold", min_width=20),
    )
    for d in deliveries:
        table.add_row(d.id, d.event_type, d.status, str(d.attempts), d.last_error or "", d.url)
    console.print(table)


@webhooks_app.command("resend")
def webhooks_resend(delivery_id: str, url: str = URL, api_key: str = KEY) -> None:
    """Deliver a message again (same webhook-id)."""
    with _connected(url, api_key) as client:
        delivery = client.resend_delivery(delivery_id)
    console.print(f"{delivery.id} queued again")


@webhooks_app.command("secret")
def webhooks_secret(url: str = URL, api_key: str = KEY) -> None:
    """Print the secret that signs deliveries to your tasks' own webhook_url."""
    with _connected(url, api_key) as client:
        print(client.task_webhook_secret())


@keys_app.command("create")
def keys_create(
    name: str = typer.Argument("default", help="A label for the key."),
    adopt: bool = typer.Option(
        False, "--adopt", help="Give the tasks made without a key to this key."
    ),
) -> None:
    """Create an API key; its secret is printed once.

    The first key switches the server to keyed mode: requests without a key are refused, and
    the tasks made before (without a key) are seen by no key unless adopted (--adopt, or
    `vidtask keys adopt KEY_ID` later)."""
    keys = _local_keys()
    first = not keys.any_active()
    key, secret = keys.create(name)
    if adopt:
        _adopt(keys, key.id)
    if first:
        err.print(
            "This is the first key: within seconds the server requires a key on every request "
            "(Authorization: Bearer <secret>, or X-API-Key). Set VIDTASK_API_KEY=<secret> for "
            "the CLI.",
            highlight=False,
        )
        left = keys.anonymous_tasks()
        if left:
            err.print(
                f"{left} task(s) made without a key are now seen by no key; give them to "
                f"this one with `vidtask keys adopt {key.id}`.",
                highlight=False,
            )
    err.print(f"created {key.id} ({name}). Secret, shown once:", highlight=False)
    print(secret)


@keys_app.command("adopt")
def keys_adopt(key_id: str = typer.Argument(..., help="The key that takes the tasks.")) -> None:
    """Give the tasks (and webhooks) made without a key to KEY_ID."""
    keys = _local_keys()
    if not any(k.id == key_id and k.revoked_at is None for k in keys.all()):
        _fail(errors.NotFound(f"no active key {key_id}"))
    _adopt(keys, key_id)


def _adopt(keys: Keys, key_id: str) -> None:
    moved = keys.adopt(key_id)
    err.print(f"{moved} task(s) made without a key now belong to {key_id}", highlight=False)


@keys_app.command("list")
def keys_list() -> None:
    """List API keys."""
    table = Table("id", "name", "created", "revoked")
    for key in _local_keys().all():
        table.add_row(key.id, key.name, _when(key.created_at), _when(key.revoked_at))
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: str) -> None:
    """Revoke an API key (takes effect within seconds, open event streams included)."""
    keys = _local_keys()
    if not keys.revoke(key_id):
        _fail(errors.NotFound(f"no active key {key_id}"))
    console.print(f"revoked {key_id}")
    if not keys.any_active():
        err.print(
            "No active key is left: running servers keep refusing requests without a key. "
            "A server started now serves anonymously, and only on loopback.",
            highlight=False,
        )


@providers_app.callback()
def providers_list(
    ctx: typer.Context, url: str = URL, api_key: str | None = KEY, as_json: bool = JSON
) -> None:
    """List the providers, their models, and (from a running server) tasks in flight and
    parked keys."""
    if ctx.invoked_subcommand is not None:
        return
    configured = _settings().providers
    live: dict[str, dict[str, Any]] = {}
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        answer = httpx.get(url.rstrip("/") + "/v1/providers", headers=headers, timeout=5)
        if answer.is_success:
            live = {row["name"]: row for row in answer.json()["data"]}
    except httpx.HTTPError:
        pass  # no server: the configuration alone
    if as_json:
        rows = [
            {"name": p.name, "kind": p.kind, "base_url": p.base_url, "models": p.models,
             "keys": p.api_key_env, **{k: live.get(p.name, {}).get(k)
                                       for k in ("in_flight", "parked_keys")}}
            for p in configured
        ]  # fmt: skip
        console.print_json(data=rows)
        return
    if not configured:
        console.print("no providers configured: see [[providers]] in docs/providers.md")
        return
    table = Table("name", "kind", "models (client -> provider)", "keys", "in flight", "parked")
    for provider in configured:
        row = live.get(provider.name, {})
        parked = row.get("parked_keys")
        table.add_row(
            provider.name,
            f"{provider.kind}\n{provider.base_url}",
            "\n".join(f"{name} -> {model}" for name, model in provider.models.items()),
            "\n".join(provider.api_key_env),
            "-"
            if row.get("in_flight") is None
            else f"{row['in_flight']}/{provider.max_concurrency}",
            "-"
            if parked is None
            else "\n".join(f"{k['key']}: {k['reason']}" for k in parked) or "none",
        )
    console.print(table)
    if not live:
        err.print(f"(no live numbers: no server answered at {url})", highlight=False)


@providers_app.command("check")
def providers_check(
    names: list[str] = typer.Argument(None, help="Providers to check (default: every one)."),
) -> None:
    """Make one authenticated read call to each provider with each of its keys and say whether
    it works (exit status 1 if any key is refused)."""
    from vidtask.providers import KINDS
    from vidtask.providers.client import ProviderClient

    found = {p.name: p for p in _settings().providers}
    unknown = [name for name in names or () if name not in found]
    if unknown:
        known = ", ".join(found) or "none configured"
        _fail(errors.NotFound(f"no provider {unknown[0]!r} (providers: {known})"))
    chosen = [found[name] for name in names] if names else list(found.values())

    async def check() -> list[list[tuple[str, str | None]]]:
        async with httpx.AsyncClient(timeout=15, trust_env=False) as http:
            return await asyncio.gather(
                *(ProviderClient(p, KINDS[p.kind], http).check() for p in chosen)
            )

    refused = False
    for provider, results in zip(chosen, asyncio.run(check()), strict=True):
        for label, problem in results:
            refused = refused or problem is not None
            mark = (
                "[green]ok[/green]" if problem is None else f"[red]refused[/red]: {escape(problem)}"
            )
            console.print(f"{provider.name} {label}: {mark}", highlight=False)
    if refused:
        raise typer.Exit(1)


def _settings() -> Settings:
    try:
        return Settings()
    except (ValidationError, SettingsError) as exc:
        _fail(ValueError(describe_settings_error(exc)))


def _local_keys() -> Keys:
    try:
        return Keys(stores.open_store(Settings()))
    except (errors.VidtaskError, psycopg.Error, OSError) as exc:
        _fail(exc)


@app.command()
def demo(
    port: int = typer.Option(0, help="Port (0 = a free one)."),
    keep_serving: bool = typer.Option(False, "--serve", help="Keep serving after the render."),
) -> None:
    """Start the server, render the bundled example with a progress bar, print where it is."""
    import uvicorn

    from vidtask.api import app as api_app

    example = _find_example()
    base = Settings()
    _not_running_here(base)
    settings = Settings(
        port=port or _free_port(),
        asset_roots=[example.parent, *base.effective_asset_roots],
        log_level="WARNING",
    )
    logs.configure(settings)
    try:
        application = api_app.create_app(settings)
    except errors.VidtaskError as exc:
        _fail(exc)
    server = uvicorn.Server(
        uvicorn.Config(application, host=settings.host, port=settings.port, log_config=None)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    console.print(f"vidtask serving on {settings.base_url} (data in {settings.data_dir})")
    try:
        _wait_until_up(server)
        with Client(settings.base_url) as client:
            task = client.submit(json.loads(example.read_text()))
            console.print(f"submitted [bold]{example.name}[/bold] as task {task.id}")
            task = _wait_with_progress(client, task.id)
        if task.status != "completed" or task.result is None:
            _fail(errors.RenderFailed(f"the demo task {task.status}: {task.error}"))
        _print_artifacts(settings, task)
        hint = "" if keep_serving else "  (up while this runs: add --serve to keep it)"
        console.print(f"dashboard: {settings.base_url}/{hint}", highlight=False, soft_wrap=True)
        if keep_serving:
            console.print("serving; press Ctrl-C to stop")
            thread.join()
    except KeyboardInterrupt:
        pass
    except (errors.VidtaskError, OSError) as exc:
        _fail(exc)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def _find_example() -> Path:
    for root in (Path.cwd(), Path(__file__).resolve().parents[2]):
        candidate = root / "examples" / "demo.json"
        if candidate.exists():
            return candidate
    _fail(FileNotFoundError("examples/demo.json not found; run this from the vidtask checkout"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_up(server: uvicorn.Server, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not server.started:
        if time.monotonic() > deadline:
            raise errors.VidtaskError("the server did not start")
        time.sleep(0.05)


def _print_artifacts(settings: Settings, task: Task) -> None:
    assert task.result is not None
    result = task.result
    meta = result.metadata
    console.print(
        f"[green]done[/green]: {meta['width']}x{meta['height']} {meta['fps']} fps, "
        f"{meta['duration']:.2f} s, {meta['size_bytes'] / 1e6:.1f} MB"
    )
    root = settings.artifacts_dir
    if root is None:  # in a bucket: the links are where it is
        console.print(f"video: {result.video_url}", soft_wrap=True)
        console.print(f"cover: {result.cover_url}", soft_wrap=True)
        return
    folder = root / task.id / str(task.attempt)
    console.print(f"video: {folder / 'video.mp4'}", soft_wrap=True)
    console.print(f"       {result.video_url}", soft_wrap=True)
    console.print(f"cover: {folder / 'cover.jpg'}", soft_wrap=True)
    console.print(f"       {result.cover_url}", soft_wrap=True)


def _wait_with_progress(client: Client, task_id: str) -> Task:
    columns = (
        TextColumn("{task.description:<12}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=False) as progress:
        bar = progress.add_task("queued", total=100)

        stages: list[str] = []

        def update(task: Task) -> None:
            progress.update(bar, completed=task.progress, description=task.stage)
            if not err.is_terminal and task.stage not in stages:
                # No live bar in a log file or CI: print each stage once instead.
                stages.append(task.stage)
                err.print(f"{task.stage} {task.progress:.0f}%")

        return client.wait(task_id, on_update=update)


def _show(task: Task, as_json: bool) -> None:
    if as_json:
        console.print_json(data=task.model_dump(mode="json"))
        return
    console.print(f"{task.id}  {task.status}  {task.stage}  {task.progress:.0f}%")
    if task.result is not None:
        console.print(f"video: {task.result.video_url}", soft_wrap=True)
    if task.error is not None:
        console.print(f"[red]{task.error.code}[/red]: {task.error.message}")


def _find_task(client: Client, given: str) -> Task:
    """The task with id ``given``, or the one whose id ``given`` uniquely starts."""
    try:
        return client.get(given)
    except errors.NotFound:
        matches = list(itertools.islice(client.list_tasks(id_prefix=given), 6))
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise
        shown = ", ".join(t.id for t in matches[:5]) + (", …" if len(matches) > 5 else "")
        raise errors.InvalidRequest(
            f"task_id: {given!r} is the start of several task ids ({shown}); give more of it",
            param="task_id",
        ) from None


def _id_column(tasks: list[Task]) -> Column:
    """An id column that is never cut short (ids are copied from it)."""
    width = max((len(t.id) for t in tasks), default=2)
    return Column("id", no_wrap=True, min_width=width)


def _when(ts: float | None) -> str:
    return "" if ts is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except (ValidationError, SettingsError) as exc:
        if isinstance(exc, ValidationError) and exc.title != Settings.__name__:
            message = f"the server's answer was not understood ({exc.errors()[0]['msg']})"
            code = 1
        else:
            message, code = describe_settings_error(exc), 2  # VIDTASK_* settings
        err.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
        sys.exit(code)
