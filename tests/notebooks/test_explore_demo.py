"""The notebooks run top to bottom against a real demo run, so they cannot rot."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def test_explore_demo_notebook_executes(demo_run: tuple[Path, str]) -> None:
    out, _ = demo_run
    nb = nbformat.read(NOTEBOOKS / "explore_demo.ipynb", as_version=4)
    os.environ["BRANCHWATCH_DEMO_DIR"] = str(out)
    try:
        NotebookClient(
            nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
        ).execute()
    finally:
        del os.environ["BRANCHWATCH_DEMO_DIR"]
    outputs = "".join(
        o.get("text", "")
        for cell in nb.cells
        if cell.cell_type == "code"
        for o in cell.get("outputs", [])
    )
    assert "absence(s)" in outputs
    assert (out / "occupancy.png").stat().st_size > 10_000
