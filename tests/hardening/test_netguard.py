"""Finding 13: the SSRF guard judges an IPv6 address that stands for an IPv4 one (6to4, Teredo,
NAT64, IPv4-mapped, IPv4-compatible) by that IPv4 address, and refuses site-local fec0::/10."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.hardening.conftest import refusal, timeline
from vidtask.netguard import Refused, resolve_public

#: (address, what the refusal must say about it)
BLOCKED = [
    ("2002:7f00:1::1", "a 6to4 address of 127.0.0.1, a loopback address"),
    ("2002:a9fe:a9fe::1", "a 6to4 address of 169.254.169.254, a link-local address"),
    ("2002:0a00:0001::", "a 6to4 address of 10.0.0.1, a private address"),
    # Teredo: the client is the last 32 bits inverted (0x80fffffe -> 127.0.0.1).
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", "a Teredo address of 127.0.0.1, a loopback address"),
    ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "a Teredo address of 10.0.0.1, a private address"),
    # ... and the server the middle 32 bits (10.0.0.1; the client is 8.8.8.8).
    ("2001:0:a00:1::f7f7:f7f7", "a Teredo address of 10.0.0.1, a private address"),
    ("64:ff9b::7f00:1", "a NAT64 address of 127.0.0.1, a loopback address"),
    ("64:ff9b::a9fe:a9fe", "a NAT64 address of 169.254.169.254, a link-local address"),
    ("64:ff9b:1::c0a8:1", "a NAT64 address of 192.168.0.1, a private address"),
    # IPv4-mapped addresses are checked as the IPv4 address they are.
    ("::ffff:127.0.0.1", "resolves to 127.0.0.1, a loopback address"),
    ("::ffff:a9fe:a9fe", "resolves to 169.254.169.254, a link-local address"),
    ("::127.0.0.1", "an IPv4-compatible address of 127.0.0.1, a loopback address"),
    ("::a00:1", "an IPv4-compatible address of 10.0.0.1, a private address"),
    ("fec0::1", "a site-local address"),
    ("fefe:1234::1", "a site-local address"),
]


@pytest.mark.parametrize(("address", "why"), BLOCKED)
def test_the_guard_refuses(address: str, why: str) -> None:
    with pytest.raises(Refused) as caught:
        resolve_public(address, 443, ())
    assert f"{why};" in str(caught.value), str(caught.value)


def test_an_allow_listed_ipv4_network_does_not_open_its_6to4_twin() -> None:
    with pytest.raises(Refused):
        resolve_public("2002:7f00:1::1", 80, ("127.0.0.0/8",))
    assert [str(ip) for ip in resolve_public("2002:7f00:1::1", 80, ("2002::/16",))] == [
        "2002:7f00:1::1"
    ]


@pytest.mark.parametrize("address", ["2002:808:808::1", "2606:4700:4700::1111", "8.8.8.8"])
def test_public_addresses_pass(address: str) -> None:
    assert [str(ip) for ip in resolve_public(address, 443, ())] == [address]


def test_over_http_webhook_and_asset_urls(client: TestClient) -> None:
    url = "http://[2002:7f00:1::1]:8080/x"
    message, param = refusal(client.post("/v1/tasks", json={"input": timeline(),
                                                           "webhook_url": url}))  # fmt: skip
    assert message.startswith("webhook_url: host '2002:7f00:1::1' resolves to 2002:7f00:1::1, "
                              "a 6to4 address of 127.0.0.1, a loopback address")  # fmt: skip
    assert param == "webhook_url"
    message, param = refusal(
        client.post("/v1/tasks", json={"input": timeline("http://[fec0::1]/a.png")})
    )
    assert message.startswith("input.tracks[0].clips[0].asset.src: host 'fec0::1' resolves to")
    assert "a site-local address" in message and param == "input.tracks[0].clips[0].asset.src"
