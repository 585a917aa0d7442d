"""``python -m vidtask`` is the ``vidtask`` command."""

from __future__ import annotations

from vidtask.cli import main

main()
