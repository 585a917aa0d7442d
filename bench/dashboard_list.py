"""The dashboard's task-list reads with 1,000 and with 100,000 tasks, side by side: the first
page, a status filter, a model filter, an id search and a page deep in the cursor chain, each as
requests/s (wrk) against the same server's constant route, then large/small per read.

The list is keyset-paged on indexes that lead with the key's owner (``tasks_owner_seq``,
``tasks_owner_status_seq``, ``tasks_owner_model_seq``, ``tasks_owner_id``), so a read should
cost the same at any size: the ratio large/small is the number to watch (1.0 = no slower).

Usage: python bench/dashboard_list.py [--large 100000] [--seconds 5] [--connections 20]
Needs wrk (Debian package `wrk`).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from status_get import fill, server, wrk  # noqa: E402

from vidtask.settings import Settings  # noqa: E402
from vidtask.store.sqlite import SQLiteStore  # noqa: E402


def reads(base: str) -> dict[str, str]:
    """The list reads the dashboard makes; the deep page is 40 pages (2,000 tasks) down."""
    cursor = None
    with httpx.Client(base_url=base) as client:
        for _ in range(40):
            params = {"limit": 50} | ({"after": cursor} if cursor else {})
            cursor = client.get("/v1/tasks", params=params).json()["next_cursor"]
    return {
        "first page": "/v1/tasks?limit=50",
        "status=failed": "/v1/tasks?limit=50&status=failed",
        "model=timeline": "/v1/tasks?limit=50&model=timeline",
        "id search": "/v1/tasks?limit=50&id_prefix=vt_",
        "page 41": f"/v1/tasks?limit=50&after={cursor}",
    }


def measure(count: int, seconds: int, connections: int) -> dict[str, float]:
    """Each read's requests/s as a fraction of the constant route, with ``count`` tasks."""
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        store = SQLiteStore(Settings(data_dir=data).database_path)
        fill(store, count)
        store.close()
        with server(data) as base:
            anchor, _ = wrk(base + "/bench/first", seconds, connections)
            found = {}
            for name, path in reads(base).items():
                rps, p99 = wrk(base + path, seconds, connections)
                found[name] = rps / anchor
                print(f"  {count:>7,} tasks  {name:<15} {rps:8.0f} req/s  p99 {p99:6.1f} ms")
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=20)
    args = parser.parse_args()
    small = measure(1_000, args.seconds, args.connections)
    large = measure(args.large, args.seconds, args.connections)
    print(f"\nlist read with {args.large:,} tasks vs 1,000 (each as a share of its constant route)")
    for name in small:
        print(f"  {name:<15} {large[name] / small[name]:.2f}x")


if __name__ == "__main__":
    main()
