"""Static-object layer speed (issue 4): milliseconds per sample on generated footage.

The demo lobby (:func:`vision.synth.demo.lobby_script`: people cut out of real photos, the
coffee-cup photo left on the form desk, a changing screen, a lighting ramp) is rendered once
at 960x540, every 2 s for ``--seconds``; the person boxes are the drawn people's boxes.
Rendering is outside the timings. In the same run it measures:

* ``grey``   — the floor cost: only downscaling each frame to the work image;
* ``layer``  — the whole layer at the default work width (320 px);
* ``full``   — the same layer comparing at the frame's own width (960 px), the baseline the
  downscaling is weighed against.

Each figure is the median over ``--repeats`` passes of the mean ms per sample (after the
bootstrap samples). The last line is ``grey_ms=<f> layer_ms=<f> full_ms=<f> speedup=<f>``.

Usage: ``python benchmarks/clutter.py [--seconds 300] [--repeats 3]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

from vision.config import CameraConfig
from vision.config.clutter import ClutterConfig
from vision.reference import to_work_grey, work_shape
from vision.static_objects import StaticObjectLayer
from vision.synth.demo import LOBBY_ZONES, lobby_script
from vision.synth.frames import FrameRenderer
from vision.synth.truth import actor_boxes
from vision.types import FrameDetections, SampledFrame

START = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
STEP_S = 2.0

Sample = tuple[SampledFrame, FrameDetections]


def say(text: str) -> None:
    """Write a line of the report to stdout (benchmarks report on stdout)."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def render(seconds: float) -> list[Sample]:
    """Frames every STEP_S of the demo lobby with the drawn people as detections."""
    script = lobby_script(START, seconds)
    w, h = script.width, script.height
    renderer = FrameRenderer(script)
    t = np.arange(0.0, seconds, STEP_S)
    boxes = actor_boxes(script, t)
    out: list[Sample] = []
    for i, ti in enumerate(t):
        ts = START + timedelta(seconds=float(ti))
        b = boxes[~np.isnan(boxes[:, i, 0]), i] * np.array([w, h, w, h], np.float32)
        n = len(b)
        dets = FrameDetections(
            xyxy=b.astype(np.float32),
            confidence=np.full(n, 0.9, np.float32),
            class_id=np.zeros(n, np.int32),
            track_id=np.full(n, -1, np.int64),
            keypoints=np.zeros((n, 17, 3), np.float32),
            frame_shape=(h, w),
            camera="lobby",
            frame_index=i,
            ts=ts,
        )
        image = np.array(renderer.frame(round(ti * script.fps)))
        out.append((SampledFrame("lobby", ts, i, image), dets))
    return out


def time_grey(samples: list[Sample], width: int) -> float:
    """Mean ms per sample of the downscale to the work image alone."""
    frame = samples[0][0].image
    shape = work_shape((frame.shape[0], frame.shape[1]), width)
    sink: list[npt.NDArray[np.float32]] = []
    t0 = time.perf_counter()
    for frame_, _ in samples:
        sink.append(to_work_grey(frame_.image, shape))
    return 1000 * (time.perf_counter() - t0) / len(samples)


def time_layer(samples: list[Sample], config: ClutterConfig) -> tuple[float, int]:
    """Mean ms per sample of the layer after bootstrap, and the number of objects found."""
    layer = StaticObjectLayer(CameraConfig(id="lobby", zones=list(LOBBY_ZONES)), config)
    boot = config.bootstrap_samples
    for frame, dets in samples[:boot]:
        layer.update(frame, dets)
    t0 = time.perf_counter()
    for frame, dets in samples[boot:]:
        layer.update(frame, dets)
    elapsed = time.perf_counter() - t0
    return 1000 * elapsed / max(1, len(samples) - boot), len(layer.objects())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    samples = render(args.seconds)
    h, w = samples[0][0].image.shape[:2]
    say(f"{len(samples)} samples of {w}x{h}, every {STEP_S:g} s")
    default = ClutterConfig()
    full = default.model_copy(update={"work_width": w})
    grey, layer, whole = [], [], []
    found = {}
    for _ in range(args.repeats):  # interleaved: drift of a shared machine hits all alike
        grey.append(time_grey(samples, default.work_width))
        ms, found["layer"] = time_layer(samples, default)
        layer.append(ms)
        ms, found["full"] = time_layer(samples, full)
        whole.append(ms)
    g, lay, f = (statistics.median(x) for x in (grey, layer, whole))
    say(f"downscale only ({default.work_width} px):   {g:7.2f} ms/sample")
    say(
        f"layer at {default.work_width} px:             {lay:7.2f} ms/sample "
        f"({found['layer']} objects)"
    )
    say(f"layer at {w} px (baseline):    {f:7.2f} ms/sample ({found['full']} objects)")
    say(f"grey_ms={g:.2f} layer_ms={lay:.2f} full_ms={f:.2f} speedup={f / lay:.2f}")


if __name__ == "__main__":
    main()
