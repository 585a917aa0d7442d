"""Where webhooks may be sent: public http(s) URLs only, checked by the SSRF guard
(`vidtask.netguard`) when an endpoint or a task's ``webhook_url`` is registered.

The sender checks every delivery again, since DNS answers change.
"""

from __future__ import annotations

from collections.abc import Iterable

from vidtask.core import errors
from vidtask.netguard import Refused, host_port, resolve_public

__all__ = ["check_url"]


def check_url(url: str, allow_networks: Iterable[str], *, param: str) -> None:
    """Refuse ``url`` unless it is http(s) and its host resolves only to public addresses (or
    to allow-listed networks); the error names ``param``."""
    try:
        host, port = host_port(url)
        resolve_public(host, port, allow_networks)
    except Refused as exc:
        raise errors.InvalidRequest(f"{param}: {exc}", param=param) from None
