"""Evidence clips: a stretch of an export re-encoded as browser-playable H.264 with faces blurred.

DVR exports have keyframes seconds apart, so copying packets would start the clip at a keyframe,
not at the wanted time. Instead the source is decoded from the keyframe before ``t0`` and only
frames from ``t0`` to ``t1`` are encoded (H.264, yuv420p, ``movflags=+faststart`` so a browser
can start playing before the whole file arrived). Customers' faces are pixelated in every frame,
using the face boxes of the observation timeline's non-staff rows at the samples around it.

Example:
    >>> faces = FaceTrack.from_timeline(timeline, t0.timestamp(), t1.timestamp())
    >>> info = write_clip(Path("export.mp4"), file_start, t0, t1, Path("clip.mp4"), faces)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

from vision.faces import blur_faces
from vision.timeline import ObservationTimeline
from vision.types import Role

logger = logging.getLogger(__name__)

OUT_TIME_BASE = Fraction(1, 1000)
FrameMark = Callable[[npt.NDArray[np.uint8]], npt.NDArray[np.uint8]]
"""Something drawn on each BGR frame of a clip."""
"""Time base of the written stream (milliseconds): keeps the source's frame timing."""

NON_STAFF_ROLES = (int(Role.CUSTOMER), int(Role.UNKNOWN))
"""Roles whose faces are blurred: customers, and anyone not known to be staff."""


class ClipError(ValueError):
    """A clip cannot be cut: unreadable source, empty or out-of-range time span."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.reason = reason


@dataclass(frozen=True)
class FaceTrack:
    """Face boxes to blur, per sample of a timeline.

    Attributes:
        ts: ``(S,)`` sample times, UTC epoch seconds, increasing.
        sample: ``(F,)`` index into ``ts`` of each face box.
        xyxy: ``(F, 4)`` face boxes in normalised ``0-1`` coordinates.
    """

    ts: npt.NDArray[np.float64]
    sample: npt.NDArray[np.intp]
    xyxy: npt.NDArray[np.float32]

    def __post_init__(self) -> None:
        if self.xyxy.shape != (len(self.sample), 4):
            raise ValueError(f"face boxes must be ({len(self.sample)}, 4), got {self.xyxy.shape}")
        if len(self.sample) and (self.sample.min() < 0 or self.sample.max() >= len(self.ts)):
            raise ValueError("face sample index out of range")

    @classmethod
    def empty(cls) -> FaceTrack:
        """No faces to blur."""
        return cls(np.zeros(0, np.float64), np.zeros(0, np.intp), np.zeros((0, 4), np.float32))

    @classmethod
    def from_timeline(cls, timeline: ObservationTimeline, t0: float, t1: float) -> FaceTrack:
        """Faces of non-staff people at the samples from just before ``t0`` to just after ``t1``.

        Args:
            timeline: Observations of the camera the clip comes from.
            t0: Clip start, UTC epoch seconds.
            t1: Clip end, UTC epoch seconds.

        Returns:
            The face boxes (rows without a face box are left out).
        """
        if timeline.num_samples == 0:
            return cls.empty()
        lo = max(int(np.searchsorted(timeline.ts, t0, side="right")) - 1, 0)
        hi = min(int(np.searchsorted(timeline.ts, t1, side="left")) + 1, timeline.num_samples)
        rows = (timeline.sample >= lo) & (timeline.sample < hi)
        rows &= np.isin(timeline.role, NON_STAFF_ROLES)
        rows &= np.isfinite(timeline.face_xyxy).all(axis=1)
        return cls(
            ts=timeline.ts[lo:hi].astype(np.float64),
            sample=(timeline.sample[rows] - lo).astype(np.intp),
            xyxy=timeline.face_xyxy[rows].astype(np.float32),
        )

    def boxes_at(self, t: float) -> npt.NDArray[np.float32]:
        """Normalised face boxes to blur at time ``t``: those of the samples on both sides of it.

        Taking both neighbours (not only the nearest) covers a face that moved between samples.
        """
        if len(self.ts) == 0 or len(self.sample) == 0:
            return np.zeros((0, 4), np.float32)
        last = len(self.ts) - 1
        before = int(np.searchsorted(self.ts, t, side="right")) - 1  # last sample at or before t
        after = int(np.searchsorted(self.ts, t, side="left"))  # first sample at or after t
        near = [min(max(before, 0), last), min(after, last)]
        return self.xyxy[np.isin(self.sample, near)]


@dataclass(frozen=True, slots=True)
class ClipInfo:
    """What :func:`write_clip` wrote.

    Attributes:
        path: The MP4 file.
        start: Wall-clock time of its first frame.
        end: Wall-clock time just after its last frame.
        frames: Number of frames.
        width: Frame width in pixels.
        height: Frame height in pixels.
    """

    path: Path
    start: datetime
    end: datetime
    frames: int
    width: int
    height: int


def _out_size(width: int, height: int, max_width: int) -> tuple[int, int]:
    """Even output size no wider than ``max_width`` (H.264 yuv420p needs even sides)."""
    scale = min(1.0, max_width / width)
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


def write_clip(
    src: Path,
    src_start: datetime,
    t0: datetime,
    t1: datetime,
    out: Path,
    faces: FaceTrack | None = None,
    *,
    max_width: int = 1280,
    crf: int = 26,
    mark: FrameMark | None = None,
) -> ClipInfo:
    """Cut ``[t0, t1)`` of an export into a browser-playable MP4, blurring faces.

    Args:
        src: The export file.
        src_start: Wall-clock time of its first frame (timezone-aware).
        t0: Clip start (timezone-aware); the first frame is the one on screen at ``t0``.
        t1: Clip end (timezone-aware), after ``t0``; the last frame is the last one starting
            before it.
        out: MP4 file to write (written to a temporary name, then renamed).
        faces: Face boxes to pixelate; ``None`` blurs nothing.
        max_width: Frames wider than this are scaled down.
        crf: x264 quality (lower is better and larger).
        mark: Drawn on every frame after the faces are blurred (e.g. a viewer's watermark).

    Returns:
        What was written.

    Raises:
        ClipError: The source cannot be read, ``t1 <= t0``, or no frame lies in the span.
    """
    if t1 <= t0:
        raise ClipError(src, f"clip end {t1.isoformat()} is not after its start {t0.isoformat()}")
    begin, stop = (t0 - src_start).total_seconds(), (t1 - src_start).total_seconds()
    faces = faces if faces is not None else FaceTrack.empty()
    tmp = out.with_name(out.name + ".part")
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        container = av.open(str(src), mode="r")
    except (av.FFmpegError, OSError) as exc:
        raise ClipError(src, f"cannot open as video ({exc})") from exc
    try:
        if not container.streams.video:
            raise ClipError(src, "holds no video stream")
        stream = container.streams.video[0]
        tb = stream.time_base or Fraction(1, 90000)
        origin = stream.start_time or 0
        if begin > 0:
            container.seek(origin + int(begin / tb), stream=stream, backward=True)
        frames, first, last, size = _encode_span(
            container, stream, origin, tb, begin, stop, tmp, faces, src_start, max_width, crf, mark
        )
    except av.FFmpegError as exc:
        tmp.unlink(missing_ok=True)
        raise ClipError(src, f"cannot decode or encode ({exc})") from exc
    finally:
        container.close()
    if frames == 0:
        tmp.unlink(missing_ok=True)
        raise ClipError(src, f"no frame between {begin:.2f} s and {stop:.2f} s into the file")
    tmp.replace(out)
    logger.debug("clip %s: %d frames from %s", out, frames, src)
    return ClipInfo(
        path=out,
        start=src_start + timedelta(seconds=first),
        end=src_start + timedelta(seconds=last),
        frames=frames,
        width=size[0],
        height=size[1],
    )


def _encode_span(
    container: av.container.InputContainer,
    stream: av.video.stream.VideoStream,
    origin: int,
    tb: Fraction,
    begin: float,
    stop: float,
    tmp: Path,
    faces: FaceTrack,
    src_start: datetime,
    max_width: int,
    crf: int,
    mark: FrameMark | None,
) -> tuple[int, float, float, tuple[int, int]]:
    """Decode forward and encode the frames inside ``[begin, stop)`` (seconds into the file)."""
    rate = stream.average_rate or stream.guessed_rate or Fraction(25)
    frame_s = float(1 / rate)
    base = src_start.timestamp()
    size = _out_size(stream.codec_context.width, stream.codec_context.height, max_width)
    writer = av.open(str(tmp), mode="w", format="mp4", container_options={"movflags": "+faststart"})
    try:
        ostream = writer.add_stream("libx264", rate=rate)
        ostream.width, ostream.height = size
        ostream.pix_fmt = "yuv420p"
        ostream.codec_context.time_base = OUT_TIME_BASE
        ostream.options = {"crf": str(crf), "preset": "veryfast", "profile": "main"}
        frames, first, last, prev_pts = 0, 0.0, 0.0, -1
        t = -frame_s
        for frame in container.decode(stream):
            t = float((frame.pts - origin) * tb) if frame.pts is not None else t + frame_s
            if t <= begin - frame_s * 3 / 4:  # gone from the screen before t0
                continue
            if t >= stop - frame_s / 4:
                break
            image = np.asarray(
                frame.to_ndarray(format="bgr24", width=size[0], height=size[1]), np.uint8
            )
            boxes = faces.boxes_at(base + t)
            if len(boxes):
                scale = np.array([size[0], size[1], size[0], size[1]], np.float32)
                image = blur_faces(image, boxes * scale)
            if mark is not None:
                image = mark(image)
            out_frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            pts = max(round((t - begin) / OUT_TIME_BASE), prev_pts + 1)
            out_frame.pts, out_frame.time_base, prev_pts = pts, OUT_TIME_BASE, pts
            for packet in ostream.encode(out_frame):
                writer.mux(packet)
            if frames == 0:
                first = t
            frames, last = frames + 1, t + frame_s
        for packet in ostream.encode(None):
            writer.mux(packet)
    finally:
        writer.close()
    return frames, first, last, size
