"""Generated test videos for the ingest tests (sampler, discovery).

Frames carry their own index: the top band holds the index as 10 black/white blocks, so a
test can read back which frame the sampler returned and compare its timestamp with the
generator's truth. Videos are small (320×180) and written with PyAV under a session temp dir.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pytest

WIDTH, HEIGHT = 320, 180
BITS = 10
BLOCK = WIDTH // BITS
BAND = 40


def barcode_frame(index: int, grey: int | None = None) -> npt.NDArray[np.uint8]:
    """RGB frame whose top band encodes ``index``; the rest is grey (``25·index`` default)."""
    image = np.full((HEIGHT, WIDTH, 3), (25 * index) % 256 if grey is None else grey, np.uint8)
    for bit in range(BITS):
        image[:BAND, bit * BLOCK : (bit + 1) * BLOCK] = 255 if (index >> bit) & 1 else 0
    return image


def read_barcode(image: npt.NDArray[np.uint8]) -> int:
    """Frame index encoded by :func:`barcode_frame` (works on scaled frames too)."""
    h, w = image.shape[:2]
    band = image[: max(1, h * BAND // HEIGHT * 3 // 4)].mean(axis=(0, 2))
    index = 0
    for bit in range(BITS):
        x0, x1 = bit * w // BITS, (bit + 1) * w // BITS
        margin = max(1, (x1 - x0) // 4)
        if band[x0 + margin : x1 - margin].mean() > 128:
            index |= 1 << bit
    return index


def write_video(
    path: Path,
    *,
    frames: int,
    fps: int = 10,
    gop: int = 10,
    codec: str = "libx264",
    fmt: str | None = None,
    pts_ms: Sequence[int] | None = None,
    bframes: int = 0,
    creation_time: str | None = None,
    movflags: str | None = None,
    grey: Callable[[int], int] | None = None,
) -> Path:
    """Encode ``frames`` barcode frames.

    Args:
        path: Output file; the container follows the extension unless ``fmt`` is given.
        frames: Number of frames.
        fps: Nominal frame rate.
        gop: Keyframe interval in frames (scene-cut keyframes off).
        codec: ``libx264`` or ``libx265``.
        fmt: FFmpeg muxer name.
        pts_ms: Presentation times in milliseconds (variable frame rate); default ``i/fps``.
        bframes: B-frames between references.
        creation_time: Container ``creation_time`` metadata (ISO, UTC).
        movflags: MP4 muxer flags: ``faststart`` puts the index first,
            ``frag_keyframe+empty_moov`` writes a fragmented file (as DVRs that stream do).
        grey: Grey level of frame ``i`` below the band (default ``25·i``).
    """
    options = {"movflags": movflags} if movflags else {}
    container = av.open(str(path), "w", format=fmt, container_options=options)
    if creation_time is not None:
        container.metadata["creation_time"] = creation_time
    stream = container.add_stream(codec, rate=fps)
    assert isinstance(stream, av.video.stream.VideoStream)
    stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
    stream.gop_size = gop
    if pts_ms is not None:
        stream.codec_context.time_base = stream.time_base = Fraction(1, 1000)
    if codec == "libx264":
        stream.options = {"bf": str(bframes), "keyint_min": str(gop), "sc_threshold": "0"}
    else:
        stream.options = {
            "x265-params": f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes={bframes}"
            ":log-level=error"
        }
    for i in range(frames):
        frame = av.VideoFrame.from_ndarray(
            barcode_frame(i, None if grey is None else grey(i)), format="rgb24"
        )
        frame.pts = i if pts_ms is None else pts_ms[i]
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    return path


@pytest.fixture(scope="session")
def video_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Session folder for generated videos."""
    return tmp_path_factory.mktemp("videos")


@pytest.fixture(scope="session")
def ten_frame_clip(video_dir: Path) -> Path:
    """10 frames at 1 fps, all keyframes; frame ``i`` has intensity ``25·i`` below the band."""
    return write_video(video_dir / "ten.mp4", frames=10, fps=1, gop=1)


def _dhav_date(when: datetime) -> int:
    return (
        when.second
        | when.minute << 6
        | when.hour << 12
        | when.day << 17
        | when.month << 22
        | (when.year - 2000) << 26
    )


def write_dav(
    path: Path,
    *,
    frames: int,
    fps: int = 10,
    gop: int = 10,
    start: datetime = datetime(2026, 11, 22, 8, 0, 0),
) -> Path:
    """Write a Dahua DHAV (.dav) file: H.264 Annex-B frames, each in a DHAV chunk.

    Chunk layout (as FFmpeg's ``dhav`` demuxer reads it): ``DHAV``, type (0xFD keyframe,
    0xFC other), subtype, channel, sub-number, frame number (u32), chunk length (u32), packed
    local date (u32), millisecond counter (u16), extension length, checksum; extensions
    0x82 (size) and 0x81 (codec, fps) on keyframes; the payload; ``dhav`` and the length.
    """
    ctx = av.CodecContext.create("libx264", "w")
    ctx.width, ctx.height, ctx.pix_fmt = WIDTH, HEIGHT, "yuv420p"
    ctx.time_base = Fraction(1, fps)
    ctx.framerate = Fraction(fps, 1)
    ctx.gop_size = gop
    ctx.options = {"bf": "0", "keyint_min": str(gop), "sc_threshold": "0"}
    packets: list[tuple[bytes, bool, int]] = []
    for i in range(frames):
        frame = av.VideoFrame.from_ndarray(barcode_frame(i), format="rgb24")
        frame.pts = i
        packets += [(bytes(p), p.is_keyframe, p.pts or 0) for p in ctx.encode(frame)]
    packets += [(bytes(p), p.is_keyframe, p.pts or 0) for p in ctx.encode(None)]
    out = bytearray()
    for number, (payload, key, pts) in enumerate(packets):
        ms = pts * 1000 // fps
        when = start + timedelta(milliseconds=ms)
        ext = b""
        if key:
            ext = bytes([0x82, 0, 0, 0]) + struct.pack("<HH", WIDTH, HEIGHT)
            ext += bytes([0x81, 0, 0x02, fps])
        length = 24 + len(ext) + len(payload) + 8
        out += b"DHAV" + bytes([0xFD if key else 0xFC, 0, 0, 0])
        out += struct.pack("<III", number, length, _dhav_date(when))
        out += struct.pack("<HBB", ms % 65536, len(ext), 0) + ext + payload
        out += b"dhav" + struct.pack("<I", length)
    path.write_bytes(bytes(out))
    return path
