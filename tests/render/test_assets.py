from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import pytest

from vidtask.core import errors
from vidtask.render import assets, probe
from vidtask.render.assets import AssetPolicy, check_source, fetch

__all__: list[str] = []


def refused(src: str, policy: AssetPolicy) -> errors.InvalidRequest:
    with pytest.raises(errors.InvalidRequest) as info:
        check_source(src, policy, param="tracks[0].clips[1].asset.src")
    assert info.value.param == "tracks[0].clips[1].asset.src"
    return info.value


def test_dotdot_refused(policy: AssetPolicy) -> None:
    for src in ("../etc/passwd", "sub/../../x.png", "file:///tmp/%2e%2e/etc/passwd"):
        assert "'..' is not allowed" in refused(src, policy).message


def test_outside_root_refused(policy: AssetPolicy, tmp_path: Path) -> None:
    assert "outside" in refused("/etc/passwd", policy).message
    outside = tmp_path / "secret.png"
    outside.write_bytes(b"x")
    assert "outside" in refused(str(outside), policy).message


def test_symlink_cannot_escape(media: Any, tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("x")
    link = media.root / "escape.png"
    link.unlink(missing_ok=True)
    link.symlink_to(tmp_path / "secret.txt")
    policy = AssetPolicy(roots=(media.root,))
    assert "outside" in refused("escape.png", policy).message


def test_local_paths_resolve(policy: AssetPolicy, media: Any) -> None:
    check_source("image.png", policy, param="p")
    check_source(str(media.image), policy, param="p")
    check_source(media.image.as_uri(), policy, param="p")
    assert fetch("image.png", policy, media.root, threading.Event()) == media.image.resolve()
    assert "does not exist" in refused("missing.png", policy).message


def test_unsupported_scheme(policy: AssetPolicy) -> None:
    assert "scheme 'ftp'" in refused("ftp://example.com/a.png", policy).message


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://169.254.169.254/latest/meta-data/", "resolves to 169.254.169.254, a link-local"),
        ("http://127.0.0.1:8080/a.png", "resolves to 127.0.0.1, a loopback"),
        ("https://10.1.2.3/a.png", "resolves to 10.1.2.3, a private"),
        ("http://localhost/a.png", "a loopback"),
        ("http://[::1]/a.png", "resolves to ::1, a loopback"),
        ("http://0.0.0.0/a.png", "an unspecified"),
    ],
)
def test_non_public_urls_refused(url: str, why: str) -> None:
    err = refused(url, AssetPolicy())
    assert why in err.message


def test_allow_networks(policy: AssetPolicy) -> None:
    check_source("http://127.0.0.1:9/a.png", policy, param="p")


def test_urls_only(policy: AssetPolicy) -> None:
    with pytest.raises(errors.InvalidRequest, match="scheme ''"):
        check_source("image.png", policy, param="webhook_url", allow_local=False)


def download(server: Any, policy: AssetPolicy, path: str, tmp_path: Path) -> Path:
    return fetch(server.url(path), policy, tmp_path, threading.Event())


def test_http_404(server: Any, policy: AssetPolicy, tmp_path: Path) -> None:
    with pytest.raises(errors.AssetFetchFailed, match="404"):
        download(server, policy, "/nothing.png", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_slow_response_times_out(server: Any, tmp_path: Path, media: Any) -> None:
    server.routes["/slow.png"] = (200, {}, b"x", 3.0)
    quick = AssetPolicy(roots=(media.root,), allow_networks=("127.0.0.0/8",), timeout_s=0.5)
    with pytest.raises(errors.AssetFetchFailed, match="timed out"):
        download(server, quick, "/slow.png", tmp_path)


def test_too_large(server: Any, tmp_path: Path, media: Any) -> None:
    small = AssetPolicy(roots=(media.root,), allow_networks=("127.0.0.0/8",), max_bytes=1000)
    server.routes["/big.bin"] = (200, {}, b"x" * 5000, 0.0)
    with pytest.raises(errors.AssetTooLarge):
        download(server, small, "/big.bin", tmp_path)
    # Without a Content-Length the limit applies while streaming.
    server.routes["/stream.bin"] = (200, {"X-No-Length": "1"}, b"x" * 500_000, 0.0)
    with pytest.raises(errors.AssetTooLarge):
        download(server, small, "/stream.bin", tmp_path)
    assert not any(p.suffix == ".part" for p in tmp_path.iterdir())


def test_non_media_file(server: Any, policy: AssetPolicy, tmp_path: Path) -> None:
    server.routes["/notes.mp4"] = (200, {}, b"just some text, not a video\n" * 20, 0.0)
    path = download(server, policy, "/notes.mp4", tmp_path)
    with pytest.raises(errors.UnsupportedMedia, match=re.escape(path.name)):
        probe.probe(path)


def test_good_png_and_redirect(
    server: Any, policy: AssetPolicy, tmp_path: Path, media: Any
) -> None:
    server.routes["/image.png"] = (200, {}, media.image.read_bytes(), 0.0)
    server.routes["/moved"] = (302, {"Location": "/image.png"}, b"", 0.0)
    path = download(server, policy, "/moved", tmp_path)
    info = probe.probe(path)
    assert info.is_image and (info.width, info.height) == (160, 90)


def test_redirect_to_metadata_service_refused(
    server: Any, policy: AssetPolicy, tmp_path: Path
) -> None:
    server.routes["/evil"] = (302, {"Location": "http://169.254.169.254/latest/"}, b"", 0.0)
    with pytest.raises(errors.AssetFetchFailed, match="link-local"):
        download(server, policy, "/evil", tmp_path)


def test_cancel_during_download(server: Any, policy: AssetPolicy, tmp_path: Path) -> None:
    server.routes["/image.png"] = (200, {}, b"x" * 100, 0.0)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(errors.Cancelled):
        fetch(server.url("/image.png"), policy, tmp_path, cancel)


@pytest.mark.parametrize("content", [b"", b"hello world\n" * 50, None])
def test_probe_refuses_non_media(tmp_path: Path, media: Any, content: bytes | None) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(content if content is not None else media.video.read_bytes()[:600])
    with pytest.raises(errors.UnsupportedMedia, match=r"clip\.mp4"):
        probe.probe(path)


def test_probe_media(media: Any) -> None:
    video = probe.probe(media.video)
    assert (video.width, video.height, video.has_audio, video.is_image) == (160, 90, True, False)
    assert video.duration == pytest.approx(2.0, abs=0.1)
    audio = probe.probe(media.audio)
    assert audio.has_audio and not audio.has_video
    assert assets.is_url("https://x/y") and not assets.is_url("image.png")
