"""Every upstream kind vidtask speaks, with the simulator that plays it and a model it serves.

One line per kind: the every-model walk, the every-kind relay tests, the relay benchmark and
``python -m tests.simulators`` all read this table, so a new provider is added here once.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.simulators.ark import ArkSimulator
from tests.simulators.base import Simulator
from tests.simulators.dashscope import DashScopeSimulator
from tests.simulators.fal import FalSimulator
from tests.simulators.kling import KlingSimulator
from tests.simulators.luma import LumaSimulator
from tests.simulators.minimax import MiniMaxSimulator
from tests.simulators.newapi import NewAPISimulator
from tests.simulators.openai_videos import OpenAIVideosSimulator
from tests.simulators.replicate import ReplicateSimulator
from tests.simulators.runway import RunwaySimulator
from tests.simulators.scenext import ScenextSimulator
from tests.simulators.veo import VeoSimulator
from tests.simulators.vidu import ViduSimulator

__all__ = ["CATALOGUE", "SHARED_KEY", "Entry"]

#: A key every simulator takes; Kling reads it as ``ACCESS_KEY:SECRET_KEY``.
SHARED_KEY = "sk-every-model:secret"


@dataclass(frozen=True, slots=True)
class Entry:
    #: The upstream kind, as a provider's ``kind`` in the settings.
    kind: str
    simulator: type[Simulator]
    #: A model name the provider documents (what vidtask sends upstream).
    model: str
    #: The name vidtask serves it under in the tests.
    served_as: str


CATALOGUE: dict[str, Entry] = {
    entry.kind: entry
    for entry in (
        Entry("ark", ArkSimulator, "doubao-seedance-1-0-pro-250528", "seedance-relay"),
        Entry("openai_videos", OpenAIVideosSimulator, "sora-2", "sora-relay"),
        Entry("newapi", NewAPISimulator, "veo-3", "newapi-relay"),
        Entry("minimax", MiniMaxSimulator, "MiniMax-Hailuo-02", "hailuo-relay"),
        Entry("dashscope", DashScopeSimulator, "wan2.2-t2v-plus", "wan-relay"),
        Entry("runway", RunwaySimulator, "gen4_turbo", "runway-relay"),
        Entry("kling", KlingSimulator, "kling-v1-6", "kling-relay"),
        Entry("veo", VeoSimulator, "veo-3.0-generate-001", "veo-relay"),
        Entry("luma", LumaSimulator, "ray-2", "luma-relay"),
        Entry("vidu", ViduSimulator, "viduq1", "vidu-relay"),
        Entry("replicate", ReplicateSimulator, "kwaivgi/kling-v1.6-pro", "replicate-relay"),
        Entry("fal", FalSimulator, "fal-ai/kling-video/v2/master/text-to-video", "fal-relay"),
        Entry("scenext", ScenextSimulator, "scenext", "scenext-relay"),
    )
}
