"""Run one simulator in the foreground, for a benchmark that keeps it in its own process.

    python -m tests.simulators ark --port 9001 --key sk-a --key sk-b --queue-s 1 --run-s 5

Script tasks with prompt markers (``[sim:fail]``, ``[sim:hang]``, …) and read the counters at
``GET /_sim/stats``. Stop with Ctrl-C.
"""

from __future__ import annotations

import argparse
import signal
import threading

from tests.simulators.base import Simulator
from tests.simulators.catalogue import CATALOGUE

__all__ = ["main"]

#: Simulators by upstream kind (``openai`` is short for ``openai_videos``).
KINDS: dict[str, type[Simulator]] = {
    ("openai" if kind == "openai_videos" else kind): entry.simulator
    for kind, entry in CATALOGUE.items()
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.simulators")
    parser.add_argument("kind", choices=sorted(KINDS))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--key", action="append", dest="keys", help="a valid API key (repeat)")
    parser.add_argument("--queue-s", type=float, default=1.0)
    parser.add_argument("--run-s", type=float, default=5.0)
    args = parser.parse_args()
    simulator = KINDS[args.kind](
        keys=args.keys or ["sk-sim"],
        queue_s=args.queue_s,
        run_s=args.run_s,
        host=args.host,
        port=args.port,
    )
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with simulator:
        print(f"{args.kind} simulator at {simulator.base_url}", flush=True)  # noqa: T201
        try:
            done.wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
