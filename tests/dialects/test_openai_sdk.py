"""The official ``openai`` SDK against a live vidtask server, with only ``base_url`` changed:
create (JSON and multipart), retrieve, list, poll, create_and_poll, download_content (all three
variants), delete, remix, and its exception classes for our errors."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import av
import openai
import pytest
from PIL import Image

from tests.conftest import EXAMPLES
from tests.dialects.conftest import ALIASES
from tests.dialects.test_openai import png_bytes
from tests.integration.conftest import Server
from vidtask.service.keys import new_key
from vidtask.store.sqlite import SQLiteStore

pytestmark = [
    pytest.mark.slow,
    # The SDK marks its video methods deprecated (the Sora API is to shut down in 2026); the
    # shape they speak is what vidtask serves, so the warning is not ours to act on.
    pytest.mark.filterwarnings("ignore:The Sora API is scheduled:DeprecationWarning"),
]

POLL_MS = 200
SMALL = {"size": "160x90", "seconds": "1"}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str, str]]:
    """A server with two API keys (alice, bob) and sora-2 routed to a local model."""
    root = tmp_path_factory.mktemp("openai-sdk")
    assets = root / "assets"
    shutil.copytree(EXAMPLES / "assets", assets)
    store = SQLiteStore(root / "data" / "vidtask.db")
    _, alice = new_key(store, "alice", 0)
    _, bob = new_key(store, "bob", 0)
    store.close()
    server = Server(
        root / "data",
        assets,
        VIDTASK_WORKERS="1",
        VIDTASK_MODEL_ALIASES=json.dumps(ALIASES),
    ).start()
    yield server, alice, bob
    server.stop()


@pytest.fixture(scope="module")
def sdk(live: tuple[Server, str, str]) -> Iterator[openai.OpenAI]:
    server, alice, _ = live
    with openai.OpenAI(api_key=alice, base_url=server.url + "/v1", max_retries=0) as client:
        yield client


def test_create_and_poll_then_download_every_variant(sdk: openai.OpenAI) -> None:
    video = sdk.videos.create_and_poll(
        prompt="Hello from the SDK",
        poll_interval_ms=POLL_MS,
        **SMALL,  # type: ignore[arg-type]
    )
    assert video.status == "completed", video
    assert (video.model, video.size, video.seconds, video.progress) == (
        "sora-2",
        "160x90",
        "1",
        100,
    )
    assert video.completed_at is not None and video.completed_at >= video.created_at
    assert video.error is None and video.remixed_from_video_id is None

    content = sdk.videos.download_content(video.id)
    with av.open(io.BytesIO(content.read())) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (160, 90)
    for variant in ("thumbnail", "spritesheet"):
        still = sdk.videos.download_content(video.id, variant=variant)
        Image.open(io.BytesIO(still.read())).verify()


def test_multipart_input_reference_and_retrieve(sdk: openai.OpenAI) -> None:
    created = sdk.videos.create(
        prompt="Over a picture",
        input_reference=("cat.png", png_bytes("green", (64, 36)), "image/png"),
        **SMALL,  # type: ignore[arg-type]
    )
    assert created.status in ("queued", "in_progress")
    done = sdk.videos.poll(created.id, poll_interval_ms=POLL_MS)
    assert done.status == "completed", done
    assert sdk.videos.retrieve(created.id).model_dump() == done.model_dump()


def test_list_pages_through_everything(sdk: openai.OpenAI) -> None:
    ids = [sdk.videos.create(prompt=f"list {i}", **SMALL).id for i in range(3)]  # type: ignore[arg-type]
    page = sdk.videos.list(limit=1)
    assert len(page.data) == 1 and page.has_more
    listed = [v.id for v in sdk.videos.list(limit=2)]  # auto-pagination follows last_id
    assert listed[:3] == ids[::-1]
    oldest_first = [v.id for v in sdk.videos.list(order="asc", limit=100)]
    assert oldest_first[-3:] == ids
    for video_id in ids:
        sdk.videos.poll(video_id, poll_interval_ms=POLL_MS)


def test_remix_then_delete(sdk: openai.OpenAI) -> None:
    source = sdk.videos.create_and_poll(
        prompt="Original",
        poll_interval_ms=POLL_MS,
        **SMALL,  # type: ignore[arg-type]
    )
    remix = sdk.videos.remix(source.id, prompt="Remixed")
    assert remix.remixed_from_video_id == source.id and remix.prompt == "Remixed"
    finished = sdk.videos.poll(remix.id, poll_interval_ms=POLL_MS)
    assert finished.status == "completed" and finished.size == SMALL["size"]
    deleted = sdk.videos.delete(source.id)
    assert (deleted.id, deleted.object, deleted.deleted) == (source.id, "video.deleted", True)
    with pytest.raises(openai.NotFoundError) as caught:
        sdk.videos.retrieve(source.id)
    assert caught.value.code == "not_found"


def test_errors_raise_the_sdk_exceptions(sdk: openai.OpenAI, live: tuple[Server, str, str]) -> None:
    server, alice, bob = live
    with pytest.raises(openai.BadRequestError) as bad:
        sdk.videos.create(prompt="x", size="33x33")  # type: ignore[arg-type]
    assert bad.value.param == "size" and "even" in bad.value.message
    with pytest.raises(openai.BadRequestError) as unknown:
        sdk.videos.create(prompt="x", model="veo-3")
    assert "available models" in unknown.value.message
    mine = sdk.videos.create(prompt="mine", **SMALL)  # type: ignore[arg-type]
    with openai.OpenAI(api_key=bob, base_url=server.url + "/v1", max_retries=0) as other:
        with pytest.raises(openai.NotFoundError):
            other.videos.retrieve(mine.id)
        with pytest.raises(openai.NotFoundError):
            other.videos.download_content(mine.id)
    with openai.OpenAI(api_key="sk-wrong", base_url=server.url + "/v1", max_retries=0) as wrong:
        with pytest.raises(openai.AuthenticationError):
            wrong.videos.list()
    with pytest.raises(openai.ConflictError):
        sdk.videos.delete(sdk.videos.create(prompt="busy", **SMALL).id)  # type: ignore[arg-type]
    sdk.videos.poll(mine.id, poll_interval_ms=POLL_MS)


def test_failed_render_polls_to_failed(sdk: openai.OpenAI, live: tuple[Server, str, str]) -> None:
    server, _, _ = live
    assets = Path(server.env["VIDTASK_ASSET_ROOTS"].strip('[]"'))
    (assets / "broken.png").write_text("no image here")
    timeline = {
        "output": {"width": 64, "height": 64},
        "tracks": [
            {"clips": [{"asset": {"type": "image", "src": "broken.png"}, "start": 0, "length": 1}]}
        ],
    }
    video = sdk.videos.create_and_poll(
        prompt=json.dumps(timeline), model="timeline", poll_interval_ms=POLL_MS
    )
    assert video.status == "failed" and video.error is not None
    assert video.error.code == "unsupported_media"
    with pytest.raises(openai.NotFoundError):
        sdk.videos.download_content(video.id)
