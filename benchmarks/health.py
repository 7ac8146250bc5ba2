"""Camera-health cost benchmark (issue 19): what measuring the picture adds to a scan.

Renders (once, cached) a 10-minute 640×360 clip of the demo lobby, samples it every 2 s at
the detector's 640-pixel size as the scan does, and times in this run, as medians of
``--repeats`` passes over the same decoded frames:

* ``decode``: the sampler alone (the baseline every scan pays);
* ``health``: :class:`vision.health.HealthMonitor` over those frames (registration held while
  the view is still, as in a scan);
* ``health_every``: the same with registration forced on every sample (the worst case: a
  busy lobby where every sample differs).

Run: ``python benchmarks/health.py [--cache-dir DIR] [--repeats 3]``. The last line is
``health_ms_per_sample=… health_vs_decode=… health_every_ms_per_sample=…``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

import vision.health as health
from vision.config import CameraConfig
from vision.reference import ReferenceStill
from vision.sampler import sample_frames
from vision.synth.demo import LOBBY_ZONES, lobby_script
from vision.synth.frames import FrameRenderer
from vision.synth.render import render_camera
from vision.types import SampledFrame

START = datetime(2026, 11, 20, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
DURATION_S = 600


def _median_s(run: object, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run()  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "bw-health")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    script = lobby_script(START, DURATION_S, 640, 360)
    clips = sorted(args.cache_dir.glob("*.mp4"))
    if not clips:
        clips = [v.path for v in render_camera(script, args.cache_dir).videos]
    still = ReferenceStill(np.asarray(FrameRenderer(script).empty_view()), START, "opening")
    camera = CameraConfig(id="lobby", zones=list(LOBBY_ZONES))

    def decode() -> list[SampledFrame]:
        return [f for c in clips for f in sample_frames(str(c), "lobby", START, 2.0, out_size=640)]

    frames = decode()

    def measure() -> None:
        monitor = health.HealthMonitor(camera, still)
        for f in frames:
            monitor.update(f)

    decode_s = _median_s(decode, args.repeats)
    health_s = _median_s(measure, args.repeats)
    held_every = health.REREGISTER_EVERY
    health.REREGISTER_EVERY = 0
    try:
        every_s = _median_s(measure, args.repeats)
    finally:
        health.REREGISTER_EVERY = held_every
    n = len(frames)
    print(f"{n} samples of {DURATION_S} s footage; decode {decode_s / n * 1000:.2f} ms/sample")
    print(
        f"health_ms_per_sample={health_s / n * 1000:.2f} "
        f"health_vs_decode={health_s / decode_s:.2f} "
        f"health_every_ms_per_sample={every_s / n * 1000:.2f}"
    )


if __name__ == "__main__":
    main()
