"""The dashboard in a real browser (Debian's Chromium through Playwright) against a real server
with two API keys: sign in, submit a timeline and watch it render, play the video, cancel,
field-path errors, escaping, and one key never seeing another's tasks.

Every page is checked for Content-Security-Policy violations and script errors, and
screenshotted to ``test-artifacts/dashboard/``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.dashboard.browser import PROJECT, Watched, chromium, start_server
from tests.integration.conftest import Server
from tests.integration.timelines import long_render, tiny
from tests.simulators.catalogue import CATALOGUE, SHARED_KEY
from tests.simulators.fal import FalSimulator

pytestmark = pytest.mark.slow

XSS = "<img src=x onerror=alert(1)>"


def slow(video_s: float) -> dict[str, Any]:
    """`long_render` at 720p: several seconds of real rendering per ten seconds of video here."""
    timeline = long_render(video_s)
    timeline["output"].update(width=1280, height=720)
    return timeline


class Rig:
    def __init__(self, server: Server, keys: list[str], browser: Browser) -> None:
        self.server = server
        self.url = server.url
        self.alice, self.bob = keys
        self.browser = browser

    def api(self, key: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, timeout=30, headers={"Authorization": f"Bearer {key}"}
        )

    def submit(self, key: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.api(key) as client:
            response = client.post("/v1/tasks", json=body)
        assert response.status_code == 201, response.text
        task: dict[str, Any] = response.json()
        return task


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[Rig]:
    server, keys = start_server(tmp_path_factory.mktemp("dashboard"), keyed=True)
    try:
        yield Rig(server, keys, browser)
    finally:
        server.stop()


@pytest.fixture
def context(rig: Rig) -> Iterator[BrowserContext]:
    context = rig.browser.new_context(base_url=rig.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    yield context
    context.close()


def signed_in(rig: Rig, context: BrowserContext, key: str) -> Watched:
    """A page whose browser already holds ``key``, as after signing in once."""
    context.add_init_script(f"localStorage.setItem('vidtask.api_key', {json.dumps(key)})")
    return Watched(context.new_page(), rig.url)


def assert_clean(watched: Watched) -> None:
    """No CSP violation, no script error, no alert (injected markup's would be one), and no
    request left the server."""
    problems = [p for p in watched.problems if "Failed to load resource" not in p]
    assert problems == []
    assert [d for d in watched.dialogs if d[0] != "confirm"] == []
    assert watched.outside == []


def status_of(page: Page) -> str:
    return page.locator("#task-status .tag").inner_text().strip()


def test_sign_in_then_the_task_list_updates_live(rig: Rig, context: BrowserContext) -> None:
    watched = Watched(context.new_page(), rig.url)
    page = watched.page
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    watched.shot("sign-in")
    page.get_by_label("API key").fill("not-a-key")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("refused")

    page.get_by_label("API key").fill(rig.alice)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Tasks")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    # A task made elsewhere appears and finishes in the open list, with no reload.
    task = rig.submit(rig.alice, {"model": "timeline", "input": tiny()})
    row = page.locator(f"#task-{task['id']}")
    expect(row).to_be_visible()
    expect(row).to_have_attribute("data-status", "completed", timeout=60_000)
    expect(row.locator("img")).to_be_visible()
    watched.shot("tasks")
    assert_clean(watched)


def test_a_thousand_tasks_changing_at_once_are_drawn_in_batches(
    rig: Rig, context: BrowserContext
) -> None:
    """A thousand tasks made and cancelled in a burst: every row arrives and settles, drawn
    in far fewer frames than there were events."""
    watched = signed_in(rig, context, rig.alice)
    page = watched.page
    page.goto("/")
    expect(page.get_by_role("heading", name="Tasks")).to_be_visible()
    made = []
    with rig.api(rig.alice) as client:
        for _ in range(1000):
            made.append(client.post("/v1/tasks", json={"model": "timeline", "input": tiny()}))
        for response in made:
            client.post(f"/v1/tasks/{response.json()['id']}/cancel")
    settled = "#task-rows tr[data-status=cancelled], #task-rows tr[data-status=completed]"
    mine = {r.json()["id"] for r in made}
    page.wait_for_function(
        f"() => document.querySelectorAll({json.dumps(settled)}).length >= 1000",
        timeout=120_000,
    )
    shown = set(page.eval_on_selector_all("#task-rows tr", "rows => rows.map(r => r.id.slice(5))"))
    assert mine <= shown
    draws = int(page.locator("#task-rows").get_attribute("data-draws") or 0)
    assert 0 < draws < 1000, f"{draws} draws for 2,000 events: not batched per frame"
    assert_clean(watched)


def test_submit_a_timeline_watch_it_render_and_play_it(rig: Rig, context: BrowserContext) -> None:
    watched = signed_in(rig, context, rig.alice)
    page = watched.page
    page.goto("/#/new")
    page.get_by_label("JSON input").check()
    page.locator("#input-json").fill(json.dumps(slow(40), indent=2))
    expect(page.locator("#validation")).to_have_text("Valid for timeline.")
    watched.shot("new-task")
    page.get_by_role("button", name="Submit").click()
    page.wait_for_url("**/#/tasks/*")

    seen: list[float] = []
    previews_while_running = 0
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        status = status_of(page)
        if status == "completed":
            break
        if status == "in progress":
            seen.append(float(page.locator("#task-progress").inner_text().strip(" %")))
            previews_while_running = max(
                previews_while_running, page.locator("img.preview").count()
            )
        time.sleep(0.2)
    assert status_of(page) == "completed"
    moving = sorted(set(v for v in seen if 0 < v < 100))
    assert len(moving) >= 2, f"the progress bar never moved: {seen}"
    assert seen == sorted(seen), "progress went backwards"
    assert previews_while_running >= 1, "no preview frame appeared while it rendered"

    player = page.locator("#player")
    expect(player).to_be_visible()
    page.evaluate("document.getElementById('player').play()")
    page.wait_for_function(
        "() => document.getElementById('player').currentTime > 0.5", timeout=20_000
    )
    expect(page.locator("#metadata")).to_contain_text("width")
    assert page.locator("#events li").count() >= 3
    expect(page.locator("#dialect-view")).to_contain_text('"id"')
    page.get_by_label("Dialect").select_option("openai")
    expect(page.locator("#dialect-view")).to_contain_text('"object": "video"')
    watched.shot("task")
    assert_clean(watched)


def test_cancel_a_running_task(rig: Rig, context: BrowserContext) -> None:
    task = rig.submit(rig.alice, {"model": "timeline", "input": slow(300)})
    watched = signed_in(rig, context, rig.alice)
    page = watched.page
    page.goto(f"/#/tasks/{task['id']}")
    expect(page.locator("#task-status")).to_have_text("in progress", timeout=60_000)
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator("#task-status")).to_have_text("cancelled", timeout=60_000)

    page.get_by_role("button", name="Run again").click()  # the same input, a new task
    expect(page.locator("#task-title")).not_to_have_text(task["id"])
    again = page.locator("#task-title").inner_text()
    with rig.api(rig.alice) as client:
        assert client.get(f"/v1/tasks/{again}/input").json()["input"] == task_input(rig, task)
        client.post(f"/v1/tasks/{again}/cancel")

    page.goto(f"/#/tasks/{task['id']}")
    page.get_by_role("button", name="Delete").click()  # confirmed in the dialog
    page.wait_for_url(lambda url: url.endswith("#/"))
    with rig.api(rig.alice) as client:
        assert client.get(f"/v1/tasks/{task['id']}").status_code == 404
    assert ("confirm", f"Delete task {task['id']} and its files?") in watched.dialogs
    assert_clean(watched)


def task_input(rig: Rig, task: dict[str, Any]) -> Any:
    with rig.api(rig.alice) as client:
        return client.get(f"/v1/tasks/{task['id']}/input").json()["input"]


def test_a_bad_timeline_shows_the_servers_field_path(rig: Rig, context: BrowserContext) -> None:
    watched = signed_in(rig, context, rig.alice)
    page = watched.page
    page.goto("/#/new")
    page.get_by_label("JSON input").check()
    bad = tiny()
    bad["tracks"][0]["clips"][0]["length"] = -1
    page.locator("#input-json").fill(json.dumps(bad))
    expect(page.locator("#error-param")).to_have_text("input.tracks[0].clips[0].length")
    expect(page.locator("#input-json")).to_have_attribute("aria-invalid", "true")
    page.locator("#input-json").fill('{"tracks": [')
    expect(page.locator("#validation")).to_contain_text("not valid JSON")
    watched.shot("new-task-error")
    assert_clean(watched)


def test_start_from_an_example_and_upload_media(rig: Rig, context: BrowserContext) -> None:
    watched = signed_in(rig, context, rig.alice)
    page = watched.page
    page.goto("/#/new")
    expect(page.locator("#example option")).not_to_have_count(0)  # the page has loaded them
    options = page.locator("#example option").all_inner_texts()
    slides = next(o for o in options if "slides" in o.lower())
    page.get_by_label("Example").select_option(label=slides)
    expect(page.locator("#model")).to_have_value("slides")
    expect(page.locator("#validation")).to_have_text("Valid for slides.")
    page.get_by_label("File").set_input_files(str(PROJECT / "examples" / "assets" / "image.png"))
    expect(page.locator("#uploads")).to_contain_text("uploads/")
    path = page.locator("#uploads code").inner_text()
    with rig.api(rig.alice) as client:
        timeline = tiny()
        timeline["tracks"][0]["clips"][0]["asset"] = {"type": "image", "src": path}
        checked = client.post("/v1/tasks/validate", json={"input": timeline})
    assert checked.status_code == 200, checked.text
    assert_clean(watched)


def test_a_prompt_of_markup_stays_text(rig: Rig, context: BrowserContext) -> None:
    task = rig.submit(rig.alice, {"model": "slides", "input": {"prompt": XSS}})
    watched = signed_in(rig, context, rig.alice)
    page = watched.page
    page.goto(f"/#/tasks/{task['id']}")
    expect(page.locator("#task-input")).to_contain_text(XSS)
    page.get_by_label("Dialect").select_option("openai")
    expect(page.locator("#dialect-view")).to_contain_text(XSS)
    assert page.locator("img[src='x']").count() == 0
    assert_clean(watched)


def test_another_keys_task_is_not_visible(rig: Rig, context: BrowserContext) -> None:
    theirs = rig.submit(rig.bob, {"model": "timeline", "input": tiny("#aa0000")})
    mine = rig.submit(rig.alice, {"model": "timeline", "input": tiny("#00aa00")})
    watched = signed_in(rig, context, rig.alice)
    page = watched.page
    page.goto("/")
    expect(page.locator(f"#task-{mine['id']}")).to_be_visible()
    assert page.locator(f"#task-{theirs['id']}").count() == 0
    page.goto(f"/#/tasks/{theirs['id']}")
    expect(page.get_by_role("alert")).to_contain_text(theirs["id"])
    assert page.locator("#task-title").count() == 0


class Receiver(BaseHTTPRequestHandler):
    """A webhook endpoint on loopback that takes every delivery."""

    bodies: list[bytes] = []

    def do_POST(self) -> None:
        self.bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_webhook_endpoints_and_their_test_delivery(rig: Rig, context: BrowserContext) -> None:
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{receiver.server_port}/hook"
    try:
        watched = signed_in(rig, context, rig.alice)
        page = watched.page
        page.goto("/#/webhooks")
        page.get_by_label("URL").fill(url)
        page.get_by_role("button", name="Add endpoint").click()
        expect(page.locator("#endpoint-secret")).to_contain_text("whsec_")
        page.get_by_role("button", name=f"send a test event to {url}").click()
        expect(page.locator("#delivery-log")).to_contain_text("webhook.test")
        deadline = time.monotonic() + 30
        while not any(b"webhook.test" in b for b in Receiver.bodies):
            assert time.monotonic() < deadline, "the test event never arrived"
            time.sleep(0.1)
        page.reload()
        row = page.locator("#delivery-log tr", has_text="webhook.test")
        expect(row).to_contain_text("delivered")
        row.locator("button.link").click()  # its attempts
        expect(row.locator(".attempts")).to_contain_text("204")
        watched.shot("webhooks")
        assert_clean(watched)
    finally:
        receiver.shutdown()
        receiver.server_close()


def test_phone_width_has_no_sideways_scrolling(rig: Rig) -> None:
    """At a phone's width (and in the dark scheme, for the screenshots) nothing overflows."""
    context = rig.browser.new_context(
        base_url=rig.url, viewport={"width": 390, "height": 844}, color_scheme="dark"
    )
    try:
        rig.submit(rig.alice, {"model": "timeline", "input": tiny()})
        watched = signed_in(rig, context, rig.alice)
        page = watched.page
        for address, name in (("/", "tasks-phone"), ("/#/new", "new-task-phone")):
            page.goto(address)
            expect(page.locator("main h1")).to_be_visible()
            wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert wide <= 0, f"{address} scrolls sideways by {wide}px at phone width"
            watched.shot(name)
        assert_clean(watched)
    finally:
        context.close()


def test_keyboard_reaches_every_page(rig: Rig, context: BrowserContext) -> None:
    watched = signed_in(rig, context, rig.alice)
    page = watched.page
    page.goto("/")
    expect(page.get_by_role("heading", name="Tasks")).to_be_visible()
    for _ in range(3):  # brand, Tasks, New task
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="New task")).to_be_visible()
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea')]
             .filter(el => el.type !== 'hidden' && !el.labels?.length
                     && !el.getAttribute('aria-label'))
             .map(el => el.id || el.name)"""
    )
    assert unlabelled == []


def test_without_keys_on_loopback_it_opens_directly(tmp_path: Path, browser: Browser) -> None:
    server, _ = start_server(tmp_path, keyed=False)
    page = browser.new_page(base_url=server.url)
    try:
        watched = Watched(page, server.url)
        page.goto("/")
        expect(page.get_by_role("heading", name="Tasks")).to_be_visible()
        assert page.get_by_role("button", name="Sign out").count() == 0
        assert_clean(watched)
    finally:
        page.close()
        server.stop()


def test_a_relayed_task_shows_its_place_in_the_queue_and_the_providers_log(
    tmp_path: Path, browser: Browser
) -> None:
    """fal reports a queue position and log lines: the task page shows them as they change."""
    with FalSimulator(keys=[SHARED_KEY], queue_s=3, run_s=3) as fal:
        provider = {
            "name": "fal", "kind": "fal", "base_url": fal.base_url, "api_key_env": "DASH_FAL_KEY",
            "models": {"fal-video": CATALOGUE["fal"].model}, "poll_interval_s": 0.3,
        }  # fmt: skip
        (tmp_path / "assets").mkdir()
        server = Server(
            tmp_path / "data",
            tmp_path / "assets",
            VIDTASK_PROVIDERS=json.dumps([provider]),
            DASH_FAL_KEY=SHARED_KEY,
            VIDTASK_ASSET_ALLOW_NETWORKS="127.0.0.0/8",
        ).start()
        page = browser.new_page(base_url=server.url)
        try:
            watched = Watched(page, server.url)
            created = httpx.post(
                server.url + "/v1/tasks",
                json={"model": "fal-video", "input": {"prompt": "a lighthouse at dusk"}},
            ).json()
            page.goto(f"/#/tasks/{created['id']}")
            queue = page.locator("dt", has_text="Place in queue")
            expect(queue).to_be_visible(timeout=20_000)
            expect(page.locator("#upstream-logs")).to_contain_text("Generating", timeout=20_000)
            expect(page.locator("#task-status")).to_contain_text("completed", timeout=30_000)
            watched.shot("task-relayed")
            assert_clean(watched)
        finally:
            page.close()
            server.stop()
