"""What several commands share: the config/branch/camera options, their lookups with errors
that name what exists, and reading a still from an image or a video export."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import cv2
import numpy as np
import numpy.typing as npt
import typer
from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from api.config import ConfigError, SiteConfig, load_config
from api.config.site import BranchConfig
from api.db.session import StoreURLError, make_engine, upgrade
from vision.config import CameraConfig
from vision.probe import VideoError, probe
from vision.sampler import read_frame_at

EXIT_USAGE = 2
_ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)
"""Stand-in wall clock of a video's first frame (read_frame_at takes times, not offsets)."""

console = Console(stderr=True, soft_wrap=True)

ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="Configuration file.")]
BranchOption = Annotated[
    str | None, typer.Option(help="Branch id (may be left out when the config has one branch).")
]


class StillError(ValueError):
    """A still cannot be read from the given file."""


def fail(message: str) -> typer.Exit:
    """Print ``message`` as an error; the caller raises the returned exit (status 2)."""
    console.print(f"[red]{message}[/red]", highlight=False)
    return typer.Exit(EXIT_USAGE)


def ensure_port_free(host: str, port: int) -> None:
    """Exit naming the port when something already listens on it (before any slow start-up)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe_socket:
        probe_socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe_socket.bind((host, port))
        except OSError as exc:
            raise fail(
                f"cannot listen on {host}:{port}: {exc.strerror}; stop the program that uses "
                "it or choose another --port"
            ) from exc


def load_site(config: Path) -> SiteConfig:
    """The configuration, or exit naming the line that is wrong."""
    try:
        return load_config(config)
    except ConfigError as exc:
        raise fail(str(exc)) from exc


def pick_branch(site: SiteConfig, branch_id: str | None) -> BranchConfig:
    """The branch ``branch_id``, or the only branch when it is ``None``."""
    if branch_id is None:
        if len(site.branches) == 1:
            return site.branches[0]
        ids = ", ".join(b.id for b in site.branches)
        raise fail(f"the configuration has several branches ({ids}); choose one with --branch")
    try:
        return site.branch(branch_id)
    except KeyError as exc:
        raise fail(f"unknown branch {branch_id!r}") from exc


def pick_camera(branch: BranchConfig, camera_id: str) -> CameraConfig:
    """The camera ``camera_id`` of ``branch``."""
    try:
        return branch.camera(camera_id)
    except KeyError as exc:
        known = ", ".join(c.id for c in branch.cameras)
        raise fail(f"branch {branch.id!r} has no camera {camera_id!r} (cameras: {known})") from exc


def read_still(path: Path, at_s: float | None) -> npt.NDArray[np.uint8]:
    """A BGR still from an image file, or the frame of a video at ``at_s`` seconds.

    Args:
        path: Image (PNG, JPEG…) or video export.
        at_s: Offset into a video; ``None`` reads ``path`` as an image.

    Returns:
        BGR ``uint8`` image.

    Raises:
        StillError: the file is missing, unreadable, or the video ends before ``at_s``.
    """
    if not path.is_file():
        raise StillError(f"{path}: no such file")
    if at_s is None:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise StillError(f"{path}: not a readable image (give --at for a video)")
        return np.asarray(image, np.uint8)
    try:
        info = probe(path)
        if info.duration_s is not None and at_s >= info.duration_s:
            raise StillError(f"{path}: the video ends before {at_s:g} s ({info.duration_s:.1f} s)")
        # Seeks to the keyframe before at_s: an hour-long export is not decoded from its start.
        return read_frame_at(path, _ORIGIN, _ORIGIN + timedelta(seconds=at_s))
    except VideoError as exc:
        raise StillError(f"{path}: cannot decode the video at {at_s:g} s ({exc.reason})") from exc


def store_engine(db_url: str | None) -> Engine:
    """An engine on the store, migrated to the current schema, or exit naming the problem."""
    try:
        engine = make_engine(db_url)
        upgrade(engine)
    except StoreURLError as exc:
        raise fail(str(exc)) from exc
    except DBAPIError as exc:
        raise fail(f"database error: {exc.orig}") from exc
    return engine
