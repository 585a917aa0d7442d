"""Low disk space is a warning in `vidtask doctor` and in /readyz (which stays 200)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from vidtask.api.app import create_app
from vidtask.doctor import Check, run_checks
from vidtask.settings import Settings

#: More free space than any test machine has.
HUGE = 2**62


def disk_check(settings: Settings) -> Check:
    (check,) = [c for c in run_checks(settings) if c.name == "disk space"]
    return check


def test_doctor_warns_below_min_free_bytes(tmp_path: Path) -> None:
    low = disk_check(Settings(data_dir=tmp_path, workers=0, min_free_bytes=HUGE))
    assert low.warning and not low.ok
    assert low.detail.startswith(f"low disk space on {tmp_path}: ")
    assert "VIDTASK_MIN_FREE_BYTES" in low.detail
    fine = disk_check(Settings(data_dir=tmp_path, workers=0, min_free_bytes=0))
    assert fine.ok and not fine.warning and fine.detail.endswith(f" free under {tmp_path}")


def test_readyz_stays_ready_with_a_warning(tmp_path: Path) -> None:
    for minimum, warned in ((HUGE, True), (0, False)):
        settings = Settings(data_dir=tmp_path / str(minimum), workers=0, min_free_bytes=minimum)
        with TestClient(create_app(settings, start_workers=False)) as client:
            answer = client.get("/readyz")
        assert answer.status_code == 200 and answer.json()["status"] == "ready"
        assert ("warnings" in answer.json()) is warned
        if warned:
            assert answer.json()["warnings"][0].startswith("low disk space on ")
