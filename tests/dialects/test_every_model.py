"""Every model name `GET /v1/models` lists (plus a pattern alias and an unknown name) through
every create path of every dialect, against a live server with real workers.

A shipped bug (New API answered `sora-2` with `input.output: unknown field`) got through because
no test sent every model name to every dialect. A relayed model of each upstream kind
(`RELAYED`: every kind in `tests.simulators.catalogue`, each served by its simulator on loopback)
goes the same way: its tasks complete with the provider's video kept. `EXPECTED` says, for each create path and each
kind of model the name resolves to, whether the request must be accepted (then the task must
complete, and carry a warning exactly when the name is an alias of the `slides` template model)
or refused with a 400 in that dialect's error shape, naming the field and the reason.

Everything is submitted first and followed afterwards, so the renders overlap.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx
import pytest

from tests.integration.conftest import Server
from tests.mcp_server.conftest import PROJECT, http_client, new_key, text
from tests.simulators.base import Simulator
from tests.simulators.catalogue import CATALOGUE, SHARED_KEY

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

#: A relayed model per upstream kind: model name -> (kind, simulator, the provider's model).
RELAYED: dict[str, tuple[str, type[Simulator], str]] = {
    entry.served_as: (kind, entry.simulator, entry.model) for kind, entry in CATALOGUE.items()
}
#: What a relayed model name resolves to, for `EXPECTED`.
RELAY = "relayed"
SLIDES_ALIASES = ("sora-2", "sora-2-pro", "sora-2-*", "doubao-seedance-*", "doubao-seaweed-*")
#: What `GET /v1/models` lists, in its order: local models, relayed models, served aliases.
LISTED = ("timeline", "slides", *RELAYED, *SLIDES_ALIASES)
PATTERN_INSTANCE = "doubao-seedance-1-0-pro-250528"
UNKNOWN = "no-such-model"
MODELS = (*LISTED, PATTERN_INSTANCE, UNKNOWN)

#: The local model each name must resolve to (None: refused as unknown).
SERVED_BY: dict[str, str | None] = {
    "timeline": "timeline",
    "slides": "slides",
    **{name: name for name in RELAYED},
    **dict.fromkeys((*SLIDES_ALIASES, PATTERN_INSTANCE), "slides"),
    UNKNOWN: None,
}

#: Seconds a task may go without any task of the module finishing before the wait gives up.
IDLE_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Refuse:
    """A 400 whose ``param`` is ``field`` and whose message starts with ``field:`` and says
    ``reason``."""

    field: str
    reason: str


ACCEPT = "accept"
Outcome = str | Refuse
UNKNOWN_MODEL = Refuse("model", "unknown model 'no-such-model'")

#: Create path -> (what the name resolves to -> what must happen).
EXPECTED: dict[str, dict[str | None, Outcome]] = {
    # The native input goes to the model as is: a slides input is no timeline, and back.
    "native-prompt": {
        "slides": ACCEPT,
        "timeline": Refuse("input.prompt", "unknown field"),
        RELAY: Refuse("input.fps", "unknown field"),
        None: UNKNOWN_MODEL,
    },
    "native-timeline": {
        "slides": Refuse("input.output", "unknown field"),
        "timeline": ACCEPT,
        RELAY: Refuse("input.output", "unknown field"),
        None: UNKNOWN_MODEL,
    },
    # Prompt-style dialects: slides makes cards, timeline a title card, a provider a video.
    "newapi-prompt": {"slides": ACCEPT, "timeline": ACCEPT, RELAY: ACCEPT, None: UNKNOWN_MODEL},
    "newapi-timeline": {
        "slides": Refuse("timeline", "takes a prompt, not a timeline"),
        "timeline": ACCEPT,
        RELAY: Refuse("timeline", "takes a prompt, not a timeline"),
        None: UNKNOWN_MODEL,
    },
    "openai": {"slides": ACCEPT, "timeline": ACCEPT, RELAY: ACCEPT, None: UNKNOWN_MODEL},
    "ark": {"slides": ACCEPT, "timeline": ACCEPT, RELAY: ACCEPT, None: UNKNOWN_MODEL},
    "scenext": {"slides": ACCEPT, "timeline": ACCEPT, RELAY: ACCEPT, None: UNKNOWN_MODEL},
    "mcp-prompt": {"slides": ACCEPT, "timeline": ACCEPT, RELAY: ACCEPT, None: UNKNOWN_MODEL},
    "mcp-timeline": {
        "slides": Refuse("model", "does not take a timeline"),
        "timeline": ACCEPT,
        RELAY: Refuse("model", "does not take a timeline"),
        None: UNKNOWN_MODEL,
    },
}
ROUTES = tuple(EXPECTED)
HTTP_ROUTES = tuple(r for r in ROUTES if not r.startswith("mcp-"))
MCP_ROUTES = tuple(r for r in ROUTES if r.startswith("mcp-"))

RELAY_KEY = SHARED_KEY
PROMPT = "Every model\n\nThrough every dialect."


def timeline() -> dict[str, Any]:
    return {
        "output": {"width": 320, "height": 180, "fps": 10},
        "tracks": [
            {"clips": [{"asset": {"type": "color", "color": "#336699"}, "start": 0, "length": 1}]}
        ],
    }


def seconds(model: str) -> int:
    """1 s keeps the local renders short; Seedance's shortest video is 2 s."""
    return 2 if model in RELAYED else 1


def slides_input() -> dict[str, Any]:
    return {"prompt": PROMPT, "width": 320, "height": 180, "fps": 10, "seconds": 1}


#: route -> (path, body for a model name).
REQUESTS: dict[str, tuple[str, Callable[[str], dict[str, Any]]]] = {
    "native-prompt": ("/v1/tasks", lambda m: {"model": m, "input": slides_input()}),
    "native-timeline": ("/v1/tasks", lambda m: {"model": m, "input": timeline()}),
    "newapi-prompt": (
        "/v1/video/generations",
        lambda m: {
            "model": m,
            "prompt": PROMPT,
            "width": 320,
            "height": 180,
            "duration": seconds(m),
        },
    ),
    "newapi-timeline": ("/v1/video/generations", lambda m: {"model": m, "timeline": timeline()}),
    "openai": (
        "/v1/videos",
        lambda m: {"model": m, "prompt": PROMPT, "size": "320x180", "seconds": str(seconds(m))},
    ),
    "ark": (
        "/api/v3/contents/generations/tasks",
        lambda m: {
            "model": m,
            "content": [{"type": "text", "text": f"{PROMPT} --rs 480p --dur {seconds(m)}"}],
        },
    ),
    "scenext": (
        "/api/gen_video",
        lambda m: {"model": m, "question": "Every model?", "answer": "Yes.", "quality": "l"},
    ),
}
MCP_ARGUMENTS: dict[str, Callable[[str], dict[str, Any]]] = {
    "mcp-prompt": lambda m: {
        "model": m,
        "prompt": PROMPT,
        "width": 320,
        "height": 180,
        "seconds": seconds(m),
    },
    "mcp-timeline": lambda m: {"model": m, "timeline": timeline()},
}


def created_id(route: str, body: dict[str, Any]) -> str:
    if route.startswith("newapi-"):
        return str(body["task_id"])
    if route == "scenext":
        return str(body["data"]["task_id"])
    return str(body["id"])


@dataclass
class Run:
    """One (model, route): the create answer, then the task as followed."""

    model: str
    route: str
    request: Any
    status: int | None = None  # HTTP status; None for MCP
    answer: Any = None  # the JSON body, or the MCP tool result (structured or error text)
    is_error: bool = False  # MCP only
    task_id: str | None = None
    task: dict[str, Any] | None = None  # native GET after the wait
    views: dict[str, Any] = field(default_factory=dict)  # dialect views after the wait


@dataclass
class World:
    runs: dict[tuple[str, str], Run]
    models: dict[str, Any]


def create_http(client: httpx.Client, model: str, route: str) -> Run:
    path, make = REQUESTS[route]
    body = make(model)
    run = Run(model, route, {"POST": path, "json": body})
    response = client.post(path, json=body)
    run.status = response.status_code
    try:
        run.answer = response.json()
    except ValueError:
        run.answer = response.text
    if 200 <= response.status_code < 300 and isinstance(run.answer, dict):
        run.task_id = created_id(route, run.answer)
    return run


async def create_mcp(url: str, headers: dict[str, str]) -> list[Run]:
    runs = []
    async with http_client(url, headers) as client:
        for route in MCP_ROUTES:
            for model in MODELS:
                arguments = MCP_ARGUMENTS[route](model)
                run = Run(model, route, {"tool": "generate_video", "arguments": arguments})
                try:
                    result = await client.call_tool("generate_video", arguments)
                except Exception as exc:  # a protocol error: recorded, reported by its test
                    run.is_error, run.answer = True, f"protocol error: {exc!r}"
                    runs.append(run)
                    continue
                run.is_error = bool(result.is_error)
                if run.is_error:
                    run.answer = text(result)
                else:
                    run.answer = result.structured_content
                    run.task_id = str(result.structured_content["task_id"])
                runs.append(run)
    return runs


async def query_mcp(url: str, headers: dict[str, str], runs: list[Run]) -> None:
    async with http_client(url, headers) as client:
        for run in runs:
            result = await client.call_tool("query_video_status", {"task_id": run.task_id})
            run.views["mcp"] = text(result) if result.is_error else result.structured_content


def wait_all(client: httpx.Client, runs: list[Run]) -> None:
    """Poll the native view of every accepted task until all are terminal, or until none has
    finished for `IDLE_TIMEOUT_S`."""
    pending = {run.task_id: run for run in runs if run.task_id}
    last_change = time.monotonic()
    while pending and time.monotonic() - last_change < IDLE_TIMEOUT_S:
        for task_id, run in list(pending.items()):
            task = client.get(f"/v1/tasks/{task_id}").json()
            run.task = task
            if task.get("status") in ("completed", "failed", "cancelled"):
                del pending[task_id]
                last_change = time.monotonic()
        time.sleep(0.5)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    base = tmp_path_factory.mktemp("every-model")
    assets = base / "assets"
    shutil.copytree(PROJECT / "examples" / "assets", assets)
    data = base / "data"
    headers = {"Authorization": f"Bearer {new_key(data, 'every-model')}"}
    simulators: list[Simulator] = []
    providers = []
    for name, (kind, make, upstream_model) in RELAYED.items():
        simulators.append(make(keys=[RELAY_KEY], queue_s=0.1, run_s=0.5).start())
        providers.append(
            {
                "name": kind.replace("_", "-"),
                "kind": kind,
                "base_url": simulators[-1].base_url,
                "api_key_env": "EVERY_MODEL_RELAY_KEY",
                "models": {name: upstream_model},
                "poll_interval_s": 0.5,
            }
        )
    server = Server(
        data,
        assets,
        VIDTASK_PROVIDERS=json.dumps(providers),
        EVERY_MODEL_RELAY_KEY=RELAY_KEY,
        VIDTASK_ASSET_ALLOW_NETWORKS="127.0.0.0/8",
    )
    try:
        server.start()
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as client:
            models = client.get("/v1/models").json()
            runs = [create_http(client, m, r) for r in HTTP_ROUTES for m in MODELS]
            mcp_runs = anyio.run(create_mcp, server.url, headers)
            runs += mcp_runs
            wait_all(client, runs)
            for run in runs:
                if run.task_id and run.route.startswith("newapi-"):
                    got = client.get(f"/v1/video/generations/{run.task_id}")
                    run.views["newapi"] = got.json()
            anyio.run(query_mcp, server.url, headers, [r for r in mcp_runs if r.task_id])
        yield World({(r.model, r.route): r for r in runs}, models)
    finally:
        server.stop()
        for running in simulators:
            running.stop()


def test_the_table_covers_every_listed_model(world: World) -> None:
    listed = [m["id"] for m in world.models["data"]]
    assert listed == list(LISTED), "GET /v1/models changed: update LISTED and SERVED_BY"
    for entry in world.models["data"]:
        assert entry.get("alias_of", entry["id"]) == SERVED_BY[entry["id"]], entry


def describe(run: Run) -> str:
    shown = {"request": run.request, "status": run.status, "answer": run.answer}
    if run.task is not None:
        shown["task"] = run.task
    if run.views:
        shown["views"] = run.views
    return repr(shown)


def check_refused(run: Run, expected: Refuse) -> None:
    why = describe(run)
    if run.route.startswith("mcp-"):
        assert run.is_error, f"accepted, should be refused naming {expected.field}: {why}"
        message = str(run.answer)
        assert message.startswith(f"invalid_request: {expected.field}: "), why
        assert expected.reason in message, why
        assert f"Fix `{expected.field}`" in message, why
        return
    assert run.status == 400, f"should be 400 naming {expected.field}: {why}"
    body = run.answer
    assert isinstance(body, dict), why
    if run.route == "scenext":
        assert set(body) == {"status", "message", "code", "param"}, why
        assert body["status"] == "error", why
        error = body
    else:
        assert set(body) == {"error"}, why
        error = body["error"]
        keys = {"code", "message", "param"} | (
            {"type"} if not run.route.startswith("native-") else set()
        )
        assert set(error) == keys, why
        if run.route == "ark":
            assert (error["code"], error["type"]) == ("InvalidParameter", "BadRequest"), why
        elif run.route in ("openai", "newapi-prompt", "newapi-timeline"):
            assert error["type"] == "invalid_request_error", why
    if run.route != "ark":
        assert error["code"] == "invalid_request", why
    assert error["param"] == expected.field, why
    assert error["message"].startswith(f"{expected.field}: "), why
    assert expected.reason in error["message"], why


def check_accepted(run: Run) -> None:
    why = describe(run)
    if run.route.startswith("mcp-"):
        assert not run.is_error, f"refused, should be accepted: {why}"
    else:
        assert run.status is not None and 200 <= run.status < 300, f"should be accepted: {why}"
    assert run.task_id, why
    assert run.task is not None and run.task.get("status") == "completed", (
        f"accepted but did not complete: {why}"
    )
    served = SERVED_BY[run.model]
    assert run.task["model"] == served, why
    problems = warning_problems(run, alias=run.model != served)
    assert not problems, "; ".join(problems) + f": {why}"


def warning_problems(run: Run, *, alias: bool) -> list[str]:
    """What is wrong with the warnings of a completed task, in every view that has them: one
    naming the requested model and `slides` exactly when the model is an alias of it."""
    assert run.task is not None
    problems = []

    def check(where: str, warnings: Any) -> None:
        if not isinstance(warnings, list):
            problems.append(f"{where}: no warnings list ({warnings!r})")
        elif bool(warnings) != alias:
            problems.append(
                f"{where}: warnings {warnings!r}, expected {'some' if alias else 'none'}"
            )
        elif len(set(warnings)) != len(warnings):
            problems.append(f"{where}: a warning is repeated ({len(warnings)} warnings)")
        elif alias and not any(repr(run.model) in w and "'slides'" in w for w in warnings):
            problems.append(f"{where}: no warning names {run.model!r} and 'slides'")

    if run.route.startswith("native-"):
        check("native create answer", run.answer.get("warnings"))
    check("native GET warnings", run.task["warnings"])
    check("native GET result.warnings", (run.task["result"] or {}).get("warnings"))
    # The dialect's own view shows the warning where it has a place for it.
    if run.route.startswith("newapi-"):
        check("New API create answer", run.answer.get("warnings", []))
        view = run.views["newapi"]
        if view.get("status") != "completed" or not view.get("url"):
            problems.append(f"New API GET: not completed ({view!r})")
        check("New API GET", view.get("warnings", []))
    if run.route.startswith("mcp-"):
        check("MCP generate_video answer", run.answer.get("warnings"))
        view = run.views["mcp"]
        if not isinstance(view, dict) or view.get("status") != "completed":
            problems.append(f"MCP query_video_status: not completed ({view!r})")
        else:
            check("MCP query_video_status", view.get("warnings"))
    return problems


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("model", MODELS)
def test_create(world: World, model: str, route: str) -> None:
    run = world.runs[(model, route)]
    if run.status is not None:
        assert run.status < 500, f"server error: {describe(run)}"
    served = SERVED_BY[model]
    expected = EXPECTED[route][RELAY if served in RELAYED else served]
    if isinstance(expected, Refuse):
        check_refused(run, expected)
    else:
        check_accepted(run)
