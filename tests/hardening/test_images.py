"""Finding 6: a decompression-bomb PNG (69 bytes declaring 50000×50000) is refused with a 400
naming the field wherever an image is uploaded, and as unsupported_media in a timeline (it was
a 500: Pillow's DecompressionBombError)."""

from __future__ import annotations

import base64
import io
import json
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.hardening.conftest import refusal
from vidtask.core import errors
from vidtask.render import probe

ARK = "/api/v3/contents/generations/tasks"
LIMIT = "over the limit of 89478485"  # vidtask.render.probe.MAX_PIXELS, Pillow's


def bomb(width: int = 50_000, height: int = 50_000) -> bytes:
    """A PNG that declares ``width``×``height`` pixels and holds one empty compressed row."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00"))
        + chunk(b"IEND", b"")
    )


def data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


def test_the_bomb_is_small() -> None:
    assert len(bomb()) < 80
    assert probe.image_size(io.BytesIO(bomb())) == (50_000, 50_000)


def test_openai_multipart_upload(client: TestClient) -> None:
    response = client.post(
        "/v1/videos",
        data={"prompt": "a cat"},
        files={"input_reference": ("bomb.png", bomb(), "image/png")},
    )
    message, param = refusal(response)
    assert message == f"input_reference: the image is 50000×50000 pixels, {LIMIT}"
    assert param == "input_reference"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/videos", {"prompt": "a cat", "input_reference": "{}"}, "input_reference"),
        (
            "/v1/videos",
            {"prompt": "a cat", "input_reference": {"image_url": "{}"}},
            "input_reference.image_url",
        ),
        (
            ARK,
            {
                "model": "doubao-seedance-1-0-pro",
                "content": [
                    {"type": "text", "text": "a cat"},
                    {"type": "image_url", "image_url": {"url": "{}"}},
                ],
            },
            "content[1].image_url.url",
        ),
        ("/api/gen_video", {"question": "1+1?", "questionImages": ["{}"]}, "questionImages[0]"),
    ],
)
def test_data_urls(client: TestClient, path: str, body: dict[str, Any], field: str) -> None:
    raw = json.dumps(body).replace('"{}"', f'"{data_url(bomb())}"')
    response = client.post(path, content=raw, headers={"Content-Type": "application/json"})
    message, param = refusal(response)
    assert message == f"{field}: the image is 50000×50000 pixels, {LIMIT}"
    assert param in (field, None)


def test_an_image_just_over_the_limit_is_refused_and_a_normal_one_kept(
    client: TestClient,
) -> None:
    message, _ = refusal(
        client.post(
            "/v1/videos", json={"prompt": "a", "input_reference": data_url(bomb(9500, 9500))}
        )
    )
    assert "9500×9500 pixels" in message
    small = client.post("/v1/videos", json={"prompt": "a", "input_reference": data_url(bomb(8, 8))})
    assert small.status_code == 200, small.text


@pytest.mark.parametrize("size", [50_000, 20_000, 12_000])
def test_probe_refuses_a_bomb_as_unsupported_media(tmp_path: Path, size: int) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(bomb(size, size))
    with pytest.raises(errors.UnsupportedMedia) as caught:
        probe.probe(path)
    assert str(caught.value) == f"bomb.png: the image is {size}×{size} pixels, {LIMIT}"
