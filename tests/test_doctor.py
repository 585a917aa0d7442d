"""`vidtask doctor`'s espeak-ng check, against the real program (or its absence)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

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
