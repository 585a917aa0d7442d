"""Artifact storage: files on a local directory or in an S3-compatible bucket, and signed,
expiring URLs to them.

`open_artifacts` is the one place that picks the `ArtifactStore`, and `bucket_inputs` says
whether inputs go to a bucket (the artifacts' one) rather than the first asset root; a backend
is one more module and one more branch here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from vidtask.storage import base, local
from vidtask.storage.inputs import InputStore, LocalInputs

if TYPE_CHECKING:
    from vidtask.storage.s3 import S3Inputs

__all__ = ["ArtifactSettings", "InputStore", "LocalInputs", "bucket_inputs", "open_artifacts"]


class ArtifactSettings(Protocol):
    """What `open_artifacts` reads of `vidtask.settings.Settings` (storage sits below settings
    in the layering, so it names only the fields it uses)."""

    @property
    def artifacts_url(self) -> str | None: ...
    @property
    def artifacts_dir(self) -> Path | None: ...
    @property
    def s3_path_style(self) -> bool: ...
    @property
    def artifact_links(self) -> str: ...
    @property
    def s3_part_mb(self) -> int: ...
    @property
    def effective_asset_roots(self) -> list[Path]: ...
    @property
    def scratch_dir(self) -> Path: ...


def open_artifacts(settings: ArtifactSettings) -> base.ArtifactStore:
    """The artifact store the settings configure: a bucket for ``s3://`` (boto3 is imported
    only then), else the local directory."""
    if settings.artifacts_url is not None and settings.artifacts_url.startswith("s3://"):
        from vidtask.storage import s3

        return s3.S3Artifacts.from_url(
            settings.artifacts_url,
            path_style=settings.s3_path_style,
            presign=settings.artifact_links == "presigned",
            part_size=settings.s3_part_mb * 1024 * 1024,
        )
    folder = settings.artifacts_dir
    assert folder is not None  # only a bucket has no folder
    return local.LocalArtifacts(folder)


def bucket_inputs(settings: ArtifactSettings) -> S3Inputs | None:
    """The bucket's inputs when artifacts are in one (a renderer looks up there what its asset
    roots lack), else None. Staging is under the scratch folder."""
    if settings.artifacts_url is None or not settings.artifacts_url.startswith("s3://"):
        return None
    from vidtask.storage import s3

    return s3.S3Inputs.from_url(
        settings.artifacts_url,
        settings.scratch_dir / "inputs",
        path_style=settings.s3_path_style,
        part_size=settings.s3_part_mb * 1024 * 1024,
    )
