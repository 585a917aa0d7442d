"""Images that arrive inside a request (an OpenAI ``input_reference`` upload, a ``data:`` URL in
an OpenAI or Ark body), kept where the renderer may read them.

They are stored content-addressed, ``<first asset root>/uploads/<sha256>.<ext>``: a replayed
request names the same file (so its body hash, and its Idempotency-Key replay, are stable), and
only a client that already has the bytes can name the file. Only images Pillow recognises as
PNG, JPEG, WebP or GIF, of at most `vidtask.render.probe.MAX_PIXELS` pixels, are kept.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import os
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from vidtask.core import errors
from vidtask.render import probe

__all__ = ["UploadedImage", "from_bytes", "from_data_url", "is_data_url"]

_FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp", "GIF": "gif"}


@dataclass(frozen=True, slots=True)
class UploadedImage:
    """A checked image and the path it will have once `save` wrote it."""

    path: Path
    data: bytes

    def save(self) -> str:
        """Write the file (once; the name is its content hash) and return its path."""
        if not self.path.is_file():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            part = self.path.with_name(f".{secrets.token_hex(8)}.part")
            part.write_bytes(self.data)
            os.replace(part, self.path)
        return str(self.path)


def is_data_url(value: str) -> bool:
    return value[:5].lower() == "data:"


def from_bytes(data: bytes, root: Path, *, param: str) -> UploadedImage:
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
    return UploadedImage(root / "uploads" / f"{digest}.{_FORMATS[kind]}", data)


def from_data_url(url: str, root: Path, *, param: str) -> UploadedImage:
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
    return from_bytes(data, root, param=param)
