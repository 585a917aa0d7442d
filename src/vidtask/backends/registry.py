"""Which backend serves which model, built once from settings."""

from __future__ import annotations

from vidtask.backends.base import Backend
from vidtask.backends.slides import SlidesBackend
from vidtask.backends.timeline import TimelineBackend
from vidtask.render.assets import AssetPolicy
from vidtask.render.schema import Limits
from vidtask.settings import Settings

__all__ = ["asset_policy", "build_backends"]


def asset_policy(settings: Settings) -> AssetPolicy:
    return AssetPolicy(
        roots=tuple(settings.effective_asset_roots),
        allow_networks=tuple(settings.asset_allow_networks),
        max_bytes=settings.max_asset_bytes,
        timeout_s=settings.asset_timeout_s,
    )


def build_backends(settings: Settings) -> dict[str, Backend]:
    limits = Limits(
        max_duration_s=settings.max_duration_s,
        max_width=settings.max_width,
        max_height=settings.max_height,
        max_clips=settings.max_clips,
    )
    policy = asset_policy(settings)
    timeline = TimelineBackend(policy=policy, limits=limits, font_path=settings.font_path)
    slides = SlidesBackend(policy=policy, limits=limits, font_path=settings.font_path)
    return {timeline.name: timeline, slides.name: slides}
