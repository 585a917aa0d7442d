"""What the poller writes about a relayed task besides its status: written only on a change,
logs cut to their tail, preview URLs taken once and at most `MAX_PREVIEWS`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vidtask.core.upstream import Phase
from vidtask.dispatch.relay_notes import LOG_LINE_CHARS, LOG_LINES, MAX_PREVIEWS, UpstreamNotes
from vidtask.providers.base import UpstreamState


def state(**fields: Any) -> UpstreamState:
    return UpstreamState(word="IN_QUEUE", phase=Phase.QUEUED, **fields)


def test_queue_position_and_logs_are_written_when_they_change() -> None:
    notes = UpstreamNotes()
    assert notes.live(state()) is None  # a provider that says nothing costs no write
    assert notes.live(state(queue_position=3)) == {"queue_position": 3, "logs": []}
    assert notes.live(state(queue_position=3)) is None
    assert notes.live(state(queue_position=1)) == {"queue_position": 1, "logs": []}
    assert notes.live(state(logs=("loading", "step 1"))) == {
        "queue_position": None,
        "logs": ["loading", "step 1"],
    }
    assert notes.live(state(logs=("loading", "step 1"))) is None
    # Once something was said, saying nothing is a change too (the queue position is gone).
    assert notes.live(state()) == {"queue_position": None, "logs": []}


def test_only_the_last_log_lines_are_kept_each_cut() -> None:
    lines = tuple(f"line {n} " + "x" * 1000 for n in range(100))
    live = UpstreamNotes().live(state(logs=lines))
    assert live is not None
    assert len(live["logs"]) == LOG_LINES
    assert live["logs"][0].startswith(f"line {100 - LOG_LINES} ")
    assert all(len(line) == LOG_LINE_CHARS for line in live["logs"])


def test_preview_urls_are_taken_once_in_order_up_to_the_limit() -> None:
    notes = UpstreamNotes()
    assert notes.new_previews(state(previews=("a", "b", "a"))) == ["a", "b"]
    assert notes.new_previews(state(previews=("a", "b", "c"))) == ["c"]
    many = tuple(f"u{n}" for n in range(50))
    assert len(notes.new_previews(state(previews=many))) == MAX_PREVIEWS - 3
    assert notes.new_previews(state(previews=("another",))) == []
    notes.keep_previews([Path("p1.jpg"), Path("p2.jpg")], ["t/1/p1.jpg", "t/1/p2.jpg"])
    assert notes.previews == [
        {"id": "frame1", "name": "t/1/p1.jpg"},
        {"id": "frame2", "name": "t/1/p2.jpg"},
    ]
