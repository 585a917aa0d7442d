"""Asset sources: local files under configured roots, inputs kept in an `InputSource` (a
bucket, when machines share no folder), or http(s) URLs behind an SSRF guard.

`check_source` runs at submit time; `fetch` runs in the worker and re-checks everything, because
DNS answers and files change between the two. URL fetches connect to the address that was
checked (the hostname goes in ``Host`` and TLS SNI), so a rebinding DNS server cannot swap it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Protocol
from urllib.parse import unquote, urljoin, urlsplit

import httpx

from vidtask.core import errors
from vidtask.netguard import Refused, host_port, pinned_request, resolve_public

__all__ = ["AssetPolicy", "InputSource", "check_source", "fetch", "is_url"]

log = logging.getLogger(__name__)

_CHUNK = 256 * 1024
#: The longest file or folder name (in bytes) Linux and macOS file systems accept.
_NAME_MAX = 255


class InputSource(Protocol):
    """Inputs kept off this machine (uploads in a bucket), named by the same relative paths as
    files under an asset root (``uploads/<sha256>.png``). A relative path that no local root
    has is looked up here, so a worker renders what an API process on another machine took in.

    The render layer only reads; `vidtask.storage` implements it and the composition roots pass
    it in. ``path`` has passed the asset path checks (relative, no ``..``)."""

    def size(self, path: str) -> int | None:
        """The input's length in bytes, or None if there is none; `OSError` if the source
        cannot say."""
        ...

    def download(self, path: str, dest: Path) -> None:
        """Write the input to ``dest``, streamed; `FileNotFoundError` if there is none, another
        `OSError` if the source failed."""
        ...


@dataclass(frozen=True, slots=True)
class AssetPolicy:
    #: Local files are allowed only under these directories.
    roots: tuple[Path, ...] = ()
    #: CIDRs allowed even though private/loopback (e.g. "127.0.0.0/8" in tests).
    allow_networks: tuple[str, ...] = ()
    max_bytes: int = 500 * 1024 * 1024
    timeout_s: float = 30.0
    max_redirects: int = 5
    #: Where relative paths no root has are looked up (None: local roots only).
    inputs: InputSource | None = field(default=None, compare=False)


def is_url(src: str) -> bool:
    return urlsplit(src).scheme.lower() in ("http", "https")


def check_source(src: str, policy: AssetPolicy, *, param: str, allow_local: bool = True) -> None:
    """Refuse a source that is not an allowed local file or public http(s) URL.

    ``allow_local=False`` accepts URLs only (e.g. for webhooks).
    """
    try:
        if is_url(src) or not allow_local:
            host, port = host_port(src)
            resolve_public(host, port, policy.allow_networks)
        else:
            found = _local_path(src, policy)
            if not isinstance(found, Path):
                _check_input(src, found, policy)
    except Refused as exc:
        raise errors.InvalidRequest(f"{param}: {exc}", param=param) from None


def fetch(src: str, policy: AssetPolicy, dest_dir: Path, cancel: threading.Event) -> Path:
    """Return a local path for ``src``, downloading URLs into ``dest_dir``."""
    if not is_url(src):
        try:
            found = _local_path(src, policy)
        except Refused as exc:
            raise errors.AssetFetchFailed(f"{src}: {exc}") from None
        if isinstance(found, Path):
            return found
        return _download_input(src, found, policy, dest_dir, cancel)
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / _file_name(src)
    part = dest.with_name(dest.name + ".part")
    try:
        _download(src, policy, part, cancel)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    part.replace(dest)
    return dest


# -- local files ---------------------------------------------------------------------------


def _local_path(src: str, policy: AssetPolicy) -> Path | str:
    """The file under a root, or the relative path `AssetPolicy.inputs` has (unchecked: `fetch`
    finds out when it downloads; `check_source` asks first, via `_check_input`)."""
    parts = urlsplit(src)
    scheme = parts.scheme.lower()
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise Refused(f"file URL with host {parts.netloc!r} is not supported")
        raw = unquote(parts.path)
    elif scheme:
        raise Refused(f"scheme {scheme!r} is not supported; use http, https or a local path")
    else:
        raw = src
    if "\x00" in raw:
        raise Refused("path contains a NUL byte")
    names = PurePosixPath(raw).parts
    if ".." in names:
        raise Refused("'..' is not allowed in asset paths")
    if any(len(name.encode("utf-8", "surrogatepass")) > _NAME_MAX for name in names):
        raise Refused(f"a path component is longer than {_NAME_MAX} bytes")
    path = Path(raw)
    remote = policy.inputs is not None and not scheme and not path.is_absolute() and bool(names)
    if not policy.roots and not remote:
        raise Refused("local files are not enabled on this server (no asset roots)")
    candidates = [path] if path.is_absolute() else [root / path for root in policy.roots]
    outside = True
    for candidate in candidates:
        try:
            real = Path(os.path.realpath(candidate))
            if not any(real.is_relative_to(os.path.realpath(root)) for root in policy.roots):
                continue
            outside = False
            if real.is_file():
                return real
        except (OSError, ValueError) as exc:  # e.g. the whole path is over PATH_MAX
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise Refused(f"the path cannot be used ({why})") from None
    if remote and (not outside or not candidates):
        # Not under a root here: the bucket may have it (a symlink out of a root never gets
        # this far, and ``path`` has no ``..``, so it names a key under the inputs' prefix).
        return "/".join(names)
    if outside:
        raise Refused(f"{raw!r} is outside the allowed asset directories")
    raise Refused(f"{raw!r} does not exist")


def _check_input(raw: str, path: str, policy: AssetPolicy) -> None:
    """At submit: the input is there and not over the size limit."""
    assert policy.inputs is not None
    try:
        size = policy.inputs.size(path)
    except OSError as exc:  # the store is down: not the client's fault, and no internals
        log.warning("could not look up an input", extra={"path": path, "error": str(exc)})
        raise errors.StorageError(
            f"{raw!r}: the input store cannot be read now; try again"
        ) from None
    if size is None:
        raise Refused(f"{raw!r} does not exist")
    if size > policy.max_bytes:
        raise Refused(f"larger than the {policy.max_bytes} byte limit")


def _download_input(
    src: str, path: str, policy: AssetPolicy, dest_dir: Path, cancel: threading.Event
) -> Path:
    """Copy an input from `AssetPolicy.inputs` into ``dest_dir`` (the attempt's scratch)."""
    assert policy.inputs is not None
    if cancel.is_set():
        raise errors.Cancelled()
    try:
        size = policy.inputs.size(path)
        if size is None:
            raise FileNotFoundError(path)
        if size > policy.max_bytes:
            raise errors.AssetTooLarge(f"{src}: larger than the {policy.max_bytes} byte limit")
        dest_dir.mkdir(parents=True, exist_ok=True)
        dest = dest_dir / _file_name("inputs:" + path)
        part = dest.with_name(dest.name + ".part")
        try:
            policy.inputs.download(path, part)
            part.replace(dest)
        finally:
            part.unlink(missing_ok=True)
    except FileNotFoundError:
        raise errors.AssetFetchFailed(f"{src}: {src!r} does not exist") from None
    except OSError as exc:
        raise errors.AssetFetchFailed(f"{src}: {exc.strerror or exc}") from None
    return dest


# -- URLs ------------------------------------------------------------------------------------


def _file_name(url: str) -> str:
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    suffix = PurePosixPath(urlsplit(url).path).suffix.lower()
    return digest + (suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else "")


def _download(src: str, policy: AssetPolicy, dest: Path, cancel: threading.Event) -> None:
    deadline = time.monotonic() + policy.timeout_s
    url = src
    timeout = httpx.Timeout(policy.timeout_s)
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
        for _hop in range(policy.max_redirects + 1):
            try:
                ip = resolve_public(*host_port(url), policy.allow_networks)[0]
            except Refused as exc:
                raise errors.AssetFetchFailed(f"{src}: {exc}") from None
            try:
                response = client.send(pinned_request(client, "GET", url, ip), stream=True)
            except httpx.TimeoutException:
                raise _timed_out(src, policy) from None
            except httpx.HTTPError as exc:
                raise errors.AssetFetchFailed(f"{src}: connection failed: {exc}") from None
            try:
                if response.is_redirect and "location" in response.headers:
                    url = urljoin(url, response.headers["location"])
                    log.debug("asset %s redirected to %s", src, url)
                    continue
                if response.status_code >= 400:
                    raise errors.AssetFetchFailed(
                        f"{src}: HTTP {response.status_code} {response.reason_phrase}".rstrip()
                    )
                _stream(src, response, dest, policy, deadline, cancel)
                return
            finally:
                response.close()
    raise errors.AssetFetchFailed(f"{src}: more than {policy.max_redirects} redirects")


def _stream(
    src: str,
    response: httpx.Response,
    dest: Path,
    policy: AssetPolicy,
    deadline: float,
    cancel: threading.Event,
) -> None:
    too_large = errors.AssetTooLarge(f"{src}: larger than the {policy.max_bytes} byte limit")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > policy.max_bytes:
        raise too_large
    received = 0
    try:
        with dest.open("wb") as out:
            for chunk in response.iter_bytes():
                received += len(chunk)
                if received > policy.max_bytes:
                    raise too_large
                if cancel.is_set():
                    raise errors.Cancelled()
                if time.monotonic() > deadline:
                    raise _timed_out(src, policy)
                out.write(chunk)
    except httpx.TimeoutException:
        raise _timed_out(src, policy) from None
    except httpx.HTTPError as exc:
        raise errors.AssetFetchFailed(f"{src}: download failed: {exc}") from None


def _timed_out(src: str, policy: AssetPolicy) -> errors.AssetFetchFailed:
    return errors.AssetFetchFailed(f"{src}: timed out after {policy.timeout_s:g} s")
