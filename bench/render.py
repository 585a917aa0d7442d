"""Render speed of the bundled example: multiple of realtime, ratio to the x264 encode-only
floor (the same frames, same encoder settings, read from raw video), and peak RSS of the
render's process tree (Python + ffmpeg). Runs interleaved, reports medians.

Usage: python bench/render.py [--runs 3] [--height 720|1080]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import imageio_ffmpeg
import psutil

from vidtask.backends.base import RunContext
from vidtask.backends.timeline import TimelineBackend
from vidtask.render.assets import AssetPolicy
from vidtask.render.schema import Limits

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


class Quiet:
    def stage(self, name: str) -> None:
        pass

    def progress(self, percent: float) -> None:
        pass

    def preview(self, path: Path) -> None:
        pass


class PeakRss:
    """Samples the RSS of this process and its children every 10 ms."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.wait(0.01):
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                try:
                    total += proc.memory_info().rss
                except psutil.NoSuchProcess:
                    pass
            self.peak = max(self.peak, total)


def render_once(backend: TimelineBackend, data: dict, workdir: Path) -> tuple[float, int, Path]:
    workdir.mkdir(parents=True)
    ctx = RunContext("vt_bench", 1, workdir, Quiet(), threading.Event())
    with PeakRss() as rss:
        started = time.perf_counter()
        result = backend.run(data, ctx)
        elapsed = time.perf_counter() - started
    return elapsed, rss.peak, result.video


def encode_floor(ffmpeg: str, raw: Path, width: int, height: int, fps: int, out: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [
            ffmpeg,
            "-y",
            "-loglevel",
            "error",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "yuv420p",
            "-s",
            f"{width}x{height}",
            "-r",
            str(fps),
            "-i",
            str(raw),
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "23",
            "-pix_fmt",
            "yuv420p",
            str(out),
        ],
        check=True,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--height", type=int, default=720, choices=[720, 1080])
    args = parser.parse_args()
    data = json.loads((EXAMPLES / "demo.json").read_text())
    width = args.height * 16 // 9
    data["output"].update(width=width, height=args.height)
    fps = data["output"]["fps"]
    backend = TimelineBackend(policy=AssetPolicy(roots=(EXAMPLES,)), limits=Limits())
    data = backend.validate(data)
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    scratch = Path(tempfile.mkdtemp(prefix="vidtask-bench-"))
    try:
        renders, peaks, floors = [], [], []
        raw = scratch / "frames.yuv"
        for run in range(args.runs):
            elapsed, peak, video = render_once(backend, data, scratch / f"r{run}")
            renders.append(elapsed)
            peaks.append(peak)
            if not raw.exists():
                subprocess.run(
                    [
                        ffmpeg,
                        "-y",
                        "-loglevel",
                        "error",
                        "-i",
                        str(video),
                        "-f",
                        "rawvideo",
                        "-pix_fmt",
                        "yuv420p",
                        str(raw),
                    ],
                    check=True,
                )
            floors.append(encode_floor(ffmpeg, raw, width, args.height, fps, scratch / "floor.mp4"))
        duration = 6.0
        render = statistics.median(renders)
        floor = statistics.median(floors)
        print(
            f"example timeline {width}x{args.height} {fps} fps, {duration:.0f} s, {args.runs} runs"
        )
        print(f"render            {render:6.2f} s   {duration / render:5.1f}x realtime")
        print(f"x264 encode floor {floor:6.2f} s   render/floor = {render / floor:.2f}")
        print(f"peak RSS (python + ffmpeg) {max(peaks) / 2**20:.0f} MiB")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
