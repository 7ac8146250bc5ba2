"""Evidence files and their folders are readable by the owner only."""

from __future__ import annotations

import stat
from pathlib import Path

import numpy as np

from vision.evidence import write_jpeg


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_stills_are_private(tmp_path: Path) -> None:
    still = tmp_path / "evidence" / "b1" / "still.jpg"
    write_jpeg(still, np.zeros((8, 8, 3), np.uint8))
    assert _mode(still) == 0o600
    assert _mode(still.parent) == 0o700 and _mode(still.parent.parent) == 0o700
    assert not list(still.parent.glob("*.tmp"))
