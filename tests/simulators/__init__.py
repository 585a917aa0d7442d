"""Provider simulators: upstream video APIs played from their public docs, on loopback.

``base.py`` holds the shared machinery (task life, accounting, fault injection, result files,
callbacks); one module per upstream kind sits on top of it. See ``docs/providers.md`` for what
each simulator follows and what the providers' docs leave open.
"""

from __future__ import annotations

from tests.simulators.ark import ArkSimulator
from tests.simulators.base import Delivery, SimTask, Simulator
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
from tests.simulators.script import Op, Outcome, Phase, Script
from tests.simulators.sink import CallbackSink
from tests.simulators.veo import VeoSimulator
from tests.simulators.vidu import ViduSimulator

__all__ = [
    "ArkSimulator",
    "CallbackSink",
    "DashScopeSimulator",
    "Delivery",
    "FalSimulator",
    "KlingSimulator",
    "LumaSimulator",
    "MiniMaxSimulator",
    "NewAPISimulator",
    "Op",
    "OpenAIVideosSimulator",
    "Outcome",
    "Phase",
    "ReplicateSimulator",
    "RunwaySimulator",
    "ScenextSimulator",
    "Script",
    "SimTask",
    "Simulator",
    "VeoSimulator",
    "ViduSimulator",
]
