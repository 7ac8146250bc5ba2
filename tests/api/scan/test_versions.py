"""Changing a camera's zones re-analyses that camera's files, and only those."""

from __future__ import annotations

import os
from pathlib import Path

from rich.console import Console

from api.config import SiteConfig
from api.scan.options import ScanOptions
from api.scan.run import run_scan
from api.scan.summary import ScanSummary
from tests.api.scan.conftest import CORRUPT_NAME, Footage


def _scan(site: SiteConfig, footage: Footage, url: str, work: Path) -> ScanSummary:
    return run_scan(
        site,
        footage.config_path,
        [footage.folder],
        ScanOptions.build(db_url=url, work_dir=work, workers=2),
        console=Console(file=open(os.devnull, "w")),
    )


def _status(summary: ScanSummary, prefix: str) -> set[str]:
    return {
        f.status
        for f in summary.files
        if Path(f.path).name.startswith(prefix) and Path(f.path).name != CORRUPT_NAME
    }


def test_a_redrawn_zone_reanalyses_that_camera_only(footage: Footage, tmp_path: Path) -> None:
    url, work = f"sqlite:///{tmp_path / 'bw.db'}", tmp_path / "work"
    first = _scan(footage.site, footage, url, work)
    assert _status(first, "ch01_") == _status(first, "ch02_") == {"done"}

    again = _scan(footage.site, footage, url, work)
    assert _status(again, "ch01_") == _status(again, "ch02_") == {"skipped"}

    branch = footage.site.branches[0]
    lobby = branch.camera("lobby")
    zone = lobby.zones[0]
    grown = zone.model_copy(update={"polygon": [(x * 0.98, y) for x, y in zone.polygon]})
    redrawn = lobby.model_copy(update={"zones": [grown, *lobby.zones[1:]]})
    cameras = [redrawn if c.id == "lobby" else c for c in branch.cameras]
    site = footage.site.model_copy(
        update={"branches": [branch.model_copy(update={"cameras": cameras})]}
    )
    after = _scan(site, footage, url, work)
    assert _status(after, "ch01_") == {"done"}  # the lobby (ch01) files, analysed anew
    assert _status(after, "ch02_") == {"skipped"}  # the counter's, kept
