"""The asset guard when inputs are in a bucket (machines share no folder): a relative path no
asset root has is looked up in the bucket, at submit and when rendering, and every other rule
holds as without one: no ``..``, no absolute path outside the roots, no symlink out of a root
(even to a name the bucket has), and the SSRF guard for URLs."""

from __future__ import annotations

import threading
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from tests.s3 import Bucket
from vidtask.core import errors
from vidtask.render.assets import AssetPolicy, check_source, fetch
from vidtask.storage.s3 import S3Inputs

PNG = Path(__file__).resolve().parents[2] / "examples" / "assets" / "image.png"


@pytest.fixture
def remote(bucket: Bucket, tmp_path: Path) -> S3Inputs:
    store = S3Inputs(bucket.name, "p", tmp_path / "staging", client=bucket.client)
    for name in ("uploads/h.png", "escape.png", "secret.txt"):
        bucket.client.put_object(Bucket=bucket.name, Key=f"p/inputs/{name}", Body=PNG.read_bytes())
    return store


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "root"
    folder.mkdir()
    (folder / "local.png").write_bytes(b"local")
    return folder


def refused(src: str, policy: AssetPolicy) -> str:
    with pytest.raises(errors.InvalidRequest) as caught:
        check_source(src, policy, param="p")
    return caught.value.message


def test_a_path_no_root_has_comes_from_the_bucket(
    remote: S3Inputs, root: Path, tmp_path: Path
) -> None:
    policy = AssetPolicy(roots=(root,), inputs=remote)
    check_source("uploads/h.png", policy, param="p")
    got = fetch("uploads/h.png", policy, tmp_path / "scratch", threading.Event())
    assert got.parent == tmp_path / "scratch" and got.suffix == ".png"
    assert got.read_bytes() == PNG.read_bytes()
    assert not list((tmp_path / "scratch").glob("*.part"))
    # a local root still wins, and is read in place
    assert (
        fetch("local.png", policy, tmp_path / "scratch", threading.Event())
        == (root / "local.png").resolve()
    )
    assert "'uploads/none.png' does not exist" in refused("uploads/none.png", policy)
    with pytest.raises(errors.AssetFetchFailed, match="does not exist"):
        fetch("uploads/none.png", policy, tmp_path / "scratch", threading.Event())
    # with no asset roots at all, the bucket alone serves relative paths
    check_source("uploads/h.png", AssetPolicy(inputs=remote), param="p")


def test_the_path_checks_hold_in_bucket_mode(remote: S3Inputs, root: Path, tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("secret")
    (root / "escape.png").symlink_to(tmp_path / "secret.txt")
    policy = AssetPolicy(roots=(root,), inputs=remote)
    for src in ("../secret.txt", "uploads/../../secret.txt", "file:///../secret.txt"):
        assert "'..' is not allowed" in refused(src, policy)
    # absolute paths never go to the bucket, even when it has such a name
    assert "outside" in refused(str(tmp_path / "secret.txt"), policy)
    assert "outside" in refused("/secret.txt", policy)
    assert "outside" in refused((tmp_path / "secret.txt").as_uri(), policy)
    # a symlink out of a root is refused, not looked up in the bucket instead
    assert "outside" in refused("escape.png", policy)
    with pytest.raises(errors.AssetFetchFailed, match="outside"):
        fetch("escape.png", policy, tmp_path / "scratch", threading.Event())
    assert "scheme 'ftp'" in refused("ftp://x/uploads/h.png", policy)


def test_the_ssrf_guard_and_the_size_limit_hold_in_bucket_mode(
    remote: S3Inputs, root: Path, tmp_path: Path
) -> None:
    policy = AssetPolicy(roots=(root,), inputs=remote)
    assert "a loopback" in refused("http://127.0.0.1:9/uploads/h.png", policy)
    assert "a link-local" in refused("http://169.254.169.254/latest/meta-data/", policy)
    with pytest.raises(errors.InvalidRequest, match="scheme ''"):
        check_source("uploads/h.png", policy, param="webhook_url", allow_local=False)
    small = AssetPolicy(roots=(root,), inputs=remote, max_bytes=100)
    assert "larger than the 100 byte limit" in refused("uploads/h.png", small)
    with pytest.raises(errors.AssetTooLarge):
        fetch("uploads/h.png", small, tmp_path / "scratch", threading.Event())


def test_a_bucket_that_fails_is_a_storage_error_at_submit_and_a_fetch_failure_later(
    s3_env: str, root: Path, tmp_path: Path
) -> None:
    config = Config(retries={"max_attempts": 1}, connect_timeout=2)
    away = boto3.client("s3", endpoint_url="http://127.0.0.1:9", config=config)
    gone = S3Inputs("unreachable", "p", tmp_path, client=away)
    policy = AssetPolicy(roots=(root,), inputs=gone)
    with pytest.raises(errors.StorageError) as down:  # not the client's fault: not a 400
        check_source("uploads/h.png", policy, param="p")
    assert "127.0.0.1" not in down.value.message and "try again" in down.value.message
    with pytest.raises(errors.AssetFetchFailed, match="s3://unreachable/p/inputs/uploads/h.png"):
        fetch("uploads/h.png", policy, tmp_path / "scratch", threading.Event())
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(errors.Cancelled):
        fetch("uploads/h.png", policy, tmp_path / "scratch", cancel)
