"""Who an MCP call acts as: the API key of the request, checked exactly as the REST API does.

Over streamable HTTP the key comes with every request (``Authorization: Bearer <key>``, then
``X-API-Key: <key>``, as in seed 000); over stdio it comes from ``VIDTASK_API_KEY``. With no
key at all, a server that has no keys is anonymous (loopback only), like the REST API.

The key check itself is the REST API's (`vidtask.web.auth.Authenticator`), passed in by the
composition root (`vidtask.api.app` for ``/mcp``, `vidtask.composition` for stdio): this
package never imports `vidtask.api`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from starlette.requests import Request

from vidtask.core import errors

__all__ = ["PLACEHOLDER", "Authenticator", "check_placeholder", "key_headers", "owner"]

#: What config snippets say until the user pastes a real key (seed 000 refuses it too).
PLACEHOLDER = "YOUR_API_KEY"


class Authenticator(Protocol):
    """Checks a request's API key, as the REST API does."""

    async def owner(self, request: Request) -> str:
        """The key id the request acts as, or raise `Unauthorized`."""
        ...


def key_headers(api_key: str | None) -> dict[str, str]:
    """The headers a stdio caller's key amounts to."""
    return {"authorization": f"Bearer {api_key}"} if api_key else {}


def check_placeholder(api_key: str | None) -> None:
    if api_key is not None and api_key.strip() == PLACEHOLDER:
        raise errors.Unauthorized(
            f"the API key is still the placeholder {PLACEHOLDER}: replace it with a real key "
            "(create one with `vidtask keys create`)"
        )


async def owner(auth: Authenticator, headers: Mapping[str, str]) -> str:
    """The key id (task owner) these request headers act as, or raise `Unauthorized`."""
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    request = Request({"type": "http", "headers": raw})
    bearer = request.headers.get("authorization", "")
    check_placeholder(bearer.partition(" ")[2] or request.headers.get("x-api-key"))
    return await auth.owner(request)
