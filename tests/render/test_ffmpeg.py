"""The ffmpeg runner: progress, failures, cancellation without orphans."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from vidtask.backends.base import RunContext
from vidtask.backends.timeline import TimelineBackend
from vidtask.core import errors
from vidtask.render.assets import AssetPolicy
from vidtask.render.ffmpeg import run_ffmpeg
from vidtask.render.schema import Limits

__all__: list[str] = []

pytestmark = pytest.mark.slow


def ffmpeg_children() -> list[psutil.Process]:
    return [p for p in psutil.Process().children(recursive=True) if "ffmpeg" in p.name()]


def test_progress_and_success(ffmpeg_exe: str, tmp_path: Path) -> None:
    seen: list[float] = []
    args = [
        ffmpeg_exe,
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=160x90:r=10:d=2",
        "-y",
        str(tmp_path / "out.mp4"),
    ]
    run_ffmpeg(args, duration_s=2.0, on_progress=seen.append, cancel=threading.Event())
    assert seen and seen == sorted(seen) and seen[-1] == 100
    assert (tmp_path / "out.mp4").stat().st_size > 0


def test_failure_reports_stderr(ffmpeg_exe: str, tmp_path: Path) -> None:
    args = [ffmpeg_exe, "-f", "lavfi", "-i", "nosuchfilter", "-y", str(tmp_path / "x.mp4")]
    with pytest.raises(errors.RenderFailed, match="nosuchfilter"):
        run_ffmpeg(args, duration_s=1.0, on_progress=lambda _: None, cancel=threading.Event())
    assert ffmpeg_children() == []


def test_callback_error_leaves_no_process(ffmpeg_exe: str, tmp_path: Path) -> None:
    def explode(_: float) -> None:
        raise RuntimeError("boom")

    args = [
        ffmpeg_exe,
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=320x180:r=10:d=30",
        "-y",
        str(tmp_path / "x.mp4"),
    ]
    with pytest.raises(RuntimeError, match="boom"):
        run_ffmpeg(args, duration_s=30.0, on_progress=explode, cancel=threading.Event())
    assert ffmpeg_children() == []


def test_cancel_render(policy: AssetPolicy, ffmpeg_exe: str, recorder: Any, tmp_path: Path) -> None:
    long = {
        "output": {"width": 1280, "height": 720, "fps": 30},
        "tracks": [
            {"clips": [{"asset": {"type": "video", "src": "video.mp4"}, "start": 0,
                        "length": 600}]},
            {"clips": [{"asset": {"type": "text", "text": "cancel me"}, "start": 0,
                        "length": 600}]},
        ],
    }  # fmt: skip
    backend = TimelineBackend(policy=policy, limits=Limits(), ffmpeg_exe=ffmpeg_exe)
    cancel = threading.Event()
    ctx = RunContext("task_c", 1, tmp_path, recorder, cancel)
    outcome: list[BaseException | None] = []

    def work() -> None:
        try:
            backend.run(backend.validate(long), ctx)
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome.append(exc)

    worker = threading.Thread(target=work)
    worker.start()
    deadline = time.monotonic() + 20
    while not any(10 < p < 90 for p in recorder.percents) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert recorder.stages[-1] == "rendering" and ffmpeg_children()
    cancelled_at = time.monotonic()
    cancel.set()
    worker.join(timeout=10)
    assert not worker.is_alive()
    assert time.monotonic() - cancelled_at < 5
    assert len(outcome) == 1 and isinstance(outcome[0], errors.Cancelled)
    assert ffmpeg_children() == []
