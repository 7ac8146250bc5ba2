"""Shared fixtures of the synth tests: a short generated clip, rendered once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.vision.synth.clips import short_script
from vision.synth.render import RenderedCamera, render_camera


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> RenderedCamera:
    """:func:`short_script` rendered into 4 s files (the 5–7 s gap has none)."""
    out: Path = tmp_path_factory.mktemp("clip")
    return render_camera(short_script(), out, segment_s=4.0)
