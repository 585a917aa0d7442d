"""Finding 7: an asset path with a component over 255 bytes is refused with a 400 naming the
field, in every dialect and over MCP (it was ``OSError: File name too long``: a 500, and a bare
"Error executing tool")."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient
from mcp import Client
from mcp.types import TextContent

from tests.hardening.conftest import CAPCUT, refusal, timeline
from tests.mcp_server.conftest import PROJECT, new_key
from vidtask import composition
from vidtask.mcp_server.local import LocalBackend
from vidtask.mcp_server.server import build_server
from vidtask.settings import Settings

WHY = "a path component is longer than 255 bytes"
LONG = "a" * 300 + ".png"
ARK = "/api/v3/contents/generations/tasks"


def image(src: str) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": src}}


CREATES: list[tuple[str, dict[str, Any], str]] = [
    ("/v1/tasks", {"input": timeline(LONG)}, "input.tracks[0].clips[0].asset.src"),
    (
        "/v1/tasks",
        {"input": timeline("dir/" + "é" * 130 + "/x.png")},
        "input.tracks[0].clips[0].asset.src",
    ),  # fmt: skip
    ("/v1/tasks", {"input": timeline("file:///" + LONG)}, "input.tracks[0].clips[0].asset.src"),
    (
        "/v1/video/generations",
        {"model": "timeline", "timeline": timeline(LONG)},
        "timeline.tracks[0].clips[0].asset.src",
    ),  # fmt: skip
    ("/v1/videos", {"prompt": "a cat", "input_reference": LONG}, "input_reference"),
    # Ark names every image error `content`; Scenext keeps the service's name of its images
    # (both as they do for a file that does not exist).
    (
        ARK,
        {
            "model": "doubao-seedance-1-0-pro",
            "content": [{"type": "text", "text": "a cat"}, image(LONG)],
        },
        "content",
    ),  # fmt: skip
    ("/api/gen_video", {"question": "1+1?", "questionImages": [LONG]}, "input.images[0]"),
]


@pytest.mark.parametrize(("path", "body", "field"), CREATES)
def test_create_routes(client: TestClient, path: str, body: dict[str, Any], field: str) -> None:
    message, param = refusal(client.post(path, json=body))
    assert message.startswith(field + ": ") and message.endswith(WHY), message
    assert param in (field, None)


def test_capcut_add_images(client: TestClient) -> None:
    draft = client.post(CAPCUT + "/create_draft", json={"width": 640, "height": 360}).json()
    infos = json.dumps([{"image_url": LONG, "start": 0, "end": 1_000_000}])
    body = {"draft_url": draft["draft_url"], "image_infos": infos}
    message, _ = refusal(client.post(CAPCUT + "/add_images", json=body))
    assert message == f"image_infos[0].image_url: {WHY}"


def test_a_path_longer_than_the_system_allows(client: TestClient) -> None:
    src = "/".join(["é" * 127] * 17)  # each part fits in 255 bytes, the whole is over PATH_MAX
    message, _ = refusal(client.post("/v1/tasks", json={"input": timeline(src)}))
    assert message == (
        "input.tracks[0].clips[0].asset.src: the path cannot be used (File name too long)"
    )


def test_mcp_generate_video(tmp_path: Path) -> None:
    assets = tmp_path / "assets"
    shutil.copytree(PROJECT / "examples" / "assets", assets)
    key = new_key(tmp_path / "data", "alice")
    settings = Settings(data_dir=tmp_path / "data", workers=0, asset_roots=[assets])
    runtime = composition.mcp_runtime(settings, api_key=key)
    backend = LocalBackend(runtime.tasks, runtime.authenticator, api_key=key)

    async def main() -> None:
        async with Client(build_server(backend, "stdio")) as client:
            result = await client.call_tool("generate_video", {"timeline": timeline(LONG)})
            assert result.is_error
            block = result.content[0]
            assert isinstance(block, TextContent)
            assert block.text.startswith(
                f"invalid_request: timeline.tracks[0].clips[0].asset.src: {WHY}"
            ), block.text

    anyio.run(main)
