"""The notebooks run top to bottom against a real demo run, so they cannot rot.

The notebook is executed the way the README has people run it: from ``notebooks/`` next to
the ``branchwatch-demo`` folder of ``branchwatch demo``, with no environment variable. The
executed copy is written next to the demo (a CI artefact); the committed copy carries its
outputs, so it can be read without running anything.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient.exceptions import CellExecutionError

from tests.notebooks.execute import NOTEBOOKS, run, text

NOTEBOOK = NOTEBOOKS / "explore_demo.ipynb"
ENV = "BRANCHWATCH_DEMO_DIR"


def _run(folder: Path) -> nbformat.NotebookNode:
    return run(NOTEBOOK.name, folder)


def test_explore_demo_notebook_executes_from_the_readme_demo(
    demo_run: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, _ = demo_run
    monkeypatch.delenv(ENV, raising=False)
    checkout = tmp_path / "checkout"
    (checkout / "notebooks").mkdir(parents=True)
    (checkout / "branchwatch-demo").symlink_to(out, target_is_directory=True)
    nb = _run(checkout / "notebooks")
    nbformat.write(nb, out / "explore_demo.ipynb")
    shown = text(nb)
    assert "absence(s)" in shown and "times in Asia/Shanghai" in shown
    # Local time: the demo's scripted absence starts at 09:35 Beijing time (01:35 UTC).
    assert "09:35:0" in shown and "01:35:0" not in shown
    assert (out / "occupancy.png").stat().st_size > 10_000
    assert any(
        "image/png" in o.get("data", {})
        for cell in nb.cells
        if cell.cell_type == "code"
        for o in cell.outputs
    )


def test_missing_demo_store_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a demo run the first cell says what to do (no raw sqlite error)."""
    monkeypatch.delenv(ENV, raising=False)
    (tmp_path / "notebooks").mkdir()
    with pytest.raises(CellExecutionError, match="run `branchwatch demo` first"):
        _run(tmp_path / "notebooks")
    assert not (tmp_path / "branchwatch-demo").exists()


def test_committed_notebook_carries_its_outputs() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code and all(cell.outputs and cell.execution_count for cell in code)
    assert "absence(s)" in text(nb)
