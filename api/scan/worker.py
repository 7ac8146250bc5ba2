"""The per-unit worker: what one unit of work is, how a worker analyses it, what comes back.

The driver claims units and submits :class:`UnitJob` values; an :class:`Executor` (a local
process pool or Ray, :mod:`api.scan.executors`) runs :class:`WorkerState` in its workers (each
loads the pose model once) and streams :class:`UnitResult` values back. The driver alone writes
to the store. Bad input (:class:`vision.probe.VideoError`) comes back as ``bad_input`` and is not
retried; anything else that goes wrong in a worker, a worker process killed mid-file included,
comes back as ``error`` and the driver retries it with back-off.
"""

from __future__ import annotations

import logging
import tempfile
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from api.config import SiteConfig

if TYPE_CHECKING:
    from vision.pipeline import ClutterSetup
    from vision.reference import ReferenceStill

logger = logging.getLogger(__name__)


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
