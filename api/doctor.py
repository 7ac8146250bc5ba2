"""What is installed and usable on this machine (``branchwatch doctor``): inference backends,
CUDA, weights, fonts, video decoding, the database, Ray. One :class:`Finding` per piece; a
missing required piece says how to get it.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from api.db.session import (
    StoreURLError,
    current_revision,
    head_revision,
    make_engine,
    parse_db_url,
)
from vision.fonts import BOLD, REGULAR, FontMissing, locate_font
from vision.weights import WeightsError, load_manifest, locate_weights


class Status(StrEnum):
    """How a piece stands."""

    OK = "ok"
    MISSING = "missing"
    """Required, absent or unusable: branchwatch will fail where it is needed."""
    OPTIONAL = "optional"
    """Absent, but only needed for something the default install does not do."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One line of the doctor's report."""

    area: str
    name: str
    status: Status
    detail: str


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _backends() -> Iterator[Finding]:
    torch_version = _version("torch")
    if torch_version is None:
        yield Finding("backend", "PyTorch", Status.MISSING, "not installed; reinstall branchwatch")
    else:
        import torch

        yield Finding("backend", "PyTorch", Status.OK, f"torch {torch_version} (backend: torch)")
        if torch.cuda.is_available():
            names = ", ".join(
                torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())
            )
            yield Finding("backend", "CUDA", Status.OK, f"{names} (detector.device: cuda)")
        else:
            yield Finding(
                "backend", "CUDA", Status.OPTIONAL, "no CUDA GPU usable; the CPU backends run"
            )
    ort = _version("onnxruntime")
    if ort is None:
        yield Finding(
            "backend", "ONNX Runtime", Status.MISSING, "not installed; reinstall branchwatch"
        )
    else:
        import onnxruntime

        providers = ", ".join(onnxruntime.get_available_providers())
        yield Finding(
            "backend", "ONNX Runtime", Status.OK, f"{ort} ({providers}) (backend: onnx, default)"
        )
    yield _extra("backend", "OpenVINO", "openvino", "backend: openvino")


def _weights() -> Iterator[Finding]:
    manifest = load_manifest()
    for name, entry in manifest.weights.items():
        try:
            found = locate_weights(name)
        except WeightsError as exc:
            # An entry without a pinned hash is opt-in (models/README.md), not a fault.
            status = Status.OPTIONAL if entry.sha256 is None else Status.MISSING
            lines = str(exc).splitlines()
            reason = lines[-1] if entry.sha256 is None else " ".join(" ".join(lines).split())
            yield Finding("weights", name, status, reason)
            continue
        yield Finding("weights", name, Status.OK, f"{found.path} sha256 {found.sha256} verified")


def _fonts() -> Iterator[Finding]:
    for name in (REGULAR, BOLD):
        try:
            face = locate_font(name)
        except FontMissing as exc:
            yield Finding("font", name, Status.MISSING, str(exc))
            continue
        used = "" if face.name == name else f" (no bold collection: {face.name} is used)"
        yield Finding(
            "font",
            name,
            Status.OK,
            f"{face.face} in {face.path} sha256 {face.sha256} verified{used}",
        )


def _video() -> Iterator[Finding]:
    import av

    codec = av.library_versions.get("libavcodec", ())
    yield Finding(
        "video",
        "PyAV",
        Status.OK,
        f"av {_version('av')}, FFmpeg libavcodec {'.'.join(map(str, codec))} (decodes exports)",
    )
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        yield Finding(
            "video",
            "ffmpeg command",
            Status.OPTIONAL,
            "not installed; branchwatch does not need it (the benchmarks do: apt install ffmpeg)",
        )
    else:
        first = subprocess.run(
            [ffmpeg, "-version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout.splitlines()
        yield Finding("video", "ffmpeg command", Status.OK, first[0] if first else ffmpeg)


def _database(url: str) -> Iterator[Finding]:
    try:
        parsed = parse_db_url(url)
    except StoreURLError as exc:
        yield Finding("database", url, Status.MISSING, str(exc))
        return
    database = parsed.database or ""
    if parsed.get_backend_name() == "sqlite" and database not in ("", ":memory:"):
        if not Path(database).is_file():
            where = Path(database).absolute().parent
            while not where.exists() and where != where.parent:
                where = where.parent  # the scan creates missing folders: the first that exists
            can = where.is_dir() and os.access(where, os.W_OK)
            yield Finding(
                "database",
                str(parsed),
                Status.OK if can else Status.MISSING,
                "no file yet; the first scan creates it"
                if can
                else f"no file, and {where} is not a folder this user may write to",
            )
            return
    engine = make_engine(parsed)
    shown = engine.url.render_as_string(hide_password=True)
    try:
        current = current_revision(engine)
    except Exception as exc:  # noqa: BLE001 - any driver error: the database is not usable
        first = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        yield Finding(
            "database", shown, Status.MISSING, f"cannot connect: {first}; check the URL and server"
        )
        return
    finally:
        engine.dispose()
    head = head_revision()
    if current is None:
        detail = "reachable, empty (the first scan creates the schema)"
    elif current == head:
        detail = f"reachable, schema at {current}"
    else:
        detail = f"reachable, schema at {current}; this branchwatch expects {head} (scan migrates)"
    yield Finding("database", shown, Status.OK, detail)


def _extra(area: str, name: str, dist: str, use: str) -> Finding:
    """A piece that an extra of the same name as ``dist`` installs, needed only for ``use``."""
    version = _version(dist)
    if version is None:
        return Finding(
            area,
            name,
            Status.OPTIONAL,
            f"not installed; for {use} run pip install 'branchwatch[{dist}]'",
        )
    return Finding(area, name, Status.OK, f"{dist} {version} ({use})")


def examine(db_url: str | None) -> list[Finding]:
    """Every finding, in report order; the database only when ``db_url`` is given."""
    sections: list[Callable[[], Iterator[Finding]]] = [
        lambda: iter([Finding("python", "Python", Status.OK, sys.version.split()[0])]),
        _backends,
        _weights,
        _fonts,
        _video,
        lambda: iter([_extra("scale-out", "Ray", "ray", "--executor ray")]),
    ]
    if db_url is not None:
        sections.append(lambda: _database(db_url))
    return [finding for section in sections for finding in section()]
