"""Preview frames reach the reporter while ffmpeg is still rendering, not only at the end."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from vidtask.backends.base import RunContext
from vidtask.backends.timeline import TimelineBackend
from vidtask.render import ffmpeg, pipeline
from vidtask.render.assets import AssetPolicy
from vidtask.render.schema import Limits

__all__: list[str] = []

pytestmark = pytest.mark.slow


def test_previews_are_published_during_the_render(
    policy: AssetPolicy,
    ffmpeg_exe: str,
    recorder: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_run = ffmpeg.run_ffmpeg

    def paced(args: list[str], **kwargs: Any) -> None:
        # Read the source video at its own speed so the 2 s render takes about 2 s of wall
        # time, long enough for several progress updates between the first and last frame.
        paced_args: list[str] = []
        for arg in args:
            if arg == "-i":
                paced_args += ["-readrate", "1"]
            paced_args.append(arg)
        real_run(paced_args, **kwargs)

    monkeypatch.setattr(pipeline, "run_ffmpeg", paced)
    backend = TimelineBackend(policy=policy, limits=Limits(), ffmpeg_exe=ffmpeg_exe)
    timeline = {
        "output": {"width": 160, "height": 90, "fps": 10, "previews": 4},
        "tracks": [{"clips": [{"asset": {"type": "video", "src": "video.mp4"}, "start": 0}]}],
    }
    result = backend.run(
        backend.validate(timeline), RunContext("t", 1, tmp_path, recorder, threading.Event())
    )

    assert len(result.previews) == 4 and recorder.previews == result.previews
    first = recorder.events.index(("preview", result.previews[0]))
    before = [p for kind, p in recorder.events[:first] if kind == "progress"]
    after = [p for kind, p in recorder.events[first:] if kind == "progress"]
    assert before[-1] < 80  # published while ffmpeg was still working ...
    assert any(p > before[-1] for p in after)  # ... and the render went on afterwards
