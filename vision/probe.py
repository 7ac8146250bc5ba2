"""Opening export files and reading what they hold without decoding.

:func:`probe` reports container, codec, size, frame rate, duration, GOP length and creation
time from the header and the first packets. :class:`StreamClock` turns stream timestamps into
seconds from the file's first frame, falling back to DTS and frame counting when PTS is missing.
Every failure to open or read raises :class:`VideoError` naming the file.
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import av
from av.video.stream import VideoStream

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from av.packet import Packet

    _Packet = Packet[VideoStream]

HEAD_KEYFRAMES = 3
"""Keyframes read ahead to measure the GOP."""
HEAD_MAX_S = 30.0
"""Longest stretch of stream read ahead to measure the GOP."""
DEFAULT_FPS = 25.0
"""Frame rate assumed when the stream does not tell (raw elementary streams)."""


class VideoError(ValueError):
    """A video file cannot be opened or read; the message names the file."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class VideoInfo:
    """What a file holds, read from its header and first packets (nothing is decoded).

    Attributes:
        path: The file.
        container: FFmpeg demuxer name (``mov,mp4,…``, ``mpegts``, ``dhav``…).
        codec: Video codec name (``h264``, ``hevc``…).
        width: Coded width in pixels.
        height: Coded height in pixels.
        fps: Average frame rate, ``None`` when the container does not say.
        duration_s: Duration from the container header, ``None`` when unknown.
        gop: Median seconds between keyframes over the first GOPs; ``None`` when fewer than
            two keyframes were found in the first :data:`HEAD_MAX_S` seconds.
        gop_frames: Median packets per GOP over the same stretch.
        creation_time: ``creation_time`` from the container or stream metadata (aware).
    """

    path: Path
    container: str
    codec: str
    width: int
    height: int
    fps: float | None
    duration_s: float | None
    gop: float | None
    gop_frames: int | None
    creation_time: datetime | None


class StreamClock:
    """Stream time in seconds from the file's first frame, robust to missing or broken PTS.

    A packet's time is its PTS, else its DTS, else the previous packet's plus one frame.

    Args:
        stream: The video stream; its start time is time 0 (else the first timestamp seen).
    """

    def __init__(self, stream: VideoStream) -> None:
        self.time_base = stream.time_base or Fraction(1, 90000)
        rate = stream.average_rate or stream.base_rate or stream.guessed_rate
        self.fps = float(rate) if rate else DEFAULT_FPS
        self.frame_s = 1.0 / self.fps
        self.origin: int | None = stream.start_time
        self._last_packet: float | None = None

    def seconds(self, value: int) -> float:
        """Seconds from the first frame for a raw timestamp in stream time base."""
        if self.origin is None:
            self.origin = value
        return float((value - self.origin) * self.time_base)

    def packet_time(self, packet: _Packet) -> float:
        """Seconds from the first frame at which a packet is shown (estimated if unstamped)."""
        raw = packet.pts if packet.pts is not None else packet.dts
        if raw is not None:
            t = self.seconds(raw)
        elif self._last_packet is None:
            t = 0.0
        else:
            t = self._last_packet + self.frame_s
        self._last_packet = t if self._last_packet is None else max(t, self._last_packet)
        return t


def open_video(path: Path) -> av.container.InputContainer:
    """Open a file for reading.

    Args:
        path: The file.

    Returns:
        The open container (the caller closes it).

    Raises:
        VideoError: the file is missing or FFmpeg cannot open it.
    """
    if not path.is_file():
        raise VideoError(path, "no such file")
    try:
        return av.open(str(path), mode="r", metadata_errors="replace")
    except (av.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise VideoError(path, _unopenable(path, exc)) from exc


ISO_BOX_TYPES = frozenset({b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot"})
"""Top-level box types an MP4/MOV file starts with (its bytes 4–8)."""


def _unopenable(path: Path, exc: Exception) -> str:
    """Why FFmpeg could not open ``path``: not a video at all, or a damaged one."""
    try:
        with path.open("rb") as fh:
            head = fh.read(12)
    except OSError as read_exc:
        return f"cannot be read ({read_exc.strerror})"
    if not head:
        return "not a video file: it is empty (0 bytes); export it again"
    is_iso = head[4:8] in ISO_BOX_TYPES
    if path.suffix.lower() in {".mp4", ".mov", ".m4v"} and is_iso:
        return (
            f"cannot open as video ({exc}); an MP4 cut short before its index (moov) was "
            "written cannot be read: export it again"
        )
    if path.suffix.lower() in {".mp4", ".mov", ".m4v"} or isinstance(exc, av.InvalidDataError):
        return (
            f"not a video file: FFmpeg does not recognise its content (it starts with "
            f"{head[:8]!r}); check that this is a DVR export"
        )
    return f"cannot open as video ({exc})"


def video_stream(container: av.container.InputContainer, path: Path) -> VideoStream:
    """The first video stream of a container.

    Args:
        container: An open container.
        path: Its file, for messages.

    Returns:
        The stream.

    Raises:
        VideoError: there is no decodable video stream.
    """
    if not container.streams.video:
        raise VideoError(path, "holds no video stream")
    stream = container.streams.video[0]
    if stream.codec_context is None:
        raise VideoError(path, "has a video stream FFmpeg cannot decode")
    return stream


def read_head(
    packets: Iterator[_Packet], clock: StreamClock
) -> tuple[Iterator[tuple[_Packet, float]], tuple[float, int] | None]:
    """Read ahead until a few keyframes are seen, to measure the GOP.

    Args:
        packets: Packets in demux order.
        clock: Clock of their stream.

    Returns:
        All packets with their times (read-ahead first, then the rest as they come), and the
        median seconds and packets between keyframes (``None`` with fewer than two keyframes).
    """
    head: list[tuple[_Packet, float]] = []
    keys: list[tuple[float, int]] = []
    for packet in packets:
        t = clock.packet_time(packet)
        head.append((packet, t))
        if packet.is_keyframe:
            keys.append((t, len(head)))
            if len(keys) >= HEAD_KEYFRAMES:
                break
        if keys and t - keys[0][0] > HEAD_MAX_S:
            break
    gop = None
    if len(keys) >= 2:
        spans = [(b[0] - a[0], b[1] - a[1]) for a, b in zip(keys, keys[1:], strict=False)]
        gop = statistics.median(s for s, _ in spans), int(statistics.median(n for _, n in spans))

    def timed() -> Iterator[tuple[_Packet, float]]:
        yield from head
        for packet in packets:
            yield packet, clock.packet_time(packet)

    return timed(), gop


def creation_time(container: av.container.InputContainer) -> datetime | None:
    """``creation_time`` of the container or one of its streams, as an aware datetime."""
    sources = [container.metadata] + [s.metadata for s in container.streams]
    for metadata in sources:
        value = metadata.get("creation_time")
        if not value:
            continue
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            logger.debug("unparseable creation_time %r", value)
            continue
        # FFmpeg writes creation_time in UTC; a value without offset is taken as UTC too.
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    return None


def _readable(container: av.container.InputContainer, stream: VideoStream) -> Iterator[_Packet]:
    """Non-empty packets until the end or the first read error (enough to measure the GOP)."""
    try:
        for packet in container.demux(stream):
            if packet.size:
                yield packet
    except av.FFmpegError as exc:
        logger.debug("read error while probing: %s", exc)


def probe(path: Path | str) -> VideoInfo:
    """Read a file's header and first packets (no decoding).

    Args:
        path: The video file.

    Returns:
        Container, codec, size, frame rate, duration, GOP length and creation time.

    Raises:
        VideoError: the file does not exist, cannot be opened or holds no video.

    Example:
        >>> info = probe("ch01_20261122080000_20261122090000.mp4")  # doctest: +SKIP
        >>> info.gop  # doctest: +SKIP
        2.0
    """
    path = Path(path)
    container = open_video(path)
    try:
        stream = video_stream(container, path)
        clock = StreamClock(stream)
        _, gop = read_head(_readable(container, stream), clock)
        ctx = stream.codec_context
        duration = container.duration / 1e6 if container.duration else None
        if duration is None and stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        rate = stream.average_rate or stream.guessed_rate
        return VideoInfo(
            path=path,
            container=container.format.name,
            codec=ctx.name,
            width=ctx.width,
            height=ctx.height,
            fps=float(rate) if rate else None,
            duration_s=duration,
            gop=None if gop is None else gop[0],
            gop_frames=None if gop is None else gop[1],
            creation_time=creation_time(container),
        )
    finally:
        container.close()
