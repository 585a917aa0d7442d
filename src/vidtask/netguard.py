"""The SSRF guard for every outbound request vidtask makes on a user's behalf (asset fetches,
webhooks): http(s) only, and every address the host resolves to must be public unless its
network is allow-listed. Callers connect to the checked address (`pinned_request`), with the
hostname in ``Host`` and TLS SNI, so a rebinding DNS server cannot swap it afterwards.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

__all__ = ["IPAddress", "Refused", "host_port", "pinned_request", "resolve_public"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class Refused(Exception):
    """Why a URL is not allowed; callers turn it into the right public error."""


def host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise Refused(f"scheme {parts.scheme!r} is not supported; use http or https")
    try:
        port = parts.port
    except ValueError:
        raise Refused("the URL has an invalid port") from None
    if not parts.hostname:
        raise Refused("the URL has no host")
    default = 443 if parts.scheme.lower() == "https" else 80
    return parts.hostname, port or default


def resolve_public(host: str, port: int, allow_networks: Iterable[str]) -> list[IPAddress]:
    """Every address of ``host``; refuse if any is not public (unless allow-listed)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Refused(f"cannot resolve host {host!r}: {exc}") from None
    allowed = [ipaddress.ip_network(net, strict=False) for net in allow_networks]
    addresses: list[IPAddress] = []
    for info in infos:
        ip = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if ip in addresses:
            continue
        if not any(ip.version == net.version and ip in net for net in allowed):
            reason = _why_blocked(ip)
            if reason is not None:
                article = "an" if reason[0] in "aeiou" else "a"
                raise Refused(
                    f"host {host!r} resolves to {ip}, {article} {reason} address; "
                    "only public addresses are allowed (VIDTASK_ASSET_ALLOW_NETWORKS lists the "
                    "networks this server may reach anyway, e.g. 127.0.0.0/8)"
                )
        addresses.append(ip)
    if not addresses:
        raise Refused(f"host {host!r} has no addresses")
    return addresses


def pinned_request(
    client: httpx.Client | httpx.AsyncClient, method: str, url: str, ip: IPAddress, **kwargs: Any
) -> httpx.Request:
    """A request for ``url`` that connects to ``ip``."""
    parts = urlsplit(url)
    host, port = host_port(url)
    ip_host = f"[{ip}]" if ip.version == 6 else str(ip)
    ip_url = urlunsplit((parts.scheme, f"{ip_host}:{port}", parts.path or "/", parts.query, ""))
    headers = dict(kwargs.pop("headers", None) or {})
    headers["Host"] = host if parts.port is None else f"{host}:{port}"
    extensions = {"sni_hostname": host} if parts.scheme.lower() == "https" else {}
    return client.build_request(method, ip_url, headers=headers, extensions=extensions, **kwargs)


def _why_blocked(ip: IPAddress) -> str | None:
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        ("non-public", not ip.is_global),
    )
    return next((name for name, hit in checks if hit), None)
