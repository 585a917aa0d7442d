"""Fixtures of the capcut-mate tests: tiny media under an asset root, an in-process app, and a
draft-store factory (a PostgreSQL store can be added to ``draft_store``'s params)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg
import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw

from vidtask.api.app import create_app
from vidtask.settings import Settings
from vidtask.store.drafts import DraftStore, SQLDraftStore
from vidtask.store.postgres import PostgresStore
from vidtask.store.sqlite import SQLiteStore

PREFIX = "/openapi/capcut-mate/v1"


@dataclass(frozen=True)
class Media:
    root: Path
    image: Path
    video: Path
    audio: Path


def make_media(root: Path) -> Media:
    root.mkdir(parents=True, exist_ok=True)
    image = root / "green.png"
    picture = Image.new("RGB", (160, 90), (0, 200, 0))
    ImageDraw.Draw(picture).ellipse((60, 25, 100, 65), fill=(255, 255, 0))
    picture.save(image)
    video, audio = root / "clip.mp4", root / "tone.m4a"
    ffmpeg = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y"]
    subprocess.run(
        [*ffmpeg, "-f", "lavfi", "-i", "color=c=blue:s=160x90:r=20:d=2",
         "-f", "lavfi", "-i", "sine=frequency=440:d=2", "-c:v", "libx264", "-preset",
         "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(video)],
        check=True,
    )  # fmt: skip
    subprocess.run(
        [*ffmpeg, "-f", "lavfi", "-i", "sine=frequency=300:d=3", "-c:a", "aac", str(audio)],
        check=True,
    )
    return Media(root, image, video, audio)


@pytest.fixture(scope="session")
def media_template(tmp_path_factory: pytest.TempPathFactory) -> Media:
    return make_media(tmp_path_factory.mktemp("capcut_media"))


@pytest.fixture
def media(tmp_path: Path, media_template: Media) -> Media:
    """The media, copied into this test's asset root."""
    root = tmp_path / "assets"
    root.mkdir()
    paths = []
    for src in (media_template.image, media_template.video, media_template.audio):
        dest = root / src.name
        dest.write_bytes(src.read_bytes())
        paths.append(dest)
    return Media(root, *paths)


@pytest.fixture
def settings(tmp_path: Path, media: Media) -> Settings:
    return Settings(data_dir=tmp_path / "data", workers=0, asset_roots=[media.root])


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings, start_workers=False)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


DraftStoreFactory = Callable[[], DraftStore]


@pytest.fixture(params=["sqlite", "postgres"])
def draft_store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> DraftStoreFactory:
    """Opens the same store each call (a reopen = a restart)."""
    path = tmp_path / "drafts.db"
    url = request.getfixturevalue("pg_url") if request.param == "postgres" else None

    def open_store() -> DraftStore:
        if url is not None:
            return SQLDraftStore(PostgresStore(url))
        return SQLDraftStore(SQLiteStore(path))

    return open_store
