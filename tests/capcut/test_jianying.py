"""JianYing drafts written by pyJianYingDraft: imported into timelines with the right durations
and tracks, unsupported features listed as warnings, zip uploads unpacked safely, and rendered."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pyJianYingDraft as jy
import pytest
from fastapi.testclient import TestClient

from tests.capcut.conftest import PREFIX, Media
from tests.integration.conftest import Server
from vidtask.capcut import jianying
from vidtask.render import probe


def write_draft(folder: Path, media: Media) -> Path:
    """A 320x180 draft: two video segments joined by a dissolve, the second at 2x speed and
    flipped (unsupported), an audio track with fades, a text track."""
    folder.mkdir(parents=True, exist_ok=True)
    script = jy.DraftFolder(str(folder)).create_draft("demo", 320, 180, allow_replace=True)
    video = script.append_track(jy.TrackSpec(jy.TrackType.video))
    audio = script.append_track(jy.TrackSpec(jy.TrackType.audio))
    text = script.append_track(jy.TrackSpec(jy.TrackType.text))
    first = jy.VideoSegment(str(media.video), jy.trange("0s", "1.5s"), volume=0.5,
                            clip_settings=jy.ClipSettings(scale_x=0.5, scale_y=0.5))  # fmt: skip
    first.add_keyframe(jy.KeyframeProperty.alpha, 0, 1.0)
    first.add_keyframe(jy.KeyframeProperty.alpha, 1_000_000, 0.5)
    first.add_transition(jy.TransitionType.叠化, duration=300_000)
    script.add_segment(first, video)
    second = jy.VideoSegment(str(media.video), jy.trange("1.5s", "0.5s"), speed=2.0,
                             clip_settings=jy.ClipSettings(flip_horizontal=True))  # fmt: skip
    script.add_segment(second, video)
    sound = jy.AudioSegment(str(media.audio), jy.trange("0s", "2s"), volume=0.8)
    sound.add_fade("0.2s", "0.3s")
    script.add_segment(sound, audio)
    script.add_segment(jy.TextSegment("Hi", jy.trange("0.5s", "1s"),
                                      clip_settings=jy.ClipSettings(transform_y=-0.8)), text)  # fmt: skip
    script.save()
    return folder / "demo"


def test_import_has_the_right_durations_and_tracks(tmp_path: Path, media: Media) -> None:
    imported = jianying.import_folder(write_draft(tmp_path, media))
    out, tracks = imported.timeline["output"], imported.timeline["tracks"]
    assert (out["width"], out["height"]) == (320, 180)
    videos, texts, sounds = tracks
    first, second = videos["clips"]
    assert (first["start"], first["length"]) == (0.0, 1.5) and first["scale"] == 0.5
    assert first["asset"]["volume"] == 0.5
    assert first["keyframes"]["opacity"] == [
        {"time": 0.0, "value": 1.0},
        {"time": 1.0, "value": 0.5},
    ]
    assert (second["start"], second["length"]) == (1.5, 0.5) and second["asset"]["speed"] == 2.0
    assert second["transition"] == {"type": "dissolve", "duration": 0.3}
    assert sounds["clips"][0]["fade_in"] == 0.2 and sounds["clips"][0]["fade_out"] == 0.3
    assert texts["clips"][0]["asset"]["text"] == "Hi" and texts["clips"][0]["offset"]["y"] == 0.4
    assert any("flips are not supported" in w for w in imported.warnings)


def zipped(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in folder.rglob("*"):
            archive.write(path, path.relative_to(folder.parent))
    return buffer.getvalue()


def test_unsafe_or_bad_uploads_are_refused(
    client: TestClient, media: Media, tmp_path: Path
) -> None:
    def upload(data: bytes) -> Any:  # the TestClient response (httpx or httpx2)
        return client.post(f"{PREFIX}/import_jianying", files={"file": ("d.zip", data)})

    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("../escape/draft_content.json", "{}")
    answer = upload(evil.getvalue())
    assert answer.status_code == 400 and "unsafe path" in answer.json()["message"]
    assert not (media.root.parent / "escape").exists()
    assert "not a zip" in upload(b"hello").json()["message"]
    encrypted = io.BytesIO()
    with zipfile.ZipFile(encrypted, "w") as archive:
        archive.writestr("d/draft_content.json", b"\x8a\x00binary")
    assert "encrypt" in upload(encrypted.getvalue()).json()["message"]
    outside = client.post(f"{PREFIX}/import_jianying", json={"path": str(tmp_path)})
    assert outside.status_code == 400 and "asset roots" in outside.json()["message"]


def test_extract_zip_enforces_the_size_limit(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("d/draft_content.json", "0" * 100_000)
    with pytest.raises(Exception, match="more than 1000 bytes"):
        jianying.extract_zip(buffer.getvalue(), tmp_path / "x", max_bytes=1000)


@pytest.mark.slow
def test_uploaded_draft_renders(tmp_path: Path, media: Media) -> None:
    # The draft refers to materials outside the asset roots, as on the editor's machine; the
    # zip carries copies of them, and the originals are gone before the import.
    elsewhere = tmp_path / "editor"
    elsewhere.mkdir()
    local = Media(elsewhere, *(elsewhere / p.name for p in (media.image, media.video, media.audio)))
    for src, dest in zip(
        (media.image, media.video, media.audio),
        (local.image, local.video, local.audio),
        strict=True,
    ):
        dest.write_bytes(src.read_bytes())
    folder = write_draft(tmp_path / "built", local)
    (folder / "materials").mkdir()
    for path in (local.video, local.audio):
        path.rename(folder / "materials" / path.name)
    server = Server(tmp_path / "data", media.root).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            answer = client.post(
                f"{PREFIX}/import_jianying", files={"file": ("demo.zip", zipped(folder))}
            )
            assert answer.status_code == 200, answer.text
            body = answer.json()
            assert any("flips" in w for w in body["warnings"])
            deadline = time.monotonic() + 90
            while True:
                status = client.post(
                    f"{PREFIX}/gen_video_status", json={"draft_url": body["draft_url"]}
                ).json()
                if status["status"] in ("completed", "failed") or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            assert status["status"] == "completed", status
            task = client.get(f"/v1/tasks/{body['task_id']}").json()
            assert any("flips" in w for w in task["result"]["warnings"])
            video = tmp_path / "out.mp4"
            video.write_bytes(client.get(status["video_url"]).content)
            # The imported draft is read-only.
            refused = client.post(f"{PREFIX}/add_audios", json={
                "draft_url": body["draft_url"], "audio_infos": "[]"})  # fmt: skip
            assert refused.status_code == 400
    finally:
        server.stop()
    meta = probe.probe_output(video)
    assert (meta["width"], meta["height"]) == (320, 180) and meta["has_audio"]
    assert abs(meta["duration"] - 2.0) < 0.15
