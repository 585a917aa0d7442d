"""The `vidtask` command: keys against the local store, task commands against a real server,
and `vidtask demo` (README command 1's main job) as a subprocess."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import httpx
import pytest
from typer.testing import CliRunner

from tests.acceptance.streaming import wait_until_streaming
from tests.integration.conftest import Server
from tests.integration.timelines import long_render, tiny
from tests.s3 import Bucket
from vidtask.cli import app

pytestmark = pytest.mark.slow
runner = CliRunner()


def test_keys_create_list_revoke(tmp_path: Path) -> None:
    env = {"VIDTASK_DATA_DIR": str(tmp_path)}
    created = runner.invoke(app, ["keys", "create", "ci-bot"], env=env)
    assert created.exit_code == 0, created.output
    key_id = re.search(r"created (key_\w+)", created.output).group(1)  # type: ignore[union-attr]
    secret = created.output.strip().splitlines()[-1]
    assert secret.startswith("vtk_")
    listed = runner.invoke(app, ["keys", "list"], env=env)
    assert key_id in listed.output and "ci-bot" in listed.output and secret not in listed.output
    assert runner.invoke(app, ["keys", "revoke", key_id], env=env).exit_code == 0
    again = runner.invoke(app, ["keys", "revoke", key_id], env=env)
    assert again.exit_code == 1 and "no active key" in again.output


def test_task_commands_against_a_server(tmp_path: Path, asset_root: Path) -> None:
    server = Server(tmp_path / "data", asset_root).start()
    env = {"VIDTASK_URL": server.url}
    try:
        assert f"dashboard: {server.url}/\n" in server.log.read_text()  # `serve` says where
        job = tmp_path / "job.json"
        job.write_text(json.dumps(tiny()))
        submitted = runner.invoke(app, ["submit", str(job), "--wait", "--json"], env=env)
        assert submitted.exit_code == 0, submitted.output
        task = json.loads(submitted.stdout[submitted.stdout.index("{") :])
        assert task["status"] == "completed"

        status = runner.invoke(app, ["status", task["id"]], env=env)
        assert status.exit_code == 0 and "completed" in status.output
        listed = runner.invoke(app, ["list", "--status", "completed", "--json"], env=env)
        assert task["id"] in listed.output
        out = tmp_path / "video.mp4"
        downloaded = runner.invoke(app, ["download", task["id"], "-o", str(out)], env=env)
        assert downloaded.exit_code == 0, downloaded.output
        with av.open(str(out)) as container:
            assert container.streams.video[0].width == 64

        waited = runner.invoke(app, ["wait", task["id"]], env=env)
        assert waited.exit_code == 0

        long_job = tmp_path / "long.json"
        long_job.write_text(json.dumps(long_render(60)))
        running = runner.invoke(app, ["submit", str(long_job), "--json"], env=env)
        long_id = json.loads(running.stdout[running.stdout.index("{") :])["id"]
        cancelled = runner.invoke(app, ["cancel", long_id], env=env)
        assert cancelled.exit_code == 0
        final = runner.invoke(app, ["wait", long_id], env=env)
        assert final.exit_code == 1 and "cancelled" in final.output

        missing = runner.invoke(app, ["status", "vt_missing"], env=env)
        assert missing.exit_code == 1 and "no task with id" in missing.output
        bad = tmp_path / "bad.json"
        bad.write_text("{nope")
        refused = runner.invoke(app, ["submit", str(bad)], env=env)
        assert refused.exit_code == 1 and "not valid JSON" in refused.output
        invalid = tmp_path / "invalid.json"
        invalid.write_text(json.dumps({"tracks": []}))
        rejected = runner.invoke(app, ["submit", str(invalid)], env=env)
        assert rejected.exit_code == 1 and "input" in rejected.output
    finally:
        server.stop()


def test_demo_renders_the_bundled_example(tmp_path: Path) -> None:
    env = {**os.environ, "VIDTASK_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200"}
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-m", "vidtask", "demo"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    video = Path(re.search(r"video: (\S+\.mp4)", done.stdout).group(1))  # type: ignore[union-attr]
    cover = Path(re.search(r"cover: (\S+\.jpg)", done.stdout).group(1))  # type: ignore[union-attr]
    assert re.search(
        r"http://127\.0\.0\.1:\d+/v1/files/vt_\w+/1/video\.mp4\?exp=\d+&sig=\w+", done.stdout
    )
    assert cover.read_bytes()[:3] == b"\xff\xd8\xff"
    assert re.search(
        r"^dashboard: http://127\.0\.0\.1:\d+/  \(up while this runs: add --serve to keep it\)$",
        done.stdout,
        re.MULTILINE,
    )
    with av.open(str(video)) as container:
        assert container.streams.video[0].width == 1280
        assert len(container.streams.audio) == 1
    assert "rendering" in done.stderr  # the progress bar named its stages


def test_demo_with_a_bucket_prints_the_bucket_s_links(tmp_path: Path, bucket: Bucket) -> None:
    """With artifacts in a bucket there is no local file to name: the demo prints the links,
    and (presigned) they work after it exits."""
    env = {
        **os.environ,
        **bucket.env(),
        "VIDTASK_DATA_DIR": str(tmp_path / "data"),
        "VIDTASK_ARTIFACTS_URL": bucket.url("demo"),
        "VIDTASK_S3_PATH_STYLE": "true",
        "VIDTASK_ARTIFACT_LINKS": "presigned",
        "COLUMNS": "400",
    }
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-m", "vidtask", "demo"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    video = re.search(r"^video: (\S+)$", done.stdout, re.MULTILINE)
    cover = re.search(r"^cover: (\S+)$", done.stdout, re.MULTILINE)
    assert video is not None and cover is not None, done.stdout
    assert video.group(1).startswith(f"{bucket.endpoint}/{bucket.name}/demo/vt_")
    got = httpx.get(video.group(1), timeout=30)
    assert got.status_code == 200 and got.content[4:8] == b"ftyp"
    assert httpx.get(cover.group(1), timeout=30).content[:3] == b"\xff\xd8\xff"
    assert not list((tmp_path / "data").rglob("*.mp4"))


def test_watch_and_webhooks_commands(tmp_path: Path, asset_root: Path) -> None:
    from tests.webhooks.receiver import Receiver

    server = Server(
        tmp_path / "data", asset_root, VIDTASK_ASSET_ALLOW_NETWORKS='["127.0.0.0/8"]'
    ).start()
    env = {"VIDTASK_URL": server.url}
    try:
        with Receiver() as receiver:
            added = runner.invoke(app, ["webhooks", "add", receiver.url], env=env)
            assert added.exit_code == 0, added.output
            endpoint_id = re.search(r"created (we_\w+)", added.output).group(1)  # type: ignore[union-attr]
            assert added.output.strip().splitlines()[-1].startswith("whsec_")
            assert endpoint_id in runner.invoke(app, ["webhooks", "list"], env=env).output
            tested = runner.invoke(app, ["webhooks", "test", endpoint_id], env=env)
            assert tested.exit_code == 0 and "delivered (200)" in tested.output
            log = runner.invoke(app, ["webhooks", "deliveries"], env=env)
            assert "webhook.test" in log.output and "delivered" in log.output
            assert runner.invoke(app, ["webhooks", "secret"], env=env).output.startswith("whsec_")
            removed = runner.invoke(app, ["webhooks", "remove", endpoint_id], env=env)
            assert removed.exit_code == 0

        task = runner.invoke(app, ["submit", "--json", _job(tmp_path)], env=env)
        task_id = json.loads(task.stdout[task.stdout.index("{") :])["id"]
        watch = subprocess.Popen(
            [sys.executable, "-m", "vidtask", "watch", "--all", "--url", server.url],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env={**os.environ, "COLUMNS": "160"},
        )
        try:
            wait_until_streaming(watch.pid, server.port)
            assert runner.invoke(app, ["wait", task_id], env=env).exit_code == 0
            time.sleep(0.5)  # the terminal event reaches the table
        finally:
            watch.send_signal(signal.SIGINT)
            output = watch.communicate(timeout=30)[0].decode()
        assert task_id in output and "completed" in output
    finally:
        server.stop()


def _job(tmp_path: Path) -> str:
    job = tmp_path / "watched.json"
    job.write_text(json.dumps(tiny()))
    return str(job)


def test_demo_serve_keeps_the_dashboard_up(tmp_path: Path) -> None:
    """README command 1 with ``--serve``: after the render, the printed dashboard answers."""
    env = {**os.environ, "VIDTASK_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200"}
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, "-m", "vidtask", "demo", "--serve"],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 240
        url = None
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            assert line, "demo --serve exited before printing the dashboard"
            found = re.match(r"dashboard: (http://127\.0\.0\.1:\d+/)$", line.strip())
            url = found.group(1) if found else None
        assert url is not None
        page = httpx.get(url, timeout=10)
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert "/dashboard/static/js/app.js" in page.text
        tasks = httpx.get(url + "v1/tasks", timeout=10).json()["data"]
        assert [t["status"] for t in tasks] == ["completed"]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
