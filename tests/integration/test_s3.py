"""A real server (`vidtask serve` with worker processes) whose artifacts are in a bucket on a
real S3-protocol server: the render lands in the bucket and not in the data directory, links
work with Range as proxied ``/v1/files`` links and as presigned ones, and deleting the task
deletes its objects."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import Server, wait_for
from tests.integration.timelines import tiny
from tests.s3 import Bucket
from vidtask.client import Client

pytestmark = pytest.mark.slow


def serve(tmp_path: Path, asset_root: Path, bucket: Bucket, links: str) -> Server:
    return Server(
        tmp_path / "data",
        asset_root,
        VIDTASK_ARTIFACTS_URL=bucket.url("videos"),
        VIDTASK_S3_PATH_STYLE="true",
        VIDTASK_ARTIFACT_LINKS=links,
        **bucket.env(),
    ).start()


@pytest.fixture(params=["proxy", "presigned"])
def bucket_server(
    request: pytest.FixtureRequest, tmp_path: Path, asset_root: Path, bucket: Bucket
) -> Iterator[tuple[Server, str]]:
    server = serve(tmp_path, asset_root, bucket, request.param)
    yield server, request.param
    server.stop()


def test_a_render_lives_in_the_bucket_and_is_served_from_it(
    bucket_server: tuple[Server, str], bucket: Bucket
) -> None:
    server, links = bucket_server
    with httpx.Client(base_url=server.url, timeout=30) as client:
        created = client.post("/v1/tasks", json={"model": "timeline", "input": tiny()})
        assert created.status_code == 201, created.text
        task_id = created.json()["id"]
        task = wait_for(client, task_id, lambda t: t["status"] in ("completed", "failed"))
        assert task["status"] == "completed", task

        prefix = f"videos/{task_id}/1/"
        keys = bucket.keys(prefix)
        assert f"{prefix}video.mp4" in keys and f"{prefix}cover.jpg" in keys, keys
        assert not list((server.data_dir / "artifacts").rglob("*.mp4"))
        assert not list((server.data_dir / "scratch").rglob("*.mp4"))
        stored = bucket.client.get_object(Bucket=bucket.name, Key=f"{prefix}video.mp4")
        video = stored["Body"].read()
        assert video[4:8] == b"ftyp"

        url = task["result"]["video_url"]
        if links == "proxy":
            assert url.startswith(f"{server.url}/v1/files/{task_id}/1/video.mp4?")
        else:
            assert url.startswith(f"{bucket.endpoint}/{bucket.name}/{prefix}video.mp4?")
            assert "X-Amz-Signature=" in url
        part = httpx.get(url, headers={"Range": "bytes=100-1099"})
        assert part.status_code == 206, part.text
        assert part.content == video[100:1100]
        assert part.headers["content-range"] == f"bytes 100-1099/{len(video)}"
        whole = httpx.get(url)
        assert whole.status_code == 200 and whole.content == video
        cover = httpx.get(task["result"]["cover_url"])
        assert cover.status_code == 200 and cover.content[:2] == b"\xff\xd8"  # a JPEG

        assert client.delete(f"/v1/tasks/{task_id}").status_code == 200
        assert bucket.keys(f"videos/{task_id}/") == []
        if links == "proxy":
            assert httpx.get(url).status_code == 404


def test_a_last_frame_is_made_on_first_fetch_and_kept_in_the_bucket(
    tmp_path: Path, asset_root: Path, bucket: Bucket
) -> None:
    """Presigned links for what is in the bucket; the last frame (made when first fetched)
    keeps vidtask's own link, downloads the video, and saves the frame back into the bucket."""
    server = serve(tmp_path, asset_root, bucket, "presigned")
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            tasks = "/api/v3/contents/generations/tasks"
            content = [{"type": "text", "text": json.dumps(tiny())}]
            body = {"model": "timeline", "content": content, "return_last_frame": True}
            created = client.post(tasks, json=body)
            assert created.status_code == 200, created.text
            task_id = created.json()["id"]
            wait_for(client, task_id, lambda t: t["status"] in ("completed", "failed"))
            done = client.get(f"{tasks}/{task_id}").json()
            assert done["status"] == "succeeded", done
            assert done["content"]["video_url"].startswith(bucket.endpoint)
            frame_url = done["content"]["last_frame_url"]
            assert frame_url.startswith(f"{server.url}/v1/files/{task_id}/1/last_frame.png?")
            frame = httpx.get(frame_url)
            assert frame.status_code == 200 and frame.content[:8] == b"\x89PNG\r\n\x1a\n"
            assert f"videos/{task_id}/1/last_frame.png" in bucket.keys()
    finally:
        server.stop()


def test_every_client_gets_the_bucket_links(
    tmp_path: Path, asset_root: Path, bucket: Bucket
) -> None:
    """Presigned mode: the SDK's download resumes from its ``.part`` file straight from the
    bucket, every dialect's status read hands out the bucket's URL for the video, OpenAI's
    content route serves it with Range, and the dashboard's policy lets its player load it."""
    server = serve(tmp_path, asset_root, bucket, "presigned")
    try:
        with Client(server.url) as sdk:
            task = sdk.wait(sdk.submit(tiny()).id, timeout=120)
            assert task.status == "completed", task.error
            prefix = f"videos/{task.id}/1/"
            stored = bucket.client.get_object(Bucket=bucket.name, Key=f"{prefix}video.mp4")
            video = stored["Body"].read()
            dest = tmp_path / "out.mp4"
            dest.with_name("out.mp4.part").write_bytes(video[:1000])  # an interrupted download
            sdk.download(task, dest)
            assert dest.read_bytes() == video

        with httpx.Client(base_url=server.url, timeout=30) as client:
            policy = client.get("/").headers["content-security-policy"]
            assert f"media-src 'self' blob: {bucket.endpoint};" in policy  # the dashboard's player
            views = client.get(f"/v1/tasks/{task.id}/dialects").json()["dialects"]
            # OpenAI's video object names no URL: its content route serves the bytes.
            content = client.get(f"/v1/videos/{task.id}/content", headers={"Range": "bytes=8-"})
            assert content.status_code == 206 and content.content == video[8:]
        bucket_video = f"{bucket.endpoint}/{bucket.name}/{prefix}video.mp4?"
        for name, view in views.items():
            if view is None or name == "openai":  # capcut-mate answers only for drafts
                continue
            text = json.dumps(view)
            assert bucket_video in text, f"{name} does not link the bucket: {text[:300]}"
            assert "/v1/files/" not in text.split("last_frame")[0], name
    finally:
        server.stop()
