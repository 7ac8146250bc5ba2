"""Where units are analysed: a local process pool (:mod:`.local`) or Ray (:mod:`.ray_executor`).

Both implement :class:`api.scan.worker.Executor` and depend on the scan's worker stage; nothing
in the scan's stages imports them. Ray is imported only when the ``ray`` executor is chosen.
"""

from __future__ import annotations

from api.config import SiteConfig
from api.scan.executors.local import LocalExecutor
from api.scan.options import ExecutorKind, default_workers
from api.scan.worker import Executor


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
        from api.scan.executors.ray_executor import RayExecutor

        return RayExecutor(site, workers, address, threads)
    if address is not None:
        raise ValueError("--address only applies to --executor ray")
    return LocalExecutor(site, workers or default_workers(threads), threads)
