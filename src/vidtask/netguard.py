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
                raise Refused(
                    f"host {host!r} resolves to {ip}, {reason}; "
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


#: IPv6 prefixes whose last 32 bits are an IPv4 address a relay or translator connects to.
_EMBEDDING: tuple[tuple[str, ipaddress.IPv6Network], ...] = (
    ("NAT64", ipaddress.IPv6Network("64:ff9b::/96")),
    ("NAT64", ipaddress.IPv6Network("64:ff9b:1::/48")),
    ("IPv4-mapped", ipaddress.IPv6Network("::ffff:0:0/96")),
    ("IPv4-compatible", ipaddress.IPv6Network("::/96")),
)


def _why_blocked(ip: IPAddress) -> str | None:
    """Why ``ip`` is not public (``a loopback address``), or None. An IPv6 address that stands
    for an IPv4 one (6to4, Teredo, NAT64, mapped, compatible) is judged by that one too."""
    if isinstance(ip, ipaddress.IPv6Address):
        for kind, embedded in _embedded_ipv4(ip):
            reason = _why_blocked(embedded)
            if reason is not None:
                return f"{_a(kind)} address of {embedded}, {reason}"
        if ip.is_site_local:  # fec0::/10, deprecated (RFC 3879) but still routed on some LANs
            return "a site-local address"
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        ("non-public", not ip.is_global),
    )
    name = next((name for name, hit in checks if hit), None)
    return None if name is None else f"{_a(name)} address"


def _a(word: str) -> str:
    return f"{'an' if word[0] in 'aeiouIU' else 'a'} {word}"


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[tuple[str, ipaddress.IPv4Address]]:
    """The IPv4 addresses inside ``ip``: a 6to4 gateway (RFC 3056), a Teredo server and client
    (RFC 4380; ``teredo`` un-inverts the client), or the last 32 bits under `_EMBEDDING`."""
    found: list[tuple[str, ipaddress.IPv4Address]] = []
    if ip.sixtofour is not None:
        found.append(("6to4", ip.sixtofour))
    if ip.teredo is not None:
        found += [("Teredo", ip.teredo[1]), ("Teredo", ip.teredo[0])]
    if ip not in (ipaddress.IPv6Address("::"), ipaddress.IPv6Address("::1")):
        last = ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)
        found += [(kind, last) for kind, net in _EMBEDDING if ip in net]
    return found
