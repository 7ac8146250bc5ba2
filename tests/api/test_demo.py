"""The walking skeleton: ``branchwatch demo`` on generated footage with the real pose model."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

TOLERANCE = timedelta(seconds=2)


def _events(db: Path) -> list[tuple[str, str, datetime, datetime, str]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT key, item, start_ts, end_ts, status FROM events ORDER BY start_ts"
        ).fetchall()
    return [
        (key, item, datetime.fromisoformat(s), datetime.fromisoformat(e), status)
        for key, item, s, e, status in rows
    ]


def _findings(out: Path) -> list[dict[str, object]]:
    data: list[dict[str, object]] = json.loads(
        (out / "footage" / "demo_findings.json").read_text(encoding="utf-8")
    )
    return data


def _utc(text: object) -> datetime:
    return datetime.fromisoformat(str(text)).replace(tzinfo=None) - (
        datetime.fromisoformat(str(text)).utcoffset() or timedelta()
    )


def test_demo_reports_the_long_absence_only(demo_run: tuple[Path, str]) -> None:
    out, _ = demo_run
    absences = [e for e in _events(out / "branchwatch.db") if e[1] == "LOBBY_MANAGER_ABSENT"]
    scripted = [f for f in _findings(out) if f["item"] == "LOBBY_MANAGER_ABSENT"]
    long_ = next(f for f in scripted if f["expected"])
    short = next(f for f in scripted if not f["expected"])
    assert len(absences) == 1, absences
    _, _, start, end, status = absences[0]
    # SQLite stores UTC without an offset. The event is the whole observed absence (the grace
    # period decides that it is a finding, it is not cut out of it).
    assert abs(start - _utc(long_["start"])) <= TOLERANCE
    assert abs(end - _utc(long_["end"])) <= TOLERANCE
    assert status == "confirmed"  # by the demo supervisor: it matches the footage script
    assert not (start <= _utc(short["end"]) and end >= _utc(short["start"]))


def test_demo_output_is_free_of_library_chatter(demo_run: tuple[Path, str]) -> None:
    """Font subsetting of the PDF notice (fontTools) logs every glyph at INFO; not shown."""
    _, output = demo_run
    assert "notice" in output
    assert "Glyph names" not in output and "subsetting" not in output
    assert len(output.splitlines()) < 200


def test_demo_finds_the_scripted_items(demo_run: tuple[Path, str]) -> None:
    """Every finding the footage script intends shows up as an event overlapping it."""
    out, console = demo_run
    events = _events(out / "branchwatch.db")
    for finding in _findings(out):
        if not finding["expected"]:
            continue
        hits = [
            e
            for e in events
            if e[1] == finding["item"]
            and e[2] <= _utc(finding["end"])
            and e[3] >= _utc(finding["start"])
        ]
        assert hits, f"{finding['item']} on {finding['camera']} was not reported"
    assert len({e[1] for e in events}) >= 5
    assert "score" in console and "LOBBY_MANAGER_ABSENT" in console
    assert str(out / "branchwatch.db") in console


def _notice_text(out: Path) -> str:
    pdfs = sorted((out / "notices").rglob("*.pdf"))
    assert pdfs and sorted((out / "notices").rglob("*.docx"))
    text = subprocess.run(
        ["pdftotext", str(pdfs[0]), "-"], capture_output=True, text=True, check=True
    ).stdout
    return re.sub(r"\s+", "", text)


def _local(text: str) -> datetime:
    return datetime.strptime(f"2026-11-20 {text}", "%Y-%m-%d %H:%M:%S")


def test_demo_notice_shows_the_scripted_absence_in_full(demo_run: tuple[Path, str]) -> None:
    """The demo supervisor's confirmations make a final notice: the absence is given from
    the moment the lobby manager left to the return (the grace period is not cut out), with
    who confirmed it, and every finding says when, how long and how often."""
    out, _ = demo_run
    text = _notice_text(out)
    assert "整改通知书" in text and "预览" not in text
    assert "检查人：演示督导" in text
    assert "《示例银行网点服务质量考核办法》（示银发〔2026〕18号）" in text
    assert "抄送：" in text and "提出申诉" in text
    long_ = next(f for f in _findings(out) if f["item"] == "LOBBY_MANAGER_ABSENT" and f["expected"])
    found = re.search(
        r"(\d\d:\d\d:\d\d)至(\d\d:\d\d:\d\d)（持续(\d+)分(\d+)秒）：大堂经理岗无大堂经理在岗", text
    )
    assert found, text
    start, end = _local(found[1]), _local(found[2])
    scripted_start = datetime.fromisoformat(str(long_["start"])).replace(tzinfo=None)
    scripted_end = datetime.fromisoformat(str(long_["end"])).replace(tzinfo=None)
    assert abs(start - scripted_start) <= TOLERANCE and abs(end - scripted_end) <= TOLERANCE
    assert int(found[3]) * 60 + int(found[4]) == (end - start).seconds
    table = text.split("一、检查发现的问题")[1].split("二、扣分及考核汇总")[0]
    assert table.count("至") >= 5 and table.count("本期该项第") == table.count("持续")


def test_demo_notice_captions_give_the_stamped_times(demo_run: tuple[Path, str]) -> None:
    """Each figure caption carries the time stamped on its still (the evidence moment)."""
    out, _ = demo_run
    text = _notice_text(out)
    with sqlite3.connect(out / "branchwatch.db") as conn:
        stamps = {
            datetime.fromisoformat(ts) + timedelta(hours=8)
            for (ts,) in conn.execute(
                "SELECT evidence_ts FROM events WHERE status = 'confirmed' "
                "AND evidence_ts IS NOT NULL"
            )
        }
    captions = re.findall(r"图\d+第\d+项.+?(2026-11-20)(\d\d:\d\d:\d\d)", text)
    assert captions
    for day, clock in captions:
        assert datetime.fromisoformat(f"{day} {clock}") in {
            s.replace(microsecond=0) for s in stamps
        }


def test_demo_ends_with_the_next_steps(demo_run: tuple[Path, str]) -> None:
    out, stdout = demo_run
    tail = stdout[stdout.index("next steps:") :]
    assert "--serve" in tail and "password" in tail and "branchwatch scan" in tail
    assert (out / "demo_login.txt").is_file()


def test_rescan_and_bad_files_change_nothing_stored(
    demo_run: tuple[Path, str], tmp_path: Path
) -> None:
    """A re-scan adds nothing; corrupt and truncated files are reported by name and the
    rest of the batch goes on; stored events keep their state."""
    out, _ = demo_run
    db = out / "branchwatch.db"
    before = _events(db)
    footage = tmp_path / "exports"
    shutil.copytree(out / "footage", footage)
    good = sorted(footage.glob("ch01_*.mp4"))[0]
    (footage / "ch01_20261120100000_20261120100500.mp4").write_bytes(b"\x00" * 4096)
    data = good.read_bytes()
    (footage / "ch02_20261120101000_20261120101500.mp4").write_bytes(data[: len(data) // 3])
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "api.cli",
            "scan",
            "--config",
            str(out / "branchwatch.yaml"),
            "--db",
            f"sqlite:///{db}",
            "--work",
            str(out),
            str(footage),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        env={"COLUMNS": "250", **_env()},
    )
    text = proc.stdout + proc.stderr
    assert proc.returncode == 0, text
    assert "ch01_20261120100000_20261120100500.mp4" in text
    assert "failed" in text and "skipped" in text
    after = _events(db)
    kept = {e[0]: e for e in after}
    for event in before:
        assert kept[event[0]] == event
    with sqlite3.connect(db) as conn:
        failed = conn.execute("SELECT path, error FROM videos WHERE status = 'failed'").fetchall()
        done = conn.execute("SELECT COUNT(*) FROM videos WHERE status = 'done'").fetchone()[0]
    assert any(p.endswith("ch01_20261120100000_20261120100500.mp4") and err for p, err in failed)
    # The truncated copy still holds frames: it is analysed up to where it breaks.
    assert done >= 4


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_events_export_of_the_demo(demo_run: tuple[Path, str], fmt: str) -> None:
    out, _ = demo_run
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "api.cli",
            "events",
            "export",
            "--format",
            fmt,
            "--db",
            f"sqlite:///{out / 'branchwatch.db'}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    if fmt == "jsonl":
        rows = [json.loads(line) for line in lines]
        assert rows and all(
            {"branch", "camera", "item", "start", "end", "status", "video"} <= row.keys()
            for row in rows
        )
        assert all(row["start"].endswith("+08:00") for row in rows)
    else:
        assert lines[0].startswith("id,") or "item" in lines[0]
        assert len(lines) == len(_events(out / "branchwatch.db")) + 1
