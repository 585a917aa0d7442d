"""A cluster whose machines share no folder: API and worker processes each with their own data
directory and asset root, one PostgreSQL database, and a bucket (a real S3-protocol server) for
artifacts and uploads. An image uploaded through one API renders on a worker that never saw
that API's disk, and every API serves the result; a worker killed while a part of its result is
on the wire leaves no video a client can see, and its upload is aborted."""

from __future__ import annotations

import json
import os
import secrets
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cluster.conftest import WorkerProcess, wait_until
from tests.cluster.throttle import SlowLink
from tests.integration.conftest import Server, wait_for
from tests.s3 import Bucket

pytestmark = pytest.mark.slow

ASSETS = Path(__file__).resolve().parents[2] / "examples" / "assets"
PREFIX = "vids"


class Machines:
    """Processes as if each ran on its own machine: nothing on disk is shared."""

    def __init__(self, tmp_path: Path, database_url: str, bucket: Bucket) -> None:
        self.tmp_path = tmp_path
        self.bucket = bucket
        self.apis: list[Server] = []
        self.workers: list[WorkerProcess] = []
        self.env = {
            "VIDTASK_DATABASE_URL": database_url,
            "VIDTASK_LEASE_TTL_S": "3",
            "VIDTASK_LOG_FORMAT": "json",
            "VIDTASK_LOG_LEVEL": "INFO",
            "VIDTASK_SHUTDOWN_GRACE_S": "1",
            "VIDTASK_SECRET": secrets.token_hex(16),  # the same everywhere: links work anywhere
            "VIDTASK_ARTIFACTS_URL": bucket.url(PREFIX),
            "VIDTASK_S3_PATH_STYLE": "true",
            **bucket.env(),
        }

    def folder(self, name: str) -> Path:
        data = self.tmp_path / name
        (data / "assets").mkdir(parents=True, exist_ok=True)  # empty: no example assets
        return data

    def api(self, name: str, **env: str) -> Server:
        data = self.folder(name)
        server = Server(data, data / "assets", **self.env, **env).start()
        self.apis.append(server)
        return server

    def worker(self, name: str, **env: str) -> WorkerProcess:
        data = self.folder(name)
        full = {
            **os.environ,
            **self.env,
            "VIDTASK_DATA_DIR": str(data),
            "VIDTASK_ASSET_ROOTS": json.dumps([str(data / "assets")]),
            **env,
        }
        process = WorkerProcess(data, full, name).start()
        self.workers.append(process)
        return process

    def files_on_disk(self) -> list[Path]:
        """Media anywhere in any machine's data directory."""
        kinds = {".png", ".mp4", ".jpg", ".part"}
        return [p for p in self.tmp_path.rglob("*") if p.is_file() and p.suffix in kinds]

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        for api in self.apis:
            api.stop()


@pytest.fixture
def machines(tmp_path: Path, pg_url: str, bucket: Bucket) -> Iterator[Machines]:
    running = Machines(tmp_path, pg_url, bucket)
    try:
        yield running
    finally:
        running.stop()


def upload(api: Server, asset: str) -> str:
    sent = httpx.post(
        f"{api.url}/v1/uploads",
        params={"filename": asset},
        content=(ASSETS / asset).read_bytes(),
        timeout=30,
    )
    assert sent.status_code == 201, sent.text
    path: str = sent.json()["path"]
    return path


def submit(api: Server, timeline: dict[str, Any]) -> str:
    created = httpx.post(
        f"{api.url}/v1/tasks", json={"model": "timeline", "input": timeline}, timeout=30
    )
    assert created.status_code == 201, created.text
    task_id: str = created.json()["id"]
    return task_id


def over_color(src: str) -> dict[str, Any]:
    return {
        "output": {"width": 160, "height": 90, "fps": 10},
        "tracks": [
            {"clips": [{"asset": {"type": "image", "src": src}, "start": 0, "length": 1}]},
            {"clips": [{"asset": {"type": "color", "color": "#336699"}, "start": 0, "length": 1}]},
        ],
    }


def test_an_upload_through_one_api_renders_on_a_worker_and_every_api_serves_it(
    machines: Machines, bucket: Bucket
) -> None:
    api1 = machines.api("api1")
    api2 = machines.api("api2", VIDTASK_ARTIFACT_LINKS="presigned")
    machines.worker("worker1"), machines.worker("worker2")
    image = upload(api2, "image.png")
    assert bucket.keys(f"{PREFIX}/inputs/") == [f"{PREFIX}/inputs/{image}"]
    task_id = submit(api1, over_color(image))
    with httpx.Client(base_url=api2.url, timeout=30) as client:
        done = wait_for(client, task_id, lambda t: t["status"] in ("completed", "failed"))
    assert done["status"] == "completed", done
    video = bucket.client.get_object(Bucket=bucket.name, Key=f"{PREFIX}/{task_id}/1/video.mp4")
    stored = video["Body"].read()

    for api, links in ((api2, "presigned"), (api1, "proxy")):
        task = httpx.get(f"{api.url}/v1/tasks/{task_id}", timeout=30).json()
        url = task["result"]["video_url"]
        if links == "presigned":  # the bucket's own link, fetched by a plain HTTP client
            assert url.startswith(f"{bucket.endpoint}/{bucket.name}/{PREFIX}/{task_id}/1/")
        else:
            assert url.startswith(f"{api.url}/v1/files/{task_id}/1/video.mp4?")
        part = httpx.get(url, headers={"Range": "bytes=10-209"}, timeout=30)
        assert part.status_code == 206, part.text
        assert part.content == stored[10:210]
        assert part.headers["content-range"] == f"bytes 10-209/{len(stored)}"
        cover = httpx.get(task["result"]["cover_url"], timeout=30)
        assert cover.status_code == 200 and cover.content[:3] == b"\xff\xd8\xff"
        assert len(task["previews"]) >= 3
        for preview in task["previews"]:
            got = httpx.get(preview["url"], timeout=30)
            assert got.status_code == 200 and got.content[:3] == b"\xff\xd8\xff"
    assert machines.files_on_disk() == []  # the upload and the results live in the bucket only

    assert httpx.delete(f"{api1.url}/v1/tasks/{task_id}", timeout=30).status_code == 200
    assert bucket.keys(f"{PREFIX}/{task_id}/") == []
    assert bucket.keys(f"{PREFIX}/inputs/") == [f"{PREFIX}/inputs/{image}"]  # inputs stay


def big_render(video: str, seconds: int = 16) -> dict[str, Any]:
    """Lossless 640x360 of a moving clip: about 7 MB, more than one 5 MiB part."""
    clips = [
        {"asset": {"type": "video", "src": video, "volume": 0}, "start": i * 2.0, "length": 2.0}
        for i in range(seconds // 2)
    ]
    return {
        "output": {"width": 640, "height": 360, "fps": 30, "crf": 0},
        "tracks": [{"clips": clips}],
    }


def test_a_worker_killed_mid_upload_leaves_no_video_and_its_upload_is_aborted(
    machines: Machines, bucket: Bucket
) -> None:
    api = machines.api("api")
    video = upload(api, "video.mp4")
    link = SlowLink(bucket.endpoint, bytes_per_s=256 * 1024)
    try:
        slow = {"AWS_ENDPOINT_URL_S3": link.url, "VIDTASK_S3_PART_MB": "5"}
        victim = machines.worker("victim", **slow)
        task_id = submit(api, big_render(video))
        assert link.part_started.wait(240), "the result's upload never began"
        victim.signal(signal.SIGKILL)
        assert victim.proc is not None and victim.proc.wait(10) == -signal.SIGKILL
        attempt = f"{PREFIX}/{task_id}/1/"

        def uploads() -> list[str]:
            found = bucket.client.list_multipart_uploads(Bucket=bucket.name, Prefix=attempt)
            return [u["Key"] for u in found.get("Uploads", [])]

        assert uploads() == [f"{attempt}video.mp4"]  # begun, never completed
        assert f"{attempt}video.mp4" not in bucket.keys(attempt)  # so no client sees it
        with httpx.Client(base_url=api.url, timeout=30) as client:
            task = client.get(f"/v1/tasks/{task_id}").json()
            assert task["status"] != "completed" and task.get("result") is None, task
            machines.worker("rescuer")  # straight to the bucket, default part size
            done = wait_for(
                client, task_id, lambda t: t["status"] in ("completed", "failed"), timeout=300
            )
        assert done["status"] == "completed" and done["attempt"] == 2, done
        assert f"{PREFIX}/{task_id}/2/video.mp4" in bucket.keys(f"{PREFIX}/{task_id}/")
        # The killed worker, restarted on its machine, finds its unsettled attempt and cleans it
        # up: the incomplete upload is aborted, its previews are deleted.
        link.bytes_per_s = 100 * 1024 * 1024
        machines.worker("victim", **slow)
        wait_until(lambda: uploads() == [] and bucket.keys(attempt) == [], 60, "the clean-up")
        assert httpx.get(done["result"]["video_url"], timeout=30).status_code == 200
    finally:
        link.close()
