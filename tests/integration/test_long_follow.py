"""Every follower stays on a task for several SSE heartbeats and still sees it complete.

A shipped bug crashed every SSE follower at the server's first heartbeat, 15 s into a task:
httpx-sse hands the ``: ping`` comment over as an event with empty data, and the client parsed
it as a task. No test ran that long. Here the server sends a heartbeat every second and each
followed task renders for about six, so every client (sync and async SDK, the CLI, MCP over stdio
and over HTTP) lives through several; one test keeps the real default interval.

Each test asserts that its follower was on the stream for at least ``MIN_FOLLOW_S``, measured
from the first update it saw to the last, and `test_the_stream_carries_heartbeats_while_a_task_runs`
counts the ``:`` comment lines of a raw stream, so none of this passes by finishing early.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import anyio
import httpx
import pytest
from mcp import Client as McpClient

from tests.integration.conftest import Server
from tests.integration.timelines import long_render
from tests.mcp_server.conftest import http_client, stdio_params, structured
from vidtask.client import AsyncClient, Client, Task
from vidtask.settings import Settings

pytestmark = pytest.mark.slow

PROJECT = Path(__file__).resolve().parents[2]
HEARTBEAT_S = 1.0
#: How long each followed task should render: six heartbeats.
TARGET_S = 6.0
#: A follower must have been on the stream this long, or the test proves nothing.
MIN_FOLLOW_S = 3 * HEARTBEAT_S
#: The default interval, which the shipped bug hit (``VIDTASK_SSE_HEARTBEAT_S`` unset).
DEFAULT_HEARTBEAT_S = float(Settings.model_fields["sse_heartbeat_s"].default)
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def slow_render(video_s: float) -> dict[str, Any]:
    """`long_render` at 720p: slow enough per second of video that a few dozen seconds of it
    keep a worker busy for several heartbeats (sleeping would not exercise a real render)."""
    timeline = long_render(video_s)
    timeline["output"].update(width=1280, height=720)
    return timeline


class Rig:
    """A live server with 1 s heartbeats, and how fast it renders `slow_render` here."""

    def __init__(self, server: Server, render_s_per_video_s: float) -> None:
        self.server = server
        self.url = server.url
        self.rate = render_s_per_video_s

    def timeline(self, render_s: float = TARGET_S) -> dict[str, Any]:
        """A `slow_render` that should take about ``render_s`` to render on this machine."""
        return slow_render(max(6, math.ceil(render_s / self.rate)))


def calibrate(url: str) -> float:
    """Seconds of rendering per second of `slow_render` video (followed by long-poll, so a
    broken SSE client fails the tests rather than this fixture)."""
    video_s = 10
    with Client(url) as client:
        task = client.submit(slow_render(video_s))
        task = client.wait(task.id, timeout=120, mode="long-poll")
    assert task.status == "completed", task.error
    assert task.started_at is not None and task.completed_at is not None
    return max((task.completed_at - task.started_at).total_seconds() / video_s, 0.01)


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    base = tmp_path_factory.mktemp("long-follow")
    assets = base / "assets"
    shutil.copytree(PROJECT / "examples" / "assets", assets)
    server = Server(base / "data", assets, VIDTASK_SSE_HEARTBEAT_S=str(HEARTBEAT_S)).start()
    try:
        yield Rig(server, calibrate(server.url))
    finally:
        server.stop()


def submit(rig: Rig, render_s: float = TARGET_S) -> Task:
    with Client(rig.url) as client:
        return client.submit(rig.timeline(render_s))


def assert_followed(stamps: list[float], least: float = MIN_FOLLOW_S) -> None:
    assert stamps, "the follower saw no update"
    span = stamps[-1] - stamps[0]
    assert span >= least, f"followed for {span:.1f} s only; the task must outlast {least} s"


def assert_completed(task: Task) -> None:
    assert task.status == "completed", task.error
    assert task.result is not None and task.result.video_url


#: `vidtask` with its imports done first: they take seconds on a busy machine, and a task
#: submitted before them would be half rendered when `vidtask wait` starts to follow it.
PRELOADED = """
import json, sys
from vidtask import cli
print("ready", flush=True)
sys.argv = ["vidtask", *json.loads(sys.stdin.readline())]
cli.main()
"""


class Command:
    """A `vidtask` subprocess whose output lines are stamped as they arrive: ``python -m
    vidtask <args>``, or with ``preload`` the same ``main()`` once imported, run by `go`."""

    def __init__(self, url: str, *args: str, preload: bool = False, **env: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", PRELOADED]
            if preload
            else [sys.executable, "-m", "vidtask", *args],
            env={**os.environ, "VIDTASK_URL": url, "COLUMNS": "200", **env},
            cwd=PROJECT,
            stdin=subprocess.PIPE if preload else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.out: list[tuple[float, str]] = []
        self.err: list[tuple[float, str]] = []
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self._readers = [
            threading.Thread(target=self._read, args=(self.proc.stdout, self.out), daemon=True),
            threading.Thread(target=self._read, args=(self.proc.stderr, self.err), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def wait_for_output(self, timeout: float = 60) -> None:
        """Until the first line on stdout (`watch`'s first table, or the preloaded "ready")."""
        deadline = time.monotonic() + timeout
        while not self.out:
            assert self.proc.poll() is None, self.report()
            assert time.monotonic() < deadline, self.report()
            time.sleep(0.05)

    def go(self, *args: str) -> None:
        """Run the preloaded command with ``args``."""
        assert self.proc.stdin is not None
        self.wait_for_output()
        self.proc.stdin.write(json.dumps(args) + "\n")
        self.proc.stdin.close()

    @staticmethod
    def _read(pipe: IO[str], lines: list[tuple[float, str]]) -> None:
        for line in pipe:
            lines.append((time.monotonic(), ANSI.sub("", line)))

    @property
    def stdout(self) -> str:
        return "".join(line for _, line in self.out)

    @property
    def stderr(self) -> str:
        return "".join(line for _, line in self.err)

    def finish(self, timeout: float) -> int:
        """Wait for the exit (killing it after ``timeout``); the exit code."""
        try:
            rc = self.proc.wait(timeout)
        finally:
            self.close()
        return rc

    def interrupt(self, timeout: float = 15) -> int:
        """Ctrl-C, as a user stops `vidtask watch`; the exit code."""
        self.proc.send_signal(signal.SIGINT)
        return self.finish(timeout)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for reader in self._readers:
            reader.join(5)
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()

    def first_stamp(self, lines: list[tuple[float, str]], text: str) -> float | None:
        """When the first of ``lines`` holding ``text`` arrived."""
        return next((at for at, line in lines if text in line), None)

    def report(self) -> str:
        return f"rc={self.proc.returncode}\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}"


def assert_cli_followed(command: Command, task_id: str, least: float = MIN_FOLLOW_S) -> None:
    """The command printed its first progress line (it has the task, and goes on to follow it)
    at least ``least`` before it printed the completed task."""
    output = command.report()
    assert "Traceback" not in output, output
    assert command.err, output
    done = command.first_stamp(command.out, f"{task_id}  completed")
    assert done is not None, output
    assert_followed([command.err[0][0], done], least)


# --- the stream itself ------------------------------------------------------------------------


def test_the_stream_carries_heartbeats_while_a_task_runs(rig: Rig) -> None:
    """The premise of every other test: while a task renders, its stream interleaves heartbeat
    comments with its events (counted here on the raw bytes, not through httpx-sse)."""
    task = submit(rig)
    pings, data = 0, []
    timeout = httpx.Timeout(10, read=30)
    with httpx.stream("GET", f"{rig.url}/v1/tasks/{task.id}/events", timeout=timeout) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        for line in stream.iter_lines():
            if line.startswith(":"):
                pings += 1
            elif line.startswith("data:"):
                data.append(json.loads(line.removeprefix("data:")))
    assert pings >= MIN_FOLLOW_S / HEARTBEAT_S, f"{pings} heartbeats"
    assert data[-1]["status"] == "completed"
    assert [body["version"] for body in data] == list(range(1, data[-1]["version"] + 1))


# --- the sync SDK -----------------------------------------------------------------------------


def test_sync_wait_over_sse_outlasts_heartbeats(rig: Rig) -> None:
    task = submit(rig)
    stamps: list[float] = []
    with Client(rig.url) as client:
        done = client.wait(
            task.id, timeout=120, mode="sse", on_update=lambda _: stamps.append(time.monotonic())
        )
    assert_completed(done)
    assert_followed(stamps)


def test_sync_task_events_outlast_heartbeats(rig: Rig) -> None:
    task = submit(rig)
    stamps: list[float] = []
    events = []
    with Client(rig.url) as client:
        for event in client.events(task.id):  # ends after the terminal event
            stamps.append(time.monotonic())
            events.append(event)
    assert {e.task.id for e in events} == {task.id}
    assert [e.id for e in events] == list(range(1, events[-1].id + 1))
    assert events[-1].type == "task.completed"
    assert_completed(events[-1].task)
    assert_followed(stamps)


def test_sync_key_events_outlast_heartbeats(rig: Rig) -> None:
    task = submit(rig)
    stamps: list[float] = []
    mine = []
    with Client(rig.url) as client:
        # after=0 replays what the log keeps, so nothing before the connection is missed
        for event in client.events(after=0):
            if event.task.id != task.id:
                continue
            stamps.append(time.monotonic())
            mine.append(event)
            if event.task.terminal:
                break
    assert mine[0].type == "task.created"
    assert [e.task.version for e in mine] == list(range(1, mine[-1].task.version + 1))
    assert_completed(mine[-1].task)
    assert_followed(stamps)


# --- the async SDK ----------------------------------------------------------------------------


def test_async_wait_over_sse_outlasts_heartbeats(rig: Rig) -> None:
    task = submit(rig)
    stamps: list[float] = []

    async def main() -> Task:
        async with AsyncClient(rig.url) as client:
            return await client.wait(
                task.id,
                timeout=120,
                mode="sse",
                on_update=lambda _: stamps.append(time.monotonic()),
            )

    assert_completed(anyio.run(main))
    assert_followed(stamps)


def test_async_task_events_outlast_heartbeats(rig: Rig) -> None:
    task = submit(rig)
    stamps: list[float] = []

    async def main() -> list[Task]:
        seen = []
        async with AsyncClient(rig.url) as client:
            async for event in client.events(task.id):
                stamps.append(time.monotonic())
                seen.append(event.task)
        return seen

    seen = anyio.run(main)
    assert [t.version for t in seen] == list(range(1, seen[-1].version + 1))
    assert_completed(seen[-1])
    assert_followed(stamps)


# --- the CLI ----------------------------------------------------------------------------------


def test_cli_wait_outlasts_heartbeats(rig: Rig) -> None:
    command = Command(rig.url, preload=True)
    try:
        command.wait_for_output()
        task = submit(rig)
        command.go("wait", task.id)
        rc = command.finish(timeout=120)
    finally:
        command.close()
    assert rc == 0, command.report()
    assert_cli_followed(command, task.id)


def test_cli_submit_and_wait_outlasts_heartbeats(rig: Rig, tmp_path: Path) -> None:
    job = tmp_path / "job.json"  # no assets beside it: the server finds them in its asset root
    job.write_text(json.dumps(rig.timeline()))
    command = Command(rig.url, "submit", str(job), "--wait")
    rc = command.finish(timeout=120)
    assert rc == 0, command.report()
    found = re.search(r"^(\S+)  completed", command.stdout, re.MULTILINE)
    assert found, command.report()
    assert_cli_followed(command, found.group(1))


def test_cli_watch_outlasts_heartbeats(rig: Rig) -> None:
    """`vidtask watch` (endless) shows a task it learnt of from the key's stream go to
    completed, is still alive heartbeats later, and stops cleanly on Ctrl-C. TTY_COMPATIBLE
    makes rich draw the live table as in a terminal, so the pipe shows every redraw."""
    command = Command(rig.url, "watch", "--all", TTY_COMPATIBLE="1")
    try:
        command.wait_for_output()  # the first table: it has listed the tasks and now follows
        task = submit(rig)  # after the listing: only the event stream can show it
        deadline = time.monotonic() + 120
        while not any(task.id in line and "completed" in line for _, line in command.out):
            assert command.proc.poll() is None, command.report()
            assert time.monotonic() < deadline, command.report()
            time.sleep(0.05)
        first_seen = command.first_stamp(command.out, task.id)
        assert first_seen is not None
        # then idle: only heartbeats arrive for a while, and it must still be running
        idle_until = time.monotonic() + 2.5 * HEARTBEAT_S
        while time.monotonic() < idle_until:
            assert command.proc.poll() is None, command.report()
            time.sleep(0.05)
        assert_followed([first_seen, time.monotonic()])
        rc = command.interrupt()
    finally:
        command.close()
    assert rc == 0, command.report()
    assert "Traceback" not in command.report(), command.report()
    assert "error" not in command.stderr, command.report()


# --- MCP --------------------------------------------------------------------------------------


async def generate_and_wait(client: McpClient, rig: Rig) -> tuple[dict[str, Any], list[float]]:
    started = structured(await client.call_tool("generate_video", {"timeline": rig.timeline()}))
    stamps: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        stamps.append(time.monotonic())

    result = await client.call_tool(
        "wait_for_video",
        {"task_id": started["task_id"], "timeout": 45},
        progress_callback=on_progress,
    )
    done = structured(result)  # asserts it is not an error
    assert done["task_id"] == started["task_id"]
    return done, stamps


def test_mcp_stdio_wait_for_video_outlasts_heartbeats(rig: Rig, tmp_path: Path) -> None:
    """``vidtask mcp --url``: wait_for_video follows the server's SSE through the async SDK."""
    env = {"VIDTASK_DATA_DIR": str(tmp_path)}

    async def main() -> tuple[dict[str, Any], list[float]]:
        async with McpClient(stdio_params(env, "--url", rig.url)) as client:
            return await generate_and_wait(client, rig)

    done, stamps = anyio.run(main)
    assert done["status"] == "completed" and done["done"] and done["video_url"]
    assert_followed(stamps)


def test_mcp_http_wait_for_video_outlasts_heartbeats(rig: Rig) -> None:
    """Streamable HTTP at /mcp: the tool's answer and progress come back as SSE too."""

    async def main() -> tuple[dict[str, Any], list[float]]:
        async with http_client(rig.url, {}) as client:
            return await generate_and_wait(client, rig)

    done, stamps = anyio.run(main)
    assert done["status"] == "completed" and done["done"] and done["video_url"]
    assert_followed(stamps)


# --- the default heartbeat --------------------------------------------------------------------


def test_followers_outlast_the_default_heartbeat(
    rig: Rig, tmp_path: Path, asset_root: Path
) -> None:
    """At the shipped 15 s interval (the setting unset), the sync SDK's SSE wait and
    `vidtask wait` follow one task that renders past the first heartbeat."""
    server = Server(tmp_path / "data", asset_root)
    server.env.pop("VIDTASK_SSE_HEARTBEAT_S", None)
    server.start()
    try:
        command = Command(server.url, preload=True)
        with Client(server.url) as client:
            try:
                command.wait_for_output()
                task = client.submit(rig.timeline(DEFAULT_HEARTBEAT_S * 1.5))
                command.go("wait", task.id)
                stamps: list[float] = []
                done = client.wait(
                    task.id,
                    timeout=180,
                    mode="sse",
                    on_update=lambda _: stamps.append(time.monotonic()),
                )
                rc = command.finish(timeout=60)
            finally:
                command.close()
    finally:
        server.stop()
    assert_completed(done)
    assert_followed(stamps, DEFAULT_HEARTBEAT_S)
    assert rc == 0, command.report()
    assert_cli_followed(command, task.id, DEFAULT_HEARTBEAT_S)
