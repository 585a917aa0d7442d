"""Shared fixtures for the renderer tests: tiny generated media and a loopback HTTP server."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

try:
    import vidtask  # noqa: F401
except ImportError:  # not installed: run from the source tree
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))

import imageio_ffmpeg

from vidtask.render.assets import AssetPolicy

__all__ = ["Media", "Recorder", "Server"]


@dataclass(frozen=True)
class Media:
    root: Path
    image: Path
    video: Path
    audio: Path


class Recorder:
    """A Reporter that remembers every call."""

    def __init__(self) -> None:
        self.stages: list[str] = []
        self.percents: list[float] = []
        self.events: list[tuple[str, object]] = []
        self.previews: list[Path] = []

    def stage(self, name: str) -> None:
        self.stages.append(name)
        self.events.append(("stage", name))

    def progress(self, percent: float) -> None:
        self.percents.append(percent)
        self.events.append(("progress", percent))

    def preview(self, path: Path) -> None:
        assert path.read_bytes()[:3] == b"\xff\xd8\xff", "a preview must be a complete JPEG"
        self.previews.append(path)
        self.events.append(("preview", path))


@pytest.fixture(scope="session")
def ffmpeg_exe() -> str:
    return str(imageio_ffmpeg.get_ffmpeg_exe())


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory, ffmpeg_exe: str) -> Media:
    root = tmp_path_factory.mktemp("media")
    image = root / "image.png"
    picture = Image.new("RGB", (160, 90), (0, 200, 0))
    ImageDraw.Draw(picture).ellipse((60, 25, 100, 65), fill=(255, 255, 0))
    picture.save(image)
    video, audio = root / "video.mp4", root / "tone.m4a"
    quiet = [ffmpeg_exe, "-hide_banner", "-loglevel", "error", "-y"]
    subprocess.run(
        [*quiet, "-f", "lavfi", "-i", "testsrc2=s=160x90:r=20:d=2",
         "-f", "lavfi", "-i", "sine=frequency=440:d=2", "-c:v", "libx264", "-preset",
         "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(video)],
        check=True,
    )  # fmt: skip
    subprocess.run(
        [*quiet, "-f", "lavfi", "-i", "sine=frequency=660:d=2", "-c:a", "aac", str(audio)],
        check=True,
    )
    return Media(root=root, image=image, video=video, audio=audio)


@pytest.fixture()
def policy(media: Media) -> AssetPolicy:
    return AssetPolicy(roots=(media.root,), allow_networks=("127.0.0.0/8",), timeout_s=5)


class Server:
    def __init__(self, base: str, routes: dict[str, tuple[int, dict[str, str], bytes, float]]):
        self.base = base
        self.routes = routes

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture()
def server(media: Media) -> Iterator[Server]:
    """Routes: path -> (status, headers, body, delay before answering in seconds)."""
    routes: dict[str, tuple[int, dict[str, str], bytes, float]] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            status, headers, body, delay = routes.get(self.path, (404, {}, b"not found", 0.0))
            time.sleep(delay)
            try:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                if "Content-Length" not in headers and "X-No-Length" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield Server(f"http://127.0.0.1:{httpd.server_address[1]}", routes)
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture()
def recorder() -> Recorder:
    return Recorder()
