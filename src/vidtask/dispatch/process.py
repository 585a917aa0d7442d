"""Entry point of one embedded worker process: ``python -m vidtask.dispatch.process WORKER_ID``.

The server writes its settings as JSON to our stdin, so a worker sees exactly the server's
configuration.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from types import FrameType

from vidtask import logs
from vidtask.backends import registry
from vidtask.dispatch.worker import Worker
from vidtask.settings import Settings
from vidtask.storage import bucket_inputs, open_artifacts
from vidtask.store.sqlite import SQLiteStore

__all__ = ["main"]


def main(argv: list[str]) -> int:
    worker_id = argv[1]
    settings = Settings.model_validate_json(sys.stdin.read())
    logs.configure(settings)
    # Renders are batch work beside a latency-bound API on the same cores; ffmpeg inherits it.
    os.nice(settings.worker_nice)
    store = SQLiteStore(settings.database_path, migrate_schema=False)
    worker = Worker(
        worker_id=worker_id,
        store=store,
        backends=registry.render_backends(settings, bucket_inputs(settings)),
        artifacts=open_artifacts(settings),
        scratch_dir=settings.scratch_dir,
        lease_ttl=settings.lease_ttl_s,
        poll_s=settings.worker_poll_s,
    )

    def on_term(signum: int, frame: FrameType | None) -> None:
        worker.stop()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the server, which stops us
    logging.getLogger(__name__).info("worker started", extra={"worker": worker_id})
    worker.run_forever()
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
