"""The notebooks run top to bottom against a real demo run, so they cannot rot."""

from __future__ import annotations

from pathlib import Path

from tests.notebooks.execute import execute


def test_explore_demo_notebook_executes(demo_run: tuple[Path, str]) -> None:
    out, _ = demo_run
    outputs = execute("explore_demo.ipynb", {"BRANCHWATCH_DEMO_DIR": str(out)})
    assert "absence(s)" in outputs
    assert (out / "occupancy.png").stat().st_size > 10_000
