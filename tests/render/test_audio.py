"""Audio and speed, measured on the decoded output: ducking, looping, the limiter, muting,
atempo, freeze frames."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from vidtask.backends.timeline import TimelineBackend
from vidtask.render import audio
from vidtask.render.assets import AssetPolicy
from vidtask.render.schema import Limits

from .helpers import clip, frames_at, mean_rgb, render, timeline

__all__: list[str] = []

RATE = 48_000


def test_atempo_chains_stay_in_range() -> None:
    assert audio.atempo_chain(1.0) == ""
    assert audio.atempo_chain(0.25) == "atempo=0.5,atempo=0.5"
    assert audio.atempo_chain(3.0) == "atempo=2,atempo=1.5"
    assert audio.atempo_chain(0.75) == "atempo=0.75"


@pytest.fixture(scope="module")
def sounds(media: Any, ffmpeg_exe: str) -> dict[str, str]:
    """Tones and a video that is red for 1 s, then blue for 1 s, with a 440 Hz tone."""
    quiet = [ffmpeg_exe, "-hide_banner", "-loglevel", "error", "-y"]
    made = {}
    for name, spec in {
        "music.m4a": "sine=frequency=440:duration=3",
        "voice.m4a": "sine=frequency=1500:duration=1",
        "blip.m4a": "sine=frequency=880:duration=1",
        "loud.m4a": "sine=frequency=300:duration=2,volume=8",
    }.items():
        subprocess.run([*quiet, "-f", "lavfi", "-i", spec, "-c:a", "aac", str(media.root / name)],
                       check=True)  # fmt: skip
        made[name] = name
    subprocess.run(
        [*quiet, "-f", "lavfi", "-i", "color=red:s=160x90:r=20:d=1",
         "-f", "lavfi", "-i", "color=blue:s=160x90:r=20:d=1",
         "-f", "lavfi", "-i", "sine=frequency=440:duration=2",
         "-filter_complex", "[0:v][1:v]concat=n=2:v=1:a=0[v]", "-map", "[v]", "-map", "2:a",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
         str(media.root / "redblue.mp4")],
        check=True,
    )  # fmt: skip
    made["redblue.mp4"] = "redblue.mp4"
    return made


@pytest.fixture()
def backend(policy: AssetPolicy, ffmpeg_exe: str) -> TimelineBackend:
    return TimelineBackend(policy=policy, limits=Limits(), ffmpeg_exe=ffmpeg_exe)


def samples(video: Path) -> Any:
    """The left channel as floats at 48 kHz."""
    with av.open(str(video)) as container:
        chunks = [frame.to_ndarray()[0] for frame in container.decode(audio=0)]
    return np.concatenate(chunks)


def level(signal: Any, start: float, end: float, hz: float | None = None) -> float:
    """RMS of a window, or the amplitude of one frequency in it."""
    window = signal[int(start * RATE) : int(end * RATE)]
    if hz is None:
        return float(np.sqrt(np.mean(window**2)))
    t = np.arange(len(window)) / RATE
    return float(2 * abs(np.mean(window * np.exp(-2j * np.pi * hz * t))))


def peak_hz(signal: Any, start: float, end: float) -> float:
    window = signal[int(start * RATE) : int(end * RATE)]
    spectrum = np.abs(np.fft.rfft(window * np.hanning(len(window))))
    return float(np.fft.rfftfreq(len(window), 1 / RATE)[int(np.argmax(spectrum))])


@pytest.mark.slow
def test_music_ducks_under_voice(backend: TimelineBackend, sounds: Any, tmp_path: Path) -> None:
    data = timeline(
        [clip({"type": "color", "color": "black"}, 0, 3)],
        [clip({"type": "audio", "src": "music.m4a", "role": "music", "volume": 0.5}, 0, 3)],
        [clip({"type": "audio", "src": "voice.m4a", "role": "voice"}, 1, 1)],
    )
    signal = samples(render(backend, data, tmp_path).video)
    before, during = level(signal, 0.3, 0.9, 440), level(signal, 1.3, 1.9, 440)
    after = level(signal, 2.6, 2.95, 440)
    assert level(signal, 1.3, 1.9, 1500) > 0.05  # the voice is there (lavfi sines peak at 1/8)
    assert during < before / 2.5  # music at least ~8 dB lower under the voice
    assert after > during * 1.5  # and back up once the voice has stopped


@pytest.mark.slow
def test_loop_limiter_and_mute(backend: TimelineBackend, sounds: Any, tmp_path: Path) -> None:
    black = clip({"type": "color", "color": "black"}, 0, 3)
    looped = timeline([black], [clip({"type": "audio", "src": "blip.m4a", "loop": True}, 0, 3)])
    once = timeline([black], [clip({"type": "audio", "src": "blip.m4a"}, 0, 3)])
    loud = timeline([black], [clip({"type": "audio", "src": "loud.m4a", "volume": 4}, 0, 2)],
                    [clip({"type": "audio", "src": "loud.m4a", "volume": 4}, 0, 2)])  # fmt: skip
    muted = timeline([clip({"type": "video", "src": "redblue.mp4", "mute": True}, 0, None)])
    assert level(samples(render(backend, looped, tmp_path / "l").video), 2.2, 2.8) > 0.05
    assert level(samples(render(backend, once, tmp_path / "o").video), 2.2, 2.8) < 0.001
    assert float(np.abs(samples(render(backend, loud, tmp_path / "x").video)).max()) < 1.02
    result = render(backend, muted, tmp_path / "m")
    assert result.metadata["has_audio"] is False and result.metadata["duration"] == 2.0


@pytest.mark.slow
def test_speed_keeps_pitch_and_freeze_holds_a_frame(
    backend: TimelineBackend, sounds: Any, tmp_path: Path
) -> None:
    video = {"type": "video", "src": "redblue.mp4"}
    fast = render(backend, timeline([clip({**video, "speed": 2}, 0, None)]), tmp_path / "f")
    assert fast.metadata["duration"] == pytest.approx(1.0)  # 2 s of source at 2x
    frames = frames_at(fast.video, [0.2, 0.8], 10)
    assert mean_rgb(frames[0.2])[0] > 200 and mean_rgb(frames[0.8])[2] > 200
    signal = samples(fast.video)
    assert len(signal) == pytest.approx(RATE, rel=0.03)
    assert peak_hz(signal, 0.1, 0.9) == pytest.approx(440, abs=15)  # not 880: pitch kept
    slow = render(backend, timeline([clip({**video, "speed": 0.5}, 0, 2)]), tmp_path / "s")
    frames = frames_at(slow.video, [1.5, 1.9], 10)
    assert mean_rgb(frames[1.5])[0] > 200  # source time 0.75: still red
    assert peak_hz(samples(slow.video), 0.2, 1.8) == pytest.approx(440, abs=15)
    frozen = render(backend, timeline([clip({**video, "trim": 1.5, "freeze": True}, 0, 1.5)]),
                    tmp_path / "z")  # fmt: skip
    frames = frames_at(frozen.video, [0.0, 0.7, 1.4], 10)
    assert all(mean_rgb(frame)[2] > 200 for frame in frames.values())
    assert frozen.metadata["has_audio"] is False
