"""Artifact storage: files on a local directory and signed, expiring URLs to them.

`open_artifacts` is the one place that picks the `ArtifactStore`; an object-storage backend is
one more module and one more branch here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from vidtask.storage import base, local

__all__ = ["ArtifactSettings", "open_artifacts"]


class ArtifactSettings(Protocol):
    """What `open_artifacts` reads of `vidtask.settings.Settings` (storage sits below settings
    in the layering, so it names only the fields it uses)."""

    @property
    def artifacts_dir(self) -> Path: ...


def open_artifacts(settings: ArtifactSettings) -> base.ArtifactStore:
    """The artifact store the settings configure: today always the local directory."""
    return local.LocalArtifacts(settings.artifacts_dir)
