"""Probe: header facts, GOP measurement, creation time and stream timing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import av
import pytest

from tests.vision.conftest import write_video
from vision.probe import StreamClock, VideoError, open_video, probe, read_head, video_stream


@pytest.mark.parametrize(
    ("name", "kwargs", "codec", "fps", "gop", "gop_frames"),
    [
        ("p.mp4", {"gop": 25}, "h264", 10.0, 2.5, 25),
        ("p.mkv", {"gop": 10, "bframes": 2}, "h264", 10.0, 1.0, 10),
        ("p.ts", {"gop": 20, "fps": 20}, "h264", 20.0, 1.0, 20),
        ("p_hevc.mp4", {"gop": 15, "codec": "libx265"}, "hevc", 10.0, 1.5, 15),
    ],
)
def test_probe_reports_codec_rate_and_gop(
    video_dir: Path,
    name: str,
    kwargs: dict[str, Any],
    codec: str,
    fps: float,
    gop: float,
    gop_frames: int,
) -> None:
    path = write_video(video_dir / name, frames=100, **kwargs)
    info = probe(path)
    assert (info.codec, info.width, info.height, info.fps) == (codec, 320, 180, fps)
    assert info.gop == pytest.approx(gop) and info.gop_frames == gop_frames
    assert info.duration_s == pytest.approx(100 / fps, abs=0.2)


def test_probe_reads_creation_time_as_utc(video_dir: Path) -> None:
    path = write_video(
        video_dir / "created.mp4", frames=10, creation_time="2026-11-22T00:00:05.000000Z"
    )
    assert probe(path).creation_time == datetime(2026, 11, 22, 0, 0, 5, tzinfo=UTC)
    assert probe(write_video(video_dir / "plain.mp4", frames=10)).creation_time is None


def test_gop_is_unknown_with_a_single_keyframe(video_dir: Path) -> None:
    info = probe(write_video(video_dir / "one_gop.mp4", frames=50, gop=100))
    assert info.gop is None and info.gop_frames is None


def test_read_head_returns_every_packet_with_its_time(video_dir: Path) -> None:
    path = write_video(video_dir / "head.mkv", frames=120, gop=10, bframes=2)
    container = open_video(path)
    try:
        stream = video_stream(container, path)
        clock = StreamClock(stream)
        packets = (p for p in container.demux(stream) if p.size)
        timed, gop = read_head(packets, clock)
        times = sorted(t for _, t in timed)
    finally:
        container.close()
    assert gop is not None and gop[0] == pytest.approx(1.0) and gop[1] == 10
    assert times == pytest.approx([i / 10 for i in range(120)])


def test_clock_counts_frames_when_the_stream_has_no_timestamps(video_dir: Path) -> None:
    path = write_video(video_dir / "raw.h264", frames=50, fps=25, gop=25, fmt="h264")
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        clock = StreamClock(stream)
        times = [clock.packet_time(p) for p in container.demux(stream) if p.size]
    assert times == pytest.approx([i / 25 for i in range(50)])


def test_probe_errors_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "gone.mp4"
    with pytest.raises(VideoError, match="gone.mp4: no such file"):
        probe(missing)
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\0" * 1000)
    with pytest.raises(VideoError, match=r"broken.mp4: not a video file"):
        probe(broken)


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"", "not a video file: it is empty"),
        (b"hello, this is a text file\n" * 40, "not a video file: FFmpeg does not recognise"),
        (bytes(range(256)) * 20, "not a video file: FFmpeg does not recognise"),
    ],
)
def test_files_that_are_no_video_are_named_so(tmp_path: Path, content: bytes, says: str) -> None:
    path = tmp_path / "ch01_20261122080000_20261122090000.mp4"
    path.write_bytes(content)
    with pytest.raises(VideoError, match=says):
        probe(path)


def test_an_mp4_cut_before_its_index_is_named_so(video_dir: Path, tmp_path: Path) -> None:
    data = write_video(video_dir / "whole.mp4", frames=50, fps=25, gop=25).read_bytes()
    assert data[4:8] == b"ftyp" and data.index(b"moov") > data.index(b"mdat")
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: data.index(b"moov") - 4])
    with pytest.raises(VideoError, match=r"cut.mp4: cannot open as video .*cut short .*moov"):
        probe(cut)
