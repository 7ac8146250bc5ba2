"""``branchwatch calibrate``: store the uniform colours of a branch's staff, per camera.

The command shows one frame of a camera with the people the pose model finds on it, on a page
served on this machine; clicking a member of staff and choosing the role adds a uniform
signature (torso colour histogram) to that camera in the configuration file, which the role
assigner then matches (:mod:`vision.roles`). ``--click X,Y --role ROLE`` does the same without
the page, for scripts and machines without a browser.
"""

from __future__ import annotations

import logging
import secrets
import webbrowser
from pathlib import Path
from typing import Annotated, cast

import typer

from api.calibration import STAFF_ROLES, CalibrationError, CalibrationSession, StaffRole
from api.cli.common import (
    BranchOption,
    ConfigOption,
    StillError,
    console,
    ensure_port_free,
    fail,
    load_site,
    pick_branch,
    pick_camera,
    read_still,
)
from vision.backends.export import ExportError
from vision.backends.runtimes import PrecisionError
from vision.backends.torch_runner import DeviceError
from vision.detector import DetectorError
from vision.roles import NoPersonAtPoint
from vision.weights import WeightsError

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp"}


def _point(text: str) -> tuple[float, float]:
    try:
        x, y = (float(v) for v in text.split(","))
    except ValueError as exc:
        raise fail(f"--click must be X,Y in pixels of the frame, not {text!r}") from exc
    return x, y


def calibrate(
    source: Annotated[
        Path, typer.Argument(help="A video export of the camera, or a still image of it.")
    ],
    config: ConfigOption,
    camera: Annotated[str, typer.Option(help="Camera id.")],
    branch: BranchOption = None,
    at: Annotated[
        float, typer.Option(min=0.0, help="Seconds into the video of the frame to show.")
    ] = 0.0,
    click: Annotated[
        str | None,
        typer.Option(help="X,Y pixel of a member of staff: store at once, without the page."),
    ] = None,
    role: Annotated[
        str | None, typer.Option(help="Role at --click: teller, lobby_manager or guard.")
    ] = None,
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port of the local page.")] = 8765,
    browser: Annotated[
        bool, typer.Option("--browser/--no-browser", help="Open the page in a browser.")
    ] = True,
) -> None:
    """Store uniform colour signatures of staff on a camera, by clicking them on a frame."""
    if (click is None) != (role is None):
        raise fail("--click and --role go together")
    if role is not None and role not in STAFF_ROLES:
        raise fail(f"--role must be teller, lobby_manager or guard, not {role!r}")
    if click is None:
        ensure_port_free("127.0.0.1", port)
    site = load_site(config)
    branch_cfg = pick_branch(site, branch)
    camera_cfg = pick_camera(branch_cfg, camera)
    try:
        image = read_still(source, None if source.suffix.lower() in IMAGE_SUFFIXES else at)
    except StillError as exc:
        raise fail(str(exc)) from exc
    try:
        session = CalibrationSession.open(config, site, branch_cfg, camera_cfg, image)
    except (WeightsError, DetectorError, ExportError, PrecisionError, DeviceError) as exc:
        raise fail(f"cannot run the pose model: {exc}") from exc
    console.print(
        f"{branch_cfg.id}/{camera_cfg.id}: {len(session.people)} people on the frame "
        f"({image.shape[1]}x{image.shape[0]})"
    )
    if click is not None:
        x, y = _point(click)
        try:
            count = session.save(x, y, cast(StaffRole, role))
        except (NoPersonAtPoint, CalibrationError) as exc:
            raise fail(str(exc)) from exc
        console.print(f"stored a {role} uniform signature; {camera_cfg.id} has {count} now")
        return
    serve_page(session, port, browser)


def serve_page(session: CalibrationSession, port: int, browser: bool) -> None:
    """Serve the calibration page on 127.0.0.1 until Ctrl+C."""
    import uvicorn

    from api.service.calibrate_page import calibration_app

    token = secrets.token_urlsafe(16)
    url = f"http://127.0.0.1:{port}/?token={token}"
    console.print("open this page, pick the role and click a member of staff; Ctrl+C when done:")
    console.print(url, soft_wrap=True, highlight=False)
    if browser:
        webbrowser.open(url)
    uvicorn.run(calibration_app(session, token), host="127.0.0.1", port=port, log_level="warning")
