"""The security headers of every dashboard response. The page runs only its own scripts and
styles; images and video may also come from where file links point: the server's public URL
(it may differ from the origin the page was loaded from, behind a proxy) and, with presigned
links, the bucket."""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["origin", "security_headers"]


def origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, lowercased, as a CSP source."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def security_headers(page_origin: str, files_origins: tuple[str, ...]) -> dict[str, str]:
    """The headers for a page loaded from ``page_origin`` whose file links are on
    ``files_origins`` (vidtask's public URL, a bucket's presigned URLs), each named in the
    policy when it is another origin than the page's."""
    files = "".join(f" {o}" for o in files_origins if o != page_origin)
    policy = "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src 'self' data: blob:{files}",
            f"media-src 'self' blob:{files}",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        )
    )
    return {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    }
