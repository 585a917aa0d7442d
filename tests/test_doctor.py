"""`vidtask doctor`'s espeak-ng check, against the real program (or its absence)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Literal

import pytest

from tests.s3 import Bucket
from vidtask.doctor import Check, run_checks
from vidtask.settings import Settings

__all__: list[str] = []


def espeak_check(tmp_path: Path) -> Check:
    checks = run_checks(Settings(data_dir=tmp_path, workers=0))
    found = [check for check in checks if check.name == "espeak-ng"]
    assert len(found) == 1, checks
    return found[0]


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_espeak_ng_found_with_its_version(tmp_path: Path) -> None:
    check = espeak_check(tmp_path)
    assert check.ok and not check.warning
    assert re.search(r"\d+\.\d+", check.detail), check.detail


def test_missing_espeak_ng_is_a_warning_that_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    check = espeak_check(tmp_path / "data")
    assert check.warning and not check.ok
    assert "silent" in check.detail and "apt-get install espeak-ng" in check.detail


def bucket_checks(settings: Settings) -> dict[str, Check]:
    return {c.name: c for c in run_checks(settings) if c.name.startswith(("artifacts", "storage"))}


@pytest.mark.parametrize("links", ["proxy", "presigned"])
def test_a_bucket_is_written_read_presigned_fetched_and_deleted(
    tmp_path: Path, bucket: Bucket, links: Literal["proxy", "presigned"]
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        workers=0,
        artifacts_url=bucket.url(),
        s3_path_style=True,
        artifact_links=links,
    )
    checks = bucket_checks(settings)
    assert list(checks) == [
        "artifacts (write)",
        "artifacts (read)",
        "artifacts (presign)",
        "artifacts (delete)",
        "storage (scratch)",
    ]
    assert all(check.ok and not check.warning for check in checks.values()), checks
    assert checks["artifacts (write)"].detail.startswith(f"{bucket.url()}: wrote vt_doctor-")
    presign = checks["artifacts (presign)"].detail
    assert presign.startswith("fetched a presigned URL from 127.0.0.1")
    assert ("unused" in presign) == (links == "proxy")
    assert bucket.keys() == []  # the probe is gone
    assert not (tmp_path / "artifacts").exists()


def test_a_missing_bucket_is_one_clear_line(tmp_path: Path, bucket: Bucket) -> None:
    settings = Settings(
        data_dir=tmp_path, workers=0, artifacts_url=f"s3://{bucket.name}-gone/x", s3_path_style=True
    )
    checks = bucket_checks(settings)
    assert list(checks) == ["artifacts (write)", "storage (scratch)"]
    write = checks["artifacts (write)"]
    assert not write.ok and write.detail.startswith(f"s3://{bucket.name}-gone/x: could not upload")
    assert "NoSuchBucket" in write.detail
