"""What a scan is asked to do: where it stores things, how it runs in parallel, its evidence.

The first stage of :mod:`api.scan`; every other stage reads these values and none changes them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from api.db.session import default_db_url, parse_db_url


class ExecutorKind(StrEnum):
    """Executors ``branchwatch scan --executor`` accepts."""

    LOCAL = "local"
    RAY = "ray"


def default_workers(threads: int) -> int:
    """Workers this machine's cores hold at ``threads`` inference threads each."""
    return max(1, (os.cpu_count() or 1) // threads)


@dataclass(frozen=True)
class ScanOptions:
    """Where the run stores things and how much it runs in parallel."""

    db_url: str
    work_dir: Path
    workers: int
    executor: ExecutorKind = ExecutorKind.LOCAL
    address: str | None = None
    threads: int = 1

    @classmethod
    def build(
        cls,
        db_url: str | None,
        work_dir: Path | None,
        workers: int,
        executor: ExecutorKind | str = ExecutorKind.LOCAL,
        address: str | None = None,
        threads: int = 1,
    ) -> ScanOptions:
        """Options with defaults filled in (database from the environment, work dir next to it).

        ``workers`` 0 means as many as the cores hold (local) or the cluster's CPUs hold (Ray),
        each worker taking ``threads`` cores for inference.
        """
        if threads < 1:
            raise ValueError(f"threads per worker must be at least 1, not {threads}")
        url = db_url or default_db_url()
        parsed = parse_db_url(url)  # a malformed URL is refused here, before any work
        if work_dir is None:
            sqlite = parsed.get_backend_name() == "sqlite" and parsed.database
            db_path = parsed.database if sqlite else None
            work_dir = (
                Path(db_path).resolve().parent / "branchwatch-data"
                if db_path
                else Path.cwd() / "branchwatch-data"
            )
        kind = ExecutorKind(executor)
        if address is not None and kind is not ExecutorKind.RAY:
            raise ValueError("--address needs --executor ray")
        if kind is ExecutorKind.LOCAL:
            workers = workers or default_workers(threads)
        return cls(
            db_url=url,
            work_dir=work_dir,
            workers=workers,
            executor=kind,
            address=address,
            threads=threads,
        )
