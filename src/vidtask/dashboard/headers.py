"""The security headers of every dashboard response. The page runs only its own scripts and
styles; images and video may also come from the server's public URL, because signed file links
are made with it and it may differ from the origin the page was loaded from (a proxy)."""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["origin", "security_headers"]


def origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, lowercased, as a CSP source."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def security_headers(page_origin: str, files_origin: str) -> dict[str, str]:
    """The headers for a page loaded from ``page_origin`` whose file links are on
    ``files_origin`` (named in the policy only when it is another origin)."""
    files = "" if files_origin == page_origin else f" {files_origin}"
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
