"""With artifacts in a bucket, what clients send in is kept in the bucket too, so a worker on
another machine renders it: ``POST /v1/uploads``, images inside create requests, and unpacked
JianYing zips go to ``<prefix>/inputs/``, nothing is left on this machine, and a submit checks
the bucket for the paths a timeline names."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import color_timeline
from tests.s3 import Bucket
from vidtask.api.app import create_app
from vidtask.settings import Settings
from vidtask.web.state import AppState

PNG = (Path(__file__).resolve().parents[2] / "examples" / "assets" / "image.png").read_bytes()
DIGEST = hashlib.sha256(PNG).hexdigest()


@pytest.fixture
def settings(tmp_path: Path, asset_root: Path, bucket: Bucket) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        workers=0,
        asset_roots=[asset_root],
        artifacts_url=bucket.url("v"),
        s3_path_style=True,
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, start_workers=False), raise_server_exceptions=False) as c:
        yield c


def image_timeline(src: str) -> dict[str, Any]:
    timeline = color_timeline()
    timeline["tracks"].insert(
        0, {"clips": [{"asset": {"type": "image", "src": src}, "start": 0, "length": 1}]}
    )
    return timeline


def left_on_disk(settings: Settings) -> list[Path]:
    found = [settings.effective_asset_roots[0] / "uploads", settings.scratch_dir]
    return [p for folder in found if folder.exists() for p in folder.rglob("*") if p.is_file()]


def test_an_upload_goes_to_the_bucket_and_a_timeline_may_name_it(
    client: TestClient, bucket: Bucket, settings: Settings
) -> None:
    sent = client.post("/v1/uploads", params={"filename": "photo.PNG"}, content=PNG)
    assert sent.status_code == 201, sent.text
    assert sent.json() == {
        "object": "upload", "path": f"uploads/{DIGEST}.png", "bytes": len(PNG), "sha256": DIGEST
    }  # fmt: skip
    assert bucket.keys() == [f"v/inputs/uploads/{DIGEST}.png"]
    assert left_on_disk(settings) == []
    again = client.post("/v1/uploads", params={"filename": "photo.png"}, content=PNG)
    assert again.status_code == 201 and again.json()["path"] == f"uploads/{DIGEST}.png"

    body = {"model": "timeline", "input": image_timeline(f"uploads/{DIGEST}.png")}
    created = client.post("/v1/tasks", json=body)
    assert created.status_code == 201, created.text
    missing = {"model": "timeline", "input": image_timeline("uploads/no-such.png")}
    refused = client.post("/v1/tasks", json=missing)
    assert refused.status_code == 400
    assert "'uploads/no-such.png' does not exist" in refused.json()["error"]["message"]
    climbing = {"model": "timeline", "input": image_timeline("../v/inputs/uploads/x.png")}
    assert client.post("/v1/tasks", json=climbing).status_code == 400


def test_an_image_inside_a_create_request_goes_to_the_bucket(
    client: TestClient, bucket: Bucket, settings: Settings
) -> None:
    data_url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    content = [
        {"type": "text", "text": "A cat --dur 1"},
        {"type": "image_url", "image_url": {"url": data_url}, "role": "first_frame"},
    ]
    created = client.post(
        "/api/v3/contents/generations/tasks", json={"model": "slides", "content": content}
    )
    assert created.status_code == 200, created.text
    app: AppState = client.app.state.vidtask  # type: ignore[attr-defined]
    task = app.service.get("anonymous", created.json()["id"])
    assert json.dumps(task.input).count(f'"uploads/{DIGEST}.png"') == 1
    assert bucket.keys() == [f"v/inputs/uploads/{DIGEST}.png"]
    assert left_on_disk(settings) == []


def test_an_imported_jianying_zip_is_kept_in_the_bucket(
    client: TestClient, bucket: Bucket, settings: Settings
) -> None:
    draft = {
        "canvas_config": {"width": 320, "height": 180},
        "materials": {"videos": [{"id": "m1", "path": "materials/a.png", "type": "photo"}]},
        "tracks": [
            {
                "type": "video",
                "segments": [
                    {"material_id": "m1", "target_timerange": {"start": 0, "duration": 10**6}}
                ],
            }
        ],
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("d/draft_content.json", json.dumps(draft))
        archive.writestr("d/materials/a.png", PNG)
    answer = client.post(
        "/openapi/capcut-mate/v1/import_jianying", files={"file": ("d.zip", buffer.getvalue())}
    )
    assert answer.status_code == 200, answer.text
    app: AppState = client.app.state.vidtask  # type: ignore[attr-defined]
    task = app.service.get("anonymous", answer.json()["task_id"])
    sources = [c["asset"]["src"] for t in task.input["tracks"] for c in t["clips"]]
    (src,) = [s for s in sources if s.endswith("a.png")]
    assert src.startswith("jianying/") and src.endswith("/d/materials/a.png")
    assert f"v/inputs/{src}" in bucket.keys()
    assert not [p for p in (settings.scratch_dir / "inputs").rglob("*") if p.is_file()]
    assert not (settings.effective_asset_roots[0] / "jianying").exists()
