"""The tools' text content: Markdown an agent can show as is.

Seed 000 asks agents to show video links as ``[text](url)`` and images as ``![text](url)``,
so every URL is written that way here.
"""

from __future__ import annotations

from vidtask.mcp_server import models

__all__ = ["doubao", "model_list", "video", "video_list"]


def video(v: models.Video, *, title: str = "Video task") -> str:
    lines = [f"**{title} `{v.task_id}`**: {_state(v)}"]
    if v.video_url:
        lines.append(f"- Video: [Watch or download the video]({v.video_url})")
    if v.video_file:
        lines.append(f"- File on this machine: `{v.video_file}`")
    if v.cover_url:
        lines.append(f"- Cover: ![Cover of {v.task_id}]({v.cover_url})")
    if v.previews and not v.done:
        frames = " ".join(f"![Preview frame {f.id}]({f.url})" for f in v.previews[-3:])
        lines.append(f"- Latest preview frames: {frames}")
    if v.error is not None:
        lines.append(f"- Error `{v.error.code}`: {v.error.message}")
    lines.append(f"- Model: `{v.model}`; created {v.created_at:%Y-%m-%d %H:%M:%S} UTC")
    lines.append("")
    lines.append(f"Next: {v.next_step}")
    return "\n".join(lines)


def video_list(listing: models.VideoList) -> str:
    if not listing.videos:
        return "No video tasks match."
    rows = ["| Task | Status | Progress | Video |", "|---|---|---|---|"]
    for v in listing.videos:
        link = f"[video]({v.video_url})" if v.video_url else ""
        rows.append(f"| `{v.task_id}` | {v.status} ({v.stage}) | {v.progress:.0f}% | {link} |")
    if listing.has_more:
        rows.append("")
        rows.append("More tasks match; raise `limit` or filter by `status` to see them.")
    return "\n".join(rows)


def model_list(listing: models.ModelList) -> str:
    lines = ["Models (pass one as `model`):"]
    for m in listing.models:
        what = f"alias of `{m.alias_of}`" if m.alias_of else m.description
        lines.append(f"- `{m.id}`: {what}")
    return "\n".join(lines)


def doubao(answer: models.DoubaoAnswer) -> str:
    d = answer.data
    lines = [f"**Task `{d.task_id}`**: {d.status}"]
    if d.video_url:
        lines.append(f"- Video: [Watch or download the video]({d.video_url})")
    if d.cover_url:
        lines.append(f"- Cover: ![Cover of {d.task_id}]({d.cover_url})")
    if d.error_msg:
        lines.append(f"- Error: {d.error_msg}")
    lines.append(
        f"- Created {d.created_at}" + (f", finished {d.finished_at}" if d.finished_at else "")
    )
    return "\n".join(lines)


def _state(v: models.Video) -> str:
    text = f"{v.status}, stage `{v.stage}`, {v.progress:.0f}%"
    if v.eta_seconds is not None and not v.done:
        text += f", about {v.eta_seconds:.0f} s left"
    return text
