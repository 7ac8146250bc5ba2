"""The local executor: a pool of worker processes on this machine, one per core by default.

Workers exit when the driver dies, however it dies (``kill -9`` included): each worker asks the
kernel for SIGKILL when its parent goes (:func:`api.scan.orphans.exit_with_parent`), so no
worker, and hence no multiprocessing resource tracker, outlives a killed scan.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context

from api.config import SiteConfig
from api.logs import worker_logging
from api.scan.orphans import exit_with_parent
from api.scan.worker import (
    BrokenWorker,
    Executor,
    Outcome,
    UnitJob,
    UnitResult,
    WorkerState,
    load_worker,
)

logger = logging.getLogger(__name__)

_STATE: list[WorkerState | BrokenWorker] = []


def _init_local(site: SiteConfig, threads: int, parent: int) -> None:
    exit_with_parent(parent)
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
            initargs=(self.site, self.threads, os.getpid()),
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
