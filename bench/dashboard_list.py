"""The dashboard's task-list reads with 1,000 and with 100,000 tasks, side by side: the first
page, a status filter, a model filter, an id search (a pasted id start) and page 15 of the
cursor chain, each as one page of 50 through the SQLite task store, interleaved between the two
sizes and taken best of several rounds.

The list is keyset-paged on indexes that lead with the key's owner (``tasks_owner_seq``,
``tasks_owner_status_seq``, ``tasks_owner_model_seq``, ``tasks_owner_id``), so a read should
cost the same at any size: the ratio 100k/1k is the number to watch (1.0 = no slower).

Usage: python bench/dashboard_list.py [--large 100000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from status_get import fill  # noqa: E402

from vidtask.core.task import Status  # noqa: E402
from vidtask.settings import Settings  # noqa: E402
from vidtask.store.base import TaskFilter  # noqa: E402
from vidtask.store.sqlite import SQLiteStore  # noqa: E402

OWNER = "anonymous"
PAGE = 50


def reads(store: SQLiteStore, ids: list[str]) -> dict[str, TaskFilter]:
    """The reads the dashboard makes; page 15's cursor is found by walking the chain."""
    cursor = None
    for _ in range(14):
        cursor = store.list_tasks(OWNER, TaskFilter(limit=PAGE, after=cursor)).next_cursor
    return {
        "first page": TaskFilter(limit=PAGE),
        "status=failed": TaskFilter(statuses=(Status.FAILED,), limit=PAGE),
        "model=timeline": TaskFilter(model="timeline", limit=PAGE),
        "id search": TaskFilter(limit=PAGE, id_prefix=ids[len(ids) // 2][:8]),
        "page 15": TaskFilter(limit=PAGE, after=cursor),
    }


def mean_ms(call: Callable[[], object], repeat: int = 200) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        call()
    return (time.perf_counter() - start) / repeat * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sizes = {}
        for count in (1_000, args.large):
            store = SQLiteStore(Settings(data_dir=Path(tmp) / str(count)).database_path)
            sizes[count] = (store, reads(store, fill(store, count)))
        best: dict[tuple[int, str], float] = {}
        for _ in range(args.rounds):
            for count, (store, queries) in sizes.items():
                for name, query in queries.items():
                    ms = mean_ms(lambda s=store, q=query: s.list_tasks(OWNER, q))
                    best[count, name] = min(best.get((count, name), ms), ms)
        print(f"one page of {PAGE} tasks, best of {args.rounds} rounds of 200 reads")
        print(f"  {'read':<15} {'1,000 tasks':>12} {f'{args.large:,} tasks':>14}  ratio")
        for name in sizes[1_000][1]:
            small, large = best[1_000, name], best[args.large, name]
            print(f"  {name:<15} {small:9.2f} ms {large:11.2f} ms  {large / small:5.2f}x")


if __name__ == "__main__":
    main()
