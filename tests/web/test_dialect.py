"""A dialect is a value: its routes answer errors in its own shape, the framework's refusals
under its prefixes too, and its routes are matched only under its prefixes."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute, Match, Route
from starlette.types import Scope

from vidtask.core import errors
from vidtask.web import errors as web_errors
from vidtask.web import mount
from vidtask.web.dialect import Dialect, Dialects


def view_a(exc: errors.VidtaskError) -> tuple[int, dict[str, Any]]:
    return exc.http_status, {"a": exc.code}


def view_b(exc: errors.VidtaskError) -> tuple[int, dict[str, Any]]:
    return exc.http_status, {"b": exc.code}


A = Dialect(name="a", prefixes=("/a/",), error_view=view_a, tags=["a"])
B = Dialect(name="b", prefixes=("/b",), error_view=view_b, tags=["b"], challenge=False)


@A.router.get("/a/{number}")
async def a_get(number: int) -> dict[str, int]:
    if number == 0:
        raise errors.NotFound("no zero")
    if number == 401:
        raise errors.Unauthorized()
    if number == 500:
        raise RuntimeError("boom")
    return {"number": number}


@B.router.get("/b")
async def b_get() -> dict[str, str]:
    raise errors.Unauthorized()


def client() -> TestClient:
    dialects = Dialects((A, B), default=B)
    app = FastAPI()
    web_errors.install(app, dialects.shape_at)
    app.router.routes += [dialect.routes() for dialect in dialects.all]
    return TestClient(app, raise_server_exceptions=False)


def test_a_route_answers_errors_in_its_dialects_shape() -> None:
    with client() as c:
        assert c.get("/a/7").json() == {"number": 7}
        missing = c.get("/a/0")
        assert (missing.status_code, missing.json()) == (404, {"a": "not_found"})
        invalid = c.get("/a/seven")  # FastAPI's own validation
        assert (invalid.status_code, invalid.json()) == (400, {"a": "invalid_request"})
        crash = c.get("/a/500")
        assert (crash.status_code, crash.json()) == (500, {"a": "internal_error"})
        assert "boom" not in crash.text


def test_the_frameworks_refusals_under_a_prefix_are_in_that_dialects_shape() -> None:
    with client() as c:
        unknown = c.get("/a/1/more")
        assert (unknown.status_code, unknown.json()) == (404, {"a": "not_found"})
        method = c.post("/a/1")
        assert (method.status_code, method.json()) == (405, {"a": "invalid_request"})
        elsewhere = c.get("/nowhere")  # the default dialect's
        assert (elsewhere.status_code, elsewhere.json()) == (404, {"b": "not_found"})


def test_a_401_carries_the_bearer_challenge_unless_the_dialect_never_did() -> None:
    with client() as c:
        keyed = c.get("/a/401")
        assert keyed.status_code == 401 and keyed.headers["www-authenticate"] == "Bearer"
        bare = c.get("/b")
        assert bare.status_code == 401 and "www-authenticate" not in bare.headers


class Counting(Route):
    """A route that counts how often it is asked whether it matches."""

    asked = 0

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        Counting.asked += 1
        return super().matches(scope)


def test_a_group_matches_only_paths_under_its_prefixes() -> None:
    async def endpoint(_: Any) -> None: ...

    group = mount.RouteGroup(("/x/",), [Counting("/x/{id}", endpoint, methods=["GET"])])
    scope: dict[str, Any] = {"type": "http", "path": "/y/1", "method": "GET", "root_path": ""}
    assert group.matches(scope) == (Match.NONE, {})
    assert Counting.asked == 0  # turned away by the prefix, not by the route's expression
    match, child = group.matches({**scope, "path": "/x/1"})
    assert match is Match.FULL and child["path_params"] == {"id": "1"}
    match, _ = group.matches({**scope, "path": "/x/1", "method": "POST"})
    assert match is Match.PARTIAL
    assert group.url_path_for("endpoint", id="9") == "/x/9"


def test_openapi_lists_the_routes_inside_groups() -> None:
    routes: list[BaseRoute] = [A.routes(), B.routes()]
    assert [getattr(r, "path", None) for r in mount.flatten(routes)] == ["/a/{number}", "/b"]
