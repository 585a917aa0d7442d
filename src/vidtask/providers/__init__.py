"""Upstream providers that generate videos: one module per upstream kind, sans I/O, plus the
client that calls them (keys, limits, retries)."""

from __future__ import annotations

from vidtask.providers.ark import Ark
from vidtask.providers.base import UpstreamKind
from vidtask.providers.dashscope import DashScope
from vidtask.providers.fal import Fal
from vidtask.providers.kling import Kling
from vidtask.providers.luma import Luma
from vidtask.providers.minimax import MiniMax
from vidtask.providers.newapi import NewAPI
from vidtask.providers.openai_videos import OpenAIVideos
from vidtask.providers.replicate import Replicate
from vidtask.providers.runway import Runway
from vidtask.providers.scenext import Scenext
from vidtask.providers.veo import Veo
from vidtask.providers.vidu import Vidu

__all__ = ["KINDS"]

#: Every upstream kind by its ``kind`` name in the settings.
KINDS: dict[str, UpstreamKind] = {
    kind.kind: kind
    for kind in (
        Ark(),
        OpenAIVideos(),
        NewAPI(),
        MiniMax(),
        DashScope(),
        Runway(),
        Kling(),
        Veo(),
        Luma(),
        Vidu(),
        Replicate(),
        Fal(),
        Scenext(),
    )
}
