"""``vidtask doctor``: checks what a server or worker needs and says exactly what is wrong.

Each check returns a `Check`; none raises. The CLI prints them and exits 1 if one failed.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import imageio_ffmpeg
import psycopg

from vidtask.core import errors
from vidtask.render import fonts, narration
from vidtask.settings import Settings
from vidtask.storage import open_artifacts, space
from vidtask.store import migrate

__all__ = ["Check", "run_checks"]

#: Text in each script captions must render (Latin, Chinese, Japanese, Korean).
FONT_SAMPLES = {
    "Latin": "Hello",
    "Chinese": "你好世界",
    "Japanese": "こんにちは",
    "Korean": "안녕하세요",
}


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str
    #: A problem that does not stop vidtask from working (shown, but not a failure).
    warning: bool = False


def run_checks(settings: Settings) -> list[Check]:
    checks: list[Callable[[Settings], Iterator[Check]]] = [
        _store,
        _ffmpeg,
        _fonts,
        _espeak,
        _storage,
    ]
    found: list[Check] = []
    for check in checks:
        try:
            found += list(check(settings))
        except Exception as exc:  # a check must report, never crash the report
            found.append(Check(check.__name__.strip("_"), False, f"check crashed: {exc!r}"))
    return found


def _store(settings: Settings) -> Iterator[Check]:
    url = settings.postgres_url
    if url is None:
        path = settings.database_path
        yield Check("store", True, f"SQLite file {path} (embedded mode; migrates on start)")
        return
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            version = conn.execute("SHOW server_version").fetchone()
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[-1]
        yield Check("store", False, f"cannot connect to PostgreSQL: {reason}")
        return
    yield Check("store", True, f"PostgreSQL {version[0] if version else '?'} (cluster mode)")
    missing = migrate.pending(url)
    if missing:
        yield Check(
            "migrations",
            False,
            f"not applied: {', '.join(missing)}; run `vidtask db upgrade`",
        )
        return
    yield Check("migrations", True, "up to date")
    with psycopg.connect(url, connect_timeout=5) as conn:
        row = conn.execute(
            "SELECT COUNT(*) FROM procrastinate_workers"
            " WHERE last_heartbeat > NOW() - INTERVAL '30 seconds'"
        ).fetchone()
        queued = conn.execute(
            "SELECT COUNT(*), COALESCE(MIN(updated_at), 0) FROM tasks WHERE status = 'queued'"
        ).fetchone()
    workers = int(row[0]) if row else 0
    waiting, oldest = (int(queued[0]), float(queued[1])) if queued else (0, 0.0)
    detail = f"{workers} alive (heartbeat within 30 s); {waiting} task(s) queued"
    if waiting:
        detail += f", the oldest for {time.time() - oldest:.0f} s"
    if workers == 0:
        detail += "; start some with `vidtask worker`"
    yield Check("workers", workers > 0, detail, warning=workers == 0)


def _ffmpeg(settings: Settings) -> Iterator[Check]:
    try:
        exe = imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError as exc:
        yield Check("ffmpeg", False, f"no ffmpeg binary: {exc}; reinstall imageio-ffmpeg")
        return
    done = subprocess.run(
        [exe, "-hide_banner", "-encoders"], capture_output=True, text=True, timeout=30
    )
    missing = [name for name in ("libx264", "aac", "libvpx-vp9") if name not in done.stdout]
    if done.returncode != 0 or missing:
        what = ", ".join(missing) or f"exit status {done.returncode}"
        yield Check("ffmpeg", False, f"{exe} lacks {what}")
        return
    version = subprocess.run([exe, "-version"], capture_output=True, text=True, timeout=30)
    first = version.stdout.split(" Copyright")[0] if version.stdout else exe
    yield Check("ffmpeg", True, first)


def _fonts(settings: Settings) -> Iterator[Check]:
    for script, sample in FONT_SAMPLES.items():
        try:
            face = fonts.choose_font(sample, explicit=settings.font_path)
        except errors.VidtaskError as exc:
            yield Check(f"font ({script})", False, exc.message)
        else:
            yield Check(f"font ({script})", True, f"{face.path.name} face {face.index}")


def _espeak(settings: Settings) -> Iterator[Check]:
    program = narration.synthesizer()
    if program is None:
        yield Check(
            "espeak-ng",
            False,
            "not installed: videos of the slides model will be silent; install it with "
            "`apt-get install espeak-ng`",
            warning=True,
        )
        return
    done = subprocess.run([program, "--version"], capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        yield Check("espeak-ng", False, f"{program} --version: exit status {done.returncode}")
        return
    # "eSpeak NG text-to-speech: 1.51  Data at: /usr/lib/..."
    version = done.stdout.split("Data at")[0].strip() or program
    yield Check("espeak-ng", True, f"{version} ({program})")


def _storage(settings: Settings) -> Iterator[Check]:
    folders = [("scratch", settings.scratch_dir)]
    if settings.artifacts_dir is not None:
        folders.insert(0, ("artifacts", settings.artifacts_dir))
    else:
        yield from _bucket_checked(settings)
    for label, folder in folders:
        problem = _writable(folder)
        yield Check(f"storage ({label})", problem is None, problem or str(folder))
    low = space.low_space(settings.data_dir, settings.min_free_bytes)
    free = errors.size_text(space.free_bytes(settings.data_dir))
    yield Check(
        "disk space",
        low is None,
        low or f"{free} free under {settings.data_dir}",
        warning=bool(low),
    )
    if settings.postgres_url is not None and settings.artifacts_dir is not None:
        yield Check(
            "shared storage",
            True,
            f"every API and worker machine must see the same {settings.data_dir} (NFS or "
            "similar) and the same signing secret",
            warning=True,
        )
    elif settings.postgres_url is not None:
        yield Check(
            "shared storage",
            True,
            "artifacts and uploaded inputs are in the bucket; every machine needs the same "
            "VIDTASK_SECRET, and asset roots (if any) must hold the same files on each",
            warning=True,
        )


def _bucket_checked(settings: Settings) -> Iterator[Check]:
    """`_bucket`, with what the store raises beyond its own errors (a malformed endpoint is a
    ``ValueError`` from botocore) as one failed line: a check never raises."""
    try:
        yield from _bucket(settings)
    except (OSError, ValueError) as exc:
        yield Check("artifacts", False, f"{settings.artifacts_url}: {exc}")


def _bucket(settings: Settings) -> Iterator[Check]:
    """Write, read, presign (and fetch that URL) and delete one probe object, through the
    artifact store itself; each step a line, and the first failure ends the round."""
    where = settings.artifacts_url
    artifacts = open_artifacts(settings)
    probe_task = f"vt_doctor-{os.getpid()}-{secrets.token_hex(4)}"
    body = secrets.token_bytes(64)
    with tempfile.TemporaryDirectory(prefix="vidtask-doctor-") as scratch:
        probe = Path(scratch) / "probe.bin"
        probe.write_bytes(body)
        try:
            (name,) = artifacts.save(probe_task, 0, [probe])
        except OSError as exc:
            yield Check("artifacts (write)", False, f"{where}: {exc.strerror or exc}")
            return
    yield Check("artifacts (write)", True, f"{where}: wrote {probe_task}/{name}")
    try:
        try:
            read = b"".join(artifacts.read_range(probe_task, name))
        except OSError as exc:
            yield Check("artifacts (read)", False, f"{where}: {exc.strerror or exc}")
            return
        yield Check(
            "artifacts (read)",
            read == body,
            f"read {len(read)} bytes back" + ("" if read == body else ", not what was written"),
        )
        yield _presigned(settings, probe_task, name, body)
    finally:
        artifacts.delete(probe_task)
    gone = artifacts.stat(probe_task, name) is None
    yield Check(
        "artifacts (delete)",
        gone,
        f"deleted {probe_task}/{name}" if gone else f"{probe_task}/{name} is still there",
    )


def _presigned(settings: Settings, task_id: str, name: str, body: bytes) -> Check:
    """A presigned URL to the probe, fetched. Only a failure with ``artifact_links =
    presigned`` is an error: with proxy links the bytes go through vidtask."""
    label, used = "artifacts (presign)", settings.artifact_links == "presigned"
    signing = open_artifacts(settings.model_copy(update={"artifact_links": "presigned"}))
    url = signing.url(task_id, name, int(time.time()) + 300)
    if url is None:
        return Check(label, False, "the store made no presigned URL", warning=not used)
    try:
        got = httpx.get(url, timeout=30)
    except httpx.HTTPError as exc:
        return Check(label, False, f"fetching the presigned URL failed: {exc}", warning=not used)
    host = httpx.URL(url).host
    if got.status_code != 200 or got.content != body:
        detail = f"GET of the presigned URL on {host} answered HTTP {got.status_code}"
        return Check(label, False, detail, warning=not used)
    mode = "clients fetch from it" if used else "unused: artifact_links = proxy"
    return Check(label, True, f"fetched a presigned URL from {host} ({mode})")


def _writable(folder: Path) -> str | None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".doctor-{os.getpid()}"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        return f"cannot write to {folder}: {exc.strerror or exc}"
    return None
