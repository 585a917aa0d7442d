"""Keeping a provider's result: the video (and the last frame) downloaded into the attempt's
scratch folder, probed, its stills cut, ready to be saved like a render's. A download is retried
with backoff; one that keeps failing, or a file that is not a whole video, is an
`UpstreamError`: a task is never completed without its file."""

from __future__ import annotations

import asyncio
import logging
import shutil
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from tenacity import AsyncRetrying, stop_after_attempt, wait_random_exponential

from vidtask.backends import mirror
from vidtask.backends.base import RunResult
from vidtask.backends.mirror import AssetPolicy
from vidtask.core import errors
from vidtask.core.task import Task
from vidtask.providers.base import UpstreamState
from vidtask.providers.client import ProviderClient
from vidtask.storage.base import ArtifactStore

__all__ = ["DOWNLOAD_TRIES", "ResultKeeper"]

T = TypeVar("T")

#: Tries of a result download before the task fails.
DOWNLOAD_TRIES = 4
#: Results downloaded and adopted (probe, stills) at once.
MEDIA_THREADS = 4
#: Image suffixes a preview frame keeps; any other becomes ``.jpg``.
_STILLS = frozenset({".jpg", ".jpeg", ".png", ".webp"})

log = logging.getLogger(__name__)


class ResultKeeper:
    def __init__(self, artifacts: ArtifactStore, asset_policy: AssetPolicy) -> None:
        self.artifacts = artifacts
        self.asset_policy = asset_policy
        # Downloads and ffmpeg runs get their own threads: a burst of finished tasks must not
        # keep the store calls (leases, progress, results) of the others waiting.
        self._pool = ThreadPoolExecutor(MEDIA_THREADS, thread_name_prefix="relay-media")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def keep(
        self, task: Task, client: ProviderClient, state: UpstreamState, workdir: Path
    ) -> RunResult | errors.VidtaskError:
        assert state.video_url is not None
        workdir.mkdir(parents=True, exist_ok=True)
        cancel = threading.Event()
        try:
            video = await self._download(client, state.video_url, state.video_needs_key,
                                         workdir / "video.mp4", cancel)  # fmt: skip
        except errors.VidtaskError as exc:
            return errors.UpstreamError(f"the result could not be downloaded: {exc.message}")
        try:
            result = await self._media(mirror.adopt, video, workdir / "stills", cancel)
        except errors.VidtaskError as exc:
            return errors.UpstreamError(f"the downloaded result is not a usable video: {exc}")
        if state.last_frame_url:
            try:
                frame = await self._download(client, state.last_frame_url, False,
                                             workdir / "last_frame.png", cancel)  # fmt: skip
                await asyncio.to_thread(self.artifacts.save, task.id, task.attempt, [frame])
            except errors.VidtaskError as exc:
                result.warnings.append(f"the provider's last frame was not kept: {exc.message}")
            except OSError as exc:  # a full disk, an artifact store out of reach
                result.warnings.append(
                    f"the provider's last frame was not kept: {exc.strerror or exc}"
                )
        return result

    async def preview(self, url: str, stem: Path) -> Path | None:
        """A provider's preview frame at ``stem`` plus the URL's image suffix (through the SSRF
        guard, without the key), or None when it could not be had: a preview is no reason to
        fail a task."""
        suffix = PurePosixPath(urlsplit(url).path).suffix.lower()
        dest = stem.with_suffix(suffix if suffix in _STILLS else ".jpg")
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            return await self._media(
                mirror.fetch_result, url, self.asset_policy, dest, threading.Event()
            )
        except errors.VidtaskError as exc:
            log.warning("a preview frame was not kept: %s", exc.message)
            return None

    def publish(self, task: Task, files: list[Path], staging: Path) -> list[str]:
        """Save copies of ``files`` as the attempt's artifacts now (saving moves a file, and the
        result saves the frames again with the video); their artifact names."""
        staging.mkdir(parents=True, exist_ok=True)
        copies = [Path(shutil.copyfile(path, staging / path.name)) for path in files]
        return self.artifacts.save(task.id, task.attempt, copies)

    async def _download(
        self, client: ProviderClient, url: str, with_key: bool, dest: Path, cancel: threading.Event
    ) -> Path:
        retrying = AsyncRetrying(
            wait=wait_random_exponential(1, 30), stop=stop_after_attempt(DOWNLOAD_TRIES),
            reraise=True,
        )  # fmt: skip
        async for attempt in retrying:
            with attempt:
                # The key goes only to the provider's own host, whatever the kind says.
                if with_key and client.serves(url):
                    return await self._download_with_key(client, url, dest)
                return await self._media(mirror.fetch_result, url, self.asset_policy, dest, cancel)
        raise AssertionError("unreachable")

    async def _download_with_key(self, client: ProviderClient, path: str, dest: Path) -> Path:
        """The provider's own result endpoint, with its key, streamed to ``dest``."""
        limit = self.asset_policy.max_bytes
        part = dest.with_name(dest.name + ".part")
        try:
            response = await client.open_result(path)
        except httpx.HTTPError as exc:
            raise errors.AssetFetchFailed(f"{client.name}: download failed: {exc}") from None
        try:
            if response.status_code >= 400:
                raise errors.AssetFetchFailed(f"{client.name}: HTTP {response.status_code}")
            received = 0
            with part.open("wb") as out:
                async for chunk in response.aiter_bytes(1 << 16):
                    received += len(chunk)
                    if received > limit:
                        raise errors.AssetTooLarge(f"larger than the {limit} byte limit")
                    out.write(chunk)
        except httpx.HTTPError as exc:
            raise errors.AssetFetchFailed(f"{client.name}: download failed: {exc}") from None
        finally:
            await response.aclose()
        part.replace(dest)
        return dest

    async def _media(self, call: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, call, *args)
