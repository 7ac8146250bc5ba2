"""``branchwatch reference``: mark a clean still per camera for the clutter checks, and list them.

A still marked clean is the reference the static-object layer compares footage with (see
:mod:`vision.reference`); without one, each file's reference is the median of its first samples.
Stills live under ``<work>/references/<branch>/<camera>.png``, next to a scan's timelines.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import cv2
import numpy as np
import numpy.typing as npt
import typer
from rich.console import Console
from rich.table import Table

from api.cli.common import (
    BranchOption,
    ConfigOption,
    StillError,
    console,
    fail,
    load_site,
    pick_branch,
    pick_camera,
    read_still,
)
from vision.config import CameraConfig, ZoneKind
from vision.reference import ReferenceError, ReferenceStore

logger = logging.getLogger(__name__)

reference_app = typer.Typer(
    help="Clean reference stills of cameras (for clutter and left-object checks).",
    no_args_is_help=True,
)
DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="BRANCHWATCH_DB",
        help="SQLAlchemy URL of the store (locates the default work folder).",
    ),
]
WorkOption = Annotated[
    Path | None,
    typer.Option(help="Work folder of scans (default: next to the database)."),
]

_ZONE_COLOURS = {
    ZoneKind.CUSTOMER_VIEW: (60, 200, 60),
    ZoneKind.SELF_SERVICE: (200, 160, 40),
    ZoneKind.IGNORE: (128, 128, 128),
    ZoneKind.SCREEN: (128, 128, 128),
}


def references_root(db: str | None, work: Path | None) -> Path:
    """Folder of the stored stills: ``<work>/references`` with the scan's default work folder."""
    from api.scan.driver import references_root as under
    from api.scan.options import ScanOptions

    return under(ScanOptions.build(db_url=db, work_dir=work, workers=1).work_dir)


def draw_zones(image: npt.NDArray[np.uint8], camera: CameraConfig) -> npt.NDArray[np.uint8]:
    """Copy of a still with the zones that matter for clutter outlined."""
    out = image.copy()
    h, w = out.shape[:2]
    for zone in camera.zones:
        colour = _ZONE_COLOURS.get(zone.kind)
        if colour is None:
            continue
        pts = np.round(np.asarray(zone.polygon) * [w - 1, h - 1]).astype(np.int32)
        cv2.polylines(out, [pts.reshape(-1, 1, 2)], True, colour, max(1, w // 400))
    return out


@reference_app.command("set")
def set_reference(
    still: Annotated[Path, typer.Argument(help="Image of the clean view, or a video export.")],
    config: ConfigOption,
    camera: Annotated[str, typer.Option(help="Camera id.")],
    branch: BranchOption = None,
    at: Annotated[
        float | None, typer.Option(min=0.0, help="Seconds into a video export to take the still.")
    ] = None,
    db: DbOption = None,
    work: WorkOption = None,
) -> None:
    """Store STILL as the clean reference of a camera (replacing any earlier one)."""
    site = load_site(config)
    branch_cfg = pick_branch(site, branch)
    camera_cfg = pick_camera(branch_cfg, camera)
    try:
        image = read_still(still, at)
        source = still.name if at is None else f"{still.name}@{at:g}s"
        path = ReferenceStore(references_root(db, work)).save(
            branch_cfg.id, camera_cfg.id, image, source
        )
    except (StillError, ReferenceError) as exc:
        raise fail(str(exc)) from exc
    console.print(f"stored clean reference of {branch_cfg.id}/{camera_cfg.id}: {path}")


@reference_app.command("show")
def show_references(
    config: ConfigOption,
    branch: BranchOption = None,
    camera: Annotated[str | None, typer.Option(help="Only this camera.")] = None,
    out: Annotated[
        Path | None, typer.Option(help="Folder to write each still with its zones drawn.")
    ] = None,
    db: DbOption = None,
    work: WorkOption = None,
) -> None:
    """List the cameras' clean reference stills (and optionally write previews)."""
    site = load_site(config)
    branches = site.branches if branch is None else [pick_branch(site, branch)]
    store = ReferenceStore(references_root(db, work))
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    table = Table("branch", "camera", "reference", "marked at (UTC)", "source", "size")
    for branch_cfg in branches:
        cameras = branch_cfg.cameras if camera is None else [pick_camera(branch_cfg, camera)]
        for camera_cfg in cameras:
            try:
                still = store.load(branch_cfg.id, camera_cfg.id)
            except ReferenceError as exc:
                raise fail(str(exc)) from exc
            if still is None:
                table.add_row(branch_cfg.id, camera_cfg.id, "median of first samples", "", "", "")
                continue
            h, w = still.image.shape[:2]
            table.add_row(
                branch_cfg.id,
                camera_cfg.id,
                "clean still",
                still.marked_at.strftime("%Y-%m-%d %H:%M:%S"),
                still.source,
                f"{w}x{h}",
            )
            if out is not None:
                target = out / f"{branch_cfg.id}_{camera_cfg.id}.jpg"
                if not cv2.imwrite(str(target), draw_zones(still.image, camera_cfg)):
                    raise fail(f"cannot write {target}; check that the folder is writable")
    Console().print(table)
