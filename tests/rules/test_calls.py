"""Queue-machine call logs."""

from __future__ import annotations

from pathlib import Path

import pytest

from rules.calls import CallLogError, read_call_log
from tests.rules.factories import OPEN, SHANGHAI


def _write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "calls.csv"
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("window,time,ticket\n2,2026-11-23 09:00:10,A2\n1,2026-11-23 09:00:00,A1\n", "utf-8"),
        ("\ufeff窗口,叫号时间\n1,2026-11-23T09:00:00\n2,2026-11-23 09:00:10\n", "utf-8"),
        ("窗口号,时间\n1,2026-11-23 09:00:00+08:00\n\n2,2026-11-23T01:00:10Z\n", "gb18030"),
        (f"window_id,ts\n1,{OPEN}\n2,{OPEN + 10}\n", "utf-8"),
    ],
)
def test_reads_layouts(tmp_path: Path, text: str, encoding: str) -> None:
    """使用叫号机的网点叫号后应举手示意 — the call log says when each window called."""
    calls = read_call_log(_write(tmp_path, text, encoding), SHANGHAI)
    assert [(c.window_id, c.ts - OPEN) for c in calls] == [("1", 0.0), ("2", 10.0)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty call log"),
        ("ticket,time\nA1,2026-11-23 09:00:00\n", ":1: no window column"),
        ("window,when\n1,2026-11-23 09:00:00\n", ":1: no time column"),
        ("window,time\n1,2026-11-23 09:00:00\n2,yesterday\n", ":3: bad time 'yesterday'"),
        ("window,time\n1\n", ":2: expected at least 2 columns"),
        ("window,time\n ,2026-11-23 09:00:00\n", ":2: empty window"),
    ],
)
def test_errors_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    """叫号后应举手示意 — a broken log is reported, not silently skipped."""
    path = _write(tmp_path, text)
    with pytest.raises(CallLogError, match=str(path).replace(".", r"\.") + ".*") as err:
        read_call_log(path, SHANGHAI)
    assert message in str(err.value)


def test_missing_file(tmp_path: Path) -> None:
    """叫号后应举手示意."""
    with pytest.raises(CallLogError, match="cannot read"):
        read_call_log(tmp_path / "nope.csv", SHANGHAI)
