"""The ``vidtask`` command: thin calls into the server (over HTTP) or the local store (keys)."""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import typer
import uvicorn
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from vidtask import logs
from vidtask.api import app as api_app
from vidtask.api import auth
from vidtask.client import Client
from vidtask.core import errors
from vidtask.settings import Settings
from vidtask.store.sqlite import SQLiteStore

__all__ = ["app", "main"]

app = typer.Typer(help="vidtask: durable video generation tasks.", no_args_is_help=True)
keys_app = typer.Typer(help="Manage API keys (stored hashed in the local store).")
app.add_typer(keys_app, name="keys")
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
    err.print(f"[red]error:[/red] {': '.join(chain)}")
    raise typer.Exit(1)


@contextmanager
def _connected(url: str, api_key: str | None) -> Iterator[Client]:
    """A client whose failures end the command with the chain of causes and exit code 1."""
    with Client(url, api_key) as client:
        try:
            yield client
        except (errors.VidtaskError, OSError) as exc:
            _fail(exc)


@app.command()
def serve(
    host: str = typer.Option(None, help="Bind address (VIDTASK_HOST)."),
    port: int = typer.Option(None, help="Port (VIDTASK_PORT)."),
    workers: int = typer.Option(None, help="Worker processes (VIDTASK_WORKERS)."),
) -> None:
    """Run the API server with its embedded worker pool."""
    overrides: dict[str, Any] = {"host": host, "port": port, "workers": workers}
    settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    logs.configure(settings)
    try:
        application = api_app.create_app(settings)
    except errors.VidtaskError as exc:
        _fail(exc)
    uvicorn.run(application, host=settings.host, port=settings.port, log_config=None)


@app.command()
def submit(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="JSON input, e.g. a timeline."
    ),
    model: str = typer.Option("timeline", help="Model to run."),
    priority: int = typer.Option(0, help="Higher runs first."),
    idempotency_key: str = typer.Option(None, help="Replays return the same task."),
    wait: bool = typer.Option(False, "--wait", help="Show progress until it finishes."),
    url: str = URL,
    api_key: str = KEY,
    as_json: bool = JSON,
) -> None:
    """Submit a task from a JSON file."""
    try:
        data = json.loads(file.read_text())
    except ValueError as exc:
        _fail(ValueError(f"{file} is not valid JSON: {exc}"))
    with _connected(url, api_key) as client:
        task = client.submit(data, model=model, priority=priority, idempotency_key=idempotency_key)
        if wait:
            task = _wait_with_progress(client, task["id"])
    _show(task, as_json)
    if task["status"] in ("failed", "cancelled"):
        raise typer.Exit(1)


@app.command()
def status(task_id: str, url: str = URL, api_key: str = KEY, as_json: bool = JSON) -> None:
    """Show a task."""
    with _connected(url, api_key) as client:
        _show(client.get(task_id), as_json)


@app.command("wait")
def wait_cmd(task_id: str, url: str = URL, api_key: str = KEY, as_json: bool = JSON) -> None:
    """Wait for a task with a progress bar."""
    with _connected(url, api_key) as client:
        task = _wait_with_progress(client, task_id)
    _show(task, as_json)
    if task["status"] != "completed":
        raise typer.Exit(1)


@app.command()
def cancel(task_id: str, url: str = URL, api_key: str = KEY, as_json: bool = JSON) -> None:
    """Cancel a task (queued: at once; running: stopped within seconds)."""
    with _connected(url, api_key) as client:
        _show(client.cancel(task_id), as_json)


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
        task = client.get(task_id)
        result = task.get("result") or {}
        link = result.get("cover_url" if cover else "video_url")
        if not link:
            raise errors.Conflict(f"task {task_id} is {task['status']}; nothing to download yet")
        suffix = ".jpg" if cover else "." + (result.get("format") or "mp4")
        dest = client.download(link, output or Path(task_id + suffix))
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
        page = client.list_tasks(status=status or None, model=model, limit=limit)
    if as_json:
        console.print_json(data=page)
        return
    table = Table("id", "model", "status", "stage", "progress", "created")
    for task in page["data"]:
        table.add_row(
            task["id"],
            task["model"],
            task["status"],
            task["stage"],
            f"{task['progress']:.0f}%",
            task["created_at"],
        )
    console.print(table)


@keys_app.command("create")
def keys_create(name: str = typer.Argument("default", help="A label for the key.")) -> None:
    """Create an API key; its secret is printed once."""
    store = SQLiteStore(Settings().database_path)
    key, secret = auth.new_key(store, name, time.time())
    console.print(f"created {key.id} ({name}). Secret, shown once:")
    print(secret)


@keys_app.command("list")
def keys_list() -> None:
    """List API keys."""
    store = SQLiteStore(Settings().database_path)
    table = Table("id", "name", "created", "revoked")
    for key in store.list_keys():
        table.add_row(key.id, key.name, _when(key.created_at), _when(key.revoked_at))
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: str) -> None:
    """Revoke an API key (takes effect within seconds)."""
    store = SQLiteStore(Settings().database_path)
    if not store.revoke_key(key_id, time.time()):
        _fail(errors.NotFound(f"no active key {key_id}"))
    console.print(f"revoked {key_id}")


@app.command()
def demo(
    port: int = typer.Option(0, help="Port (0 = a free one)."),
    keep_serving: bool = typer.Option(False, "--serve", help="Keep serving after the render."),
) -> None:
    """Start the server, render the bundled example with a progress bar, print where it is."""
    example = _find_example()
    base = Settings()
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
            console.print(f"submitted [bold]{example.name}[/bold] as task {task['id']}")
            task = _wait_with_progress(client, task["id"])
        if task["status"] != "completed":
            _fail(errors.RenderFailed(f"the demo task {task['status']}: {task.get('error')}"))
        _print_artifacts(settings, task)
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


def _print_artifacts(settings: Settings, task: dict[str, Any]) -> None:
    result = task["result"]
    meta = result["metadata"]
    folder = settings.artifacts_dir / task["id"] / str(task["attempt"])
    console.print(
        f"[green]done[/green]: {meta['width']}x{meta['height']} {meta['fps']} fps, "
        f"{meta['duration']:.2f} s, {meta['size_bytes'] / 1e6:.1f} MB"
    )
    console.print(f"video: {folder / 'video.mp4'}", soft_wrap=True)
    console.print(f"       {result['video_url']}", soft_wrap=True)
    console.print(f"cover: {folder / 'cover.jpg'}", soft_wrap=True)
    console.print(f"       {result['cover_url']}", soft_wrap=True)


def _wait_with_progress(client: Client, task_id: str) -> dict[str, Any]:
    columns = (
        TextColumn("{task.description:<12}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=False) as progress:
        bar = progress.add_task("queued", total=100)

        stages: list[str] = []

        def update(task: dict[str, Any]) -> None:
            progress.update(bar, completed=task["progress"], description=task["stage"])
            if not err.is_terminal and task["stage"] not in stages:
                # No live bar in a log file or CI: print each stage once instead.
                stages.append(task["stage"])
                err.print(f"{task['stage']} {task['progress']:.0f}%")

        return client.wait(task_id, on_update=update)


def _show(task: dict[str, Any], as_json: bool) -> None:
    if as_json:
        console.print_json(data=task)
        return
    line = f"{task['id']}  {task['status']}  {task['stage']}  {task['progress']:.0f}%"
    console.print(line)
    if task.get("result"):
        console.print(f"video: {task['result']['video_url']}", soft_wrap=True)
    if task.get("error"):
        console.print(f"[red]{task['error']['code']}[/red]: {task['error']['message']}")


def _when(ts: float | None) -> str:
    return "" if ts is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
