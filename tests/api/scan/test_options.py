"""Scan options, pipeline versions, and Ray staying unimported unless the ray executor is used."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from api.scan.executors import make_executor
from api.scan.options import ExecutorKind, ScanOptions
from api.scan.plan import camera_version, detector_label, pipeline_version
from vision.config import (
    Backend,
    CameraConfig,
    ClutterConfig,
    DetectorConfig,
    Precision,
    SamplingConfig,
    ZoneConfig,
)
from vision.config.camera import UniformSignature


@pytest.mark.parametrize(
    ("executor", "address", "workers", "expected_workers"),
    [
        ("local", None, 3, 3),
        ("ray", None, 0, 0),  # Ray: one actor per CPU of the cluster
        ("ray", "10.0.0.5:6379", 4, 4),
    ],
)
def test_scan_options(
    executor: str, address: str | None, workers: int, expected_workers: int, tmp_path: Path
) -> None:
    options = ScanOptions.build(
        db_url="sqlite:///x.db",
        work_dir=tmp_path,
        workers=workers,
        executor=executor,
        address=address,
    )
    assert (options.executor, options.address, options.workers) == (
        ExecutorKind(executor),
        address,
        expected_workers,
    )


@pytest.mark.parametrize("threads", [1, 2])
def test_local_workers_default_to_the_cores_at_threads_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threads: int
) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    options = ScanOptions.build(
        db_url="sqlite:///x.db", work_dir=tmp_path, workers=0, threads=threads
    )
    assert (options.workers, options.threads) == (8 // threads, threads)
    executor = make_executor("local", None, 0, threads=threads)  # type: ignore[arg-type]
    assert executor.slots == 8 // threads


def test_threads_per_worker_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="threads per worker must be at least 1, not 0"):
        ScanOptions.build(db_url="sqlite:///x.db", work_dir=tmp_path, workers=1, threads=0)


@pytest.mark.parametrize(
    ("executor", "address", "message"),
    [("local", "10.0.0.5:6379", "--address needs --executor ray"), ("dask", None, "dask")],
)
def test_bad_scan_options_are_refused(executor: str, address: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ScanOptions.build(
            db_url="sqlite:///x.db",
            work_dir=Path("w"),
            workers=1,
            executor=executor,
            address=address,
        )


def test_pipeline_version_follows_what_changes_observations() -> None:
    det, smp, clu = DetectorConfig(), SamplingConfig(), ClutterConfig()
    base = pipeline_version(det, smp, clu)
    assert base == pipeline_version(DetectorConfig(), SamplingConfig(), ClutterConfig())
    assert base != pipeline_version(DetectorConfig(imgsz=320), smp, clu)
    bf16 = DetectorConfig(backend=Backend.OPENVINO, precision=Precision.BF16)
    assert pipeline_version(DetectorConfig(backend=Backend.OPENVINO), smp, clu) != (
        pipeline_version(bf16, smp, clu)
    )
    assert base != pipeline_version(det, SamplingConfig(interval_s=1.0), clu)
    assert base != pipeline_version(DetectorConfig(object_model="yolo11n"), smp, clu)
    assert base != pipeline_version(det, smp, ClutterConfig(persistence_s=30.0))


def test_local_executor_does_not_import_ray() -> None:
    code = (
        "import sys\n"
        "import api.scan.run, api.cli.main\n"
        "from api.scan.executors import make_executor\n"
        "executor = make_executor('local', None, 1)\n"
        "print(type(executor).__name__, 'ray' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["LocalExecutor", "False"]


def test_make_executor_refuses_an_address_for_local() -> None:
    with pytest.raises(ValueError, match="--address"):
        make_executor("local", None, 1, address="10.0.0.5:6379")  # type: ignore[arg-type]


def test_detector_label_names_a_precision_other_than_f32() -> None:
    assert detector_label(DetectorConfig()) == "yolo11n-pose@640/onnx"
    bf16 = DetectorConfig(backend=Backend.OPENVINO, precision=Precision.BF16, imgsz=480)
    assert detector_label(bf16) == "yolo11n-pose@480/openvino-bf16"
    gpu = DetectorConfig(backend=Backend.TORCH, device="cuda:1")
    assert detector_label(gpu) == "yolo11n-pose@640/torch@cuda:1"


def test_camera_version_follows_the_camera_zones_and_uniforms() -> None:
    post = ZoneConfig(id="post", kind="guard_post", polygon=[(0, 0), (0.5, 0), (0.5, 0.5)])
    cam = CameraConfig(id="lobby", zones=[post])
    base = camera_version("v1", "b1", cam)
    assert base == camera_version("v1", "b1", cam.model_copy(update={"name": "大堂"}))
    assert base != camera_version("v2", "b1", cam)
    assert base != camera_version("v1", "b2", cam)
    # Two cameras drawn alike still have versions of their own.
    assert base != camera_version("v1", "b1", cam.model_copy(update={"id": "hall"}))
    moved = post.model_copy(update={"polygon": [(0, 0), (0.6, 0), (0.6, 0.5)]})
    assert base != camera_version("v1", "b1", cam.model_copy(update={"zones": [moved]}))
    uniform = UniformSignature(role="guard", hist=[1.0])
    assert base != camera_version("v1", "b1", cam.model_copy(update={"uniforms": [uniform]}))
