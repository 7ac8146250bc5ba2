"""Where units are analysed: one :class:`Executor` interface, a local process pool and Ray.

The driver claims units and submits :class:`UnitJob` values; an executor analyses them in its
workers (each loads the pose model once) and streams :class:`UnitResult` values back. The driver
alone writes to the store. Bad input (:class:`vision.probe.VideoError`) comes back as
``bad_input`` and is not retried; anything else that goes wrong in a worker, a worker process
killed mid-file included, comes back as ``error`` and the driver retries it with back-off.

Ray is imported only when the ``ray`` executor is chosen (:mod:`api.runs.ray_executor`).
"""

from __future__ import annotations

import logging
import os
import tempfile
from abc import ABC, abstractmethod
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any

from api.config import SiteConfig
from api.logs import worker_logging

if TYPE_CHECKING:
    from vision.pipeline import ClutterSetup
    from vision.reference import ReferenceStill

logger = logging.getLogger(__name__)


class ExecutorKind(StrEnum):
    """Executors ``branchwatch scan --executor`` accepts."""

    LOCAL = "local"
    RAY = "ray"


class ExecutorError(RuntimeError):
    """The executor cannot start its workers (Ray unreachable, no GPU for a CUDA detector)."""


class Outcome(StrEnum):
    """How the analysis of one unit ended."""

    OK = "ok"
    BAD_INPUT = "bad_input"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class UnitJob:
    """What a worker needs to analyse one unit.

    ``reference`` is the clean still marked for the camera (``branchwatch reference set``); it
    travels with the job so that workers on other machines need no access to the driver's disk.
    """

    unit_id: int
    path: str
    branch: str
    camera: str
    start: datetime
    reference: ReferenceStill | None = None


@dataclass(frozen=True, slots=True)
class UnitResult:
    """What a worker sends back: the timeline as ``.npz`` bytes, written by the driver."""

    unit_id: int
    outcome: Outcome
    reason: str = ""
    stats: dict[str, Any] = field(default_factory=dict)
    timeline: bytes = b""


class WorkerState:
    """A worker's loaded detectors, built once per worker process or actor.

    The pose detector always; the object detector that names static objects only when the
    configuration sets ``detector.object_model``.
    """

    def __init__(self, site: SiteConfig, threads: int) -> None:
        from vision.detector import ObjectDetector, PoseDetector

        self.site = site
        self.detector = PoseDetector(site.detector, threads=threads)
        self.objects = (
            ObjectDetector(site.detector, threads=threads)
            if site.detector.object_model is not None
            else None
        )

    def clutter(self, reference: ReferenceStill | None) -> ClutterSetup:
        """The static-object layer's setup for one file (thresholds, reference, labeller)."""
        from vision.pipeline import ClutterSetup

        if self.objects is None:
            return ClutterSetup(self.site.clutter, reference)
        objects = self.objects
        return ClutterSetup(
            self.site.clutter,
            reference,
            labeller=lambda crop: objects.detect([crop])[0],
            class_names=objects.weights.class_names,
        )

    def analyse(self, job: UnitJob) -> UnitResult:
        """Analyse one unit; bad input and other errors are returned, not raised."""
        from vision.pipeline import analyse_file
        from vision.probe import VideoError

        try:
            branch = self.site.branch(job.branch)
            camera = branch.camera(job.camera)
            timeline, stats = analyse_file(
                job.path,
                branch.id,
                camera,
                job.start,
                self.site.sampling,
                self.detector,
                clutter=self.clutter(job.reference),
            )
            with tempfile.TemporaryDirectory(prefix="branchwatch-unit-") as tmp:
                path = Path(tmp) / "timeline.npz"
                timeline.save(path)
                data = path.read_bytes()
        except VideoError as exc:
            return UnitResult(job.unit_id, Outcome.BAD_INPUT, str(exc))
        except Exception as exc:  # worker boundary: the driver decides whether to retry
            logger.exception("unit %d (%s) failed", job.unit_id, job.path)
            return UnitResult(job.unit_id, Outcome.ERROR, f"{type(exc).__name__}: {exc}")
        return UnitResult(job.unit_id, Outcome.OK, stats=stats.as_dict(), timeline=data)


@dataclass(frozen=True, slots=True)
class BrokenWorker:
    """A worker whose detectors could not be loaded (missing weights, a precision the CPU lacks);
    every unit it is given comes back as an error with the reason, not as a dead worker."""

    reason: str

    def analyse(self, job: UnitJob) -> UnitResult:
        """Fail the unit with the setup error."""
        return UnitResult(job.unit_id, Outcome.ERROR, f"worker setup failed: {self.reason}")


def load_worker(site: SiteConfig, threads: int) -> WorkerState | BrokenWorker:
    """The worker's loaded detectors, or the reason they could not be loaded."""
    try:
        return WorkerState(site, threads)
    except Exception as exc:  # worker boundary: reported with each unit
        logger.exception("worker setup failed")
        return BrokenWorker(f"{type(exc).__name__}: {exc}")


class Executor(ABC):
    """Runs units in workers; at most :attr:`slots` at a time."""

    slots: int

    @abstractmethod
    def start(self) -> None:
        """Start the workers (they load the model)."""

    @abstractmethod
    def submit(self, job: UnitJob) -> None:
        """Queue one unit; the caller keeps at most :attr:`slots` in flight."""

    @abstractmethod
    def results(self, timeout_s: float) -> list[UnitResult]:
        """Results finished since the last call, waiting up to ``timeout_s`` for the first."""

    @abstractmethod
    def close(self) -> None:
        """Stop the workers."""


def default_workers(threads: int) -> int:
    """Workers this machine's cores hold at ``threads`` inference threads each."""
    return max(1, (os.cpu_count() or 1) // threads)


# --- local process pool ------------------------------------------------------------------

_STATE: list[WorkerState | BrokenWorker] = []


def _init_local(site: SiteConfig, threads: int) -> None:
    worker_logging()
    _STATE.append(load_worker(site, threads))


def _analyse_local(job: UnitJob) -> UnitResult:
    return _STATE[0].analyse(job)


class LocalExecutor(Executor):
    """A pool of worker processes on this machine, one per core by default.

    A worker that dies (kill -9, out of memory) breaks the pool: every unit in flight comes
    back as an error and the pool is started again.

    Args:
        site: Configuration the workers analyse with.
        workers: Worker processes.
        threads: Inference threads of each worker.
    """

    def __init__(self, site: SiteConfig, workers: int, threads: int = 1) -> None:
        self.site = site
        self.slots = max(1, workers)
        self.threads = threads
        self._pool: ProcessPoolExecutor | None = None
        self._futures: dict[Future[UnitResult], UnitJob] = {}

    def start(self) -> None:
        self._pool = ProcessPoolExecutor(
            max_workers=self.slots,
            mp_context=get_context("spawn"),
            initializer=_init_local,
            initargs=(self.site, self.threads),
        )

    def submit(self, job: UnitJob) -> None:
        if self._pool is None:
            self.start()
        assert self._pool is not None
        self._futures[self._pool.submit(_analyse_local, job)] = job

    def results(self, timeout_s: float) -> list[UnitResult]:
        if not self._futures:
            return []
        done, _ = wait(self._futures, timeout=timeout_s, return_when=FIRST_COMPLETED)
        out: list[UnitResult] = []
        broken = False
        for fut in done:
            job = self._futures.pop(fut)
            try:
                out.append(fut.result())
            except BrokenProcessPool:
                broken = True
                out.append(UnitResult(job.unit_id, Outcome.ERROR, "worker process died"))
            except Exception as exc:  # pickling or pool failure of this unit only
                out.append(UnitResult(job.unit_id, Outcome.ERROR, f"{type(exc).__name__}: {exc}"))
        if broken:
            logger.warning("a worker process died; restarting the pool")
            for job in self._futures.values():
                out.append(UnitResult(job.unit_id, Outcome.ERROR, "worker process died"))
            self._futures.clear()
            self.close()
            self.start()
        return out

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def make_executor(
    kind: ExecutorKind | str,
    site: SiteConfig,
    workers: int,
    address: str | None = None,
    threads: int = 1,
) -> Executor:
    """Build the executor ``kind`` (``ray`` imports Ray here, and only here).

    Args:
        kind: ``local`` or ``ray``.
        site: Configuration the workers analyse with.
        workers: Local worker processes, or Ray actors (0: as many as the cores, or the
            cluster's CPUs, hold at ``threads`` each).
        address: Ray cluster address (``None``: start a Ray instance on this machine).
        threads: Inference threads of each worker; a Ray actor declares as many CPUs.
    """
    if ExecutorKind(kind) is ExecutorKind.RAY:
        from api.runs.ray_executor import RayExecutor

        return RayExecutor(site, workers, address, threads)
    if address is not None:
        raise ValueError("--address only applies to --executor ray")
    return LocalExecutor(site, workers or default_workers(threads), threads)
