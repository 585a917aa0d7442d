"""What only the bucket store does, against a real S3-protocol server (moto's, on loopback):
multipart uploads read back by ranges, failures that raise, presigned links, and abandoned
multipart uploads aborted by the leftovers sweep. The rest of its contract is in
test_artifacts.py, shared with every store."""

from __future__ import annotations

import random
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pydantic import ValidationError

from tests.s3 import Bucket
from vidtask import storage
from vidtask.settings import Settings
from vidtask.storage import leftovers, s3
from vidtask.storage.base import ArtifactStoreError
from vidtask.storage.s3 import S3Artifacts, make_client, parse_url
from vidtask.store.sqlite import SQLiteStore

TASK = "vt_" + "a" * 26
MIB = 1024 * 1024


def test_a_large_file_goes_up_in_parts_and_comes_back_byte_exact_by_ranges(
    bucket: Bucket, tmp_path: Path
) -> None:
    store = S3Artifacts(
        bucket.name, "p", client=bucket.client, multipart_threshold=5 * MIB, multipart_chunk=5 * MIB
    )
    data = random.Random(7).randbytes(20 * MIB + 12345)
    video = tmp_path / "video.mp4"
    video.write_bytes(data)
    assert store.save(TASK, 1, [video]) == ["1/video.mp4"]
    assert not video.exists()
    head = bucket.client.head_object(Bucket=bucket.name, Key=f"p/{TASK}/1/video.mp4")
    assert head["ETag"].strip('"').endswith("-5")  # a multipart upload of five parts
    assert head["ContentType"] == "video/mp4"
    info = store.stat(TASK, "1/video.mp4")
    assert info is not None and info.size == len(data)
    rng = random.Random(8)
    for _ in range(10):
        start = rng.randrange(len(data))
        stop = rng.randrange(start, len(data) + 10)
        assert b"".join(store.read_range(TASK, "1/video.mp4", start, stop)) == data[start:stop]
    assert b"".join(store.read_range(TASK, "1/video.mp4")) == data
    assert b"".join(store.read_range(TASK, "1/video.mp4", len(data) + 5)) == b""


def test_an_upload_to_a_missing_bucket_raises_naming_it(bucket: Bucket, tmp_path: Path) -> None:
    store = S3Artifacts(f"{bucket.name}-gone", "p", client=bucket.client)
    video = tmp_path / "video.mp4"
    video.write_bytes(b"v")
    with pytest.raises(ArtifactStoreError) as caught:
        store.save(TASK, 1, [video])
    assert isinstance(caught.value, OSError)
    assert caught.value.strerror is not None
    assert f"s3://{bucket.name}-gone/p/{TASK}/1/video.mp4" in caught.value.strerror
    assert "NoSuchBucket" in caught.value.strerror and str(tmp_path) not in caught.value.strerror
    assert video.exists()  # not moved: the worker's scratch clean-up removes it


def test_an_unreachable_server_raises_after_retries(
    s3_env: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tests.integration.conftest import free_port

    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", f"http://127.0.0.1:{free_port()}")
    store = S3Artifacts("nowhere", client=make_client(path_style=True))
    video = tmp_path / "video.mp4"
    video.write_bytes(b"v")
    with pytest.raises(ArtifactStoreError, match="Could not connect"):
        store.save(TASK, 1, [video])
    with pytest.raises(ArtifactStoreError):
        store.stat(TASK, "1/video.mp4")
    store.delete(TASK)  # best effort, as a local rmtree: logged, never raised
    assert store.sweep_uploads(time.time()) == 0


def test_presigned_links_fetch_from_the_bucket_until_they_expire(
    bucket: Bucket, tmp_path: Path
) -> None:
    store = bucket.store(presign=True)
    cover = tmp_path / "cover.jpg"
    cover.write_bytes(b"0123456789")
    store.save(TASK, 1, [cover])
    expires_at = int(time.time()) + 3600
    url = store.url(TASK, "1/cover.jpg", expires_at)
    assert url is not None and url.startswith(f"{bucket.endpoint}/{bucket.name}/vidtask/{TASK}/")
    assert abs(int(parse_qs(urlsplit(url).query)["X-Amz-Expires"][0]) - 3600) <= 2
    whole = httpx.get(url)
    assert whole.status_code == 200 and whole.content == b"0123456789"
    assert whole.headers["content-type"] == "image/jpeg"
    part = httpx.get(url, headers={"Range": "bytes=2-4"})
    assert part.status_code == 206 and part.content == b"234"
    assert store.url(TASK, "../x/1/cover.jpg", expires_at) is None
    assert bucket.store().url(TASK, "1/cover.jpg", expires_at) is None  # proxy links


def test_the_sweep_aborts_abandoned_multipart_uploads_and_keeps_live_ones(
    bucket: Bucket, tmp_path: Path
) -> None:
    """A worker SIGKILLed mid-upload leaves an upload no listing of objects shows."""
    store = S3Artifacts(bucket.name, "p", client=bucket.client, stale_upload_s=60, sweep_every_s=0)
    for key in (f"p/{TASK}/1/video.mp4", "elsewhere/video.mp4"):
        started = bucket.client.create_multipart_upload(Bucket=bucket.name, Key=key)
        bucket.client.upload_part(
            Bucket=bucket.name, Key=key, UploadId=started["UploadId"], PartNumber=1, Body=b"x"
        )
    assert bucket.keys() == []  # invisible as objects

    def uploads() -> list[str]:
        listed = bucket.client.list_multipart_uploads(Bucket=bucket.name)
        return sorted(upload["Key"] for upload in listed.get("Uploads", []))

    # The age is the server's word (moto reports one fixed start time): the clock is set by it.
    listed = bucket.client.list_multipart_uploads(Bucket=bucket.name)
    began = max(upload["Initiated"].timestamp() for upload in listed["Uploads"])
    lookup = SQLiteStore(tmp_path / "db.sqlite").get
    leftovers.sweep(tmp_path / "scratch", store, lookup, clock=lambda: began + 30)
    assert uploads() == ["elsewhere/video.mp4", f"p/{TASK}/1/video.mp4"]  # maybe still going
    leftovers.sweep(tmp_path / "scratch", store, lookup, clock=lambda: began + 120)
    assert uploads() == ["elsewhere/video.mp4"]  # only this store's prefix


def test_the_sweep_lists_uploads_only_now_and_then(bucket: Bucket) -> None:
    store = S3Artifacts(bucket.name, "p", client=bucket.client, stale_upload_s=0)
    bucket.client.create_multipart_upload(Bucket=bucket.name, Key=f"p/{TASK}/1/video.mp4")
    now = time.time() + 1  # any upload moto lists began long before
    assert store.sweep_uploads(now) == 1
    bucket.client.create_multipart_upload(Bucket=bucket.name, Key=f"p/{TASK}/2/video.mp4")
    assert store.sweep_uploads(now + 1) == 0  # within SWEEP_EVERY_S of the last listing
    assert store.sweep_uploads(now + store.sweep_every_s + 1) == 1


def test_discarding_an_attempt_aborts_its_uploads_at_once(bucket: Bucket) -> None:
    store = bucket.store()
    for attempt in (1, 2):
        key = f"vidtask/{TASK}/{attempt}/video.mp4"
        bucket.client.create_multipart_upload(Bucket=bucket.name, Key=key)
    store.discard_attempt(TASK, 1)
    listed = bucket.client.list_multipart_uploads(Bucket=bucket.name)
    assert [u["Key"] for u in listed.get("Uploads", [])] == [f"vidtask/{TASK}/2/video.mp4"]


def test_delete_removes_more_objects_than_one_batch(
    bucket: Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(s3, "_DELETE_BATCH", 3)  # 1,000 on S3
    store = bucket.store()
    for i in range(7):
        bucket.client.put_object(Bucket=bucket.name, Key=f"vidtask/{TASK}/1/preview_{i}.jpg")
    bucket.client.put_object(Bucket=bucket.name, Key=f"vidtask/{TASK}x/1/video.mp4")
    assert len(store.names(TASK, 1)) == 7
    store.delete(TASK)
    assert bucket.keys() == [f"vidtask/{TASK}x/1/video.mp4"]  # not a prefix match on the id


def test_settings_pick_the_bucket(bucket: Bucket, tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        artifacts_url=f"s3://{bucket.name}/some/prefix/",
        s3_path_style=True,
        artifact_links="presigned",
    )
    assert settings.artifacts_dir is None
    opened = storage.open_artifacts(settings)
    assert isinstance(opened, S3Artifacts)
    assert (opened.bucket, opened.prefix, opened.presign) == (bucket.name, "some/prefix", True)
    assert opened.local_root is None and not (tmp_path / "artifacts").exists()
    assert parse_url("s3://b") == ("b", "")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"artifacts_url": "s3:///prefix"}, "unsupported artifacts location"),
        ({"artifacts_url": "gs://bucket"}, "unsupported artifacts location"),
        ({"artifact_links": "presigned", "url_ttl_s": 7 * 86400}, "at most 7 days"),
        ({"artifact_links": "direct"}, "artifact_links"),
    ],
)
def test_bad_bucket_settings_are_refused(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(**fields)  # type: ignore[arg-type]
