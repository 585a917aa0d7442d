"""Which backend serves which model, built once from settings."""

from __future__ import annotations

from vidtask.backends.base import Backend
from vidtask.backends.relay import RelayBackend
from vidtask.backends.slides import SlidesBackend
from vidtask.backends.timeline import TimelineBackend
from vidtask.providers import KINDS
from vidtask.render.assets import AssetPolicy, InputSource
from vidtask.render.schema import Limits
from vidtask.settings import Settings

__all__ = ["asset_policy", "build_backends", "relay_backends", "render_backends"]


def asset_policy(settings: Settings, inputs: InputSource | None = None) -> AssetPolicy:
    """What renderers may read: the asset roots, then ``inputs`` (the bucket's uploads, which
    the composition roots open: backends sit below storage), then public URLs."""
    return AssetPolicy(
        roots=tuple(settings.effective_asset_roots),
        allow_networks=tuple(settings.asset_allow_networks),
        max_bytes=settings.max_asset_bytes,
        timeout_s=settings.asset_timeout_s,
        inputs=inputs,
    )


def build_backends(settings: Settings, inputs: InputSource | None = None) -> dict[str, Backend]:
    """Every model this server serves: the local renderers and the relayed models."""
    backends: dict[str, Backend] = dict(render_backends(settings, inputs))
    for name, relay in relay_backends(settings).items():
        backends.setdefault(name, relay)  # a local model's own name is never relayed
    return backends


def relay_backends(settings: Settings) -> dict[str, RelayBackend]:
    """One backend per model name the providers map, served by them in configured order."""
    served: dict[str, list[str]] = {}
    refused: dict[str, dict[str, str]] = {}
    for provider in settings.providers:
        kind = KINDS[provider.kind]
        for name in provider.models:
            served.setdefault(name, []).append(provider.name)
            for field in sorted(kind.refuses):
                refused.setdefault(name, {}).setdefault(field, f"{provider.name} ({kind.kind})")
    return {
        name: RelayBackend(name, providers, refused.get(name, {}))
        for name, providers in served.items()
    }


def render_backends(settings: Settings, inputs: InputSource | None = None) -> dict[str, Backend]:
    """The models render workers run; ``inputs`` as `asset_policy`."""
    limits = Limits(
        max_duration_s=settings.max_duration_s,
        max_width=settings.max_width,
        max_height=settings.max_height,
        max_clips=settings.max_clips,
    )
    policy = asset_policy(settings, inputs)
    timeline = TimelineBackend(policy=policy, limits=limits, font_path=settings.font_path)
    slides = SlidesBackend(policy=policy, limits=limits, font_path=settings.font_path)
    return {timeline.name: timeline, slides.name: slides}
