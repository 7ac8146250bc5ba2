"""The judge reads each branch's queue-machine call log (叫号记录) for RAISE_HAND_AFTER_CALL."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from api.config import BranchConfig
from api.scan.judge import branch_calls
from vision.config import CameraConfig

SAMPLE = "窗口,叫号时间,票号\n2,2026-11-23 09:00:10,A002\n1,2026-11-23 09:00:00,A001\n"
"""A sample export of a queue machine: window, call time (local to the branch), ticket."""


def _branch(call_log: Path | None) -> BranchConfig:
    return BranchConfig(
        id="b1",
        name="城东支行",
        cameras=[CameraConfig(id="c1")],
        call_log=str(call_log) if call_log else None,
    )


def test_no_call_log_configured_means_no_calls() -> None:
    assert branch_calls(_branch(None)) == ()


def test_call_logs_of_a_folder_are_read_and_a_bad_one_is_named(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "morning.csv").write_text(SAMPLE, encoding="utf-8")
    (tmp_path / "afternoon.csv").write_bytes(
        "窗口号,时间\n1,2026-11-23 14:00:00\n".encode("gb18030")
    )
    (tmp_path / "broken.csv").write_text("ticket,time\nA1,2026-11-23 09:00:00\n")
    with caplog.at_level(logging.ERROR):
        calls = branch_calls(_branch(tmp_path))
    local = [
        (c.window_id, datetime.fromtimestamp(c.ts, ZoneInfo("Asia/Shanghai")).strftime("%H:%M:%S"))
        for c in calls
    ]
    assert local == [("1", "09:00:00"), ("2", "09:00:10"), ("1", "14:00:00")]
    assert "broken.csv" in caplog.text and "no window column" in caplog.text


def test_a_single_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    path.write_text(SAMPLE, encoding="utf-8")
    assert [c.window_id for c in branch_calls(_branch(path))] == ["1", "2"]
