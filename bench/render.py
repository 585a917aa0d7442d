"""Render benchmark: the same timelines three ways, in one run, on one machine.

- vidtask (``standard`` quality), plus its ``draft`` preview and a ``high`` reference;
- MoviePy 2.2.1, written the idiomatic way (``bench/moviepy_engine.py``);
- the floor: libx264 encoding the same frames with the same settings (veryfast, crf 23), timed as
  "decode the vidtask output and encode it" minus "decode it", so no huge raw file is written.

Each render runs in its own process; the table shows the render's wall time (timed inside that
process once its imports are done, as in a long-lived worker), multiple of realtime, CPU time
(user + system of the whole process tree, imports included) and the peak RSS of the tree
(sampled every 20 ms).
Outputs are checked: frame count, duration, audio, and SSIM against vidtask's ``high`` render.

Usage:
    python bench/render.py [--timelines vertical,slideshow,talking] [--talking-seconds 300]
        [--moviepy-python PATH] [--assets DIR] [--json FILE]

MoviePy pins Pillow < 12, so it usually lives in another virtual environment: give its Python
with ``--moviepy-python`` (it also needs this checkout's ``bench`` folder, nothing else).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import av
import imageio_ffmpeg
import psutil

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import timelines  # noqa: E402

ENGINES = ("vidtask", "draft", "high", "moviepy")


# -- the worker side: one render in this process ---------------------------------------------


class _Quiet:
    def stage(self, name: str) -> None:
        pass

    def progress(self, percent: float) -> None:
        pass

    def preview(self, path: Path) -> None:
        pass


def work(engine: str, name: str, assets: Path, out: Path, talking_seconds: float) -> None:
    """Render once; write the render's own wall time (imports excluded, as in a long-lived
    worker) next to the output."""
    spec = timelines.spec(name, talking_seconds)
    if engine == "moviepy":
        from moviepy_engine import render_moviepy

        started = time.perf_counter()
        render_moviepy(spec, assets, out)
    else:
        from vidtask.backends.base import RunContext
        from vidtask.backends.timeline import TimelineBackend
        from vidtask.render.assets import AssetPolicy
        from vidtask.render.schema import Limits

        quality = {"vidtask": "standard", "draft": "draft", "high": "high"}[engine]
        started = time.perf_counter()
        backend = TimelineBackend(policy=AssetPolicy(roots=(assets,)), limits=Limits())
        data = backend.validate(timelines.vidtask_timeline(spec, assets, quality))
        workdir = out.parent / f"work-{engine}-{name}"
        workdir.mkdir(parents=True, exist_ok=True)
        ctx = RunContext("vt_bench", 1, workdir, _Quiet(), threading.Event())
        backend.run(data, ctx).video.replace(out)
    elapsed = time.perf_counter() - started
    out.with_suffix(".json").write_text(json.dumps({"render_s": elapsed}))


# -- the driver side -----------------------------------------------------------------------


class Measured:
    def __init__(self, wall: float, cpu: float, peak_rss: int) -> None:
        self.wall, self.cpu, self.peak_rss = wall, cpu, peak_rss


def _tree_rss(root: psutil.Process) -> int:
    total = 0
    for proc in [root, *root.children(recursive=True)]:
        try:
            total += proc.memory_info().rss
        except psutil.Error:
            pass
    return total


def measure(args: list[str]) -> Measured:
    """Run ``args``; wall time, CPU time of the process tree, and its peak RSS."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(args)
    watched = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            peak = max(peak, _tree_rss(watched))
        except psutil.Error:
            pass
        time.sleep(0.02)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args[:6])} ... failed with {proc.returncode}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Measured(wall, cpu, peak)


def probe(path: Path) -> dict[str, Any]:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        frames = sum(1 for _ in container.demux(video) if _.size)
        duration = float(container.duration or 0) / av.time_base
        return {"frames": frames, "duration": round(duration, 2),
                "audio": bool(container.streams.audio)}  # fmt: skip


def ssim(ffmpeg: str, video: Path, reference: Path, size: tuple[int, int]) -> float:
    """Mean SSIM of ``video`` (scaled to ``size`` first: drafts are smaller) to ``reference``."""
    graph = f"[0:v]scale={size[0]}:{size[1]}:flags=bicubic[a];[a][1:v]ssim"
    done = subprocess.run(
        [ffmpeg, "-hide_banner", "-nostats", "-i", str(video), "-i", str(reference),
         "-lavfi", graph, "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    match = re.search(r"All:([0-9.]+)", done.stderr)
    return float(match.group(1)) if match else float("nan")


def floor(ffmpeg: str, video: Path, scratch: Path) -> Measured:
    """x264 with vidtask's ``standard`` settings on the same frames: decode+encode minus
    decode alone."""
    from vidtask.render.compiler import ENCODER_THREADS

    decode = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-i", str(video), "-an"]
    both = measure([*decode, "-c:v", "libx264", "-preset", "veryfast", "-crf", "23",
                    "-threads", str(ENCODER_THREADS), "-x264-params", "sync-lookahead=0",
                    "-pix_fmt", "yuv420p", str(scratch / "floor.mp4")])  # fmt: skip
    alone = measure([*decode, "-f", "null", "-"])
    return Measured(both.wall - alone.wall, both.cpu - alone.cpu, both.peak_rss)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timelines", default=",".join(timelines.NAMES))
    parser.add_argument("--talking-seconds", type=float, default=300.0)
    parser.add_argument("--moviepy-python", default=sys.executable)
    parser.add_argument("--skip-moviepy", action="store_true")
    parser.add_argument(
        "--assets", type=Path, default=Path(tempfile.gettempdir()) / "vidtask-bench"
    )
    parser.add_argument("--json", type=Path)
    parser.add_argument("--worker", choices=ENGINES, help=argparse.SUPPRESS)
    parser.add_argument("--timeline", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        work(args.worker, args.timeline, args.assets, args.out, args.talking_seconds)
        return

    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    timelines.make_assets(args.assets, ffmpeg, args.talking_seconds)
    report: dict[str, Any] = {"cpus": os.cpu_count(), "timelines": {}}
    with tempfile.TemporaryDirectory(prefix="vidtask-bench-") as tmp:
        scratch = Path(tmp)
        for name in args.timelines.split(","):
            spec = timelines.spec(name, args.talking_seconds)
            rows: dict[str, Any] = {}
            outputs: dict[str, Path] = {}
            engines = [e for e in ("high", "vidtask", "draft", "moviepy")
                       if e != "moviepy" or not args.skip_moviepy]  # fmt: skip
            for engine in engines:
                out = scratch / f"{name}-{engine}.mp4"
                python = args.moviepy_python if engine == "moviepy" else sys.executable
                cmd = [python, str(BENCH / "render.py"), "--worker", engine, "--timeline", name,
                       "--assets", str(args.assets), "--out", str(out),
                       "--talking-seconds", str(args.talking_seconds)]  # fmt: skip
                print(f"{name}: {engine} ...", file=sys.stderr, flush=True)
                measured = measure(cmd)
                wall = json.loads(out.with_suffix(".json").read_text())["render_s"]
                print(f"  {wall:.1f} s", file=sys.stderr, flush=True)
                outputs[engine] = out
                rows[engine] = {"wall_s": round(wall, 2), "cpu_s": round(measured.cpu, 2),
                                "peak_rss_mb": round(measured.peak_rss / 2**20),
                                "x_realtime": round(spec.duration / wall, 2),
                                **probe(out)}  # fmt: skip
                if engine != "high":
                    score = ssim(ffmpeg, out, outputs["high"], (spec.width, spec.height))
                    rows[engine]["ssim_vs_high"] = round(score, 4)
            print(f"{name}: floor ...", file=sys.stderr, flush=True)
            measured = floor(ffmpeg, outputs["vidtask"], scratch)
            rows["floor"] = {"wall_s": round(measured.wall, 2), "cpu_s": round(measured.cpu, 2),
                             "x_realtime": round(spec.duration / measured.wall, 2)}  # fmt: skip
            report["timelines"][name] = {"duration_s": spec.duration, "size":
                                         f"{spec.width}x{spec.height}", "rows": rows}  # fmt: skip
            print_table(name, spec, rows)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


def print_table(name: str, spec: timelines.Spec, rows: dict[str, Any]) -> None:
    print(f"\n## {name}: {spec.width}x{spec.height}, {spec.fps} fps, {spec.duration:g} s")
    print(
        "| engine | wall s | x realtime | CPU s | peak RSS MB | frames | duration | audio | SSIM vs high |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for engine, row in rows.items():
        cells = [row.get(k, "") for k in ("wall_s", "x_realtime", "cpu_s", "peak_rss_mb",
                                          "frames", "duration", "audio", "ssim_vs_high")]  # fmt: skip
        print(f"| {engine} | " + " | ".join(str(c) for c in cells) + " |")
    vid, floor_row = rows["vidtask"], rows["floor"]
    print(f"\nvidtask / floor = {vid['wall_s'] / floor_row['wall_s']:.2f}x", end="")
    if "moviepy" in rows:
        print(f"; MoviePy / vidtask = {rows['moviepy']['wall_s'] / vid['wall_s']:.1f}x", end="")
    print(f"; draft / standard = {rows['draft']['wall_s'] / vid['wall_s']:.2f}")


if __name__ == "__main__":
    main()
