"""The evaluation notebook runs top to bottom on the result of ``branchwatch eval``."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def test_eval_notebook_plots_the_run(eval_run: tuple[Path, str]) -> None:
    path, _ = eval_run
    nb = nbformat.read(NOTEBOOKS / "eval.ipynb", as_version=4)
    os.environ["BRANCHWATCH_EVAL_JSON"] = str(path)
    try:
        NotebookClient(
            nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
        ).execute()
    finally:
        del os.environ["BRANCHWATCH_EVAL_JSON"]
    outputs = "".join(
        o.get("text", "")
        for cell in nb.cells
        if cell.cell_type == "code"
        for o in cell.get("outputs", [])
    )
    assert "public-indoor-v1: 25 items" in outputs
    assert "person count exact: pipeline" in outputs
    assert "seated people decided:" in outputs
    assert path.with_name("eval.png").stat().st_size > 10_000
