"""Fast frame sampling from DVR exports with PyAV (FFmpeg).

The nightly batch is bound by decoding, and the inspection items need about one frame every
two seconds out of 25 per second. The sampler therefore decodes as little as it can:

* **keyframes** mode (GOP no longer than the interval): non-key packets are dropped before
  they reach the decoder, and only the keyframes nearest the sampling grid are sent. Every
  sent packet is an independent picture, so frame threads decode several at once.
* **gop** mode (longer GOPs): the packets of each GOP are buffered, the sampling grid is laid
  over their presentation times, and only the packets up to the last wanted frame (in decode
  order) are sent; the rest of the GOP is skipped.

Frames that are decoded but not wanted are dropped without conversion; wanted frames are
converted to BGR and scaled to the inference size by one ``swscale`` call. Corrupt packets are
skipped and counted, a truncated file stops cleanly with the covered range recorded, and
frame times fall back to the times of the packets sent when PTS is missing or broken
(MPEG-PS, raw elementary streams, AVI with B-frames). The container is closed on every exit
path.
"""

from __future__ import annotations

import heapq
import logging
import math
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import av
import numpy as np
import numpy.typing as npt
from av.codec.context import ThreadType
from av.video.stream import VideoStream

from vision.probe import (
    StreamClock,
    VideoError,
    VideoInfo,
    open_video,
    probe,
    read_head,
    video_stream,
)
from vision.types import SampledFrame

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from av.packet import Packet

    _Packet = Packet[VideoStream]

SampleMode = Literal["auto", "keyframes", "gop"]
OutSize = tuple[int, int] | int | None

__all__ = [
    "OutSize",
    "SampleMode",
    "SamplerStats",
    "VideoError",
    "VideoInfo",
    "output_size",
    "probe",
    "read_frame_at",
    "sample_frames",
]

MAX_SEGMENT_PACKETS = 1500
"""Packets buffered per GOP at most; longer GOPs are decoded in full, piece by piece."""
MAX_ERRORS_KEPT = 20
"""Error messages kept in :class:`SamplerStats` (all are counted)."""


@dataclass
class SamplerStats:
    """Figures of one sampling pass, filled while the generator runs.

    Attributes:
        mode: ``keyframes`` or ``gop`` once sampling has started.
        packets_read: Video packets demuxed.
        packets_sent: Packets sent to the decoder.
        frames_decoded: Frames the decoder returned.
        frames_yielded: Frames converted and yielded.
        corrupt_packets: Packets the decoder rejected or flagged corrupt (skipped).
        corrupt_frames: Decoded frames flagged corrupt (dropped).
        truncated: The file ended before its header said, or could not be read to the end.
        first_ts: Wall-clock time of the first frame in the file.
        last_ts: Wall-clock time of the last frame in the file.
        end_ts: End of the covered range: ``last_ts`` plus one frame duration.
        errors: The first :data:`MAX_ERRORS_KEPT` problems met, as messages.
    """

    mode: str = ""
    packets_read: int = 0
    packets_sent: int = 0
    frames_decoded: int = 0
    frames_yielded: int = 0
    corrupt_packets: int = 0
    corrupt_frames: int = 0
    truncated: bool = False
    first_ts: datetime | None = None
    last_ts: datetime | None = None
    end_ts: datetime | None = None
    errors: list[str] = field(default_factory=list)

    def note(self, message: str) -> None:
        """Record a problem (kept up to :data:`MAX_ERRORS_KEPT`)."""
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(message)


@dataclass
class _Grid:
    """Sampling grid ``k * interval``: the first frame at or after each point is wanted.

    ``slack`` lets a frame slightly before a grid point serve it (half a frame in gop mode,
    half a GOP in keyframes mode).
    """

    interval: float
    slack: float
    next_due: float = -math.inf

    def accepts(self, t: float) -> bool:
        return t >= self.next_due - self.slack

    def take(self, t: float) -> None:
        self.next_due = (math.floor((t + self.slack) / self.interval) + 1) * self.interval

    def copy(self) -> _Grid:
        return _Grid(self.interval, self.slack, self.next_due)


def _packets(
    container: av.container.InputContainer,
    stream: VideoStream,
    path: Path,
    stats: SamplerStats,
) -> Iterator[_Packet]:
    """Non-empty packets of the video stream; a read error ends the stream as truncated."""
    demux = container.demux(stream)
    while True:
        try:
            packet = next(demux)
        except StopIteration:
            return
        except av.FFmpegError as exc:
            stats.truncated = True
            stats.note(f"read error after {stats.packets_read} packets: {exc}")
            logger.warning("%s: read error, stopping early: %s", path, exc)
            return
        if packet.size == 0:
            continue
        stats.packets_read += 1
        if packet.is_corrupt:
            stats.corrupt_packets += 1
            stats.note(f"packet {stats.packets_read} flagged corrupt by the demuxer")
            continue
        yield packet


def output_size(width: int, height: int, out_size: OutSize) -> tuple[int, int]:
    """Size ``(w, h)`` frames are scaled to.

    Args:
        width: Source width.
        height: Source height.
        out_size: ``None`` (keep), ``(w, h)``, or the longest side in pixels (never enlarges).

    Returns:
        Target width and height.
    """
    if out_size is None:
        return width, height
    if isinstance(out_size, int):
        if out_size <= 0:
            raise ValueError(f"out_size must be positive, got {out_size}")
        scale = min(1.0, out_size / max(width, height))
        return max(2, round(width * scale)), max(2, round(height * scale))
    w, h = out_size
    if w <= 0 or h <= 0:
        raise ValueError(f"out_size must be positive, got {out_size}")
    return w, h


def _to_bgr(frame: av.VideoFrame, size: tuple[int, int]) -> npt.NDArray[np.uint8]:
    w, h = size
    if (w, h) == (frame.width, frame.height):
        image = frame.to_ndarray(format="bgr24")
    else:
        image = frame.reformat(width=w, height=h, format="bgr24").to_ndarray()
    return np.ascontiguousarray(image, dtype=np.uint8)


class _Decoder:
    """Sends packets, skips what the decoder rejects, and times the frames that come out.

    A frame's time is its PTS when that moves forward; otherwise the earliest time among the
    packets sent and not yet matched (frames leave the decoder in presentation order, so
    this recovers times when PTS is missing or broken); never earlier than the last frame.
    """

    def __init__(
        self, stream: VideoStream, clock: StreamClock, threads: int, stats: SamplerStats
    ) -> None:
        self.ctx = stream.codec_context
        self.ctx.thread_type = ThreadType.FRAME
        self.ctx.thread_count = threads
        self.clock = clock
        self.stats = stats
        self._pending: list[float] = []
        self._last: float | None = None

    def send(self, packet: _Packet | None, t: float = 0.0) -> list[tuple[float, av.VideoFrame]]:
        if packet is not None:
            self.stats.packets_sent += 1
        try:
            frames = self.ctx.decode(packet)
        except av.error.EOFError:
            return []
        except av.FFmpegError as exc:
            self.stats.corrupt_packets += 1
            self.stats.note(f"decoder rejected packet {self.stats.packets_sent}: {exc}")
            return []
        if packet is not None:
            heapq.heappush(self._pending, t)
        self.stats.frames_decoded += len(frames)
        out = []
        for frame in frames:
            t_frame = self._time(frame)
            if frame.is_corrupt:
                self.stats.corrupt_frames += 1
            else:
                out.append((t_frame, frame))
        return out

    def _time(self, frame: av.VideoFrame) -> float:
        queued = heapq.heappop(self._pending) if self._pending else None
        last = self._last
        t = None if frame.pts is None else self.clock.seconds(frame.pts)
        if t is None or (last is not None and t <= last):
            t = queued
        if t is None or (last is not None and t <= last):
            t = (last if last is not None else -self.clock.frame_s) + self.clock.frame_s
        self._last = t
        return t


def sample_frames(
    path: Path | str,
    camera: str,
    start: datetime,
    interval_s: float,
    *,
    out_size: OutSize = None,
    threads: int = 0,
    stats: SamplerStats | None = None,
    mode: SampleMode = "auto",
) -> Generator[SampledFrame, None, None]:
    """Yield one frame per ``interval_s`` of video with wall-clock timestamps.

    The file is opened when iteration starts and closed when the generator finishes, raises,
    or is closed early.

    Args:
        path: The export file.
        camera: Camera id put on each frame.
        start: Wall-clock time of the file's first frame (timezone-aware).
        interval_s: Seconds between samples (grid ``0, interval, 2·interval…`` from the first
            frame; each point is served by the first frame at or after it, or in keyframes
            mode by the keyframe nearest it).
        out_size: ``None`` to keep the size, ``(w, h)``, or the longest side in pixels.
        threads: Decoder threads (0: FFmpeg chooses from the core count).
        stats: Filled while iterating (mode, counts, truncation, covered range).
        mode: ``auto`` picks ``keyframes`` when the GOP is no longer than the interval and
            ``gop`` otherwise.

    Yields:
        :class:`~vision.types.SampledFrame` with BGR images in presentation order.

    Raises:
        VideoError: the file cannot be opened or holds no video stream.
        ValueError: ``start`` is naive or ``interval_s`` is not positive.

    Example:
        >>> frames = sample_frames("ch01.mp4", "cam1", start, 2.0, out_size=640)  # doctest: +SKIP
        >>> next(frames).ts  # doctest: +SKIP
    """
    if start.tzinfo is None:
        raise ValueError(f"start must be timezone-aware, got {start!r}")
    if interval_s <= 0:
        raise ValueError(f"interval_s must be positive, got {interval_s}")
    path = Path(path)
    stats = stats if stats is not None else SamplerStats()
    container = open_video(path)
    try:
        stream = video_stream(container, path)
        clock = StreamClock(stream)
        timed, gop = read_head(_packets(container, stream, path, stats), clock)
        keyframes = mode == "keyframes" or (
            mode == "auto" and gop is not None and gop[0] <= interval_s + clock.frame_s / 2
        )
        stats.mode = "keyframes" if keyframes else "gop"
        logger.debug("%s: gop=%s, sampling in %s mode", path, gop, stats.mode)
        decoder = _Decoder(stream, clock, threads, stats)
        size = output_size(stream.codec_context.width, stream.codec_context.height, out_size)
        extent = _Extent()
        if keyframes:
            slack = min(gop[0] if gop else interval_s, interval_s) / 2
            frames = _keyframe_frames(timed, decoder, _Grid(interval_s, slack), extent)
        else:
            grid = _Grid(interval_s, clock.frame_s / 2)
            frames = _gop_frames(timed, decoder, grid, extent)
        for t, frame in frames:
            stats.frames_yielded += 1
            yield SampledFrame(
                camera=camera,
                ts=start + timedelta(seconds=t),
                index=round(t * clock.fps),
                image=_to_bgr(frame, size),
            )
        _finish(stats, container, clock, extent, start, path)
    finally:
        container.close()


@dataclass
class _Extent:
    """Earliest and latest packet time seen (the footage the file holds)."""

    first: float | None = None
    last: float | None = None

    def see(self, t: float) -> None:
        self.first = t if self.first is None else min(self.first, t)
        self.last = t if self.last is None else max(self.last, t)


def _keyframe_frames(
    timed: Iterator[tuple[_Packet, float]],
    decoder: _Decoder,
    grid: _Grid,
    extent: _Extent,
) -> Iterator[tuple[float, av.VideoFrame]]:
    """Send only the keyframes that serve a grid point; every decoded frame is wanted."""
    for packet, t in timed:
        extent.see(t)
        if not packet.is_keyframe or not grid.accepts(t):
            continue
        grid.take(t)
        yield from decoder.send(packet, t)
    yield from decoder.send(None)


def _gop_frames(
    timed: Iterator[tuple[_Packet, float]],
    decoder: _Decoder,
    grid: _Grid,
    extent: _Extent,
) -> Iterator[tuple[float, av.VideoFrame]]:
    """Buffer each GOP, send its packets up to the last wanted frame, pick frames by time."""
    plan = grid.copy()
    segment: list[tuple[_Packet, float]] = []
    started = False

    def flush(whole: bool) -> Iterator[tuple[float, av.VideoFrame]]:
        cutoff = _cutoff(segment, plan)
        if whole:  # the rest of this long GOP may depend on any of these packets
            cutoff = len(segment)
        for packet, t_packet in segment[:cutoff]:
            for t, frame in decoder.send(packet, t_packet):
                if grid.accepts(t):
                    grid.take(t)
                    yield t, frame
        segment.clear()

    for packet, t in timed:
        extent.see(t)
        if packet.is_keyframe:
            started = True
            yield from flush(whole=False)
        elif not started:
            continue  # leading packets before the first keyframe cannot be decoded
        segment.append((packet, t))
        if len(segment) >= MAX_SEGMENT_PACKETS:
            yield from flush(whole=True)
    yield from flush(whole=False)
    for t, frame in decoder.send(None):
        if grid.accepts(t):
            grid.take(t)
            yield t, frame


def _cutoff(segment: list[tuple[_Packet, float]], plan: _Grid) -> int:
    """Number of packets (decode order) needed to decode every wanted frame of a GOP."""
    order = sorted(range(len(segment)), key=lambda i: segment[i][1])
    last = -1
    for i in order:
        t = segment[i][1]
        if plan.accepts(t):
            plan.take(t)
            last = max(last, i)
    return last + 1


def _finish(
    stats: SamplerStats,
    container: av.container.InputContainer,
    clock: StreamClock,
    extent: _Extent,
    start: datetime,
    path: Path,
) -> None:
    """Record the covered range and whether the file ended early."""
    if extent.first is None or extent.last is None:
        raise VideoError(path, "holds no decodable video packet")
    stats.first_ts = start + timedelta(seconds=extent.first)
    stats.last_ts = start + timedelta(seconds=extent.last)
    stats.end_ts = start + timedelta(seconds=extent.last + clock.frame_s)
    declared = container.duration / 1e6 if container.duration else None
    covered = extent.last + clock.frame_s - extent.first
    if declared is not None and covered < declared - max(1.0, 3 * clock.frame_s):
        stats.truncated = True
        stats.note(f"covers {covered:.1f} s of the {declared:.1f} s in the header")
    if stats.truncated:
        logger.warning("%s: truncated, covered %.1f s", path, covered)


def read_frame_at(
    path: Path | str, start: datetime, ts: datetime, *, out_size: OutSize = None
) -> npt.NDArray[np.uint8]:
    """Decode the frame shown at wall-clock time ``ts`` (for evidence stills).

    Seeks to the keyframe before ``ts`` and decodes forward to the first frame at or after it
    (or the last frame, when ``ts`` falls within its duration).

    Args:
        path: The export file.
        start: Wall-clock time of the file's first frame.
        ts: Wanted time.
        out_size: As in :func:`sample_frames`.

    Returns:
        BGR ``uint8`` image.

    Raises:
        VideoError: the file cannot be read or ``ts`` lies outside it.
    """
    path = Path(path)
    offset = (ts - start).total_seconds()
    if offset < 0:
        raise VideoError(path, f"{ts.isoformat()} is before the file starts ({start.isoformat()})")
    container = open_video(path)
    try:
        stream = video_stream(container, path)
        clock = StreamClock(stream)
        decoder = _Decoder(stream, clock, 1, SamplerStats())
        size = output_size(stream.codec_context.width, stream.codec_context.height, out_size)
        if clock.origin is not None:
            target = clock.origin + int(offset / clock.time_base)
            try:
                container.seek(target, stream=stream, backward=True, any_frame=False)
            except av.FFmpegError:
                logger.debug("%s: seek failed, decoding from the start", path)
        last: tuple[float, av.VideoFrame] | None = None
        for t, frame in _decoded(container, stream, path, decoder):
            if t >= offset - clock.frame_s / 2:
                return _to_bgr(frame, size)
            last = t, frame
        if last is not None and offset - last[0] <= clock.frame_s:
            return _to_bgr(last[1], size)
        raise VideoError(path, f"no frame at {ts.isoformat()} ({offset:.2f} s into the file)")
    finally:
        container.close()


def _decoded(
    container: av.container.InputContainer,
    stream: VideoStream,
    path: Path,
    decoder: _Decoder,
) -> Iterator[tuple[float, av.VideoFrame]]:
    for packet in _packets(container, stream, path, decoder.stats):
        yield from decoder.send(packet, decoder.clock.packet_time(packet))
    yield from decoder.send(None)
