"""What a new user meets in the first hour after the demo: each expected failure is one clear
line (never a traceback), keys switch the server to keyed mode with a message and a way to
keep the earlier tasks, and the CLI sends local files along with a timeline."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import Server, free_port
from tests.integration.timelines import tiny

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def vidtask(
    *args: str, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vidtask", *args],
        env={**os.environ, "COLUMNS": "200", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    """The error a command printed, checked to be a short message and not a traceback."""
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "Traceback" not in output, output
    assert output.startswith("error: ") and len(output.splitlines()) <= 3, output
    return output


def test_the_cli_says_when_nothing_answers() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    for args in (["list"], ["status", "vt_x"], ["wait", "vt_x"], ["watch"]):
        message = one_line_error(vidtask(*args, "--url", url, env={}))
        assert f"nothing answers at {url}" in message and "vidtask serve" in message


def test_bad_settings_name_the_variable(tmp_path: Path) -> None:
    env = {"VIDTASK_DATA_DIR": str(tmp_path)}
    message = one_line_error(vidtask("doctor", env={**env, "VIDTASK_ASSET_ROOTS": "[/srv"}))
    assert "VIDTASK_ASSET_ROOTS" in message and "JSON list or paths separated by ':'" in message
    message = one_line_error(vidtask("serve", env={**env, "VIDTASK_MODEL_ALIASES": "sora"}))
    assert "VIDTASK_MODEL_ALIASES: not valid JSON" in message
    message = one_line_error(vidtask("serve", env={**env, "VIDTASK_PORT": "eighty"}))
    assert "VIDTASK_PORT" in message


def test_a_second_server_or_demo_on_one_data_directory_stops_at_once(
    tmp_path: Path, asset_root: Path
) -> None:
    server = Server(tmp_path / "data", asset_root).start()
    try:
        pid = server.proc.pid if server.proc else 0
        for args in (["serve", "--port", str(free_port())], ["demo"]):
            started = time.monotonic()
            done = vidtask(*args, env={"VIDTASK_DATA_DIR": str(server.data_dir)}, timeout=60)
            message = one_line_error(done)
            assert f"another vidtask server is running on {server.data_dir} (pid {pid})" in message
            assert time.monotonic() - started < 20  # no 60 s wait for a server that never starts
    finally:
        server.stop()


def test_first_key_says_what_changes_and_adopt_keeps_the_earlier_tasks(
    tmp_path: Path, asset_root: Path
) -> None:
    server = Server(tmp_path / "data", asset_root).start()
    env = {"VIDTASK_DATA_DIR": str(server.data_dir), "VIDTASK_URL": server.url}
    try:
        job = tmp_path / "job.json"
        job.write_text(json.dumps(tiny()))
        first = vidtask("submit", str(job), "--json", env=env)
        assert first.returncode == 0, first.stderr
        task_id = json.loads(first.stdout)["id"]

        created = vidtask("keys", "create", "app", env=env)
        assert created.returncode == 0, created.stderr
        secret = created.stdout.strip()
        assert re.fullmatch(r"vtk_\S+", secret)  # stdout is the secret alone, for scripts
        assert "first key" in created.stderr and "VIDTASK_API_KEY" in created.stderr
        key_id = re.search(r"keys adopt (key_\w+)", created.stderr).group(1)  # type: ignore[union-attr]
        assert "1 task(s) made without a key" in created.stderr

        time.sleep(2.5)  # the server notices the first key within its cache time
        refused = one_line_error(vidtask("list", env=env))
        assert "VIDTASK_API_KEY" in refused
        keyed = {**env, "VIDTASK_API_KEY": secret}
        assert task_id not in vidtask("list", env=keyed).stdout
        webhook = one_line_error(vidtask("webhooks", "add", "http://127.0.0.1:9/h", env=keyed))
        assert "VIDTASK_ASSET_ALLOW_NETWORKS" in webhook  # the setting a local receiver needs

        adopted = vidtask("keys", "adopt", key_id, env=env)
        assert (
            adopted.returncode == 0
            and f"1 task(s) made without a key now belong to {key_id}" in (adopted.stderr)
        )
        listed = vidtask("list", env={**keyed, "COLUMNS": "80"})
        assert task_id in listed.stdout  # never cut short, even on a narrow terminal
        status = vidtask("status", task_id[:8], "--json", env=keyed)
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["id"] == task_id

        second = vidtask("keys", "create", "other", "--adopt", env=env)
        assert second.returncode == 0 and "first key" not in second.stderr
        assert "0 task(s) made without a key now belong to" in second.stderr
        missing = one_line_error(vidtask("keys", "adopt", "key_nope", env=env))
        assert "no active key key_nope" in missing
    finally:
        server.stop()


def test_submit_uploads_the_files_a_timeline_names(tmp_path: Path) -> None:
    # The server's asset root is empty: the image only exists beside the JSON file.
    server = Server(tmp_path / "data", tmp_path / "server-assets").start()
    try:
        folder = tmp_path / "project"
        (folder / "media").mkdir(parents=True)
        (folder / "media" / "red.png").write_bytes(
            (ROOT / "examples/assets/image.png").read_bytes()
        )
        timeline = tiny()
        timeline["tracks"][0]["clips"][0]["asset"] = {"type": "image", "src": "media/red.png"}
        job = folder / "job.json"
        job.write_text(json.dumps(timeline))
        env = {"VIDTASK_URL": server.url}

        kept = vidtask("submit", str(job), "--no-upload", env=env)
        message = one_line_error(kept)
        assert "media/red.png" in message and "does not exist" in message

        done = vidtask("submit", str(job), "--wait", "--json", env=env)  # from another cwd
        assert done.returncode == 0, done.stderr
        task = json.loads(done.stdout)
        assert task["status"] == "completed"
        uploaded = list((tmp_path / "server-assets" / "uploads").iterdir())
        assert len(uploaded) == 1 and uploaded[0].suffix == ".png"
    finally:
        server.stop()


def test_uploads_refuse_bad_names_empty_and_oversized_bodies(
    tmp_path: Path, asset_root: Path
) -> None:
    server = Server(tmp_path / "data", asset_root, VIDTASK_MAX_ASSET_BYTES="1000").start()
    try:
        with httpx.Client(base_url=server.url) as client:
            ok = client.post("/v1/uploads", params={"filename": "a.SRT"}, content=b"1\n")
            assert ok.status_code == 201 and ok.json()["path"].endswith(".srt")
            for params, body, status, param in (
                ({"filename": "clip.mp 4"}, b"x", 400, "filename"),
                ({"filename": "x.png"}, b"", 400, "body"),
                ({"filename": "x.png"}, b"x" * 1001, 413, "body"),
            ):
                answer = client.post("/v1/uploads", params=params, content=body)
                assert answer.status_code == status, answer.text
                assert answer.json()["error"]["param"] == param
    finally:
        server.stop()


def test_serve_logs_readable_lines_on_a_terminal_and_json_otherwise(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "VIDTASK_DATA_DIR": str(tmp_path / "data"),
        "VIDTASK_PORT": str(free_port()),
        "VIDTASK_WORKERS": "0",
    }
    env.pop("VIDTASK_LOG_FORMAT", None)
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "vidtask", "serve"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=secondary,
        stderr=secondary,
    )
    os.close(secondary)
    seen = b""
    try:
        deadline = time.monotonic() + 60
        while b"vidtask ready" not in seen and time.monotonic() < deadline:
            if select.select([primary], [], [], 1)[0]:
                seen += os.read(primary, 4096)
    finally:
        proc.terminate()
        proc.wait(30)
        os.close(primary)
    line = next(x for x in seen.decode().splitlines() if "vidtask ready" in x)
    assert not line.lstrip().startswith("{") and "INFO" in line

    env["VIDTASK_PORT"] = str(free_port())
    with subprocess.Popen(
        [sys.executable, "-m", "vidtask", "serve"], env=env, stderr=subprocess.PIPE, text=True
    ) as piped:
        assert piped.stderr is not None
        first = piped.stderr.readline()
        piped.terminate()
    assert json.loads(first)["message"]


def test_flags_show_as_flags_in_help() -> None:
    done = vidtask("submit", "--help", env={})
    assert done.returncode == 0
    assert re.search(r"--wait\s+Show progress", done.stdout), done.stdout
    assert "<bool>" not in done.stdout
