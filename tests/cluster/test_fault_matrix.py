"""The fault matrix: real API, worker and PostgreSQL processes under the faults of a bad day.

After each fault every task ends ``completed`` or with a precise error code; none is stuck;
no attempt is run twice and no task is finished twice (checked against the task event log and
the workers' "task started" lines); failed tasks and lost attempts leave no scratch files or
previews. The table is printed at the end of the run (``-s`` shows it as each row lands) and
is copied into docs/reliability.md.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cluster.conftest import Cluster, wait_until
from tests.integration.conftest import Server, wait_for
from tests.integration.timelines import long_render, tiny
from vidtask.doctor import run_checks
from vidtask.settings import Settings

pytestmark = pytest.mark.slow

TERMINAL = ("completed", "failed", "cancelled")


# --- the table ------------------------------------------------------------------------------


@dataclass
class Row:
    fault: str
    tasks: int = 0
    completed: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    stuck: int = 0
    retried: int = 0
    twice: int = 0
    leftovers: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    def cells(self) -> list[str]:
        failed = ", ".join(f"{n} {code}" for code, n in sorted(self.failed.items())) or "0"
        verdict = "ok" if not self.problems else "FAIL: " + "; ".join(self.problems)
        return [
            self.fault,
            str(self.tasks),
            str(self.completed),
            failed,
            str(self.stuck),
            str(self.retried),
            str(self.twice),
            str(self.leftovers),
            f"{self.seconds:.0f}",
            verdict,
        ]


HEADER = [
    "fault",
    "tasks",
    "completed",
    "failed (code)",
    "stuck",
    "retried",
    "run twice",
    "files left",
    "s",
    "verdict",
]
ROWS: list[Row] = []


def table() -> str:
    lines = [HEADER, ["---"] * len(HEADER), *(row.cells() for row in ROWS)]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


class _Summary:
    """Prints the matrix in pytest's terminal summary, after every scenario ran."""

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if ROWS:
            terminalreporter.write_sep("=", "fault matrix")
            terminalreporter.write_line(table())


@pytest.fixture(scope="module", autouse=True)
def matrix(request: pytest.FixtureRequest) -> Iterator[None]:
    manager = request.config.pluginmanager
    if not manager.has_plugin("vidtask-fault-matrix"):
        manager.register(_Summary(), "vidtask-fault-matrix")
    yield
    print("\n" + table())


def record(row: Row) -> None:
    ROWS.append(row)
    print("\n" + table())
    assert not row.problems, "\n" + table()


# --- looking at the outcome -----------------------------------------------------------------


@dataclass
class Place:
    """Where a scenario's tasks live: the store (as SQL), the data directory and the logs."""

    query: Callable[[str], list[tuple[Any, ...]]]
    data_dir: Path
    logs: Sequence[Path]


def on_postgres(cluster: Cluster) -> Place:
    return Place(cluster.query, cluster.data_dir, [w.log for w in cluster.workers])


def on_sqlite(data_dir: Path, log: Path) -> Place:
    def query(sql: str) -> list[tuple[Any, ...]]:
        uri = f"file:{data_dir / 'vidtask.db'}?mode=ro"
        with sqlite3.connect(uri, uri=True, timeout=30) as conn:
            return conn.execute(sql).fetchall()

    return Place(query, data_dir, [log])


def runs(place: Place) -> Counter[tuple[str, int]]:
    """(task, attempt) of every backend run the logs show."""
    found: Counter[tuple[str, int]] = Counter()
    for log in place.logs:
        for line in log.read_text(errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and entry.get("message") == "task started":
                found[(entry["task_id"], int(entry["attempt"]))] += 1
    return found


def states(place: Place) -> dict[str, tuple[str, int, str | None]]:
    """Task id -> (status, attempt, error code)."""
    found = {}
    for task_id, status, attempt, error in place.query(
        "SELECT id, status, attempt, error FROM tasks"
    ):
        if isinstance(error, str):
            error = json.loads(error)
        found[task_id] = (status, int(attempt), error["code"] if error else None)
    return found


def leftovers(place: Place, tasks: dict[str, tuple[str, int, str | None]]) -> list[str]:
    """Files that should be gone: any scratch file of a task, any artifact of a task that did
    not complete, artifacts of attempts other than the one that completed."""
    found = []
    for task_id, (status, attempt, _) in tasks.items():
        for path in (place.data_dir / "scratch" / task_id).rglob("*"):
            if path.is_file():
                found.append(str(path))
        for path in (place.data_dir / "artifacts" / task_id).rglob("*"):
            winner = status == "completed" and path.relative_to(
                place.data_dir / "artifacts" / task_id
            ).parts[0] == str(attempt)
            if path.is_file() and not winner:
                found.append(str(path))
    return found


def audit(
    fault: str,
    place: Place,
    started: float,
    *,
    allowed: frozenset[str] = frozenset(),
    timeout: float = 120,
) -> Row:
    """Wait for every task to settle, then check the rules; the row lists what broke."""
    row = Row(fault)
    deadline = time.monotonic() + timeout
    tasks = states(place)
    while time.monotonic() < deadline and any(s not in TERMINAL for s, _, _ in tasks.values()):
        time.sleep(0.25)
        tasks = states(place)
    row.seconds = time.monotonic() - started
    # The sweep of lost attempts' files runs every few seconds: give it a moment.
    left = leftovers(place, tasks)
    settle = time.monotonic() + 15
    while left and time.monotonic() < settle:
        time.sleep(0.5)
        left = leftovers(place, states(place))
    events = place.query("SELECT task_id, status, stage, attempt FROM task_events")
    claims = Counter((t, int(a)) for t, s, stage, a in events if stage == "starting")
    endings = Counter(t for t, s, _, _ in events if s in TERMINAL)
    ran = runs(place)

    row.tasks = len(tasks)
    row.completed = sum(1 for s, _, _ in tasks.values() if s == "completed")
    row.failed = Counter(
        code or "?" for s, _, code in tasks.values() if s != "completed" and s in TERMINAL
    )
    row.stuck = sum(1 for s, _, _ in tasks.values() if s not in TERMINAL)
    row.retried = sum(1 for _, attempt, _ in tasks.values() if attempt > 1)
    row.twice = sum(1 for n in claims.values() if n > 1) + sum(1 for n in ran.values() if n > 1)
    row.twice += sum(1 for t in tasks if endings[t] > 1)
    row.leftovers = len(left)
    unexpected = set(row.failed) - allowed
    if row.stuck:
        row.problems.append(f"{row.stuck} stuck")
    if unexpected:
        row.problems.append(f"unexpected codes {sorted(unexpected)}")
    if row.twice:
        row.problems.append("run or finished twice")
    if left:
        row.problems.append(f"files left: {left[:3]}")
    return row


# --- helpers ---------------------------------------------------------------------------------


def submit(url: str, timeline: dict[str, Any], within: float = 30) -> str:
    """Submit with an idempotency key, retrying while the API or its database is away."""
    key = uuid.uuid4().hex
    deadline = time.monotonic() + within
    while True:
        try:
            answer = httpx.post(
                url + "/v1/tasks",
                json={"model": "timeline", "input": timeline},
                headers={"Idempotency-Key": key},
                timeout=30,
            )
            if answer.status_code < 500:
                assert answer.status_code in (200, 201), answer.text
                task_id: str = answer.json()["id"]
                return task_id
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"could not submit for {within} s")
        time.sleep(0.2)


def rendering_with_previews(task: dict[str, Any]) -> bool:
    """Mid-render, with preview frames already published (files a lost attempt must delete)."""
    return task["status"] == "in_progress" and bool(task["previews"])


def owner_of(cluster: Cluster, task_id: str) -> str:
    ((owner,),) = cluster.query("SELECT lease_owner FROM tasks WHERE id = %s", task_id)
    return str(owner)


def embedded(data_dir: Path, asset_root: Path, log: Path, **env: str) -> Server:
    server = Server(
        data_dir, asset_root, VIDTASK_LOG_FORMAT="json", VIDTASK_LOG_LEVEL="INFO", **env
    )
    server.log = log
    return server


# --- the faults ------------------------------------------------------------------------------


def test_sigkill_a_worker_mid_render(cluster: Cluster) -> None:
    api = cluster.api()
    first, second = cluster.worker(), cluster.worker()
    started = time.monotonic()
    long_id = submit(api.url, long_render(60))
    for i in range(4):
        submit(api.url, tiny(f"#{i:06x}"))
    with httpx.Client(base_url=api.url, timeout=30) as client:
        wait_for(client, long_id, rendering_with_previews)
    victim = first if owner_of(cluster, long_id).endswith(f":{first.pid}") else second
    victim.signal(signal.SIGKILL)
    row = audit("SIGKILL a worker mid-render (cluster)", on_postgres(cluster), started)
    if row.retried < 1:
        row.problems.append("the killed render was not retried")
    record(row)


def test_sigkill_the_api_cluster(cluster: Cluster) -> None:
    api = cluster.api()
    cluster.worker()
    started = time.monotonic()
    long_id = submit(api.url, long_render(60))
    ids = [long_id, *(submit(api.url, tiny(f"#{i:06x}")) for i in range(3))]
    with httpx.Client(base_url=api.url, timeout=30) as client:
        wait_for(client, long_id, rendering_with_previews)
    api.kill()
    row = audit("SIGKILL the API (cluster)", on_postgres(cluster), started)
    replacement = cluster.api()  # a new API process serves the same tasks
    for task_id in ids:
        seen = httpx.get(f"{replacement.url}/v1/tasks/{task_id}", timeout=30).json()
        if seen["status"] != "completed":
            row.problems.append(f"{task_id} is {seen['status']} on the new API")
    record(row)


def test_sigkill_the_api_embedded(tmp_path: Path, asset_root: Path) -> None:
    data_dir, log = tmp_path / "data", tmp_path / "server.log"
    server = embedded(data_dir, asset_root, log).start()
    restarted: Server | None = None
    try:
        started = time.monotonic()
        long_id = submit(server.url, long_render(60))
        for i in range(3):
            submit(server.url, tiny(f"#{i:06x}"))
        with httpx.Client(base_url=server.url, timeout=30) as client:
            wait_for(client, long_id, rendering_with_previews)
        server.kill()  # its workers and their ffmpeg die with it
        restarted = embedded(data_dir, asset_root, log).start()  # recovers every running task
        row = audit("SIGKILL the API (embedded SQLite)", on_sqlite(data_dir, log), started)
    finally:
        server.stop()
        if restarted is not None:
            restarted.stop()
    if row.retried < 1:
        row.problems.append("the killed render was not retried")
    record(row)


def test_terminate_every_postgres_connection_for_20_s(cluster: Cluster) -> None:
    api = cluster.api()
    cluster.worker(), cluster.worker()
    stop = threading.Event()
    terminated = []

    def terminate_everyone() -> None:
        while not stop.wait(1.0):
            found = cluster.query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            terminated.append(len(found))

    started = time.monotonic()
    ids = [submit(api.url, long_render(20)) for _ in range(2)]
    killer = threading.Thread(target=terminate_everyone, daemon=True)
    killer.start()
    try:
        for i in range(22):  # tasks keep coming during the outage, one every ~0.8 s
            ids.append(submit(api.url, long_render(12) if i % 4 == 0 else tiny(f"#{i:06x}")))
            time.sleep(0.8)
        wait_until(lambda: len(terminated) >= 20, 30, "20 rounds of pg_terminate_backend")
    finally:
        stop.set()
        killer.join()
    row = audit(
        f"pg_terminate_backend on every connection, {len(terminated)}x in ~{len(terminated)} s",
        on_postgres(cluster),
        started,
        timeout=180,
    )
    if row.tasks != len(ids):
        row.problems.append(f"{len(ids)} submitted, {row.tasks} stored")
    record(row)


@pytest.fixture
def small_volume(tmp_path: Path) -> Iterator[Path]:
    """A 40 MB tmpfs (root only; under CI=true it must work)."""
    if os.geteuid() != 0 and os.environ.get("CI") != "true":
        pytest.skip("mounting a 40 MB tmpfs needs root (runs as root in CI)")
    volume = tmp_path / "volume"
    volume.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs", str(volume)], check=True)
    try:
        yield volume
    finally:
        subprocess.run(["umount", "-l", str(volume)], check=False)


def test_a_full_volume(small_volume: Path, tmp_path: Path, asset_root: Path) -> None:
    log = tmp_path / "server.log"  # outside the volume, so the log survives it
    server = embedded(small_volume, asset_root, log).start()
    try:
        for i in range(3):  # the database and its WAL grow to their working size first
            warm = submit(server.url, tiny(f"#{i:06x}"))
            with httpx.Client(base_url=server.url, timeout=30) as client:
                wait_for(client, warm, lambda t: t["status"] == "completed")
        # Leave room for the database's WAL to reach its working size (about 4 MB) and for
        # a render or two: the renders themselves then fill the volume.
        filler = small_volume / "filler"
        with filler.open("wb") as out:
            out.write(b"\0" * (shutil.disk_usage(small_volume).free - 8_000_000))
        started = time.monotonic()
        for i in range(6):
            submit(server.url, long_render(30))
            if i % 2:
                submit(server.url, tiny(f"#{i + 8:06x}"))
        row = audit(
            "full volume (40 MB tmpfs, embedded SQLite)",
            on_sqlite(small_volume, log),
            started,
            allowed=frozenset({"storage_error"}),
        )
        if not row.failed["storage_error"]:
            row.problems.append("no task saw the full disk")
        ready = httpx.get(server.url + "/readyz", timeout=30)
        if ready.status_code != 200 or not ready.json().get("warnings"):
            row.problems.append(f"/readyz did not warn: {ready.text}")
        (disk,) = [c for c in run_checks(Settings(data_dir=small_volume)) if c.name == "disk space"]
        if not disk.warning:
            row.problems.append(f"doctor did not warn: {disk}")
        messages = [m for (m,) in on_sqlite(small_volume, log).query(
            "SELECT json_extract(error, '$.message') FROM tasks WHERE status = 'failed'")]  # fmt: skip
        if not all(m.startswith(f"no space left on {small_volume} (") for m in messages):
            row.problems.append(f"unclear messages: {messages[:2]}")
        filler.unlink()  # space is back: the same server renders again
        after = submit(server.url, long_render(30))
        with httpx.Client(base_url=server.url, timeout=30) as client:
            done = wait_for(client, after, lambda t: t["status"] in TERMINAL, timeout=60)
        if done["status"] != "completed":
            row.problems.append(f"after freeing space: {done['status']} {done.get('error')}")
    finally:
        server.stop()
    record(row)


class StalledServer:
    """Accepts connections on loopback and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


def test_a_stalled_asset_server(tmp_path: Path, asset_root: Path) -> None:
    stalled = StalledServer()
    log = tmp_path / "server.log"
    server = embedded(
        tmp_path / "data",
        asset_root,
        log,
        VIDTASK_ASSET_ALLOW_NETWORKS="127.0.0.0/8",
        VIDTASK_ASSET_TIMEOUT_S="2",
    ).start()
    try:
        started = time.monotonic()
        for i in range(3):
            timeline = tiny()
            timeline["tracks"][0]["clips"][0]["asset"] = {
                "type": "image",
                "src": f"{stalled.url}/picture{i}.png",
            }
            submit(server.url, timeline)
            submit(server.url, tiny(f"#{i:06x}"))
        row = audit(
            "stalled asset server (accepts, never answers; 2 s limit)",
            on_sqlite(tmp_path / "data", log),
            started,
            allowed=frozenset({"asset_fetch_failed"}),
            timeout=60,
        )
        if row.failed["asset_fetch_failed"] != 3:
            row.problems.append("the stalled downloads did not all fail with asset_fetch_failed")
    finally:
        server.stop()
        stalled.close()
    record(row)
