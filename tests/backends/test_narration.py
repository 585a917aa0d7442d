"""Narration for slides: espeak-ng when installed, silence when not."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from vidtask.backends.base import RunContext
from vidtask.backends.slides import SlidesBackend
from vidtask.render import narration, slides
from vidtask.render.assets import AssetPolicy
from vidtask.render.schema import Limits

__all__: list[str] = []

needs_espeak = pytest.mark.skipif(
    narration.synthesizer() is None, reason="espeak-ng is not installed"
)


def test_the_voice_follows_the_script() -> None:
    assert narration.voice_for("Hello world") == "en"
    assert narration.voice_for("你好，世界") == "cmn"
    assert narration.voice_for("こんにちは世界") == "ja"
    assert narration.voice_for("안녕하세요") == "ko"
    assert narration.voice_for("vidtask 是一个服务") == "cmn"


@pytest.fixture()
def backend(policy: AssetPolicy, ffmpeg_exe: str) -> SlidesBackend:
    return SlidesBackend(policy=policy, limits=Limits(), ffmpeg_exe=ffmpeg_exe)


def render(backend: SlidesBackend, data: dict[str, Any], workdir: Path, recorder: Any) -> Any:
    ctx = RunContext("t", 1, workdir, recorder, threading.Event())
    return backend.run(backend.validate(data), ctx)


def loudness(video: Path, start: float, end: float) -> float:
    with av.open(str(video)) as container:
        rate = container.streams.audio[0].rate
        signal = np.concatenate([f.to_ndarray()[0] for f in container.decode(audio=0)])
    return float(np.sqrt(np.mean(signal[int(start * rate) : int(end * rate)] ** 2)))


TEXT = {"prompt": "Narrated title\n\nThe second card says a little more than the first one.",
        "width": 160, "height": 90, "fps": 5}  # fmt: skip


@pytest.mark.slow
def test_without_espeak_the_video_is_silent(
    backend: SlidesBackend, recorder: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(narration, "synthesizer", lambda: None)  # as on a machine without it
    result = render(backend, TEXT, tmp_path, recorder)
    assert result.metadata["has_audio"] is False


@pytest.mark.slow
@needs_espeak
def test_cards_are_spoken_and_stay_until_the_speech_ends(
    backend: SlidesBackend, recorder: Any, tmp_path: Path
) -> None:
    result = render(backend, TEXT, tmp_path / "spoken", recorder)
    assert result.metadata["has_audio"] is True
    spoken = sorted((tmp_path / "spoken" / "narration").glob("card_*.wav"))
    assert len(spoken) == 2
    title = slides.cards(slides.parse_slides(TEXT))[0]
    assert loudness(result.video, 0.5, min(1.2, title.seconds)) > 0.005  # the title is read out
    quiet = render(backend, {**TEXT, "narration": False}, tmp_path / "quiet", recorder)
    assert quiet.metadata["has_audio"] is False
    # A card lasts at least as long as its narration, so the narrated video is not shorter.
    assert result.metadata["duration"] >= quiet.metadata["duration"]


@pytest.mark.slow
@needs_espeak
def test_speech_speeds_up_to_fit_seconds(
    backend: SlidesBackend, recorder: Any, tmp_path: Path
) -> None:
    long = "This card has quite a lot of words to say, more than fit in a few seconds. " * 2
    data = {**TEXT, "prompt": f"Title\n\n{long}", "seconds": 6}
    result = render(backend, data, tmp_path, recorder)
    assert result.metadata["duration"] == pytest.approx(6.0, abs=0.21)
    assert result.metadata["has_audio"] is True
