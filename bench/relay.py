"""The relay poller at scale, against the Ark simulator in its own process.

1. **Scale.** ``--tasks`` upstream tasks that never finish are followed at once (a fifth of them
   first, then all): polls per second, CPU per poll, and the process's memory at both sizes
   (flat means the per-task cost is small).
2. **Mirror throughput.** A large result downloaded through the relay's path (SSRF guard, size
   and time limits) against a plain streaming download of the same URL, alternated.
3. **Completion latency.** Through a real `vidtask serve`: from the moment the simulator
   finishes an upstream task to the moment an SSE client of `/v1/events` sees the task
   ``completed`` (the video downloaded, probed and its stills cut on the way), with provider
   callbacks and without them (polling only).
4. **Every kind at once.** One poller follows ``--mix-tasks`` never-ending tasks of every upstream
   kind in the catalogue, each kind's simulator in its own process: polls per second per kind
   against the rate the poll interval asks for, and CPU per poll beside the same providers,
   processes and tasks all of kind Ark; then a real `vidtask serve` with every kind configured
   completes ``--mix-done`` tasks of each, all submitted at once (0 skips it).

Usage: python bench/relay.py [--tasks 5000] [--poll 5] [--seconds 20] [--mirror-mb 200]
       [--latency-tasks 40] [--mix-tasks 100] [--mix-done 10] [--only mix]
(run from the repository root: the simulators live in tests/simulators).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import imageio_ffmpeg
import psutil
from httpx_sse import connect_sse

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.simulators import ArkSimulator  # noqa: E402
from tests.simulators.catalogue import CATALOGUE, SHARED_KEY  # noqa: E402
from tests.simulators.media import Media  # noqa: E402
from vidtask.backends import mirror  # noqa: E402
from vidtask.core.task import Task, TaskSpec  # noqa: E402
from vidtask.dispatch.relay import RelayPoller  # noqa: E402
from vidtask.render.assets import AssetPolicy  # noqa: E402
from vidtask.settings import ProviderSettings  # noqa: E402
from vidtask.storage.local import LocalArtifacts  # noqa: E402
from vidtask.store.sqlite import SQLiteStore  # noqa: E402

KEY = "sk-bench"
SUBMIT_EVERY_S = 0.25
MODEL = "seedance-bench"
LOOPBACK = AssetPolicy(roots=(), allow_networks=("127.0.0.0/8",), timeout_s=600,
                       max_bytes=4 * 1024**3)  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def gets(base: str) -> int:
    stats = httpx.get(base + "/_sim/stats").json()
    return int(stats["requests"].get("get", 0))


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def scale(tasks: int, poll: float, seconds: float) -> None:
    port = free_port()
    sim = subprocess.Popen(
        [sys.executable, "-m", "tests.simulators", "ark", "--port", str(port), "--key", KEY,
         "--queue-s", "1", "--run-s", "1000000"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    root = f"http://127.0.0.1:{port}"
    data = Path(tempfile.mkdtemp(prefix="vidtask-relay-bench-"))
    try:
        for _ in range(100):
            try:
                httpx.get(root + "/_sim/stats")
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        os.environ["BENCH_ARK_KEY"] = KEY
        provider = ProviderSettings(
            name="sim",
            kind="ark",
            base_url=root + "/api/v3",
            api_key_env=["BENCH_ARK_KEY"],
            models={MODEL: "doubao-seedance-1-0-pro-250528"},
            max_concurrency=tasks,
            rate_per_s=100_000,
            poll_interval_s=poll,
            timeout_s=86_400,
        )
        store = SQLiteStore(data / "vidtask.db")
        poller = RelayPoller(
            worker_id="bench",
            store=store,
            artifacts=LocalArtifacts(data / "artifacts"),
            scratch_dir=data / "scratch",
            providers=[provider],
            asset_policy=LOOPBACK,
            lease_ttl=600,
            claim_every_s=0.01,
        )
        me = psutil.Process()
        rows = []
        poller.start()
        try:
            followed = 0
            for size in (tasks // 5, tasks):
                for n in range(followed, size):
                    spec = TaskSpec(MODEL, {"prompt": f"bench {n}", "seconds": 5})
                    store.create(Task.create(spec, owner="bench", now=time.time()))
                followed = size
                deadline = time.monotonic() + 120
                while sum(poller.in_flight.values()) < size and time.monotonic() < deadline:
                    time.sleep(0.2)
                time.sleep(poll * 2)  # every task past its first polls
                before_gets, before_cpu = gets(root), cpu_s()
                time.sleep(seconds)
                polls = gets(root) - before_gets
                used = cpu_s() - before_cpu
                rss = me.memory_info().rss / 1024**2
                rows.append(
                    (size, sum(poller.in_flight.values()), polls / seconds, used, polls, rss)
                )
        finally:
            poller.stop(timeout=30)
        print(f"\nscale: poll_interval_s={poll}, {seconds:g} s windows")
        print(f"{'tasks':>6} {'following':>9} {'polls/s':>8} {'CPU ms/poll':>11} {'RSS MB':>7}")
        for size, following, rate, used, polls, rss in rows:
            per_poll = 1000 * used / max(polls, 1)
            print(f"{size:>6} {following:>9} {rate:>8.0f} {per_poll:>11.2f} {rss:>7.0f}")
        (small, *_, small_rss), (big, *_, big_rss) = rows[0], rows[-1]
        print(f"memory: {(big_rss - small_rss) / (big - small) * 1000:.1f} MB per 1000 more tasks")
    finally:
        sim.terminate()
        sim.wait()
        shutil.rmtree(data, ignore_errors=True)


def big_video(megabytes: int, folder: Path) -> Path:
    """A real MP4 of about ``megabytes`` (noise compresses badly, so it is quick to make)."""
    video = folder / "big.mp4"
    seconds = max(2, megabytes // 4)
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", f"nullsrc=s=1280x720:r=25:d={seconds},geq=random(1)*255:128:128",
         "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "32M", "-pix_fmt", "yuv420p",
         str(video)],
        check=True,
    )  # fmt: skip
    return video


def mirror_throughput(megabytes: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="vidtask-mirror-bench-"))
    try:
        video = big_video(megabytes, folder)
        size = video.stat().st_size
        media = Media.from_video(video, folder / "media")
        with ArkSimulator(keys=[KEY], queue_s=0, run_s=0.01, media=media) as sim:
            created = httpx.post(
                sim.base_url + "/contents/generations/tasks",
                headers={"Authorization": f"Bearer {KEY}"},
                json={"model": "m", "content": [{"type": "text", "text": "big"}]},
            ).json()
            time.sleep(0.2)
            task = httpx.get(
                sim.base_url + f"/contents/generations/tasks/{created['id']}",
                headers={"Authorization": f"Bearer {KEY}"},
            ).json()
            url = task["content"]["video_url"]

            def plain() -> None:
                with (
                    httpx.stream("GET", url, timeout=600) as response,
                    (folder / "plain.mp4").open("wb") as out,
                ):
                    for chunk in response.iter_bytes(1 << 16):
                        out.write(chunk)

            def relayed() -> None:
                mirror.fetch_result(url, LOOPBACK, folder / "relayed.mp4", threading.Event())

            best = {"plain": float("inf"), "relay": float("inf")}
            for _ in range(3):
                for name, run in (("plain", plain), ("relay", relayed)):
                    for old in (folder / "plain.mp4", folder / "relayed.mp4"):
                        # not timed: replacing a 200 MB file costs its deletion
                        old.unlink(missing_ok=True)
                    started = time.perf_counter()
                    run()
                    best[name] = min(best[name], time.perf_counter() - started)
        mb = size / 1024**2
        print(f"\nmirror: {mb:.0f} MB result, best of 3 alternated")
        for name, took in best.items():
            print(f"{name:>6}: {took:6.2f} s  {mb / took:7.0f} MB/s")
        print(f"relay / plain throughput: {best['plain'] / best['relay']:.0%}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def latency(count: int, *, callbacks: bool, poll: float) -> list[float]:
    """Seconds from upstream completion to the SSE ``task.completed`` event, per task."""
    data = Path(tempfile.mkdtemp(prefix="vidtask-latency-bench-"))
    port = free_port()
    with ArkSimulator(keys=[KEY], queue_s=0.3, run_s=3.0) as sim:
        provider = {
            "name": "sim", "kind": "ark", "base_url": sim.base_url, "api_key_env": "BENCH_ARK_KEY",
            "models": {MODEL: "doubao-seedance-1-0-pro-250528"}, "poll_interval_s": poll,
        }  # fmt: skip
        env = {
            **os.environ,
            "VIDTASK_DATA_DIR": str(data), "VIDTASK_PORT": str(port), "VIDTASK_WORKERS": "1",
            "VIDTASK_PROVIDERS": json.dumps([provider]), "BENCH_ARK_KEY": KEY,
            "VIDTASK_ASSET_ALLOW_NETWORKS": "127.0.0.0/8", "VIDTASK_LOG_LEVEL": "WARNING",
        }  # fmt: skip
        if callbacks:
            env["VIDTASK_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([sys.executable, "-m", "vidtask", "serve"], env=env)
        base = f"http://127.0.0.1:{port}"
        seen: dict[str, float] = {}
        try:
            for _ in range(300):
                try:
                    httpx.get(base + "/healthz")
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            ready = threading.Event()

            def listen() -> None:
                with (
                    httpx.Client(base_url=base, timeout=None) as client,
                    connect_sse(client, "GET", "/v1/events") as source,
                ):
                    ready.set()
                    for event in source.iter_sse():
                        if event.event == "task.completed":
                            seen[json.loads(event.data)["id"]] = time.time()
                            if len(seen) == count:
                                return

            listener = threading.Thread(target=listen, daemon=True)
            listener.start()
            ready.wait(10)
            with httpx.Client(base_url=base, timeout=30) as client:
                ids = []
                for n in range(count):  # a steady stream, not one burst finishing at once
                    body = {"model": MODEL, "input": {"prompt": f"latency {n}"}}
                    ids.append(client.post("/v1/tasks", json=body).json()["id"])
                    time.sleep(SUBMIT_EVERY_S)
                listener.join(120)
                delays = []
                for task_id in ids:
                    task = client.get(f"/v1/tasks/{task_id}").json()
                    upstream = sim.task(task["upstream"]["task_id"])
                    assert upstream.finished_at is not None and task_id in seen, task
                    delays.append(seen[task_id] - upstream.finished_at)
            return delays
        finally:
            server.terminate()
            server.wait()
            shutil.rmtree(data, ignore_errors=True)


def completion_latency(count: int) -> None:
    print(
        f"\ncompletion -> SSE client, {count} tasks each, one submitted every "
        f"{SUBMIT_EVERY_S} s (upstream runs 3.3 s)"
    )
    print(f"{'mode':<28} {'p50 s':>6} {'p99 s':>6} {'max s':>6}")
    for name, callbacks, poll in (("callbacks (poll every 30 s)", True, 30.0),
                                  ("polling every 2 s", False, 2.0)):  # fmt: skip
        delays = sorted(latency(count, callbacks=callbacks, poll=poll))
        p99 = delays[min(len(delays) - 1, round(0.99 * (len(delays) - 1)))]
        print(f"{name:<28} {statistics.median(delays):>6.2f} {p99:>6.2f} {delays[-1]:>6.2f}")


def simulator_process(kind: str, *, run_s: float) -> tuple[subprocess.Popen[str], str]:
    """``python -m tests.simulators`` for ``kind`` in its own process, and its base URL."""
    name = "openai" if kind == "openai_videos" else kind
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.simulators", name, "--key", SHARED_KEY,
         "--queue-s", "1", "--run-s", str(run_s)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()  # "<kind> simulator at <base_url>"
    return proc, line.rsplit(" ", 1)[-1].strip()


def sim_root(base_url: str) -> str:
    parts = httpx.URL(base_url)
    return f"{parts.scheme}://{parts.host}:{parts.port}"


def follow(
    kinds: dict[str, str], per_kind: int, poll: float, seconds: float
) -> tuple[dict[str, int], dict[str, int], float]:
    """One poller following ``per_kind`` never-ending tasks at each provider of ``kinds``
    (provider name -> kind), each provider's simulator in its own process: polls in a
    ``seconds`` window and tasks followed, per provider, and the poller's CPU ms per poll."""
    data = Path(tempfile.mkdtemp(prefix="vidtask-mix-bench-"))
    sims = {name: simulator_process(kind, run_s=1_000_000) for name, kind in kinds.items()}
    os.environ["BENCH_MIX_KEY"] = SHARED_KEY
    try:
        providers = [
            ProviderSettings(
                name=name,
                kind=kinds[name],
                base_url=base,
                api_key_env=["BENCH_MIX_KEY"],
                models={f"{name}-bench": CATALOGUE[kinds[name]].model},
                max_concurrency=per_kind,
                rate_per_s=100_000,
                poll_interval_s=poll,
                timeout_s=86_400,
            )  # fmt: skip
            for name, (_, base) in sims.items()
        ]
        store = SQLiteStore(data / "vidtask.db")
        poller = RelayPoller(
            worker_id="bench", store=store, artifacts=LocalArtifacts(data / "artifacts"),
            scratch_dir=data / "scratch", providers=providers, asset_policy=LOOPBACK,
            lease_ttl=600, claim_every_s=0.01,
        )  # fmt: skip
        for n in range(per_kind):  # interleaved: claims go in creation order
            for name in sims:
                spec = TaskSpec(f"{name}-bench", {"prompt": f"mix {name} {n}"})
                store.create(Task.create(spec, owner="bench", now=time.time()))
        poller.start()
        try:
            deadline = time.monotonic() + 600
            total = per_kind * len(sims)
            while sum(poller.in_flight.values()) < total and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(poll * 2)
            roots = {name: sim_root(base) for name, (_, base) in sims.items()}
            before = {name: gets(root) for name, root in roots.items()}
            before_cpu = cpu_s()
            time.sleep(seconds)
            polls = {name: gets(root) - before[name] for name, root in roots.items()}
            used = cpu_s() - before_cpu
            following = dict(poller.in_flight)
        finally:
            poller.stop(timeout=30)
        return polls, following, 1000 * used / max(sum(polls.values()), 1)
    finally:
        for proc, _ in sims.values():
            proc.terminate()
            proc.wait()
        shutil.rmtree(data, ignore_errors=True)


def mix_scale(per_kind: int, poll: float, seconds: float) -> None:
    """Every kind at once, then the same number of providers, processes and tasks all of kind
    Ark, side by side: what the mix of kinds costs the poller."""
    mix = {kind: kind for kind in CATALOGUE}
    polls, following, cpu_mix = follow(mix, per_kind, poll, seconds)
    ark = {f"ark{n}": "ark" for n in range(len(mix))}
    ark_polls, _, cpu_ark = follow(ark, per_kind, poll, seconds)
    asked = per_kind / poll
    print(f"\nevery kind at once: {per_kind} tasks of each of {len(mix)} kinds, "
          f"poll_interval_s={poll}, a {seconds:g} s window")  # fmt: skip
    print(f"{'kind':<14} {'following':>9} {'polls/s':>8} {'of asked':>9}")
    for kind in mix:
        rate = polls[kind] / seconds
        print(f"{kind:<14} {following.get(kind, 0):>9} {rate:>8.1f} {rate / asked:>9.0%}")
    ark_rate = sum(ark_polls.values()) / seconds / len(ark)
    print(f"the same {len(ark)} x {per_kind} tasks all at Ark providers: {ark_rate:.1f} polls/s "
          f"each ({ark_rate / asked:.0%} of asked)")  # fmt: skip
    print(f"CPU per poll: the mix {cpu_mix:.2f} ms, all Ark {cpu_ark:.2f} ms "
          f"({cpu_mix / cpu_ark:.2f}x)")  # fmt: skip


def mix_done(per_kind: int) -> None:
    """A real server with every kind configured completes ``per_kind`` tasks of each at once."""
    data = Path(tempfile.mkdtemp(prefix="vidtask-mix-done-"))
    port = free_port()
    sims = {kind: entry.simulator(keys=[SHARED_KEY], queue_s=0.5, run_s=2.0).start()
            for kind, entry in CATALOGUE.items()}  # fmt: skip
    providers = [
        {"name": kind, "kind": kind, "base_url": sim.base_url, "api_key_env": "BENCH_MIX_KEY",
         "models": {f"{kind}-bench": CATALOGUE[kind].model}, "poll_interval_s": 1.0}
        for kind, sim in sims.items()
    ]  # fmt: skip
    env = {
        **os.environ, "VIDTASK_DATA_DIR": str(data), "VIDTASK_PORT": str(port),
        "VIDTASK_WORKERS": "1", "VIDTASK_PROVIDERS": json.dumps(providers),
        "BENCH_MIX_KEY": SHARED_KEY, "VIDTASK_ASSET_ALLOW_NETWORKS": "127.0.0.0/8",
        "VIDTASK_LOG_LEVEL": "WARNING", "VIDTASK_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }  # fmt: skip
    server = subprocess.Popen([sys.executable, "-m", "vidtask", "serve"], env=env,
                              stdout=subprocess.DEVNULL)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(base + "/readyz")
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        with httpx.Client(base_url=base, timeout=30) as client:
            started = time.monotonic()
            ids = {
                client.post("/v1/tasks", json={"model": f"{kind}-bench",
                                               "input": {"prompt": f"done {kind} {n}"}}
                            ).json()["id"]: kind
                for kind in sims for n in range(per_kind)
            }  # fmt: skip
            ended: dict[str, tuple[str, float]] = {}
            submitted = time.monotonic() - started
            while len(ended) < len(ids) and time.monotonic() - started < 300:
                for task_id in set(ids) - set(ended):
                    task = client.get(f"/v1/tasks/{task_id}").json()
                    if task["status"] not in ("queued", "in_progress"):
                        ended[task_id] = (task["status"], time.monotonic() - started)
                time.sleep(0.5)
        print(f"\nevery kind through vidtask serve: {per_kind} tasks of each, submitted at once "
              "(upstream takes 2.5 s)")  # fmt: skip
        wall = max(t for _, t in ended.values())
        print(f"{len(ids)} submitted in {submitted:.1f} s; all ended after {wall:.1f} s: "
              f"{len(ids) / wall:.1f} results kept per second (each downloaded, probed and its "
              "stills cut, on this machine's cores)")  # fmt: skip
        print(f"{'kind':<14} {'completed':>9} {'p50 s':>6} {'max s':>6}")
        for kind in sims:
            done = sorted(t for i, (status, t) in ended.items()
                          if ids[i] == kind and status == "completed")  # fmt: skip
            p50 = statistics.median(done) if done else float("nan")
            print(f"{kind:<14} {len(done):>6}/{per_kind:<2} {p50:>6.1f} "
                  f"{done[-1] if done else float('nan'):>6.1f}")  # fmt: skip
    finally:
        server.terminate()
        server.wait()
        for sim in sims.values():
            sim.stop()
        shutil.rmtree(data, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=5000)
    parser.add_argument("--poll", type=float, default=5.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--mirror-mb", type=int, default=200)
    parser.add_argument("--latency-tasks", type=int, default=40)
    parser.add_argument("--mix-tasks", type=int, default=100)
    parser.add_argument("--mix-done", type=int, default=10)
    parser.add_argument("--only", choices=("scale", "mirror", "latency", "mix"))
    args = parser.parse_args()
    if args.only in (None, "scale"):
        scale(args.tasks, args.poll, args.seconds)
    if args.only in (None, "mirror"):
        mirror_throughput(args.mirror_mb)
    if args.only in (None, "latency"):
        completion_latency(args.latency_tasks)
    if args.only in (None, "mix"):
        mix_scale(args.mix_tasks, args.poll, args.seconds)
        if args.mix_done:
            mix_done(args.mix_done)


if __name__ == "__main__":
    main()
