"""What a provider says about a task besides its status word: its place in the queue, its log
lines and its preview frames. The poller writes each to the task only when it changed, so the
native view and the event stream show them while the task runs, without a write per poll."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vidtask.providers.base import UpstreamState

__all__ = ["LOG_LINES", "LOG_LINE_CHARS", "MAX_PREVIEWS", "UpstreamNotes"]

#: The last log lines kept on the task (the provider keeps the whole log).
LOG_LINES = 20
#: A longer line is cut: a task record is no place for a dump.
LOG_LINE_CHARS = 500
#: Preview frames kept from the provider; later ones are ignored.
MAX_PREVIEWS = 12


@dataclass
class UpstreamNotes:
    #: The queue position and logs last written (None: nothing written yet).
    told: dict[str, Any] | None = None
    #: Preview URLs already taken, in order.
    preview_urls: list[str] = field(default_factory=list)
    #: The preview frames kept so far, in the attempt's scratch folder.
    preview_files: list[Path] = field(default_factory=list)
    #: Their entries on the task (``{"id", "name"}``, the name of the saved artifact).
    previews: list[dict[str, str]] = field(default_factory=list)

    def live(self, state: UpstreamState) -> dict[str, Any] | None:
        """The ``upstream_live`` checkpoint to write, or None when nothing changed."""
        if state.queue_position is None and not state.logs and self.told is None:
            return None
        live = {
            "queue_position": state.queue_position,
            "logs": [line[:LOG_LINE_CHARS] for line in state.logs[-LOG_LINES:]],
        }
        if live == self.told:
            return None
        self.told = live
        return live

    def new_previews(self, state: UpstreamState) -> list[str]:
        """Preview URLs not taken yet, within `MAX_PREVIEWS`; they count as taken from now."""
        fresh = [url for url in dict.fromkeys(state.previews) if url not in self.preview_urls]
        fresh = fresh[: max(0, MAX_PREVIEWS - len(self.preview_urls))]
        self.preview_urls.extend(fresh)
        return fresh

    def keep_previews(self, files: list[Path], names: list[str]) -> None:
        """Frames saved as the attempt's artifacts under ``names``."""
        for path, name in zip(files, names, strict=True):
            self.preview_files.append(path)
            self.previews.append({"id": f"frame{len(self.previews) + 1}", "name": name})
