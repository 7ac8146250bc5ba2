"""Discovery: naming presets, user regexes, metadata fallback and refusal messages."""

from __future__ import annotations

from contextlib import AbstractContextManager
from contextlib import nullcontext as does_not_raise
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.vision.conftest import write_video
from vision.discovery import (
    PRESETS,
    CameraRef,
    ExportFile,
    Rejected,
    compile_patterns,
    discover,
    parse_stamp,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
CAMERAS = [
    CameraRef("b1", "counter", "01", None, SHANGHAI),
    CameraRef("b1", "lobby", "02", None, SHANGHAI),
    CameraRef("b1", "lobby-east", "lobby-east", None, SHANGHAI),
]


def local(year: int, month: int, day: int, hour: int, minute: int, second: int) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


def touch(folder: Path, name: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\0")
    return path


def only(found: list[ExportFile] | tuple[ExportFile, ...]) -> ExportFile:
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize(
    ("name", "naming", "camera", "start", "end"),
    [
        (
            "ch01_20261122080000_20261122090000.mp4",
            "channel_range",
            "counter",
            local(2026, 11, 22, 8, 0, 0),
            local(2026, 11, 22, 9, 0, 0),
        ),
        (
            "ch2_20261122083015_20261122093015.avi",
            "channel_range",
            "lobby",
            local(2026, 11, 22, 8, 30, 15),
            local(2026, 11, 22, 9, 30, 15),
        ),
        (
            "lobby-east_20261122080000.mp4",
            "camera_start",
            "lobby-east",
            local(2026, 11, 22, 8, 0, 0),
            None,
        ),
        ("02_20261122235959.mkv", "camera_start", "lobby", local(2026, 11, 22, 23, 59, 59), None),
        (
            "NVR_ch1_main_20261122080000_20261122090000.dav",
            "dahua",
            "counter",
            local(2026, 11, 22, 8, 0, 0),
            local(2026, 11, 22, 9, 0, 0),
        ),
        (
            "XVR_ch2_sub_20261122080000_20261122083822.avi",
            "dahua",
            "lobby",
            local(2026, 11, 22, 8, 0, 0),
            local(2026, 11, 22, 8, 38, 22),
        ),
        (
            "192.168.1.108_ch01_main_20261122080000_20261122090000.dav",
            "dahua",
            "counter",
            local(2026, 11, 22, 8, 0, 0),
            local(2026, 11, 22, 9, 0, 0),
        ),
        (
            "ch1_main_20261122080000_20261122090000.DAV",
            "dahua",
            "counter",
            local(2026, 11, 22, 8, 0, 0),
            local(2026, 11, 22, 9, 0, 0),
        ),
    ],
)
def test_presets_give_camera_and_local_times(
    tmp_path: Path, name: str, naming: str, camera: str, start: datetime, end: datetime | None
) -> None:
    path = touch(tmp_path, name)
    found = discover([tmp_path], [naming], CAMERAS)
    assert found.rejected == ()
    match = only(found.files)
    assert (match.path, match.branch, match.camera, match.start, match.end, match.pattern) == (
        path,
        "b1",
        camera,
        start,
        end,
        naming,
    )
    assert match.start.utcoffset() == timedelta(hours=8)


def test_patterns_are_tried_in_order(tmp_path: Path) -> None:
    touch(tmp_path, "NVR_ch2_main_20261122080000_20261122090000.dav")
    touch(tmp_path, "ch01_20261122080000_20261122090000.mp4")
    touch(tmp_path, "01_20261122100000.ts")
    found = discover([tmp_path], list(PRESETS), CAMERAS)
    assert found.rejected == ()
    assert sorted((f.camera, f.pattern) for f in found.files) == [
        ("counter", "camera_start"),
        ("counter", "channel_range"),
        ("lobby", "dahua"),
    ]
    keys = [(f.branch, f.camera, f.start) for f in found.files]
    assert keys == sorted(keys)


@pytest.mark.parametrize(
    ("regex", "name", "camera", "start"),
    [
        (
            r"^(?P<camera>cam\d+)-(?P<start>\d{8}-\d{6})$",
            "cam02-20261122-081500.mp4",
            "lobby",
            local(2026, 11, 22, 8, 15, 0),
        ),
        (
            r"(?P<start>\d{4}-\d{2}-\d{2}_\d{2}\.\d{2}\.\d{2})_CH(?P<camera>\d+)",
            "export_2026-11-22_08.00.00_CH1.mkv",
            "counter",
            local(2026, 11, 22, 8, 0, 0),
        ),
    ],
)
def test_user_regex(tmp_path: Path, regex: str, name: str, camera: str, start: datetime) -> None:
    cameras = [*CAMERAS, CameraRef("b1", "lobby", "cam02", None, SHANGHAI)]
    touch(tmp_path, name)
    found = discover([tmp_path], ["channel_range", regex], cameras)
    match = only(found.files)
    assert (match.camera, match.start, match.pattern) == (camera, start, regex)


def test_name_without_time_falls_back_to_creation_time(tmp_path: Path) -> None:
    write_video(tmp_path / "cam-01.mp4", frames=10, creation_time="2026-11-22T00:30:00.000000Z")
    found = discover([tmp_path], ["channel_range", r"^cam-(?P<camera>\d+)$"], CAMERAS)
    match = only(found.files)
    assert match.pattern == "creation_time" and match.camera == "counter"
    assert match.start == local(2026, 11, 22, 8, 30, 0) and match.start.tzinfo == SHANGHAI
    assert match.end is None


def test_name_without_time_and_no_creation_time_is_refused(tmp_path: Path) -> None:
    path = write_video(tmp_path / "cam-02.mp4", frames=10)
    found = discover([tmp_path], ["channel_range", r"^cam-(?P<camera>\d+)$"], CAMERAS)
    assert found.files == ()
    reason = found.rejected[0].reason
    assert str(path) in reason and "no creation_time" in reason
    assert "channel_range" in reason and r"^cam-(?P<camera>\d+)$" in reason


def test_unmatched_name_is_refused_naming_file_and_patterns(tmp_path: Path) -> None:
    path = touch(tmp_path, "recording-final(2).mp4")
    found = discover([tmp_path], ["channel_range", "camera_start", "dahua"], CAMERAS)
    assert found.files == ()
    assert found.rejected == (
        Rejected(
            path,
            f"{path}: cannot tell camera and start time; the name matches none of the patterns "
            "tried (channel_range, camera_start, dahua)",
        ),
    )


def test_unknown_camera_token_names_token_and_known_tokens(tmp_path: Path) -> None:
    touch(tmp_path, "ch07_20261122080000_20261122090000.mp4")
    found = discover([tmp_path], ["channel_range"], CAMERAS)
    reason = found.rejected[0].reason
    assert "'07'" in reason and "known tokens: 01, 02, lobby-east" in reason and "'b1'" in reason


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("ch01_20261340080000_20261122090000.mp4", "month must be in 1..12"),
        ("ch01_20261122090000_20261122080000.mp4", "is not after start"),
    ],
)
def test_impossible_times_are_refused(tmp_path: Path, name: str, message: str) -> None:
    touch(tmp_path, name)
    found = discover([tmp_path], ["channel_range"], CAMERAS)
    assert found.files == () and message in found.rejected[0].reason
    assert name in found.rejected[0].reason


def test_non_video_files_are_ignored_silently(tmp_path: Path) -> None:
    for name in ("notes.txt", "snapshot_20261122080000.jpg", "index.db", "ch01.idx"):
        touch(tmp_path, name)
    touch(tmp_path, "sub/ch01_20261122080000_20261122090000.MP4")
    found = discover([tmp_path], ["channel_range"], CAMERAS)
    assert [f.path.name for f in found.files] == ["ch01_20261122080000_20261122090000.MP4"]
    assert found.rejected == ()


def test_branches_are_told_apart_by_folder(tmp_path: Path) -> None:
    utc = ZoneInfo("UTC")
    cameras = [
        CameraRef("east", "c1", "01", "east-branch", SHANGHAI),
        CameraRef("west", "c1", "01", "west-branch", utc),
    ]
    touch(tmp_path, "east-branch/2026-11-22/ch01_20261122080000_20261122090000.mp4")
    touch(tmp_path, "west-branch/ch01_20261122080000_20261122090000.mp4")
    stray = touch(tmp_path, "elsewhere/ch01_20261122080000_20261122090000.mp4")
    found = discover([tmp_path], ["channel_range"], cameras)
    assert [(f.branch, f.start) for f in found.files] == [
        ("east", local(2026, 11, 22, 8, 0, 0)),
        ("west", datetime(2026, 11, 22, 8, 0, tzinfo=utc)),
    ]
    assert found.rejected[0].path == stray
    assert "not under a branch folder (known: east-branch, west-branch)" in found.rejected[0].reason


def test_single_files_can_be_given_directly(tmp_path: Path) -> None:
    path = touch(tmp_path, "ch02_20261122080000_20261122090000.ts")
    assert only(discover([path], ["channel_range"], CAMERAS).files).camera == "lobby"


@pytest.mark.parametrize(
    ("naming", "expectation"),
    [
        (["channel_range", "dahua"], does_not_raise()),
        ([r"(?P<camera>\d+)_(?P<start>\d{14})"], does_not_raise()),
        ([r"(?P<start>\d{14})"], pytest.raises(ValueError, match="needs a named group 'camera'")),
        (["(?P<camera>[a-z"], pytest.raises(ValueError, match="not a valid regex")),
        (["chanel_range"], pytest.raises(ValueError, match="presets: channel_range")),
    ],
)
def test_compile_patterns(naming: list[str], expectation: AbstractContextManager[object]) -> None:
    with expectation:
        compile_patterns(naming)


def test_missing_path_and_no_cameras_are_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does-not-exist"):
        discover([tmp_path / "does-not-exist"], ["channel_range"], CAMERAS)
    with pytest.raises(ValueError, match="no cameras"):
        discover([tmp_path], ["channel_range"], [])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20261122080000", local(2026, 11, 22, 8, 0, 0)),
        ("2026-11-22 08:00:00", local(2026, 11, 22, 8, 0, 0)),
        ("2026-11-22T08-00-01", local(2026, 11, 22, 8, 0, 1)),
    ],
)
def test_parse_stamp(text: str, expected: datetime) -> None:
    assert parse_stamp(text, SHANGHAI) == expected


def test_parse_stamp_rejects_short_stamps() -> None:
    with pytest.raises(ValueError, match="14 digits"):
        parse_stamp("202611220800", SHANGHAI)
