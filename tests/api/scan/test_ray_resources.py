"""GPUs Ray actors declare, and a CUDA detector on a Ray instance without GPUs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import ray
from rich.console import Console

from api.scan.executors.ray_executor import gpu_share
from api.scan.options import ScanOptions
from api.scan.run import run_scan
from api.scan.worker import ExecutorError
from tests.api.scan.conftest import Footage, read_store
from vision.config import Backend


@pytest.mark.parametrize(
    ("device", "gpus", "actors", "share"),
    [("cpu", 4.0, 8, 0.0), ("cuda", 1.0, 4, 0.25), ("cuda", 8.0, 4, 1.0), ("cuda:0", 2.0, 2, 1.0)],
)
def test_actors_share_the_gpus_only_for_a_cuda_detector(
    device: str, gpus: float, actors: int, share: float
) -> None:
    assert gpu_share(device, gpus, actors) == share


@pytest.mark.usefixtures("fast_ray_imports")
def test_a_cuda_detector_on_a_ray_instance_without_gpus_is_refused(
    footage: Footage, tmp_path: Path
) -> None:
    detector = footage.site.detector.model_copy(update={"backend": Backend.TORCH, "device": "cuda"})
    site = footage.site.model_copy(update={"detector": detector})
    url = f"sqlite:///{tmp_path / 'bw.db'}"
    options = ScanOptions.build(db_url=url, work_dir=tmp_path / "work", workers=1, executor="ray")
    with pytest.raises(ExecutorError, match="device is cuda but the Ray cluster has no GPU"):
        run_scan(
            site, footage.config_path, [footage.folder], options,
            console=Console(file=open(os.devnull, "w")),
        )  # fmt: skip
    assert all(u[0] == "planned" for u in read_store(url).units.values())
    assert not ray.is_initialized()  # the Ray instance the scan started is shut down
