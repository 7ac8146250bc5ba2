"""Evidence clips: accurate cuts, speed-ups that decode little, browser-playable H.264, faces
blurred, clear errors."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pytest

from vision.clips import (
    ClipError,
    ClipInfo,
    ClipSource,
    ClipSpan,
    ClipStyle,
    Decorate,
    FaceTrack,
    write_clip,
)
from vision.timeline import ObservationTimeline, ZoneInfo
from vision.types import Posture, Role

FPS = 10
SECONDS = 12
GOP = 50  # a keyframe every 5 s, as in DVR exports
W, H = 320, 240
BITS = 8
START = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


def frame_image(index: int) -> npt.NDArray[np.uint8]:
    """BGR frame: the index as black/white blocks in the top band, fine texture below."""
    yy, xx = np.mgrid[0:H, 0:W]
    image = np.repeat((((xx // 2 + yy // 2) % 2) * 200 + 30).astype(np.uint8)[..., None], 3, 2)
    block = W // BITS
    for bit in range(BITS):
        image[:40, bit * block : (bit + 1) * block] = 255 if (index >> bit) & 1 else 0
    return image


def read_index(image: npt.NDArray[np.uint8]) -> int:
    band = image[5:35].mean(axis=(0, 2))
    block = image.shape[1] // BITS
    return sum(1 << bit for bit in range(BITS) if band[bit * block + block // 2] > 128)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clips") / "export.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        stream.options = {"g": str(GOP), "keyint_min": str(GOP), "sc_threshold": "0", "crf": "12"}
        for i in range(SECONDS * FPS):
            frame = av.VideoFrame.from_ndarray(frame_image(i), format="bgr24")
            frame.pts, frame.time_base = i, Fraction(1, FPS)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def cut(
    src: Path,
    t0: datetime,
    t1: datetime,
    out: Path,
    decorate: Decorate | None = None,
    style: ClipStyle | None = None,
) -> ClipInfo:
    """One real-time span of the export starting at START."""
    return write_clip(ClipSource(src, START), [ClipSpan(t0, t1)], out, decorate, style)


def decode(path: Path) -> list[npt.NDArray[np.uint8]]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [
            np.asarray(f.to_ndarray(format="bgr24"), np.uint8) for f in container.decode(stream)
        ]


@pytest.mark.parametrize(
    ("t0", "t1", "first", "count"),
    [
        (3.3, 5.0, 33, 17),  # starts mid-GOP: decoded from the keyframe at 0 s
        (5.0, 6.0, 50, 10),  # starts on a keyframe
        (0.0, 1.0, 0, 10),
        (7.25, 8.0, 72, 8),  # between frames: starts with the frame on screen at t0
        (11.0, 30.0, 110, 10),  # runs past the end of the file: stops at its last frame
    ],
)
def test_cut_is_frame_accurate(
    source: Path, tmp_path: Path, t0: float, t1: float, first: int, count: int
) -> None:
    out = tmp_path / "clip.mp4"
    info = cut(source, START + timedelta(seconds=t0), START + timedelta(seconds=t1), out)
    frames = decode(out)
    assert [read_index(f) for f in frames] == list(range(first, first + count))
    assert info.frames == count
    assert info.start == START + timedelta(seconds=first / FPS)
    assert not out.with_name(out.name + ".part").exists()


def test_clip_is_browser_playable(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    cut(source, START + timedelta(seconds=2), START + timedelta(seconds=4), out)
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert stream.duration is not None and stream.time_base is not None
        assert float(stream.duration * stream.time_base) == pytest.approx(2.0, abs=0.15)
    data = out.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")  # faststart: index first


@pytest.mark.parametrize(
    ("max_width", "size"), [(1280, (W, H)), (160, (160, 120)), (161, (160, 120))]
)
def test_frames_are_scaled_to_even_sizes(
    source: Path, tmp_path: Path, max_width: int, size: tuple[int, int]
) -> None:
    out = tmp_path / "clip.mp4"
    info = cut(
        source, START, START + timedelta(seconds=1), out, style=ClipStyle(max_width=max_width)
    )
    assert (info.width, info.height) == size
    frames = decode(out)
    assert frames[0].shape[:2] == (size[1], size[0])


def _timeline(face: list[float], roles: list[Role]) -> ObservationTimeline:
    ts = START.timestamp() + np.arange(0, SECONDS, 2.0)
    t, k = len(ts), len(roles)
    n = t * k
    faces = np.tile(np.array([face] * k, np.float32), (t, 1))
    return ObservationTimeline(
        branch="b1", camera="c1", zones=(ZoneInfo("lobby", "lobby"),), ts=ts,
        inferred=np.ones(t, bool), motion=np.zeros(t, np.float32),
        sample=np.repeat(np.arange(t, dtype=np.int32), k),
        track_id=np.tile(np.arange(k, dtype=np.int64), t),
        role=np.tile(np.array([int(r) for r in roles], np.int8), t),
        role_conf=np.ones(n, np.float32),
        xyxy=np.tile(np.array([[0, 0, 1, 1]], np.float32), (n, 1)),
        in_zone=np.ones((n, 1), bool), posture=np.full((n, len(Posture)), -1, np.int8),
        posture_value=np.zeros((n, len(Posture)), np.float32), face_xyxy=faces,
        coverage=np.array([[ts[0], ts[-1] + 2]]),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("roles", "blurred"),
    [
        ([Role.CUSTOMER], True),
        ([Role.UNKNOWN], True),
        ([Role.GUARD], False),
        ([Role.TELLER, Role.LOBBY_MANAGER], False),
    ],
)
def test_non_staff_faces_are_blurred(
    source: Path, tmp_path: Path, roles: list[Role], blurred: bool
) -> None:
    face = [0.5, 0.4, 0.8, 0.9]
    t0, t1 = START + timedelta(seconds=3), START + timedelta(seconds=5)
    faces = FaceTrack.from_timeline(_timeline(face, roles), t0.timestamp(), t1.timestamp())
    out = tmp_path / "clip.mp4"
    cut(source, t0, t1, out, faces.blur)
    frames = decode(out)
    x0, y0, x1, y1 = int(0.5 * W) + 4, int(0.4 * H) + 4, int(0.8 * W) - 4, int(0.9 * H) - 4
    for image in frames:
        inside = image[y0:y1, x0:x1].astype(np.float32).std()
        outside = image[y0:y1, 10 : 10 + (x1 - x0)].astype(np.float32).std()
        assert bool(inside < outside / 4) is blurred, (inside, outside)


def test_face_track_takes_samples_on_both_sides() -> None:
    ts = np.array([0.0, 2.0, 4.0])
    track = FaceTrack(ts, np.array([0, 1, 2]), np.eye(3, 4, dtype=np.float32))
    assert track.boxes_at(1.0).tolist() == np.eye(3, 4)[[0, 1]].tolist()
    assert track.boxes_at(2.0).tolist() == np.eye(3, 4)[[1]].tolist()
    assert track.boxes_at(9.0).tolist() == np.eye(3, 4)[[2]].tolist()
    assert track.boxes_at(-5.0).tolist() == np.eye(3, 4)[[0]].tolist()
    assert FaceTrack.empty().boxes_at(1.0).shape == (0, 4)


def test_face_track_skips_rows_without_face() -> None:
    timeline = _timeline([np.nan] * 4, [Role.CUSTOMER])
    assert len(FaceTrack.from_timeline(timeline, timeline.ts[0], timeline.ts[-1]).sample) == 0


@pytest.mark.parametrize(
    ("case", "expectation"),
    [
        ("reversed", pytest.raises(ClipError, match="not after its start")),
        ("missing", pytest.raises(ClipError, match="cannot open")),
        ("garbage", pytest.raises(ClipError, match="cannot open")),
        ("after_end", pytest.raises(ClipError, match="no frame")),
        ("ok", nullcontext()),
    ],
)
def test_errors_name_the_problem(
    source: Path, tmp_path: Path, case: str, expectation: AbstractContextManager[object]
) -> None:
    src, t0, t1 = source, START + timedelta(seconds=1), START + timedelta(seconds=2)
    if case == "reversed":
        t0, t1 = t1, t0
    elif case == "missing":
        src = tmp_path / "nope.mp4"
    elif case == "garbage":
        src = tmp_path / "garbage.mp4"
        src.write_bytes(np.random.default_rng(0).bytes(5000))
    elif case == "after_end":
        t0, t1 = START + timedelta(seconds=60), START + timedelta(seconds=61)
    out = tmp_path / "clip.mp4"
    with expectation:
        cut(src, t0, t1, out)
    assert out.exists() == (case == "ok")
    assert not out.with_name(out.name + ".part").exists()


def test_sped_up_span_shows_the_whole_stretch_and_decodes_little(
    source: Path, tmp_path: Path
) -> None:
    """Context in real time, then 10 s shown at 5× at 4 fps: a frame every 1.25 s of source,
    with keyframes every 5 s too far apart to show keyframes only."""
    at = [START + timedelta(seconds=s) for s in (0.0, 1.0, 11.0)]
    spans = [ClipSpan(at[0], at[1]), ClipSpan(at[1], at[2], speed=5.0)]
    out = tmp_path / "clip.mp4"
    info = write_clip(ClipSource(source, START), spans, out, style=ClipStyle(fast_fps=4.0))
    shown = [read_index(f) for f in decode(out)]
    assert shown == [*range(10), 10, 22, 35, 47, 60, 72, 85, 97]
    assert info.duration_s == pytest.approx(1.0 + 8 * 0.25)
    assert info.end == START + timedelta(seconds=11)
    assert info.decoded < SECONDS * FPS


def test_far_apart_frames_are_reached_by_seeking(source: Path, tmp_path: Path) -> None:
    """A 50× span over 11 s: one frame at 0 s and one at 10 s, decoded from their keyframes."""
    spans = [ClipSpan(START, START + timedelta(seconds=11), speed=50.0)]
    info = write_clip(
        ClipSource(source, START), spans, tmp_path / "clip.mp4", style=ClipStyle(fast_fps=5.0)
    )
    assert [read_index(f) for f in decode(tmp_path / "clip.mp4")] == [0, 100]
    assert info.decoded <= 2


def test_overlapping_spans_are_refused(source: Path, tmp_path: Path) -> None:
    spans = [
        ClipSpan(START, START + timedelta(seconds=3)),
        ClipSpan(START + timedelta(seconds=2), START + timedelta(seconds=4)),
    ]
    with pytest.raises(ClipError, match="overlap"):
        write_clip(ClipSource(source, START), spans, tmp_path / "clip.mp4")


def test_fast_spans_show_keyframes_and_decode_nothing_else(source: Path, tmp_path: Path) -> None:
    """10× at 2 fps: a frame every 5 s of source, the keyframe interval; only keyframes are
    decoded."""
    spans = [ClipSpan(START, START + timedelta(seconds=12), speed=10.0)]
    out = tmp_path / "clip.mp4"
    info = write_clip(ClipSource(source, START), spans, out, style=ClipStyle(fast_fps=2.0))
    assert [read_index(f) for f in decode(out)] == [0, 50, 100]
    assert info.decoded == 3
