"""Pose inference speed of each backend on real frames, with agreement of the outputs.

Frames are ultralytics' asset photos (``zidane.jpg`` 1280x720, a CCTV-like 16:9 frame, and
``bus.jpg`` 810x1080) and seven altered copies of each (mirror, shift, brightness), so a batch
of 8 holds 8 different same-sized frames. For each imgsz (640, 480) and batch (1, 8) every
backend first runs all 16 frames (warm-up and agreement), then the 8 zidane frames are timed in
runs interleaved across backends (the machine is shared, so drift hits all alike); the median
wall-clock ms/frame is reported, and the median process CPU ms/frame beside it, which other
tenants of a shared machine disturb much less. Agreement is
checked against PyTorch (ultralytics' own predictor): same person count per frame, boxes matched
one-to-one, worst IoU and worst keypoint distance (keypoints seen by both) are printed.

Where the CPU runs bf16 natively (AMX, AVX512_BF16), OpenVINO is also timed with
``precision: bf16`` (row ``openvino-bf16``); elsewhere that row is left out and said so.

Peak RSS of a worker that only runs one backend is measured in a child process per backend.

The last line is ``torch_ms=<f> onnx_ms=<f> openvino_ms=<f> best_speedup=<f>`` for batch 1 at
640; ``openvino_ms`` is OpenVINO at its fastest precision whose detections agree with torch's
(same person count on every frame, IoU >= 0.9), and speedup = torch_ms / fastest other backend.

Usage: ``python benchmarks/inference.py [--repeats 7] [--threads N] [--no-rss]``
"""

# ruff: noqa: T201  (a benchmark script reports by printing)
from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

from vision.backends.export import ExportFormat, export_dir
from vision.backends.runtimes import cpu_capabilities, default_threads
from vision.config.detector import Backend, DetectorConfig, Precision
from vision.detector import PoseDetector
from vision.types import FrameDetections, SampledFrame, box_iou
from vision.weights import locate_weights

logger = logging.getLogger(__name__)

BACKENDS = (Backend.TORCH, Backend.ONNX, Backend.OPENVINO)
SIZES = (640, 480)
BATCHES = (1, 8)
PHOTOS = ("zidane.jpg", "bus.jpg")


def _asset(name: str) -> npt.NDArray[np.uint8]:
    spec = importlib.util.find_spec("ultralytics")  # locate without importing torch
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("ultralytics is not installed: its asset photos are the test frames")
    path = Path(next(iter(spec.submodule_search_locations))) / "assets" / name
    image = cv2.imread(str(path))
    if image is None:
        raise SystemExit(f"cannot read {path}")
    return np.asarray(image, np.uint8)


def real_frames() -> list[SampledFrame]:
    """16 frames: each photo and 7 altered copies of it, grouped by photo."""
    ts = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    frames: list[SampledFrame] = []
    for name in PHOTOS:
        base = _asset(name)
        for i in range(8):
            moved = np.roll(base[:, ::-1] if i % 2 else base, 24 * i, axis=1)
            im = np.ascontiguousarray(cv2.convertScaleAbs(moved, alpha=1.0, beta=6 * i - 20))
            frames.append(SampledFrame("bench", ts, len(frames), np.asarray(im, np.uint8)))
    return frames


@dataclass(frozen=True)
class Variant:
    """One backend at one precision."""

    backend: Backend
    precision: Precision = Precision.F32

    @property
    def label(self) -> str:
        """Row name: the backend, with the precision when it is not f32."""
        tail = "" if self.precision is Precision.F32 else f"-{self.precision.value}"
        return f"{self.backend.value}{tail}"


TORCH = Variant(Backend.TORCH)


def variants() -> list[Variant]:
    """The backends at f32, and OpenVINO at bf16 where the CPU runs bf16 natively."""
    out = [Variant(b) for b in BACKENDS]
    if "BF16" in cpu_capabilities():
        out.append(Variant(Backend.OPENVINO, Precision.BF16))
    return out


@dataclass(frozen=True)
class Agreement:
    """How far a backend's detections are from the reference on the same frames."""

    same_counts: bool
    min_iou: float
    max_kpt_px: float

    @property
    def same(self) -> bool:
        """The same people: equal counts on every frame and every box matched at IoU >= 0.9."""
        return self.same_counts and self.min_iou >= 0.9

    def __str__(self) -> str:
        verdict = "same" if self.same else "DIFFERENT"
        return f"{verdict} (IoU>={self.min_iou:.3f}, kpt<={self.max_kpt_px:.2f}px)"


def agreement(ref: list[FrameDetections], other: list[FrameDetections]) -> Agreement:
    """Compare two backends' outputs frame by frame."""
    same, min_iou, max_px = True, 1.0, 0.0
    for a, b in zip(ref, other, strict=True):
        if len(a) != len(b):
            same = False
            continue
        if len(a) == 0:
            continue
        iou = box_iou(a.xyxy, b.xyxy)
        rows, cols = linear_sum_assignment(-iou)
        min_iou = min(min_iou, float(iou[rows, cols].min()))
        seen = (a.keypoints[rows, :, 2] > 0.5) & (b.keypoints[cols, :, 2] > 0.5)
        dist = np.linalg.norm(a.keypoints[rows, :, :2] - b.keypoints[cols, :, :2], axis=2)
        max_px = max(max_px, float(dist[seen].max(initial=0.0)))
    return Agreement(same, min_iou, max_px)


@dataclass(frozen=True)
class Timing:
    """Median wall-clock and process CPU time per frame, in milliseconds."""

    wall_ms: float
    cpu_ms: float


def _time_once(detector: PoseDetector, frames: list[SampledFrame]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    detector.detect(frames)
    n = len(frames)
    return (time.perf_counter() - wall) * 1000 / n, (time.process_time() - cpu) * 1000 / n


Grid = dict[tuple[int, int, Variant], tuple[Timing, Agreement | None]]


def run_grid(
    frames: list[SampledFrame], kinds: list[Variant], repeats: int, threads: int | None
) -> Grid:
    """Timing and agreement with torch for every imgsz x batch x variant.

    All frames are compared; the timed runs use the 8 frames of the first photo (16:9).
    """
    timed = frames[:8]
    results: Grid = {}
    for imgsz in SIZES:
        for batch in BATCHES:
            dets = {
                v: PoseDetector(
                    DetectorConfig(
                        backend=v.backend, precision=v.precision, imgsz=imgsz, batch=batch
                    ),
                    threads=threads,
                )
                for v in kinds
            }
            outputs = {v: d.detect(frames) for v, d in dets.items()}  # warm-up + agreement
            samples: dict[Variant, list[tuple[float, float]]] = {v: [] for v in kinds}
            for _ in range(repeats):
                for v, d in dets.items():  # interleaved: drift of a shared machine hits all
                    samples[v].append(_time_once(d, timed))
            for v in kinds:
                agree = None if v == TORCH else agreement(outputs[TORCH], outputs[v])
                timing = Timing(
                    statistics.median(w for w, _ in samples[v]),
                    statistics.median(c for _, c in samples[v]),
                )
                results[(imgsz, batch, v)] = (timing, agree)
                print(
                    f"  measured imgsz={imgsz} batch={batch} {v.label:13s} "
                    f"{timing.wall_ms:7.1f} ms/frame (cpu {timing.cpu_ms:7.1f})",
                    flush=True,
                )
    return results


def _rss_child(backend: str, threads: int | None) -> None:
    """Child process: run one backend on the frames and print peak RSS in MiB."""
    det = PoseDetector(DetectorConfig(backend=Backend(backend), batch=8), threads=threads)
    det.detect(real_frames())
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork + exec.
    status = Path("/proc/self/status").read_text().splitlines()
    hwm = [int(line.split()[1]) for line in status if line.startswith("VmHWM:")]
    rss_kib = hwm[0] if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"rss_mib": rss_kib / 1024, "torch": "torch" in sys.modules}))


def peak_rss(threads: int | None) -> dict[Backend, tuple[float, bool]]:
    """Peak RSS (MiB) of a process running only one backend, and whether it imported torch."""
    out = {}
    for b in BACKENDS:
        cmd = [sys.executable, __file__, "--rss-child", b.value]
        if threads is not None:
            cmd += ["--threads", str(threads)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=600)
        info = json.loads(proc.stdout.strip().splitlines()[-1])
        out[b] = (float(info["rss_mib"]), bool(info["torch"]))
    return out


def _agrees(agree: Agreement | None) -> bool:
    return agree is not None and agree.same


def main() -> None:
    """Run the benchmark and print the table and the summary line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per setting")
    parser.add_argument("--threads", type=int, default=None, help="intra-op threads")
    parser.add_argument("--no-rss", action="store_true", help="skip the peak-RSS children")
    parser.add_argument("--rss-child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        _rss_child(args.rss_child, args.threads)
        return

    weights = locate_weights("yolo11n-pose")
    for fmt in ExportFormat:  # a fresh cache exports here, timed in export.json
        PoseDetector(DetectorConfig(backend=Backend(fmt.value)), threads=args.threads)
        info = json.loads((export_dir(weights, fmt) / "export.json").read_text())
        print(f"one-time export to {fmt.value}: {info['seconds']:.1f} s (cached)")

    frames = real_frames()
    kinds = variants()
    if len(kinds) == len(BACKENDS):
        print(f"no openvino-bf16 row: this CPU runs {', '.join(cpu_capabilities())}, not BF16")
    print(
        f"frames: {len(frames)} real frames ({', '.join(PHOTOS)} and altered copies); timed on "
        f"the 8 {PHOTOS[0]} frames; threads={args.threads or default_threads()}; "
        f"{args.repeats} interleaved runs after warm-up, median; load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    grid = run_grid(frames, kinds, args.repeats, args.threads)

    print()
    print(
        f"{'imgsz':>5} {'batch':>5} {'backend':<13} {'ms/frame':>9} {'cpu ms':>8} "
        f"{'vs torch':>8} {'cpu vs':>7}  agreement with torch (all 16 frames)"
    )
    for (imgsz, batch, v), (t, agree) in grid.items():
        ref = grid[(imgsz, batch, TORCH)][0]
        print(
            f"{imgsz:>5} {batch:>5} {v.label:<13} {t.wall_ms:>9.1f} {t.cpu_ms:>8.1f} "
            f"{ref.wall_ms / t.wall_ms:>7.2f}x {ref.cpu_ms / t.cpu_ms:>6.2f}x  "
            f"{agree if agree is not None else 'reference'}"
        )
    if not args.no_rss:
        print()
        for b, (rss, torch_loaded) in peak_rss(args.threads).items():
            print(f"peak RSS {b.value:<9} {rss:7.0f} MiB  torch imported: {torch_loaded}")

    torch_ms = grid[(640, 1, TORCH)][0].wall_ms
    onnx_ms = grid[(640, 1, Variant(Backend.ONNX))][0].wall_ms
    openvino = min(
        (v for v in kinds if v.backend is Backend.OPENVINO and _agrees(grid[(640, 1, v)][1])),
        key=lambda v: grid[(640, 1, v)][0].wall_ms,
        default=Variant(Backend.OPENVINO),
    )
    openvino_ms = grid[(640, 1, openvino)][0].wall_ms
    print(f"openvino_ms below: {openvino.label} (fastest OpenVINO precision, same people)")
    print(
        f"torch_ms={torch_ms:.1f} onnx_ms={onnx_ms:.1f} openvino_ms={openvino_ms:.1f} "
        f"best_speedup={torch_ms / min(onnx_ms, openvino_ms):.2f}"
    )


if __name__ == "__main__":
    main()
