"""The Ray executor: long-lived actors that load the pose model once and analyse one unit per task.

Each actor declares its CPUs (and a share of the GPUs when the detector runs on CUDA) and is
restarted by Ray when its process dies; the unit it was analysing comes back as an error and the
driver retries it after a back-off (:mod:`api.scan.units`). Results stream back as tasks
finish, in any order, and the driver commits them. Importing this module imports Ray.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import ray
from ray.exceptions import RayError

from api.config import SiteConfig
from api.scan.orphans import TreeGuard
from api.scan.worker import (
    Executor,
    ExecutorError,
    Outcome,
    UnitJob,
    UnitResult,
    load_worker,
)

logger = logging.getLogger(__name__)

RAY_START_ATTEMPTS = 3
RAY_START_BACKOFF_S = 5.0


class RayStartError(ExecutorError):
    """Ray could not be started or joined."""


def gpu_share(device: str, cluster_gpus: float, actors: int) -> float:
    """GPUs each actor declares: a share of the cluster's when the detector runs on CUDA.

    Raises:
        ExecutorError: the detector runs on CUDA and the cluster has no GPU.
    """
    if device == "cpu":
        return 0.0
    if cluster_gpus <= 0:
        raise ExecutorError(f"detector.device is {device} but the Ray cluster has no GPU")
    return min(1.0, cluster_gpus / max(1, actors))


@ray.remote(max_restarts=-1, max_task_retries=0)
class UnitWorker:
    """A Ray actor holding a loaded pose detector."""

    def __init__(self, site: SiteConfig, threads: int) -> None:
        self.state = load_worker(site, threads)

    def analyse(self, job: UnitJob) -> UnitResult:
        """Analyse one unit (one Ray task)."""
        return self.state.analyse(job)


class RayExecutor(Executor):
    """Units as tasks on Ray actors, on this machine or a cluster.

    Args:
        site: Configuration the actors analyse with.
        workers: Actors to start (0: one per CPU of the cluster).
        address: Cluster address (``ray://…`` or ``HOST:PORT``); ``None`` starts Ray here, or
            joins the Ray instance this process already runs.
        threads: Inference threads of each actor, which declares as many CPUs.
    """

    def __init__(
        self, site: SiteConfig, workers: int, address: str | None, threads: int = 1
    ) -> None:
        self.site = site
        self.workers = workers
        self.address = address
        self.threads = threads
        self.slots = max(1, workers)
        self._owns_ray = False
        self._guard = TreeGuard()
        self._idle: list[Any] = []
        self._running: dict[Any, tuple[Any, UnitJob]] = {}

    def start(self) -> None:
        if not ray.is_initialized():
            if self.address is None:  # Ray's processes on this machine die with the scan
                self._guard.start()
            self._init_ray()
            self._owns_ray = True
        resources: dict[str, float] = ray.cluster_resources()  # type: ignore[no-untyped-call]
        cpus = int(resources.get("CPU", 1))
        self.slots = max(1, self.workers or cpus // self.threads)
        gpus = float(resources.get("GPU", 0.0))
        per_actor_gpu = gpu_share(self.site.detector.device, gpus, self.slots)
        logger.info("ray: %d actors over %d CPUs, %.2f GPU each", self.slots, cpus, per_actor_gpu)
        self._idle = [
            UnitWorker.options(  # type: ignore[attr-defined]
                num_cpus=self.threads,
                num_gpus=per_actor_gpu,
            ).remote(self.site, self.threads)
            for _ in range(self.slots)
        ]

    def _init_ray(self) -> None:
        for attempt in range(1, RAY_START_ATTEMPTS + 1):
            try:
                if self.address is None:
                    ray.init(
                        address="local",
                        num_cpus=self.workers * self.threads or os.cpu_count() or 1,
                        include_dashboard=False,
                        logging_level=logging.WARNING,
                    )
                else:
                    ray.init(address=self.address, logging_level=logging.WARNING)
                return
            # Ray raises a bare Exception when its raylet misses a startup deadline (a loaded
            # machine: the dashboard agent has a fixed 15 s to start, ray-project/ray#65983).
            except Exception as exc:
                ray.shutdown()
                if attempt == RAY_START_ATTEMPTS:
                    raise RayStartError(
                        f"Ray did not start ({self.address or 'local'}) after {attempt} "
                        f"attempts: {exc}"
                    ) from exc
                logger.warning("Ray did not start (attempt %d): %s; retrying", attempt, exc)
                time.sleep(RAY_START_BACKOFF_S * attempt)

    def submit(self, job: UnitJob) -> None:
        actor = self._idle.pop()
        ref = actor.analyse.remote(job)
        self._running[ref] = (actor, job)

    def results(self, timeout_s: float) -> list[UnitResult]:
        if not self._running:
            return []
        refs = list(self._running)
        ready, _ = ray.wait(refs, num_returns=1, timeout=timeout_s)
        if ready:
            ready, _ = ray.wait(refs, num_returns=len(refs), timeout=0)
        out: list[UnitResult] = []
        for ref in ready:
            actor, job = self._running.pop(ref)
            self._idle.append(actor)
            try:
                result: UnitResult = ray.get(ref)
            except RayError as exc:
                logger.warning("unit %d: ray task failed: %s", job.unit_id, type(exc).__name__)
                result = UnitResult(
                    job.unit_id, Outcome.ERROR, f"ray worker lost: {type(exc).__name__}"
                )
            out.append(result)
        return out

    def close(self) -> None:
        for actor in [*self._idle, *(a for a, _ in self._running.values())]:
            ray.kill(actor)
        self._idle, self._running = [], {}
        if self._owns_ray:
            ray.shutdown()
        self._guard.stop()
