"""A real vidtask server and Debian's Chromium driven by Playwright, for the dashboard tests.

Chromium is the system's (``scripts/setup.sh test`` installs Debian's ``chromium``); Playwright
never downloads a browser. Screenshots of each page go to ``test-artifacts/dashboard/``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Dialog,
    Page,
    Playwright,
    sync_playwright,
)

from tests.integration.conftest import Server

PROJECT = Path(__file__).resolve().parents[2]
SHOTS = PROJECT / "test-artifacts" / "dashboard"


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Debian's chromium is missing: run scripts/setup.sh test")
        pytest.skip("no chromium on this machine (scripts/setup.sh test installs it)")
    return found


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            yield browser
        finally:
            browser.close()


def launch(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(
        executable_path=chromium_path(),
        # A video plays without a click, and no sandbox when run as root (CI containers).
        args=["--autoplay-policy=no-user-gesture-required", "--no-sandbox"],
    )


def create_key(data_dir: Path, name: str) -> str:
    """A key made with the CLI before the server starts, as an operator would."""
    data_dir.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "vidtask", "keys", "create", name],
        env={**os.environ, "VIDTASK_DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


def start_server(base: Path, *, keyed: bool) -> tuple[Server, list[str]]:
    """A server on a copy of the example assets; with ``keyed``, two API keys exist."""
    assets = base / "assets"
    shutil.copytree(PROJECT / "examples" / "assets", assets)
    data = base / "data"
    keys = [create_key(data, "alice"), create_key(data, "bob")] if keyed else []
    server = Server(
        data,
        assets,
        VIDTASK_SSE_HEARTBEAT_S="2",
        VIDTASK_ASSET_ALLOW_NETWORKS='["127.0.0.0/8"]',  # the webhook receiver is on loopback
    ).start()
    return server, keys


class Watched:
    """A page whose console errors, CSP violations and dialogs (an ``alert`` from injected
    markup would be one) are recorded for the test to assert on."""

    def __init__(self, page: Page, origin: str) -> None:
        self.page = page
        self.problems: list[str] = []
        #: (type, message) of each dialog: the page's own are `confirm`s; an `alert` is not.
        self.dialogs: list[tuple[str, str]] = []
        #: Requests to anywhere but the server: the page must work with the network cut off.
        self.outside: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("dialog", self._dialog)
        page.on("request", lambda r: self._request(r.url, origin))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" or "Content Security Policy" in message.text:
            self.problems.append(message.text)

    def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append((dialog.type, dialog.message))
        dialog.accept()

    def _request(self, url: str, origin: str) -> None:
        if not url.startswith((origin + "/", "data:", "blob:")):
            self.outside.append(url)

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
