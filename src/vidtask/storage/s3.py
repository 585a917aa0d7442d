"""Artifacts in an S3-compatible bucket: ``<prefix>/<task_id>/<attempt>/<file>``, so API and
worker machines need no shared filesystem for results.

Every request goes through boto3 (signing, endpoints, credentials from the AWS SDK's own
environment and files, ``AWS_ENDPOINT_URL_S3`` included), with botocore's standard retries.
A file is uploaded by boto3's managed transfer, in parts above `MULTIPART_THRESHOLD`, so a 2 GB
video is streamed from disk and never held in memory; downloads stream ``GetObject`` with a
``Range``. A request that still fails raises `ArtifactStoreError`, which fails the task as
``storage_error`` naming the bucket: a task is never completed without its file.

Inputs (`S3Inputs`: uploads a timeline names) live beside them under ``<prefix>/inputs/``, a
name no task id takes.

A worker killed mid-upload leaves an incomplete multipart upload, which S3 never lists as an
object but keeps (and bills): discarding an attempt aborts its uploads at once, and
`S3Artifacts.sweep_uploads` aborts any under the prefix older than `STALE_UPLOAD_S`.
"""

from __future__ import annotations

import logging
import mimetypes
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import boto3
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from vidtask.storage.base import ArtifactInfo, ArtifactStoreError, is_task_id
from vidtask.storage.inputs import input_path

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client

__all__ = ["MULTIPART_THRESHOLD", "STALE_UPLOAD_S", "S3Artifacts", "S3Inputs", "parse_url"]

log = logging.getLogger(__name__)

#: Files larger than this are uploaded in parts of `MULTIPART_CHUNK` (at most
#: `UPLOAD_THREADS` parts in memory at once), so memory use does not grow with the video.
MULTIPART_THRESHOLD = 16 * 1024 * 1024
MULTIPART_CHUNK = 16 * 1024 * 1024
UPLOAD_THREADS = 4
#: An incomplete multipart upload begun this long ago is abandoned (an upload of a 2 GB video
#: takes minutes): `S3Artifacts.sweep_uploads` aborts it.
STALE_UPLOAD_S = 3600.0
#: `S3Artifacts.sweep_uploads` lists the bucket's incomplete uploads at most this often.
SWEEP_EVERY_S = 600.0
#: Tries of each request (botocore's standard mode: backoff with jitter, transient errors and
#: throttling only).
TRIES = 4
#: Bytes per chunk of `S3Artifacts.read_range`, as the local store reads.
_CHUNK = 64 * 1024
#: The most keys one DeleteObjects request may name.
_DELETE_BATCH = 1000
#: Error codes that mean the object is not there.
_MISSING = frozenset({"404", "NoSuchKey", "NotFound"})


def parse_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` → ``("bucket", "some/prefix")``; `ValueError` without a
    bucket."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ValueError(f"not an s3://bucket/prefix URL: {url!r}")
    return parts.netloc, parts.path.strip("/")


class S3Artifacts:
    """The `ArtifactStore` of one bucket and key prefix."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        client: S3Client | None = None,
        path_style: bool = False,
        presign: bool = False,
        multipart_threshold: int = MULTIPART_THRESHOLD,
        multipart_chunk: int = MULTIPART_CHUNK,
        stale_upload_s: float = STALE_UPLOAD_S,
        sweep_every_s: float = SWEEP_EVERY_S,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        #: Every key starts with this (``""`` or ``"prefix/"``).
        self._root = f"{self.prefix}/" if self.prefix else ""
        self.client = client or make_client(path_style=path_style)
        #: Whether `url` hands out presigned GetObject URLs (else vidtask's own links).
        self.presign = presign
        self._transfer = _transfer(multipart_threshold, multipart_chunk)
        self.stale_upload_s = stale_upload_s
        self.sweep_every_s = sweep_every_s
        self._next_sweep = 0.0
        self._sweep_lock = threading.Lock()

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        path_style: bool = False,
        presign: bool = False,
        part_size: int = MULTIPART_CHUNK,
    ) -> S3Artifacts:
        """``part_size``: the multipart threshold and part size both."""
        bucket, prefix = parse_url(url)
        return cls(
            bucket,
            prefix,
            path_style=path_style,
            presign=presign,
            multipart_threshold=part_size,
            multipart_chunk=part_size,
        )

    @property
    def local_root(self) -> Path | None:
        return None

    @property
    def location(self) -> str:
        """``s3://bucket/prefix``, for messages."""
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")

    def save(self, task_id: str, attempt: int, files: list[Path]) -> list[str]:
        """Upload each file (in parts when large, retried), then delete the local copy."""
        names = []
        for file in files:
            name = f"{attempt}/{file.name}"
            key = self._key(task_id, name)
            if key is None:
                raise ArtifactStoreError(f"not an artifact name: {task_id}/{name}")
            _upload(self.client, self.bucket, key, file, self._transfer)
            file.unlink()
            names.append(name)
        return names

    def names(self, task_id: str, attempt: int) -> list[str]:
        if not is_task_id(task_id):
            return []
        folder = f"{self._root}{task_id}/{attempt}/"
        found = (key[len(folder) :] for key in self._keys(folder))
        return sorted(f"{attempt}/{file}" for file in found if file and "/" not in file)

    def stat(self, task_id: str, name: str) -> ArtifactInfo | None:
        key = self._key(task_id, name)
        if key is None:
            return None
        try:
            head = _head(self.client, self.bucket, key)
        except (BotoCoreError, ClientError) as exc:
            raise self._failed("could not read from", key, exc) from exc
        if head is None:
            return None
        return ArtifactInfo(size=head["ContentLength"], modified=head["LastModified"].timestamp())

    def read_range(
        self, task_id: str, name: str, start: int = 0, stop: int | None = None
    ) -> Iterator[bytes]:
        """Opens the object at once (so a missing one raises here), then streams it."""
        key = self._key(task_id, name)
        if key is None:
            raise FileNotFoundError(f"no artifact {name!r} of task {task_id}")
        if stop is not None and stop <= start:
            if self.stat(task_id, name) is None:
                raise FileNotFoundError(f"no artifact {name!r} of task {task_id}")
            return iter(())
        args: dict[str, Any] = {}
        if start > 0 or stop is not None:
            args["Range"] = f"bytes={start}-{'' if stop is None else stop - 1}"
        try:
            found = self.client.get_object(Bucket=self.bucket, Key=key, **args)
        except ClientError as exc:
            if _code(exc) in _MISSING:
                raise FileNotFoundError(f"no artifact {name!r} of task {task_id}") from None
            if _code(exc) == "InvalidRange":  # starts past the end
                return iter(())
            raise self._failed("could not read from", key, exc) from exc
        except BotoCoreError as exc:
            raise self._failed("could not read from", key, exc) from exc
        return self._chunks(found["Body"], key)

    def local_path(self, task_id: str, name: str) -> Path | None:
        return None

    def url(self, task_id: str, name: str, expires_at: int) -> str | None:
        """A presigned GetObject URL valid until ``expires_at`` (when configured; a store that
        cannot sign, e.g. without credentials, falls back to vidtask's link)."""
        key = self._key(task_id, name) if self.presign else None
        if key is None:
            return None
        try:
            return self.client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.bucket, "Key": key},
                ExpiresIn=max(1, expires_at - int(time.time())),
            )
        except BotoCoreError as exc:
            log.warning("cannot presign %s: %s; linking through vidtask", key, exc)
            return None

    def discard_attempt(self, task_id: str, attempt: int) -> None:
        if is_task_id(task_id):
            self._delete_under(f"{self._root}{task_id}/{attempt}/")

    def delete(self, task_id: str) -> None:
        if is_task_id(task_id):
            self._delete_under(f"{self._root}{task_id}/")

    def sweep_uploads(self, now: float) -> int:
        """Abort the incomplete multipart uploads under the prefix begun more than
        `stale_upload_s` before ``now``; lists at most every `sweep_every_s`. A store that is
        away is logged and tried again next time, never raised into the sweep."""
        with self._sweep_lock:
            if now < self._next_sweep:
                return 0
            self._next_sweep = now + self.sweep_every_s
        try:
            return self._abort_uploads(self._root, before=now - self.stale_upload_s)
        except (BotoCoreError, ClientError) as exc:
            log.warning("could not list incomplete uploads in %s: %s", self.location, exc)
            return 0

    # --- helpers ---------------------------------------------------------------------------
    def _key(self, task_id: str, name: str) -> str | None:
        """The object key of an artifact name, or None if the name could leave the task."""
        if not is_task_id(task_id):
            return None
        parts = name.split("/")
        if len(parts) < 2 or any(part in ("", ".", "..") for part in parts):
            return None
        return f"{self._root}{task_id}/{name}"

    def _keys(self, prefix: str) -> Iterator[str]:
        try:
            pages = self.client.get_paginator("list_objects_v2")
            for page in pages.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield item["Key"]
        except (BotoCoreError, ClientError) as exc:
            raise self._failed("could not list", prefix, exc) from exc

    def _delete_under(self, prefix: str) -> None:
        """Delete every object and abort every upload under ``prefix``; best effort, as the
        local store's ``rmtree``: a failure is logged (the task's fate is already written)."""
        try:
            self._abort_uploads(prefix, before=None)
            batch: list[str] = []
            for key in self._keys(prefix):
                batch.append(key)
                if len(batch) == _DELETE_BATCH:
                    self._delete_batch(batch)
                    batch = []
            if batch:
                self._delete_batch(batch)
        except (OSError, BotoCoreError, ClientError) as exc:
            log.warning("could not delete s3://%s/%s: %s", self.bucket, prefix, exc)

    def _delete_batch(self, keys: list[str]) -> None:
        answer = self.client.delete_objects(
            Bucket=self.bucket,
            Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True},
        )
        for error in answer.get("Errors", []):
            log.warning("could not delete %s: %s", error.get("Key"), error.get("Message"))

    def _abort_uploads(self, prefix: str, before: float | None) -> int:
        """Abort the incomplete multipart uploads under ``prefix`` (begun before ``before``, if
        given); how many."""
        aborted = 0
        pages = self.client.get_paginator("list_multipart_uploads")
        for page in pages.paginate(Bucket=self.bucket, Prefix=prefix):
            for upload in page.get("Uploads", []):
                if before is not None and upload["Initiated"].timestamp() >= before:
                    continue
                try:
                    self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                    )
                except ClientError as exc:
                    if _code(exc) != "NoSuchUpload":  # finished or aborted meanwhile
                        raise
                    continue
                aborted += 1
                log.info("aborted an incomplete upload of %s", upload["Key"])
        return aborted

    def _chunks(self, body: Any, key: str) -> Iterator[bytes]:
        try:
            yield from body.iter_chunks(_CHUNK)
        except (BotoCoreError, ClientError) as exc:
            raise self._failed("could not read from", key, exc) from exc
        finally:
            body.close()

    def _failed(self, what: str, key: str, exc: Exception) -> ArtifactStoreError:
        return _failed(self.bucket, what, key, exc)


class S3Inputs:
    """The `vidtask.storage.inputs.InputStore` of a bucket, ``<prefix>/inputs/<path>``, and the
    renderer's `vidtask.render.assets.InputSource` over the same keys: an API process uploads,
    a worker anywhere downloads into its scratch folder."""

    def __init__(
        self,
        bucket: str,
        prefix: str,
        staging: Path,
        *,
        client: S3Client | None = None,
        path_style: bool = False,
        multipart_threshold: int = MULTIPART_THRESHOLD,
        multipart_chunk: int = MULTIPART_CHUNK,
    ) -> None:
        self.bucket = bucket
        self._root = f"{prefix.strip('/')}/inputs/".lstrip("/")
        self._staging = staging
        self.client = client or make_client(path_style=path_style)
        self._transfer = _transfer(multipart_threshold, multipart_chunk)

    @classmethod
    def from_url(
        cls, url: str, staging: Path, *, path_style: bool = False, part_size: int = MULTIPART_CHUNK
    ) -> S3Inputs:
        bucket, prefix = parse_url(url)
        return cls(
            bucket,
            prefix,
            staging,
            path_style=path_style,
            multipart_threshold=part_size,
            multipart_chunk=part_size,
        )

    @property
    def staging(self) -> Path:
        return self._staging

    def keep(self, file: Path, path: str) -> None:
        """Upload (in parts when large) unless an object of the same size is there already:
        the name is the content's hash, so it is the same file."""
        key = self._key(path)
        if key is None:
            raise ValueError(f"not an input path: {path!r}")
        try:
            there = _head(self.client, self.bucket, key)
        except (BotoCoreError, ClientError) as exc:
            raise _failed(self.bucket, "could not read from", key, exc) from exc
        if there is None or there["ContentLength"] != file.stat().st_size:
            _upload(self.client, self.bucket, key, file, self._transfer)
        file.unlink()

    def src(self, path: str) -> str:
        """The relative path itself: renderers look it up in the bucket."""
        if self._key(path) is None:
            raise ValueError(f"not an input path: {path!r}")
        return path

    def size(self, path: str) -> int | None:
        key = self._key(path)
        if key is None:
            return None
        try:
            head = _head(self.client, self.bucket, key)
        except (BotoCoreError, ClientError) as exc:
            raise _failed(self.bucket, "could not read from", key, exc) from exc
        return None if head is None else int(head["ContentLength"])

    def download(self, path: str, dest: Path) -> None:
        """boto3's managed download: streamed to ``dest``, in ranged parts when large."""
        key = self._key(path)
        if key is None:
            raise FileNotFoundError(path)
        try:
            self.client.download_file(self.bucket, key, str(dest), Config=self._transfer)
        except ClientError as exc:
            if _code(exc) in _MISSING:
                raise FileNotFoundError(path) from None
            raise _failed(self.bucket, "could not read from", key, exc) from exc
        except (Boto3Error, BotoCoreError) as exc:
            raise _failed(self.bucket, "could not read from", key, exc) from exc

    def _key(self, path: str) -> str | None:
        name = input_path(path)
        return None if name is None else self._root + name


def make_client(*, path_style: bool = False) -> S3Client:
    """An S3 client configured as the AWS SDKs are (``AWS_ENDPOINT_URL_S3``, ``AWS_REGION``,
    credentials), with standard retries and, for servers that need it (MinIO and most
    self-hosted ones), path-style addressing."""
    config = Config(
        retries={"mode": "standard", "max_attempts": TRIES},
        s3={"addressing_style": "path" if path_style else "auto"},
        signature_version="s3v4",
        connect_timeout=10,
        read_timeout=60,
        # Checksums only where S3 requires them: many S3-compatible servers refuse the CRC
        # headers newer botocore sends by default.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        # Each proxied download holds a connection while it streams.
        max_pool_connections=32,
    )
    return boto3.session.Session().client("s3", config=config)


def _transfer(threshold: int, part_size: int) -> TransferConfig:
    """boto3's managed transfer: in parts above ``threshold``, a few parts in memory at once."""
    return TransferConfig(
        multipart_threshold=threshold,
        multipart_chunksize=part_size,
        max_concurrency=UPLOAD_THREADS,
    )


def _upload(client: S3Client, bucket: str, key: str, file: Path, transfer: TransferConfig) -> None:
    """Upload ``file`` to ``key`` (streamed; in parts when large; retried by botocore), typed by
    the key's suffix (the file may be a ``.part``); `ArtifactStoreError` when it fails."""
    kind = mimetypes.guess_type(key)[0] or "application/octet-stream"
    try:
        client.upload_file(str(file), bucket, key, ExtraArgs={"ContentType": kind}, Config=transfer)
    except (Boto3Error, BotoCoreError, ClientError) as exc:
        raise _failed(bucket, "could not upload to", key, exc) from exc


def _head(client: S3Client, bucket: str, key: str) -> Any:
    """HeadObject's answer, or None when there is no such object (other errors raise)."""
    try:
        return client.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if _code(exc) in _MISSING:
            return None
        raise


def _failed(bucket: str, what: str, key: str, exc: Exception) -> ArtifactStoreError:
    """``could not upload to s3://bucket/p/vt_…/1/video.mp4: An error occurred (NoSuchBucket)
    …``"""
    # boto3 wraps a failed upload's ClientError in a message naming the scratch file.
    cause = exc.__context__ if isinstance(exc, Boto3Error) and exc.__context__ else exc
    return ArtifactStoreError(f"{what} s3://{bucket}/{key}: {cause}")


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
