"""Fixtures for backend tests: the renderer's media fixtures and reporter."""

from __future__ import annotations

from tests.render.conftest import ffmpeg_exe, media, policy, recorder

__all__ = ["ffmpeg_exe", "media", "policy", "recorder"]
