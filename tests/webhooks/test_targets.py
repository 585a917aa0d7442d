"""Webhook targets: public http(s) URLs only, checked by the SSRF guard, errors naming the
field; the same answers as the asset check gives a URL (`render.assets.check_source`)."""

from __future__ import annotations

import pytest

from vidtask.core import errors
from vidtask.render.assets import AssetPolicy, check_source
from vidtask.webhooks import targets


def refusal(url: str, allow_networks: tuple[str, ...] = ()) -> errors.InvalidRequest:
    with pytest.raises(errors.InvalidRequest) as info:
        targets.check_url(url, allow_networks, param="webhook_url")
    assert info.value.param == "webhook_url"
    return info.value


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("image.png", "webhook_url: scheme '' is not supported; use http or https"),
        ("ftp://example.com/hook", "scheme 'ftp' is not supported"),
        ("http:///hook", "the URL has no host"),
        ("http://127.0.0.1:8080/hook", "resolves to 127.0.0.1, a loopback address"),
        ("http://169.254.169.254/latest/meta-data/", "a link-local address"),
        ("https://10.1.2.3/hook", "resolves to 10.1.2.3, a private address"),
    ],
)
def test_refused(url: str, why: str) -> None:
    assert why in refusal(url).message


@pytest.mark.parametrize(
    "url", ["image.png", "http://127.0.0.1:9/hook", "https://10.1.2.3/hook", "http://[::1]/h"]
)
def test_same_answer_as_the_asset_check(url: str) -> None:
    with pytest.raises(errors.InvalidRequest) as asset:
        check_source(url, AssetPolicy(), param="webhook_url", allow_local=False)
    assert refusal(url).message == asset.value.message


def test_allow_listed_network() -> None:
    targets.check_url("http://127.0.0.1:9/hook", ("127.0.0.0/8",), param="url")
