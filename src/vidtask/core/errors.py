"""The one error tree. Every error a client can see has a canonical snake_case code.

    VidtaskError                     internal_error   500
    ├── InvalidRequest               invalid_request  400
    │   └── PayloadTooLarge          invalid_request  413
    ├── Unauthorized                 unauthorized     401
    ├── NotFound                     not_found        404
    ├── Conflict                     conflict         409
    ├── RateLimited                  rate_limited     429
    ├── AssetFetchFailed             asset_fetch_failed 422
    ├── AssetTooLarge                asset_too_large  422
    ├── UnsupportedMedia             unsupported_media 422
    ├── RenderFailed                 render_failed    500
    ├── WorkerLost                   worker_lost      500
    ├── Cancelled                    cancelled        409
    ├── Expired                      expired          408
    ├── UpstreamError                upstream_error   502
    └── StorageError                 storage_error    507

The class docstring is the default message, so ``raise NotFound()`` is enough.
``param`` names the offending field path (``input.tracks[0].clips[2].length``).
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "AssetFetchFailed",
    "AssetTooLarge",
    "CODES",
    "Cancelled",
    "Conflict",
    "Expired",
    "InvalidRequest",
    "NotFound",
    "PayloadTooLarge",
    "RateLimited",
    "RenderFailed",
    "StorageError",
    "Unauthorized",
    "UnsupportedMedia",
    "UpstreamError",
    "VidtaskError",
    "WorkerLost",
    "error_for_code",
    "no_space",
    "size_text",
]


class VidtaskError(Exception):
    """Internal error."""

    code: ClassVar[str] = "internal_error"
    http_status: ClassVar[int] = 500

    def __init__(self, message: str | None = None, *, param: str | None = None) -> None:
        self.message = message or (self.__doc__ or self.code).strip()
        self.param = param
        super().__init__(self.message)

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


class InvalidRequest(VidtaskError):
    """The request is invalid."""

    code = "invalid_request"
    http_status = 400


class PayloadTooLarge(InvalidRequest):
    """The request body is too large."""

    http_status = 413


class Unauthorized(VidtaskError):
    """A valid API key is required: send `Authorization: Bearer <key>` or `X-API-Key: <key>`."""

    code = "unauthorized"
    http_status = 401


class NotFound(VidtaskError):
    """Not found."""

    code = "not_found"
    http_status = 404


class Conflict(VidtaskError):
    """The request conflicts with the current state of the resource."""

    code = "conflict"
    http_status = 409


class RateLimited(VidtaskError):
    """Too many requests."""

    code = "rate_limited"
    http_status = 429


class AssetFetchFailed(VidtaskError):
    """An asset could not be fetched."""

    code = "asset_fetch_failed"
    http_status = 422


class AssetTooLarge(VidtaskError):
    """An asset is larger than the configured limit."""

    code = "asset_too_large"
    http_status = 422


class UnsupportedMedia(VidtaskError):
    """An asset is not a media file that can be decoded."""

    code = "unsupported_media"
    http_status = 422


class RenderFailed(VidtaskError):
    """The render failed."""

    code = "render_failed"
    http_status = 500


class WorkerLost(VidtaskError):
    """The worker running this task died and no attempts remain."""

    code = "worker_lost"
    http_status = 500


class Cancelled(VidtaskError):
    """The task was cancelled."""

    code = "cancelled"
    http_status = 409


class Expired(VidtaskError):
    """The task did not finish before its deadline."""

    code = "expired"
    http_status = 408


class UpstreamError(VidtaskError):
    """An upstream provider failed."""

    code = "upstream_error"
    http_status = 502


class StorageError(VidtaskError):
    """The server ran out of disk space, or could not save to its artifact storage."""

    code = "storage_error"
    http_status = 507


CODES: dict[str, type[VidtaskError]] = {
    cls.code: cls
    for cls in (
        VidtaskError,
        InvalidRequest,
        Unauthorized,
        NotFound,
        Conflict,
        RateLimited,
        AssetFetchFailed,
        AssetTooLarge,
        UnsupportedMedia,
        RenderFailed,
        WorkerLost,
        Cancelled,
        Expired,
        UpstreamError,
        StorageError,
    )
}


def error_for_code(code: str, message: str | None = None) -> VidtaskError:
    """Rebuild an error from its stored code; an unknown code fails closed as internal_error."""
    return CODES.get(code, VidtaskError)(message)


def no_space(path: str, free_bytes: int) -> StorageError:
    """``no space left on /data (12 KB free)``: a full disk, named with what is left on it."""
    return StorageError(f"no space left on {path} ({size_text(free_bytes)} free)")


def size_text(count: int) -> str:
    """``12 KB``, ``1.5 GB``: a byte count for people (powers of 1024)."""
    value, unit = float(count), "bytes"
    for bigger in ("KB", "MB", "GB", "TB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    if unit == "bytes":
        return f"{count} bytes"
    return f"{value:.0f} {unit}" if value >= 10 else f"{value:.1f} {unit}"
