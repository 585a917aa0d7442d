"""Status GETs under load: 100 pollers while 2 workers render, against a real `vidtask serve`.

Each poller GETs one task's status, then waits ``--every`` seconds, for ``--seconds``; the two
workers are kept busy with renders the whole time, and the server logs at INFO. Three setups
take turns, round after round, so all see the same machine: the old one (workers at the API's
priority), the default (workers niced, ``VIDTASK_WORKER_NICE=10``), and the default without
access logs. Compare their p99s with each other, not across runs.

Usage: python bench/load.py [--pollers 100] [--every 1] [--seconds 15] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

RENDER = {
    "output": {"width": 1280, "height": 720, "fps": 30},
    "tracks": [
        {
            "clips": [
                {
                    "asset": {"type": "text", "text": "load", "font_size": 120},
                    "start": 0,
                    "length": 60,
                    "ken_burns": {"end": {"scale": 1.3}},
                }
            ]
        }
    ],
}
TINY = {
    "output": {"width": 64, "height": 64, "fps": 10},
    "tracks": [
        {"clips": [{"asset": {"type": "color", "color": "#336699"}, "start": 0, "length": 0.3}]}
    ],
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(data: Path, variant: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "VIDTASK_DATA_DIR": str(data),
        "VIDTASK_PORT": str(port),
        "VIDTASK_WORKERS": "2",
        "VIDTASK_LOG_LEVEL": "INFO",
        "VIDTASK_LOG_FORMAT": "json",
        **variant,
    }
    log = (data / "server.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "vidtask", "serve"], env=env, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


async def poll(
    client: httpx.AsyncClient, task_id: str, every: float, until: float, out: list[float]
) -> int:
    errors = 0
    await asyncio.sleep(every * (hash(task_id + str(id(out))) % 1000) / 1000)  # spread phases
    while time.monotonic() < until:
        started = time.perf_counter()
        try:
            response = await client.get(f"/v1/tasks/{task_id}")
            if response.status_code != 200:
                errors += 1
        except httpx.HTTPError:
            errors += 1
        out.append(time.perf_counter() - started)
        await asyncio.sleep(every)
    return errors


async def phase(url: str, pollers: int, every: float, seconds: float) -> tuple[list[float], int]:
    limits = httpx.Limits(max_connections=pollers, max_keepalive_connections=pollers)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        # Two renders keep both workers busy; the pollers watch tasks of their own.
        for _ in range(2):
            await client.post("/v1/tasks", json={"model": "timeline", "input": RENDER})
        ids = []
        for _ in range(pollers):
            answer = await client.post("/v1/tasks", json={"model": "timeline", "input": TINY})
            ids.append(answer.json()["id"])
        await asyncio.sleep(2)  # renders under way
        latencies: list[float] = []
        until = time.monotonic() + seconds
        errors = await asyncio.gather(*(poll(client, i, every, until, latencies) for i in ids))
    return latencies, sum(errors)


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


VARIANTS: dict[str, dict[str, str]] = {
    "workers nice 0": {"VIDTASK_WORKER_NICE": "0", "VIDTASK_ACCESS_LOG": "true"},
    "default (nice 10)": {"VIDTASK_WORKER_NICE": "10", "VIDTASK_ACCESS_LOG": "true"},
    "nice 10, no access log": {"VIDTASK_WORKER_NICE": "10", "VIDTASK_ACCESS_LOG": "false"},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pollers", type=int, default=100)
    parser.add_argument("--every", type=float, default=1.0)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    latencies: dict[str, list[float]] = {name: [] for name in VARIANTS}
    errors = dict.fromkeys(VARIANTS, 0)
    for _ in range(args.rounds):
        for name, variant in VARIANTS.items():
            with tempfile.TemporaryDirectory() as tmp:
                proc, url = start_server(Path(tmp), variant)
                try:
                    seen, failed = asyncio.run(phase(url, args.pollers, args.every, args.seconds))
                finally:
                    proc.terminate()
                    proc.wait(30)
            latencies[name] += seen
            errors[name] += failed
    print(
        f"{args.pollers} pollers, one GET each per {args.every:g} s, 2 workers rendering, "
        f"{args.rounds} x {args.seconds:g} s per setup (cores: {os.cpu_count()})"
    )
    print(f"{'setup':<24}{'requests':>10}{'errors':>8}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for name, seen in latencies.items():
        print(
            f"{name:<24}{len(seen):>10}{errors[name]:>8}{percentile(seen, 50) * 1000:>9.1f}"
            f"{percentile(seen, 99) * 1000:>9.1f}{max(seen) * 1000:>9.1f}"
        )
    base = percentile(latencies["workers nice 0"], 99)
    for name in list(VARIANTS)[1:]:
        print(f"p99 {name} / workers nice 0: {percentile(latencies[name], 99) / base:.2f}")


if __name__ == "__main__":
    main()
