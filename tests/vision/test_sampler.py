"""Sampler: timestamps against the generator's truth, damaged files, containers, resources."""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.vision.conftest import read_barcode, write_dav, write_video
from vision.sampler import (
    SamplerStats,
    VideoError,
    output_size,
    probe,
    read_frame_at,
    sample_frames,
)
from vision.types import SampledFrame

START = datetime(2026, 11, 22, 8, 0, tzinfo=timezone(timedelta(hours=8)))
TOLERANCE_S = 0.5


def sample(path: Path, interval_s: float, **kwargs: Any) -> tuple[list[SampledFrame], SamplerStats]:
    stats = SamplerStats()
    frames = list(sample_frames(path, "cam1", START, interval_s, stats=stats, **kwargs))
    return frames, stats


def offsets(frames: list[SampledFrame]) -> list[float]:
    return [(f.ts - START).total_seconds() for f in frames]


def assert_times_match(frames: list[SampledFrame], truth: Callable[[int], float]) -> None:
    """Each sampled frame's timestamp is within tolerance of when its frame was generated."""
    assert frames, "no frame sampled"
    for frame in frames:
        index = read_barcode(frame.image)
        got = (frame.ts - START).total_seconds()
        assert abs(got - truth(index)) <= TOLERANCE_S, (index, got, truth(index))
    times = offsets(frames)
    assert times == sorted(times) and len(set(times)) == len(times)


def test_ten_frame_clip_gives_intensity_of_each_sampled_frame(ten_frame_clip: Path) -> None:
    frames, stats = sample(ten_frame_clip, 2.0)
    assert offsets(frames) == pytest.approx([0, 2, 4, 6, 8])
    grey = [float(f.image[100:, :].mean()) for f in frames]
    assert grey == pytest.approx([0, 50, 100, 150, 200], abs=4)
    assert [f.index for f in frames] == [0, 2, 4, 6, 8]
    assert all(f.camera == "cam1" and f.ts.tzinfo is not None for f in frames)
    assert stats.frames_yielded == 5 and stats.mode == "keyframes"


@pytest.mark.parametrize(
    ("name", "kwargs", "interval_s", "mode"),
    [
        ("cfr.mp4", {}, 2.0, "keyframes"),
        ("cfr_b.mp4", {"bframes": 2}, 2.0, "keyframes"),
        ("long_gop.mp4", {"gop": 40, "bframes": 2}, 1.0, "gop"),
        ("cfr.mkv", {"bframes": 2}, 2.0, "keyframes"),
        ("long_gop.mkv", {"gop": 50}, 2.0, "gop"),
        ("cfr.avi", {}, 2.0, "keyframes"),
        ("cfr.ts", {"bframes": 2}, 2.0, "keyframes"),
        ("long_gop.ts", {"gop": 30}, 1.0, "gop"),
        ("cfr.mpg", {"fmt": "vob", "bframes": 2}, 2.0, "keyframes"),
        ("hevc.mp4", {"codec": "libx265"}, 2.0, "keyframes"),
        ("hevc_long_gop.mkv", {"codec": "libx265", "gop": 40, "bframes": 2}, 1.0, "gop"),
        ("hevc.ts", {"codec": "libx265"}, 2.0, "keyframes"),
        ("raw.h264", {"fmt": "h264", "fps": 25, "gop": 25}, 2.0, "keyframes"),
    ],
)
def test_cfr_timestamps_within_half_a_second(
    video_dir: Path, name: str, kwargs: dict[str, Any], interval_s: float, mode: str
) -> None:
    fps = int(kwargs.get("fps", 10))
    params = {"gop": 10, **kwargs}
    path = write_video(video_dir / name, frames=30 * fps, **params)
    frames, stats = sample(path, interval_s)
    assert stats.mode == mode
    assert_times_match(frames, lambda i: i / fps)
    # one sample per interval over the 30 s, spaced by the interval
    assert len(frames) == pytest.approx(30 / interval_s, abs=1)
    assert np.diff(offsets(frames)) == pytest.approx(interval_s, abs=TOLERANCE_S)
    assert stats.first_ts is not None and abs((stats.first_ts - START).total_seconds()) <= 0.2
    assert stats.end_ts is not None and abs((stats.end_ts - START).total_seconds() - 30) <= 0.2
    assert not stats.truncated and stats.corrupt_packets == 0


def test_keyframe_mode_sends_only_the_wanted_keyframes(video_dir: Path) -> None:
    path = write_video(video_dir / "kf.mp4", frames=300, gop=10, bframes=2)
    frames, stats = sample(path, 2.0)
    assert stats.mode == "keyframes"
    assert stats.packets_read == 300
    assert stats.packets_sent == stats.frames_decoded == len(frames) == 15


def test_gop_mode_stops_each_gop_at_the_last_wanted_frame(video_dir: Path) -> None:
    path = write_video(video_dir / "gop.mp4", frames=300, gop=50, bframes=0)
    frames, stats = sample(path, 2.0)
    # GOPs of 5 s: samples at 0/2/4 s need packets 0..40 of GOPs 0, 2, 4, and samples at
    # 6/8 s need packets 0..30 of GOPs 1, 3, 5; the remaining packets are never decoded.
    assert stats.mode == "gop"
    assert stats.packets_sent == 3 * 41 + 3 * 31
    assert [read_barcode(f.image) for f in frames] == list(range(0, 300, 20))


def test_forced_gop_mode_on_short_gop_decodes_exact_frames(video_dir: Path) -> None:
    path = write_video(video_dir / "exact.mp4", frames=100, gop=10, bframes=2)
    frames, stats = sample(path, 0.7, mode="gop")
    assert stats.mode == "gop"
    assert [read_barcode(f.image) for f in frames] == [
        0,
        7,
        14,
        21,
        28,
        35,
        42,
        49,
        56,
        63,
        70,
        77,
        84,
        91,
        98,
    ]


@pytest.mark.parametrize("mode", ["auto", "keyframes", "gop"])
def test_variable_frame_rate(video_dir: Path, mode: str) -> None:
    rnd = random.Random(7)
    pts = [0]
    for _ in range(299):
        pts.append(pts[-1] + rnd.choice([40, 40, 80, 120, 400, 1000]))
    truth = [p / 1000 for p in pts]
    path = video_dir / "vfr.mkv"
    if not path.exists():
        write_video(path, frames=300, gop=10, pts_ms=pts)
    frames, _ = sample(path, 2.0, mode=mode)
    assert_times_match(frames, lambda i: truth[i])
    if mode == "gop":
        # every grid point is served by the first frame at or after it
        times = offsets(frames)
        for grid in np.arange(0, truth[-1], 2.0):
            first_after = min(t for t in truth if t >= grid)
            assert any(grid - 0.1 <= t <= first_after + 1e-6 for t in times), grid


@pytest.mark.parametrize(
    ("name", "kwargs", "declared_truncated"),
    [
        ("trunc_faststart.mp4", {"movflags": "faststart"}, True),
        ("trunc_fragmented.mp4", {"movflags": "frag_keyframe+empty_moov"}, None),
        ("trunc.mkv", {}, True),
        ("trunc.ts", {"bframes": 2}, None),
        ("trunc.avi", {}, None),
    ],
)
def test_truncated_file_stops_cleanly_with_covered_range(
    video_dir: Path, name: str, kwargs: dict[str, Any], declared_truncated: bool | None
) -> None:
    whole = write_video(video_dir / f"whole_{name}", frames=300, gop=10, **kwargs)
    data = whole.read_bytes()
    cut = video_dir / name
    cut.write_bytes(data[: len(data) // 2])
    frames, stats = sample(cut, 2.0)
    assert_times_match(frames, lambda i: i / 10)
    assert 10 <= offsets(frames)[-1] <= 18
    assert stats.end_ts is not None and 10 <= (stats.end_ts - START).total_seconds() <= 18
    if declared_truncated is not None:
        assert stats.truncated is declared_truncated
        assert any("header" in e for e in stats.errors)


def test_mp4_cut_before_its_index_is_refused_naming_the_file(video_dir: Path) -> None:
    whole = write_video(video_dir / "index_last.mp4", frames=100)
    cut = video_dir / "index_lost.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(VideoError, match="index_lost.mp4"):
        next(sample_frames(cut, "cam1", START, 2.0))


def test_corrupt_packets_are_skipped_and_counted(video_dir: Path) -> None:
    path = write_video(video_dir / "clean.ts", frames=300, gop=20, bframes=2)
    data = bytearray(path.read_bytes())
    rnd = random.Random(1)
    n = len(data) // 188
    for k in range(n // 3, 2 * n // 3, 5):  # garble TS payloads, keep packet headers
        off = k * 188 + 4
        data[off : off + 184] = rnd.randbytes(184)
    bad = video_dir / "corrupt.ts"
    bad.write_bytes(bytes(data))
    frames, stats = sample(bad, 2.0)
    assert stats.corrupt_packets + stats.corrupt_frames > 0
    times = offsets(frames)
    assert times == sorted(times)
    # frames outside the damaged middle third still carry exact content and time
    intact = [f for f in frames if not 10 <= (f.ts - START).total_seconds() <= 20]
    assert len(intact) >= 9
    assert_times_match(intact, lambda i: i / 10)


def test_dahua_dav_container(video_dir: Path) -> None:
    path = write_dav(
        video_dir / "NVR_ch1_main_20261122080000_20261122080020.dav", frames=200, gop=20
    )
    info = probe(path)
    assert (info.container, info.codec, info.width, info.height) == ("dhav", "h264", 320, 180)
    frames, stats = sample(path, 2.0)
    assert stats.mode == "keyframes"
    assert_times_match(frames, lambda i: i / 10)
    assert len(frames) == 10


def test_probe_reports_gop_rate_duration_and_creation_time(video_dir: Path) -> None:
    path = write_video(
        video_dir / "probe.mp4", frames=100, gop=25, creation_time="2026-11-22T00:00:05.000000Z"
    )
    info = probe(path)
    assert info.fps == 10 and info.gop == pytest.approx(2.5) and info.gop_frames == 25
    assert info.duration_s == pytest.approx(10, abs=0.2)
    assert info.creation_time == datetime(2026, 11, 22, 0, 0, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        (b"", "not a video file: it is empty"),
        (b"this is not a video at all" * 100, "not a video file"),
    ],
)
def test_unreadable_input_raises_video_error_naming_the_file(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    path = tmp_path / "broken.mp4"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(VideoError, match=message) as err:
        next(sample_frames(path, "cam1", START, 2.0))
    assert "broken.mp4" in str(err.value) and isinstance(err.value, ValueError)
    with pytest.raises(VideoError, match="broken.mp4"):
        probe(path)


def test_file_without_video_stream_is_refused(tmp_path: Path) -> None:
    import av

    path = tmp_path / "audio_only.mkv"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1, 800), np.int16), format="s16", layout="mono"
        )
        frame.sample_rate = 8000
        for packet in stream.encode(frame):
            container.mux(packet)
    with pytest.raises(VideoError, match="no video stream"):
        next(sample_frames(path, "cam1", START, 2.0))


def _open_fds(path: Path) -> int:
    fd_dir = Path("/proc/self/fd")
    count = 0
    for fd in os.listdir(fd_dir):
        try:
            if Path(os.readlink(fd_dir / fd)) == path.resolve():
                count += 1
        except OSError:
            continue
    return count


def test_closing_the_generator_early_closes_the_file(video_dir: Path) -> None:
    path = write_video(video_dir / "close.mp4", frames=100)
    frames = sample_frames(path, "cam1", START, 2.0)
    next(frames)
    assert _open_fds(path) == 1
    frames.close()
    assert _open_fds(path) == 0


def test_exhausting_or_failing_closes_the_file(video_dir: Path) -> None:
    path = write_video(video_dir / "exhaust.mp4", frames=50)
    list(sample_frames(path, "cam1", START, 2.0))
    assert _open_fds(path) == 0
    with pytest.raises(ValueError, match="timezone-aware"):
        next(sample_frames(path, "cam1", START.replace(tzinfo=None), 2.0))
    assert _open_fds(path) == 0


@pytest.mark.parametrize(
    ("out_size", "shape"),
    [(None, (180, 320, 3)), (160, (90, 160, 3)), ((128, 96), (96, 128, 3)), (1000, (180, 320, 3))],
)
def test_frames_are_scaled_to_the_requested_size(
    ten_frame_clip: Path, out_size: int | tuple[int, int] | None, shape: tuple[int, int, int]
) -> None:
    frames, _ = sample(ten_frame_clip, 2.0, out_size=out_size)
    assert all(f.image.shape == shape and f.image.dtype == np.uint8 for f in frames)


def test_output_size_rejects_non_positive_sizes() -> None:
    with pytest.raises(ValueError, match="positive"):
        output_size(320, 180, 0)
    with pytest.raises(ValueError, match="positive"):
        output_size(320, 180, (0, 10))


def test_read_frame_at_returns_the_exact_frame(video_dir: Path) -> None:
    path = write_video(video_dir / "still.mp4", frames=200, gop=25, bframes=2)
    for seconds in (0.0, 3.3, 12.0, 19.9):
        image = read_frame_at(path, START, START + timedelta(seconds=seconds))
        assert read_barcode(image) == round(seconds * 10)
    with pytest.raises(VideoError, match="no frame at"):
        read_frame_at(path, START, START + timedelta(seconds=60))
