"""Encoding a camera script the way a DVR exports it: H.264 MP4 files named by channel and time.

Frames are streamed from :class:`~vision.synth.frames.FrameRenderer` straight into PyAV
(libx264, yuv420p, fixed GOP, scene-cut off), one file per segment. Intervals listed as gaps in
the script get no file. The ground truth of the whole script is written next to the files.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import av
import cv2
import numpy as np
import numpy.typing as npt

from vision.synth.frames import FrameRenderer
from vision.synth.script import CameraScript
from vision.synth.truth import VideoFile, truth_path, write_truth

logger = logging.getLogger(__name__)

DEFAULT_NAME = "ch{channel}_{start:%Y%m%d%H%M%S}_{end:%Y%m%d%H%M%S}.mp4"
"""File name pattern: ``channel`` is the camera token, ``start``/``end`` are local datetimes."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EncoderSettings:
    """How files are encoded.

    Attributes:
        preset: x264 preset.
        gop: Frames between keyframes (fixed: ``keyint = min-keyint = gop``).
        crf: x264 constant rate factor (higher is smaller and faster).
        threads: Encoder threads (0: let x264 choose).
    """

    preset: str = "veryfast"
    gop: int = 50
    crf: int = 23
    threads: int = 0


@dataclass(frozen=True, slots=True)
class RenderedCamera:
    """What :func:`render_camera` wrote."""

    camera: str
    videos: tuple[VideoFile, ...]
    truth: Path

    @property
    def paths(self) -> list[Path]:
        """Video files, then the truth file."""
        return [v.path for v in self.videos] + [self.truth]


def plan_segments(
    script: CameraScript,
    segment_s: float | None = None,
) -> list[tuple[int, int]]:
    """Frame ranges ``[first, stop)`` of the files: footage outside gaps, cut every ``segment_s``.

    Args:
        script: The camera script.
        segment_s: Longest file in seconds (``None``: one file per stretch between gaps).

    Returns:
        Frame ranges in time order.

    Raises:
        ValueError: If ``segment_s`` is not positive.

    Example:
        >>> from datetime import datetime, timezone
        >>> from vision.synth.scene import SceneLayout
        >>> s = CameraScript(camera="c", width=64, height=64, fps=10, duration_s=10,
        ...                  start=datetime(2026, 1, 1, tzinfo=timezone.utc), seed=0,
        ...                  layout=SceneLayout(horizon=0.5, vanish=(0.5, 0.1)), gaps=((4, 5),))
        >>> plan_segments(s, segment_s=3)
        [(0, 30), (30, 40), (50, 80), (80, 100)]
    """
    if segment_s is not None and segment_s <= 0:
        raise ValueError(f"segment_s must be positive, got {segment_s}")
    fps, total = script.fps, script.frame_count
    cuts = [0]
    for t0, t1 in script.gaps:
        cuts += [round(t0 * fps), round(t1 * fps)]
    cuts.append(total)
    step = total if segment_s is None else max(1, round(segment_s * fps))
    ranges: list[tuple[int, int]] = []
    for first, stop in zip(cuts[::2], cuts[1::2], strict=True):
        ranges += [(f, min(stop, f + step)) for f in range(first, stop, step)]
    return ranges


def segment_name(script: CameraScript, first: int, stop: int, pattern: str = DEFAULT_NAME) -> str:
    """File name of the frames ``[first, stop)`` (local time of the script's timezone)."""
    start = script.start + timedelta(seconds=first / script.fps)
    end = script.start + timedelta(seconds=stop / script.fps)
    return pattern.format(channel=script.token, camera=script.camera, start=start, end=end)


def encode_frames(
    frames: Iterable[npt.NDArray[np.uint8]],
    path: Path,
    fps: int,
    settings: EncoderSettings = EncoderSettings(),
) -> int:
    """Encode BGR frames into an H.264 MP4 file.

    Args:
        frames: BGR ``uint8`` frames, all of the same even size.
        path: Output file.
        fps: Frame rate.
        settings: Encoder settings.

    Returns:
        Number of frames written.

    Raises:
        ValueError: If no frames are given.
    """
    count = 0
    last: npt.NDArray[np.uint8] | None = None
    video_frame: av.VideoFrame | None = None
    x264 = f"keyint={settings.gop}:min-keyint={settings.gop}:scenecut=0"
    with av.open(str(path), "w", format="mp4") as container:
        stream = None
        for frame in frames:
            if stream is None:
                stream = container.add_stream(
                    "libx264",
                    rate=fps,
                    options={
                        "preset": settings.preset,
                        "crf": str(settings.crf),
                        "x264-params": x264,
                        "threads": str(settings.threads),
                    },
                )
                stream.width, stream.height = frame.shape[1], frame.shape[0]
                stream.pix_fmt = "yuv420p"
                stream.gop_size = settings.gop
            # The renderer hands back the same (read-only) array for an unchanged frame, whose
            # converted picture is reused; x264 copies each picture it is given.
            if frame is not last or video_frame is None:
                yuv = np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420), np.uint8)
                video_frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
                last = frame
            video_frame.pts = count
            container.mux(stream.encode(video_frame))
            count += 1
        if stream is None:
            raise ValueError(f"no frames to encode into {path}")
        container.mux(stream.encode(None))
    return count


def render_camera(
    script: CameraScript,
    out_dir: Path,
    segment_s: float | None = None,
    pattern: str = DEFAULT_NAME,
    settings: EncoderSettings = EncoderSettings(),
    truth_step_s: float = 1.0,
) -> RenderedCamera:
    """Render a script into video files and its ground truth.

    Args:
        script: The camera script.
        out_dir: Folder for the files (created if missing).
        segment_s: Longest file in seconds (``None``: one file per stretch between gaps).
        pattern: File name pattern (see :data:`DEFAULT_NAME`).
        settings: Encoder settings.
        truth_step_s: Seconds between ground-truth samples.

    Returns:
        The files written.

    Example:
        >>> # render_camera(short_script, tmp_path)  # a 10 s clip takes a few seconds
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    renderer = FrameRenderer(script)
    videos: list[VideoFile] = []
    for first, stop in plan_segments(script, segment_s):
        path = out_dir / segment_name(script, first, stop, pattern)
        written = encode_frames(renderer.iter_frames(first, stop), path, script.fps, settings)
        videos.append(
            VideoFile(
                path=path,
                start=script.start + timedelta(seconds=first / script.fps),
                end=script.start + timedelta(seconds=stop / script.fps),
                first_frame=first,
                frames=written,
            )
        )
        logger.info("camera %s: wrote %s (%d frames)", script.camera, path.name, written)
    truth = truth_path(out_dir, script)
    write_truth(truth, script, tuple(videos), step_s=truth_step_s)
    return RenderedCamera(script.camera, tuple(videos), truth)
