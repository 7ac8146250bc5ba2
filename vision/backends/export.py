"""One-time export of a verified ``.pt`` weight to ONNX or OpenVINO, cached by its SHA-256.

The export runs ultralytics' exporter in a child process, so the calling worker never imports
torch, and with ``YOLO_OFFLINE``/``YOLO_AUTOINSTALL`` set so it neither downloads nor pip-installs
anything. Models are exported with dynamic batch, height and width, so one export serves every
``imgsz`` and batch size; the cache key is the weight's SHA-256 plus the format.

Run as ``python -m vision.backends.export WEIGHTS FORMAT IMGSZ OUT_DIR`` (used internally).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from enum import StrEnum
from pathlib import Path

from vision.weights import ResolvedWeights, models_cache_dir

logger = logging.getLogger(__name__)

EXPORT_TIMEOUT_S = 600.0
"""Longest an export may take before it is abandoned."""
_ARTIFACT = {"onnx": "model.onnx", "openvino": "model.xml"}


class ExportFormat(StrEnum):
    """Formats the exporter produces."""

    ONNX = "onnx"
    OPENVINO = "openvino"


class ExportError(RuntimeError):
    """The exporter failed; the message carries the tail of its log."""


def export_dir(weights: ResolvedWeights, fmt: ExportFormat) -> Path:
    """Cache folder of an export: ``<models cache>/exported/<stem>-<sha256[:16]>-<format>``."""
    stem = Path(weights.entry.file).stem
    return models_cache_dir() / "exported" / f"{stem}-{weights.sha256[:16]}-{fmt.value}"


def exported_model(weights: ResolvedWeights, fmt: ExportFormat) -> Path:
    """Path of the exported model, exporting it first when the cache lacks it.

    Args:
        weights: A verified ``.pt`` weight.
        fmt: Target format.

    Returns:
        The ``model.onnx`` file, or the ``model.xml`` of an OpenVINO IR (``model.bin`` beside it).

    Raises:
        ExportError: The exporter failed or timed out.
    """
    target = export_dir(weights, fmt)
    artifact = target / _ARTIFACT[fmt.value]
    if artifact.is_file():
        return artifact
    target.parent.mkdir(parents=True, exist_ok=True)
    logger.info("exporting %s to %s once (cached in %s)", weights.path, fmt.value, target)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".export-") as tmp:
        work = Path(tmp)
        env = {
            **os.environ,
            "YOLO_OFFLINE": "1",
            "YOLO_AUTOINSTALL": "False",
            "YOLO_VERBOSE": "False",
            "YOLO_CONFIG_DIR": str(work / "ultralytics-config"),
        }
        cmd = [
            sys.executable,
            "-m",
            __name__,
            str(weights.path),
            fmt.value,
            str(weights.entry.imgsz),
            str(work / "out"),
        ]
        started = time.perf_counter()
        try:
            proc = subprocess.run(
                cmd, env=env, capture_output=True, text=True, timeout=EXPORT_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise ExportError(
                f"export of {weights.path} to {fmt.value} took longer than {EXPORT_TIMEOUT_S:.0f} s"
            ) from exc
        if proc.returncode != 0 or not (work / "out" / _ARTIFACT[fmt.value]).is_file():
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-20:])
            raise ExportError(
                f"export of {weights.path} to {fmt.value} failed (exit {proc.returncode}):\n{tail}"
            )
        seconds = time.perf_counter() - started
        (work / "out" / "export.json").write_text(
            json.dumps(
                {
                    "weights": str(weights.path),
                    "sha256": weights.sha256,
                    "format": fmt.value,
                    "seconds": round(seconds, 2),
                }
            )
        )
        try:
            os.replace(work / "out", target)
        except OSError:
            if not artifact.is_file():  # not a concurrent export that won the race
                raise
    logger.info("exported %s to %s in %.1f s", weights.path.name, fmt.value, seconds)
    return artifact


def _export_main(weights: Path, fmt: str, imgsz: int, out: Path) -> None:
    """Child-process side: export with ultralytics and move the result to ``out``."""
    from ultralytics.models import YOLO

    out.mkdir(parents=True)
    local = out / "model.pt"  # export writes next to the .pt, never into site-packages
    shutil.copyfile(weights, local)
    if fmt == ExportFormat.ONNX:
        produced = Path(
            YOLO(str(local)).export(
                format="onnx", imgsz=imgsz, dynamic=True, simplify=True, device="cpu"
            )
        )
        os.replace(produced, out / "model.onnx")
    else:
        produced = Path(
            YOLO(str(local)).export(format="openvino", imgsz=imgsz, dynamic=True, device="cpu")
        )
        for item in produced.iterdir():
            os.replace(item, out / item.name)
        produced.rmdir()
    local.unlink()


if __name__ == "__main__":
    _export_main(Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]))
