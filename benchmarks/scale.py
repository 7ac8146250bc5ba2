"""Scale-out benchmark (issue 7): the same generated exports scanned end to end with the
``local`` executor with 1 worker, ``local`` with 2 workers and ``ray`` with 2 actors, each
worker one core (one inference thread, the default). The Ray instance is started before the ray
scan is timed (a nightly job joins a running cluster); its start time is printed on its own line.
For context, not in the ratios, one worker with two inference threads (``--threads 2``) is
timed too: on this machine it shows what intra-op threads give compared with a second worker.

Footage: the demo branch (two cameras) rendered at 640×360 for ``--duration`` seconds per
camera in ``--segment`` second files, cached under ``--cache-dir``; the motion gate is off so
every sample is inferred (:data:`EVERY_SAMPLE_INFERRED`). Every scan is a complete
``run_scan`` into a fresh SQLite store (discovery, hashing, planning, worker start and model
load, analysis, rules, commits), timed from call to return; the baseline is the local
1-worker scan of this same process run. The machine load (``/proc/loadavg``) is printed before
and after, because on a shared machine the figures move with it.

Ray's agents import jsonschema, which imports ``rfc3987_syntax`` if installed; that import
builds an Earley parser and, on a loaded machine, makes Ray's dashboard agent miss the
raylet's fixed 15 s start deadline (ray-project/ray#65983). The benchmark therefore shadows
that optional module for the processes it starts (jsonschema ignores its absence).

Run: ``python benchmarks/scale.py [--duration 600] [--segment 60] [--cache-dir DIR]``. The last
line is ``local1_x_realtime=… local2_speedup=… ray2_speedup=… ray_overhead_pct=…``.
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from pathlib import Path

import yaml
from rich.console import Console

from api.config import SiteConfig, load_config
from api.demo import DEMO_START, demo_config
from api.scan.options import ExecutorKind, ScanOptions
from api.scan.run import run_scan

EVERY_SAMPLE_INFERRED = {"motion_threshold": 0.0, "max_hold_s": 0.0}
"""The motion gate is off, so every sample (one per 2 s) goes through the model: the synthetic
branch is mostly still, and with the gate on fixed costs (worker start, model load) would hide
the scaling the benchmark is about."""


def render(cache: Path, duration_s: int, segment_s: float) -> tuple[Path, SiteConfig]:
    """Render (or reuse) the footage and write its configuration."""
    from vision.synth.demo import demo_scenario
    from vision.synth.render import render_camera

    folder = cache / f"scale-{duration_s}s-{segment_s:.0f}s"
    scenario = demo_scenario(DEMO_START, duration_s, width=640, height=360)
    marker = folder / "rendered"
    if not marker.exists():
        for camera in scenario.cameras:
            render_camera(camera.script, folder / "footage", segment_s=segment_s)
        marker.touch()
    config_path = folder / "branchwatch.yaml"
    config = demo_config(duration_s, [c.config for c in scenario.cameras])
    config["sampling"] = dict(EVERY_SAMPLE_INFERRED)
    config_path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return folder / "footage", load_config(config_path)


def scan(
    footage: Path,
    site: SiteConfig,
    config: Path,
    executor: ExecutorKind,
    workers: int,
    threads: int = 1,
) -> tuple[float, float]:
    """One full scan into a fresh store; returns (wall seconds, footage seconds)."""
    with tempfile.TemporaryDirectory(prefix="bw-scale-") as tmp:
        options = ScanOptions.build(
            db_url=f"sqlite:///{tmp}/scale.db",
            work_dir=Path(tmp) / "work",
            workers=workers,
            executor=executor,
            threads=threads,
        )
        t0 = time.perf_counter()
        summary = run_scan(site, config, [footage], options, console=Console(quiet=True))
        wall = time.perf_counter() - t0
    failed = [f.path for f in summary.files if f.status not in ("done",)]
    if failed:
        raise SystemExit(f"{executor.value}×{workers}: files not done: {failed}")
    return wall, summary.footage_s


def shadow_rfc3987(root: Path) -> None:
    """Make ``import rfc3987_syntax`` fail fast in this process's children (see the docstring)."""
    shim = root / "rfc3987_syntax"
    shim.mkdir(parents=True, exist_ok=True)
    (shim / "__init__.py").write_text("raise ImportError('shadowed by benchmarks/scale.py')\n")
    path = os.environ.get("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), path) if p)


def start_ray(cpus: int) -> None:
    """Start the Ray instance the ray scan joins, as a nightly job joins a running cluster."""
    t0 = time.perf_counter()
    import ray

    ray.init(address="local", num_cpus=cpus, include_dashboard=False)
    print(
        f"ray start: {time.perf_counter() - t0:.1f} s (outside the ray2 timing; the scan's "
        "actor starts, model loads and tasks are inside it)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=600, help="footage seconds per camera")
    parser.add_argument("--segment", type=float, default=60.0, help="seconds per export file")
    parser.add_argument(
        "--cache-dir", type=Path, default=Path.home() / ".cache" / "branchwatch" / "bench"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    footage, site = render(args.cache_dir, args.duration, args.segment)
    config = footage.parent / "branchwatch.yaml"
    files = len(list(footage.glob("*.mp4")))
    print(f"load before: {Path('/proc/loadavg').read_text().strip()} (cpus={os.cpu_count()})")
    print(f"footage: {files} files, 2 cameras × {args.duration} s")
    results: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory(prefix="bw-shim-") as shim:
        shadow_rfc3987(Path(shim))
        for name, kind, workers, threads in (
            ("local1", ExecutorKind.LOCAL, 1, 1),
            ("local2", ExecutorKind.LOCAL, 2, 1),
            ("local1-threads2", ExecutorKind.LOCAL, 1, 2),
            ("ray2", ExecutorKind.RAY, 2, 1),
        ):
            if kind is ExecutorKind.RAY:
                start_ray(workers)
            wall, footage_s = scan(footage, site, config, kind, workers, threads)
            results[name] = (wall, footage_s)
            print(
                f"{name}: {wall:.1f} s wall, {footage_s:.0f} s footage, "
                f"{footage_s / wall:.2f}× realtime"
            )
    print(f"load after: {Path('/proc/loadavg').read_text().strip()}")
    local1, local2, ray2 = (results[k][0] for k in ("local1", "local2", "ray2"))
    print(
        f"context: one worker with 2 threads is {local1 / results['local1-threads2'][0]:.2f}× "
        f"local1; two workers are {results['local1-threads2'][0] / local2:.2f}× that"
    )
    x_realtime = results["local1"][1] / local1
    print(
        f"local1_x_realtime={x_realtime:.2f} local2_speedup={local1 / local2:.2f} "
        f"ray2_speedup={local1 / ray2:.2f} ray_overhead_pct={(ray2 - local2) / local2 * 100:.1f}"
    )


if __name__ == "__main__":
    main()
