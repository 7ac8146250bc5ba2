"""Encoding like a DVR export: file names, segments, gaps, H.264 with a fixed GOP."""

from __future__ import annotations

import dataclasses
from itertools import islice
from pathlib import Path

import av
import numpy as np
import pytest

from tests.vision.synth.clips import short_script
from vision.synth.frames import FrameRenderer
from vision.synth.render import (
    EncoderSettings,
    RenderedCamera,
    encode_frames,
    plan_segments,
    segment_name,
)


@pytest.mark.parametrize(
    ("gaps", "segment_s", "expected"),
    [
        ((), None, [(0, 300)]),
        ((), 4.0, [(0, 100), (100, 200), (200, 300)]),
        (((5.0, 7.0),), None, [(0, 125), (175, 300)]),
        (((5.0, 7.0),), 4.0, [(0, 100), (100, 125), (175, 275), (275, 300)]),
        (((0.0, 2.0), (10.0, 12.0)), None, [(50, 250)]),
    ],
)
def test_plan_segments(
    gaps: tuple[tuple[float, float], ...], segment_s: float | None, expected: list[tuple[int, int]]
) -> None:
    assert plan_segments(short_script(gaps=gaps), segment_s) == expected


def test_plan_segments_rejects_a_bad_length() -> None:
    with pytest.raises(ValueError, match="segment_s"):
        plan_segments(short_script(), 0.0)


def test_segment_names_use_the_channel_and_local_time() -> None:
    script = short_script()
    assert segment_name(script, 0, 100) == "ch07_20260302093000_20260302093004.mp4"
    assert segment_name(script, 175, 300, "{camera}-{start:%H%M%S}.mp4") == "cam_test-093007.mp4"


def test_clip_files_follow_the_plan(clip: RenderedCamera) -> None:
    names = [v.path.name for v in clip.videos]
    assert names == [
        "ch07_20260302093000_20260302093004.mp4",
        "ch07_20260302093004_20260302093005.mp4",
        "ch07_20260302093007_20260302093011.mp4",
        "ch07_20260302093011_20260302093012.mp4",
    ]
    assert [v.frames for v in clip.videos] == [100, 25, 100, 25]
    assert sorted(p.name for p in clip.truth.parent.iterdir()) == sorted(
        names + ["truth_cam_test.json"]
    )


def _probe(path: Path) -> tuple[str, float, int, list[int], tuple[int, int]]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        codec, rate = stream.codec_context.name, float(stream.average_rate or 0)
        frames = list(container.decode(stream))
    keys = [i for i, f in enumerate(frames) if f.key_frame]
    return codec, rate, len(frames), keys, (frames[0].height, frames[0].width)


def test_files_are_h264_at_25_fps_with_a_keyframe_every_50_frames(clip: RenderedCamera) -> None:
    codec, rate, count, keys, shape = _probe(clip.videos[0].path)
    assert (codec, rate, count, shape) == ("h264", 25.0, 100, (360, 640))
    assert keys == [0, 50]
    codec, rate, count, keys, shape = _probe(clip.videos[2].path)
    assert (count, keys) == (100, [0, 50])


def test_decoded_frames_match_the_rendered_ones(clip: RenderedCamera) -> None:
    renderer = FrameRenderer(short_script())
    with av.open(str(clip.videos[2].path)) as container:
        decoded = [f.to_ndarray(format="bgr24") for f in islice(container.decode(video=0), 30)]
    for i in (0, 29):
        rendered = renderer.frame(175 + i).astype(np.float64)
        error = np.abs(decoded[i].astype(np.float64) - rendered).mean()
        assert error < 4.0, f"frame {i}: mean error {error:.1f} after encoding"


def test_gop_setting_is_respected(tmp_path: Path) -> None:
    script = dataclasses.replace(short_script(), width=128, height=96, duration_s=2.0, gaps=())
    path = tmp_path / "gop.mp4"
    frames = FrameRenderer(script).iter_frames(0, 50)
    assert encode_frames(frames, path, 25, EncoderSettings(gop=20, preset="ultrafast")) == 50
    assert _probe(path)[3] == [0, 20, 40]


def test_encoding_nothing_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no frames"):
        encode_frames(iter(()), tmp_path / "empty.mp4", 25)
