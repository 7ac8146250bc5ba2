"""Evidence clips: stretches of an export re-encoded as browser-playable H.264, faces blurred.

A clip is a list of :class:`ClipSpan` values, each played in real time or sped up, so that a
20-minute absence is shown whole in a few seconds between real-time context before and after.
DVR exports have keyframes seconds apart, so copying packets would start the clip at a keyframe,
not at the wanted time. Instead the source is decoded from the keyframe before each wanted
stretch (a seek), frames between wanted ones are decoded but never converted, and a sped-up span
seeks again whenever its next frame lies more than :data:`SEEK_GAP_S` ahead, so only what the
clip shows is decoded. Frames are encoded as H.264 (yuv420p, ``movflags=+faststart`` so a browser
can start playing before the whole file arrived). A :data:`Decorate` callback draws on every
frame (boxes, zones, captions) and pixelates faces; :meth:`FaceTrack.blur` is the plain one.

Example:
    >>> faces = FaceTrack.from_timeline(timeline, t0.timestamp(), t1.timestamp())
    >>> info = write_clip(ClipSource(Path("export.mp4"), file_start), [ClipSpan(t0, t1)],
    ...                   Path("clip.mp4"), faces.blur)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
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
"""Time base of the written stream (milliseconds): keeps the source's frame timing."""

NON_STAFF_ROLES = (int(Role.CUSTOMER), int(Role.UNKNOWN))
"""Roles whose faces are blurred: customers, and anyone not known to be staff."""

SEEK_GAP_S = 3.0
"""A wanted frame further ahead of the decoder than this is reached by a seek (to the keyframe
before it), not by decoding everything in between."""

KEYFRAME_SNAP = 2.0
"""A sped-up span shows keyframes only when they lie at most this many of its frame steps
apart (each shown frame is then at most one step from the time it stands for)."""

Decorate = Callable[[npt.NDArray[np.uint8], float, float], npt.NDArray[np.uint8]]
"""Draws on one BGR frame of a clip: ``(image, wall-clock epoch seconds, speed) -> image``."""


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

    def blur(
        self, image: npt.NDArray[np.uint8], t: float, speed: float = 1.0
    ) -> npt.NDArray[np.uint8]:
        """Pixelate the faces at time ``t`` (a :data:`Decorate`; ``speed`` is not used)."""
        del speed
        boxes = self.boxes_at(t)
        if not len(boxes):
            return image
        h, w = image.shape[:2]
        return blur_faces(image, boxes * np.array([w, h, w, h], np.float32))


@dataclass(frozen=True, slots=True)
class ClipSource:
    """An export file and the wall-clock time of its first frame (timezone-aware)."""

    path: Path
    start: datetime


@dataclass(frozen=True, slots=True)
class ClipSpan:
    """A stretch ``[t0, t1)`` of the export (timezone-aware) played at ``speed`` (1: real time)."""

    t0: datetime
    t1: datetime
    speed: float = 1.0


@dataclass(frozen=True, slots=True)
class ClipStyle:
    """How a clip is encoded.

    Attributes:
        max_width: Frames wider than this are scaled down.
        crf: x264 quality (lower is better and larger).
        fast_fps: Frames per second of the clip while a sped-up span plays.
        max_fps: Highest frame rate of real-time spans (a 25 fps export is shown at 12.5 fps:
            every other frame is decoded but neither converted, drawn on, nor encoded).
        preset: x264 speed preset.
    """

    max_width: int = 960
    crf: int = 28
    fast_fps: float = 6.0
    max_fps: float = 12.5
    preset: str = "superfast"


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
        duration_s: Playing time of the clip in seconds.
        decoded: Frames decoded from the source (shown or not).
    """

    path: Path
    start: datetime
    end: datetime
    frames: int
    width: int
    height: int
    duration_s: float
    decoded: int


def _out_size(width: int, height: int, max_width: int) -> tuple[int, int]:
    """Even output size no wider than ``max_width`` (H.264 yuv420p needs even sides)."""
    scale = min(1.0, max_width / width)
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


@dataclass(frozen=True, slots=True)
class _Shot:
    """One frame of the clip: the source time shown (seconds into the file), when it plays, at
    what speed, and whether it is a keyframe shown in place of the frames around it."""

    src_s: float
    out_s: float
    speed: float
    key: bool = False


def _span_shots(
    span: ClipSpan, src_start: datetime, step_s: float, fast_fps: float, out_s: float
) -> tuple[list[_Shot], float]:
    """The frames of one span from ``out_s`` on: one every ``step_s`` of a real-time span, one
    every ``speed / fast_fps`` source seconds of a sped-up one; and where the next span starts."""
    begin, stop = (span.t0 - src_start).total_seconds(), (span.t1 - src_start).total_seconds()
    fast = span.speed > 1.0
    src_step = span.speed / fast_fps if fast else step_s
    out_step = 1.0 / fast_fps if fast else step_s
    n = max(0, int(np.ceil((stop - begin) / src_step - 1e-9)))
    shots = [_Shot(begin + k * src_step, out_s + k * out_step, span.speed) for k in range(n)]
    return shots, out_s + n * out_step


def write_clip(
    source: ClipSource,
    spans: Sequence[ClipSpan],
    out: Path,
    decorate: Decorate | None = None,
    style: ClipStyle | None = None,
) -> ClipInfo:
    """Cut the spans of an export into one browser-playable MP4.

    Args:
        source: The export file and its start time.
        spans: Stretches to show, in order, not overlapping; a span's first frame is the one on
            screen at its ``t0``, its last the last one starting before its ``t1``.
        out: MP4 file to write (written to a temporary name, then renamed).
        decorate: Drawn on every frame (faces blurred, boxes); ``None`` draws nothing.
        style: Encoding settings.

    Returns:
        What was written.

    Raises:
        ClipError: The source cannot be read, a span is empty or the spans overlap, or no frame
            lies in them.
    """
    style = style or ClipStyle()
    if not spans:
        raise ClipError(source.path, "no span to cut")
    for a, b in zip(spans, spans[1:], strict=False):
        if b.t0 < a.t1:
            raise ClipError(source.path, f"spans overlap at {b.t0.isoformat()}")
    for span in spans:
        if span.t1 <= span.t0:
            raise ClipError(
                source.path,
                f"clip end {span.t1.isoformat()} is not after its start {span.t0.isoformat()}",
            )
    tmp = out.with_name(out.name + ".part")
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        container = av.open(str(source.path), mode="r")
    except (av.FFmpegError, OSError) as exc:
        raise ClipError(source.path, f"cannot open as video ({exc})") from exc
    try:
        if not container.streams.video:
            raise ClipError(source.path, "holds no video stream")
        reader = _Reader(container, container.streams.video[0])
        reader.step_s = max(reader.frame_s, 1.0 / style.max_fps)
        shots: list[_Shot] = []
        out_s = 0.0
        for span in spans:
            part, out_s = _span_shots(span, source.start, reader.step_s, style.fast_fps, out_s)
            if span.speed > 1.0:
                part = reader.snap_to_keyframes(part, span.speed / style.fast_fps)
            shots += part
        info = _encode(reader, shots, tmp, decorate, source, style)
    except av.FFmpegError as exc:
        tmp.unlink(missing_ok=True)
        raise ClipError(source.path, f"cannot decode or encode ({exc})") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        container.close()
    if info.frames == 0:
        tmp.unlink(missing_ok=True)
        first = (spans[0].t0 - source.start).total_seconds()
        last = (spans[-1].t1 - source.start).total_seconds()
        raise ClipError(
            source.path, f"no frame between {first:.2f} s and {last:.2f} s into the file"
        )
    tmp.replace(out)
    logger.debug(
        "clip %s: %d frames (%d decoded) from %s", out, info.frames, info.decoded, source.path
    )
    return ClipInfo(
        path=out,
        start=info.start,
        end=info.end,
        frames=info.frames,
        width=info.width,
        height=info.height,
        duration_s=info.duration_s,
        decoded=info.decoded,
    )


class _Reader:
    """Frames of a video stream at wanted times, seeking instead of decoding long stretches."""

    def __init__(
        self, container: av.container.InputContainer, stream: av.video.stream.VideoStream
    ) -> None:
        self.container, self.stream = container, stream
        self.tb = stream.time_base or Fraction(1, 90000)
        self.origin = stream.start_time or 0
        rate = stream.average_rate or stream.guessed_rate or Fraction(25)
        self.rate = rate
        self.frame_s = float(1 / rate)
        self.step_s = self.frame_s
        """Source seconds between the frames of a real-time span."""
        stream.thread_type = "AUTO"  # frame-parallel decoding
        self.decoded = 0
        self._frames: Iterator[av.VideoFrame] | None = None
        self._held: tuple[av.VideoFrame, float] | None = None
        self._last = -np.inf
        self._asked = -np.inf
        self._keys_only = False

    def snap_to_keyframes(self, shots: list[_Shot], src_step: float) -> list[_Shot]:
        """Show the nearest keyframes instead when keyframes are at most :data:`KEYFRAME_SNAP`
        shot steps apart: the decoder then decodes keyframes only (``skip_frame``), nothing in
        between. The packets are read (not decoded) once to find the keyframes; a source whose
        keyframes are further apart keeps its shots."""
        if len(shots) < 2:
            return shots
        self._seek(shots[0].src_s)
        stop = shots[-1].src_s + src_step
        keys: list[float] = []
        for packet in self.container.demux(self.stream):
            if packet.pts is None:
                continue
            t = float((packet.pts - self.origin) * self.tb)
            if t > stop:
                break
            if packet.is_keyframe:
                keys.append(t)
        self._frames = None  # the next frame read seeks again
        if len(keys) < 2 or float(np.median(np.diff(keys))) > KEYFRAME_SNAP * src_step:
            return shots
        at = np.asarray(keys)
        out: list[_Shot] = []
        for shot in shots:
            i = int(np.clip(np.searchsorted(at, shot.src_s), 1, len(at) - 1))
            near = at[i - 1] if shot.src_s - at[i - 1] <= at[i] - shot.src_s else at[i]
            out.append(_Shot(float(near), shot.out_s, shot.speed, key=True))
        return out

    def _seek(self, at_s: float) -> None:
        if at_s > 0:
            self.container.seek(
                self.origin + int(at_s / self.tb), stream=self.stream, backward=True
            )
        else:
            self.container.seek(self.origin, stream=self.stream, backward=True)
        self._frames = iter(self.container.decode(self.stream))
        self._held, self._last = None, -np.inf

    def at(self, src_s: float, key: bool = False) -> tuple[av.VideoFrame, float] | None:
        """The frame on screen at ``src_s`` seconds into the file (the keyframe there when
        ``key``); ``None`` past the end."""
        if key != self._keys_only:
            self._keys_only = key
            self.stream.codec_context.skip_frame = "NONKEY" if key else "DEFAULT"
            self._frames = None
        if self._frames is None or src_s > self._last + SEEK_GAP_S or src_s < self._asked:
            self._seek(src_s)
        assert self._frames is not None
        self._asked = src_s
        while self._held is None or self._held[1] <= src_s - self.frame_s * 3 / 4:
            frame = next(self._frames, None)
            if frame is None:
                return None
            self.decoded += 1
            t = (
                float((frame.pts - self.origin) * self.tb)
                if frame.pts is not None
                else self._last + self.frame_s
            )
            self._held, self._last = (frame, t), t
        return self._held


def _encode(
    reader: _Reader,
    shots: list[_Shot],
    tmp: Path,
    decorate: Decorate | None,
    source: ClipSource,
    style: ClipStyle,
) -> ClipInfo:
    """Encode the shots' frames; frames past the end of the source end the clip."""
    ctx = reader.stream.codec_context
    size = _out_size(ctx.width, ctx.height, style.max_width)
    base = source.start.timestamp()
    writer = av.open(str(tmp), mode="w", format="mp4", container_options={"movflags": "+faststart"})
    frames, first, last, prev_pts, played = 0, 0.0, 0.0, -1, 0.0
    try:
        rate = Fraction(1 / reader.step_s).limit_denominator(1001)
        ostream = writer.add_stream("libx264", rate=rate)
        ostream.width, ostream.height = size
        ostream.pix_fmt = "yuv420p"
        ostream.codec_context.time_base = OUT_TIME_BASE
        ostream.options = {"crf": str(style.crf), "preset": style.preset, "profile": "main"}
        for shot in shots:
            got = reader.at(shot.src_s, shot.key)
            if got is None:
                break
            frame, t = got
            if t >= shot.src_s + reader.frame_s * 3 / 4:  # a hole in the source: nothing on screen
                continue
            image = np.asarray(
                frame.to_ndarray(format="bgr24", width=size[0], height=size[1]), np.uint8
            )
            if decorate is not None:
                image = decorate(image, base + t, shot.speed)
            out_frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            pts = max(round(shot.out_s / OUT_TIME_BASE), prev_pts + 1)
            out_frame.pts, out_frame.time_base, prev_pts = pts, OUT_TIME_BASE, pts
            for packet in ostream.encode(out_frame):
                writer.mux(packet)
            if frames == 0:
                first = t
            fast = shot.speed > 1.0
            step = 1.0 / style.fast_fps if fast else reader.step_s
            last = shot.src_s + step * shot.speed if fast else t + reader.step_s
            frames, played = frames + 1, shot.out_s + step
        for packet in ostream.encode(None):
            writer.mux(packet)
    finally:
        writer.close()
    return ClipInfo(
        path=tmp,
        start=source.start + timedelta(seconds=first),
        end=source.start + timedelta(seconds=last),
        frames=frames,
        width=size[0],
        height=size[1],
        duration_s=played,
        decoded=reader.decoded,
    )
