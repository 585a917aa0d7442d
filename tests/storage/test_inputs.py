"""Where inputs (uploads a timeline names) are kept: the first asset root, or the bucket's
``<prefix>/inputs/`` on a real S3-protocol server; content-addressed, streamed in parts, and
never a key outside the inputs."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.s3 import Bucket
from vidtask import storage
from vidtask.settings import Settings
from vidtask.storage.base import ArtifactStoreError
from vidtask.storage.inputs import LocalInputs, input_path
from vidtask.storage.s3 import S3Inputs

MIB = 1024 * 1024


def inputs(bucket: Bucket, tmp_path: Path, threshold: int = 16 * MIB) -> S3Inputs:
    staging = tmp_path / "staging"
    return S3Inputs(bucket.name, "p", staging, client=bucket.client, multipart_threshold=threshold)


def staged(store: S3Inputs | LocalInputs, data: bytes, name: str = "x.part") -> Path:
    store.staging.mkdir(parents=True, exist_ok=True)
    file = store.staging / name
    file.write_bytes(data)
    return file


@pytest.mark.parametrize("bad", ["", "/etc/passwd", "../x", "uploads/../x", "a//b", "./a", "a/"])
def test_an_input_path_never_leaves_the_inputs(bad: str) -> None:
    assert input_path(bad) is None
    assert input_path("uploads/ab.png") == "uploads/ab.png"


def test_a_bucket_keeps_an_upload_in_parts_and_gives_it_back(
    bucket: Bucket, tmp_path: Path
) -> None:
    store = inputs(bucket, tmp_path, threshold=5 * MIB)
    data = random.Random(3).randbytes(11 * MIB + 7)
    store.keep(staged(store, data), "uploads/abc.mp4")
    assert bucket.keys() == ["p/inputs/uploads/abc.mp4"]
    assert not list(store.staging.iterdir())  # the staged file is gone
    assert store.src("uploads/abc.mp4") == "uploads/abc.mp4"  # renderers look it up
    assert store.size("uploads/abc.mp4") == len(data)
    assert store.size("uploads/other.mp4") is None
    store.download("uploads/abc.mp4", tmp_path / "back.mp4")
    assert (tmp_path / "back.mp4").read_bytes() == data
    with pytest.raises(FileNotFoundError):
        store.download("uploads/other.mp4", tmp_path / "none")
    head = bucket.client.head_object(Bucket=bucket.name, Key="p/inputs/uploads/abc.mp4")
    assert head["ContentType"] == "video/mp4"
    assert "-" in head["ETag"]  # went up in parts


def test_the_same_content_twice_is_uploaded_once(bucket: Bucket, tmp_path: Path) -> None:
    store = inputs(bucket, tmp_path)
    store.keep(staged(store, b"one"), "uploads/h.png")
    before = bucket.client.head_object(Bucket=bucket.name, Key="p/inputs/uploads/h.png")
    again = staged(store, b"one")
    store.keep(again, "uploads/h.png")
    after = bucket.client.head_object(Bucket=bucket.name, Key="p/inputs/uploads/h.png")
    assert not again.exists() and after["LastModified"] == before["LastModified"]


def test_bad_paths_and_a_missing_bucket(bucket: Bucket, tmp_path: Path) -> None:
    store = inputs(bucket, tmp_path)
    with pytest.raises(ValueError):
        store.keep(staged(store, b"x"), "../escape.png")
    with pytest.raises(ValueError):
        store.src("/abs.png")
    assert store.size("../x") is None
    with pytest.raises(FileNotFoundError):
        store.download("a/../../x", tmp_path / "y")
    gone = S3Inputs("no-such-bucket-here", "p", tmp_path, client=bucket.client)
    with pytest.raises(ArtifactStoreError, match="s3://no-such-bucket-here/p/inputs/u/x.png"):
        gone.keep(staged(store, b"x"), "u/x.png")
    assert bucket.keys() == []


def test_local_inputs_are_files_under_the_first_asset_root(tmp_path: Path) -> None:
    store = LocalInputs(tmp_path / "root")
    assert store.staging == tmp_path / "root"
    store.keep(staged(store, b"png"), "uploads/h.png")
    assert (tmp_path / "root/uploads/h.png").read_bytes() == b"png"
    assert store.src("uploads/h.png") == str(tmp_path / "root/uploads/h.png")
    in_place = tmp_path / "root/jianying/d/a.png"
    in_place.parent.mkdir(parents=True)
    in_place.write_bytes(b"a")
    store.keep(in_place, "jianying/d/a.png")  # already where it belongs: left alone
    assert in_place.read_bytes() == b"a"


def test_settings_pick_the_bucket_for_inputs_only_with_a_bucket(
    bucket: Bucket, tmp_path: Path
) -> None:
    local = Settings(data_dir=tmp_path)
    assert storage.bucket_inputs(local) is None
    remote = storage.bucket_inputs(
        Settings(data_dir=tmp_path, artifacts_url=bucket.url("v"), s3_path_style=True)
    )
    assert isinstance(remote, S3Inputs) and remote.staging == tmp_path / "scratch" / "inputs"
    remote.keep(staged(remote, b"x"), "uploads/x.png")
    assert bucket.keys() == ["v/inputs/uploads/x.png"]
