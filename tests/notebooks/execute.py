"""Execute a notebook of ``notebooks/`` top to bottom and collect what its cells printed."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def run(
    name: str, folder: Path = NOTEBOOKS, env: dict[str, str] | None = None
) -> nbformat.NotebookNode:
    """Run ``notebooks/<name>`` in ``folder`` with ``env`` set; return the executed notebook."""
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    env = env or {}
    os.environ.update(env)
    try:
        NotebookClient(
            nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
        ).execute()
    finally:
        for key in env:
            del os.environ[key]
    return nb


def text(nb: nbformat.NotebookNode) -> str:
    """The text of all the notebook's code-cell outputs."""
    return "".join(
        o.get("text", "")
        for cell in nb.cells
        if cell.cell_type == "code"
        for o in cell.get("outputs", [])
    )


def execute(name: str, env: dict[str, str]) -> str:
    """Run ``notebooks/<name>`` with ``env`` set; return the text of all its outputs."""
    return text(run(name, env=env))
