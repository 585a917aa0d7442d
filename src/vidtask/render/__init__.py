"""The FFmpeg timeline renderer: schema, assets, probing, text, graph compiler, pipeline."""

from __future__ import annotations

__all__: list[str] = []
