"""Bad requests to the event and long-poll routes get clear errors, not streams."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.conftest import color_timeline


def test_unknown_task_stream_is_a_404(client: TestClient) -> None:
    response = client.get("/v1/tasks/vt_nope/events")
    assert response.status_code == 404
    assert response.json()["error"]["param"] == "task_id"


def test_bad_last_event_id_names_the_header(client: TestClient) -> None:
    task = client.post("/v1/tasks", json={"input": color_timeline()}).json()
    response = client.get(f"/v1/tasks/{task['id']}/events", headers={"Last-Event-ID": "x"})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "Last-Event-ID"
    response = client.get("/v1/events", headers={"Last-Event-ID": "-3"})
    assert response.status_code == 400


def test_long_poll_parameters_are_checked(client: TestClient) -> None:
    task = client.post("/v1/tasks", json={"input": color_timeline()}).json()
    cases: tuple[tuple[dict[str, str | int], str], ...] = (
        ({"wait": "soon"}, "wait"),
        ({"wait": 1, "version": "v2"}, "version"),
    )
    for params, name in cases:
        response = client.get(f"/v1/tasks/{task['id']}", params=params)
        assert response.status_code == 400
        assert response.json()["error"]["param"] == name
    # a version already behind answers at once with the task
    fresh = client.get(f"/v1/tasks/{task['id']}", params={"wait": 30, "version": 0})
    assert fresh.status_code == 200 and fresh.json()["version"] == task["version"]


def test_webhook_routes_need_an_existing_endpoint(client: TestClient) -> None:
    assert client.get("/v1/webhooks/we_missing").status_code == 404
    assert client.post("/v1/webhooks/we_missing/test").status_code == 404
    assert client.get("/v1/webhooks/deliveries/msg_missing").status_code == 404
    assert client.post("/v1/webhooks/deliveries/msg_missing/resend").status_code == 404
    assert client.get("/v1/webhooks").json() == {"object": "list", "data": []}
