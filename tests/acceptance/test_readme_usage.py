"""The README's "Using it" block, run as written against a real `vidtask serve`.

Only the placeholders change: ``vt_4f2…`` becomes the start of the submitted task's id,
``we_…`` the webhook endpoint the block adds, and ``https://example.com/hook`` a receiver on
loopback (this machine reaches no other). Every other word is the README's, so a command the
README shows that does not work fails here.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import time
from pathlib import Path

import av
import httpx
import pytest

from tests.acceptance.streaming import wait_until_streaming
from tests.integration.conftest import free_port
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def readme_block(heading: str) -> list[str]:
    """The command lines of the first ```bash block under ``heading``."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index(heading) :]
    block = section[section.index("```bash\n") + 8 :]
    block = block[: block.index("```")]
    return [line for line in block.splitlines() if line.strip()]


def test_the_using_it_block_runs_as_written(tmp_path: Path) -> None:
    lines = readme_block("## Using it")
    serve, rest = lines[0], lines[1:]
    assert shlex.split(serve, comments=True) == [".venv/bin/vidtask", "serve"]
    port = free_port()
    env = {
        **os.environ,
        "VIDTASK_DATA_DIR": str(tmp_path / "data"),
        "VIDTASK_PORT": str(port),
        "VIDTASK_URL": f"http://127.0.0.1:{port}",
        "VIDTASK_WORKERS": "2",
        # The README's plain form of a list setting (no JSON): a local webhook receiver.
        "VIDTASK_ASSET_ALLOW_NETWORKS": "127.0.0.0/8",
        "COLUMNS": "200",
    }
    env.pop("VIDTASK_API_KEY", None)
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(["bash", "-c", serve], cwd=ROOT, env=env, stdout=log, stderr=log)
    outputs: dict[str, str] = {}
    try:
        _wait_ready(env["VIDTASK_URL"], server)
        with Receiver() as receiver:
            names: dict[str, str] = {"https://example.com/hook": receiver.url}
            for line in rest:
                command = line
                for placeholder, value in names.items():
                    command = command.replace(placeholder, value)
                assert "…" not in command, f"unfilled placeholder in {line!r}"
                outputs[line] = _run(command, env, tmp_path)
                if " submit " in line:
                    task_id = re.search(r"(vt_[a-z0-9]{26})", outputs[line]).group(1)  # type: ignore[union-attr]
                    names["vt_4f2…"] = task_id[:9]
                if " webhooks add " in line:
                    names["we_…"] = re.search(r"created (we_\w+)", outputs[line]).group(1)  # type: ignore[union-attr]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
        log.close()

    by_command = {_command(line): out for line, out in outputs.items()}
    assert "done" in by_command["submit"] and "completed" in by_command["submit"]
    assert task_id in by_command["list"]
    status = json.loads(by_command["status"][by_command["status"].index("{") :])
    assert status["id"] == task_id and status["status"] == "completed"
    assert status["created_at"].endswith("Z") and len(status["created_at"]) == 24
    with av.open(str(tmp_path / "out.mp4")) as video:  # `download … -o out.mp4`, run in tmp_path
        assert video.streams.video[0].width == 1280
    assert "no active tasks; waiting for new ones" in by_command["watch"]  # the task finished
    assert "delivered (200)" in by_command["webhooks test"]
    assert (
        "webhook.test" in by_command["webhooks deliveries"]
        or "task.completed" in (by_command["webhooks deliveries"])
    )
    keys = by_command["keys create"]
    assert "Secret, shown once" in keys and re.search(r"^vtk_\S+$", keys, re.M)
    assert "first key" in keys and "keys adopt" in keys
    for line, out in outputs.items():
        assert "Traceback" not in out, f"{line}:\n{out}"


def _command(line: str) -> str:
    """``submit``, or ``webhooks add`` for the commands with subcommands."""
    words = shlex.split(line, comments=True)
    return " ".join(words[1:3]) if words[1] in ("webhooks", "keys") else words[1]


def _run(command: str, env: dict[str, str], cwd: Path) -> str:
    """One README line, run from a copy's point of view: the paths it names are the repo's."""
    words = shlex.split(command, comments=True)
    if words[1] == "watch":  # runs until Ctrl-C: let it draw, then stop it like a user
        proc = subprocess.Popen(
            ["bash", "-c", _in_repo(command)],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        with proc:  # its pipe is closed even when the wait fails
            try:
                wait_until_streaming(proc.pid, int(env["VIDTASK_PORT"]))
                time.sleep(1)  # the table is drawn
            finally:
                os.killpg(proc.pid, signal.SIGINT)
            out, _ = proc.communicate(timeout=30)
        return out.decode()
    done = subprocess.run(
        ["bash", "-c", _in_repo(command)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{command}\n{output}"
    return output


def _in_repo(command: str) -> str:
    """The README runs from the checkout; these run in a scratch folder (so `-o out.mp4` lands
    there), with the checkout's `.venv` and `examples/` named by absolute path."""
    return command.replace(".venv/", f"{ROOT}/.venv/").replace(" examples/", f" {ROOT}/examples/")


def _wait_ready(url: str, server: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        if server.poll() is not None:
            raise AssertionError("`vidtask serve` exited")
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError("`vidtask serve` never became ready")
