"""Scan options, pipeline versions, and Ray staying unimported unless the ray executor is used."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from api.batch import ScanOptions, pipeline_version
from api.runs.executors import ExecutorKind, make_executor
from vision.config import ClutterConfig, DetectorConfig, SamplingConfig


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


def test_local_workers_default_to_one_per_core(tmp_path: Path) -> None:
    options = ScanOptions.build(db_url="sqlite:///x.db", work_dir=tmp_path, workers=0)
    assert options.workers >= 1


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
    assert base != pipeline_version(det, SamplingConfig(interval_s=1.0), clu)
    assert base != pipeline_version(DetectorConfig(object_model="yolo11n"), smp, clu)
    assert base != pipeline_version(det, smp, ClutterConfig(persistence_s=30.0))


def test_local_executor_does_not_import_ray() -> None:
    code = (
        "import sys\n"
        "import api.batch, api.cli.main\n"
        "from api.runs.executors import make_executor\n"
        "executor = make_executor('local', None, 1)\n"
        "print(type(executor).__name__, 'ray' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["LocalExecutor", "False"]


def test_make_executor_refuses_an_address_for_local() -> None:
    with pytest.raises(ValueError, match="--address"):
        make_executor("local", None, 1, address="10.0.0.5:6379")  # type: ignore[arg-type]
