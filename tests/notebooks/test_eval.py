"""The evaluation notebook runs top to bottom on the result of ``branchwatch eval``."""

from __future__ import annotations

from pathlib import Path

from tests.notebooks.execute import execute


def test_eval_notebook_plots_the_run(eval_run: tuple[Path, str]) -> None:
    path, _ = eval_run
    outputs = execute("eval.ipynb", {"BRANCHWATCH_EVAL_JSON": str(path)})
    assert "public-indoor-v1: 25 items" in outputs
    assert "person count exact: pipeline" in outputs
    assert "seated people decided:" in outputs
    assert path.with_name("eval.png").stat().st_size > 10_000
