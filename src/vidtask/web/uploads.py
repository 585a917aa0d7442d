"""Images that arrive inside a request (an OpenAI ``input_reference`` upload, a ``data:`` URL in
an OpenAI or Ark body), kept where the renderer may read them.

They are stored content-addressed as the input ``uploads/<sha256>.<ext>`` (under the first
asset root, or in the bucket: `vidtask.storage.inputs.InputStore`): a replayed request names the
same file (so its body hash, and its Idempotency-Key replay, are stable), and
only a client that already has the bytes can name the file. Only images Pillow recognises as
PNG, JPEG, WebP or GIF, of at most `vidtask.render.probe.MAX_PIXELS` pixels, are kept.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

import anyio
from PIL import Image

from vidtask.core import errors
from vidtask.render import probe
from vidtask.service.tasks import InputStore

__all__ = ["UploadedImage", "from_bytes", "from_data_url", "is_data_url", "keep", "keep_folder"]

_FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp", "GIF": "gif"}


@dataclass(frozen=True, slots=True)
class UploadedImage:
    """A checked image and the input path it will have once `save` kept it."""

    #: ``uploads/<sha256>.<ext>``.
    path: str
    data: bytes

    async def save(self, inputs: InputStore) -> None:
        """Keep the file (once: the name is its content hash); `errors.StorageError` if the
        store fails."""
        folder = inputs.staging / "uploads"
        part = folder / f".{secrets.token_hex(8)}.part"

        def write() -> None:
            folder.mkdir(parents=True, exist_ok=True)
            part.write_bytes(self.data)

        try:
            await anyio.to_thread.run_sync(write)
            await keep(inputs, part, self.path)
        finally:
            await anyio.to_thread.run_sync(lambda: part.unlink(missing_ok=True))


async def keep(inputs: InputStore, file: Path, path: str) -> None:
    """`InputStore.keep` in a thread (a bucket upload takes a while); a store that fails is
    the server's `errors.StorageError`, as a full disk is."""
    try:
        await anyio.to_thread.run_sync(inputs.keep, file, path)
    except OSError as exc:
        raise errors.StorageError(f"could not keep the upload: {exc.strerror or exc}") from None


async def keep_folder(inputs: InputStore, folder: Path, path: str) -> dict[str, str]:
    """Keep every file under ``folder`` (in `InputStore.staging`) as the input
    ``<path>/<its path in folder>``: each file's resolved local path to its ``src``. Emptied
    folders are removed (a bucket took the files; a local store keeps them where they are)."""

    def run() -> dict[str, str]:
        base = folder.resolve()
        sources = {}
        for file in sorted(base.rglob("*")):
            if file.is_file() and not file.is_symlink():
                name = f"{path}/{file.relative_to(base).as_posix()}"
                inputs.keep(file, name)
                sources[str(file)] = inputs.src(name)
        for sub in sorted(base.rglob("*"), reverse=True):
            if sub.is_dir() and not any(sub.iterdir()):
                sub.rmdir()
        if not any(base.iterdir()):
            base.rmdir()
        return sources

    try:
        return await anyio.to_thread.run_sync(run)
    except OSError as exc:
        raise errors.StorageError(f"could not keep the upload: {exc.strerror or exc}") from None


def is_data_url(value: str) -> bool:
    return value[:5].lower() == "data:"


def from_bytes(data: bytes, *, param: str) -> UploadedImage:
    """Check that ``data`` is an image; ``InvalidRequest`` naming ``param`` if not."""
    if not data:
        raise errors.InvalidRequest(f"{param}: the uploaded file is empty", param=param)
    huge = probe.too_many_pixels(*(probe.image_size(io.BytesIO(data)) or (0, 0)))
    if huge is not None:
        raise errors.InvalidRequest(f"{param}: {huge}", param=param)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                kind = image.format or ""
                image.verify()
    except (
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombWarning,
        Image.DecompressionBombError,
    ) as exc:
        raise errors.InvalidRequest(
            f"{param}: not a readable image ({exc.__class__.__name__}); send a PNG, JPEG, "
            "WebP or GIF",
            param=param,
        ) from None
    if kind not in _FORMATS:
        raise errors.InvalidRequest(
            f"{param}: {kind or 'unknown'} images are not supported; send a PNG, JPEG, WebP or GIF",
            param=param,
        )
    digest = hashlib.sha256(data).hexdigest()
    return UploadedImage(f"uploads/{digest}.{_FORMATS[kind]}", data)


def from_data_url(url: str, *, param: str) -> UploadedImage:
    """``data:image/png;base64,...`` as a checked image."""
    header, comma, payload = url.partition(",")
    if not comma or not header.lower().endswith(";base64"):
        raise errors.InvalidRequest(
            f"{param}: a data URL must look like data:image/png;base64,<data>", param=param
        )
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise errors.InvalidRequest(
            f"{param}: the data URL is not valid base64", param=param
        ) from None
    return from_bytes(data, param=param)
