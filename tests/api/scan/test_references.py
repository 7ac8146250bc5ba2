"""The scan runs the static-object layer against the clean stills marked for cameras.

A cup stands on the lobby's form desk from 6 s into the one-minute footage. The first file's
own opening samples would be clean anyway, but the second file starts with the cup in view:
only the marked clean still lets the layer see it there. An unreadable still fails the units
of its camera with a reason naming it; the other camera's units are done.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from rich.console import Console
from sqlalchemy import select

from api.db.models import Video
from api.db.session import make_engine, session_scope
from api.demo import DEMO_START
from api.scan.driver import references_root
from api.scan.options import ScanOptions
from api.scan.run import run_scan
from tests.api.scan.conftest import CORRUPT_NAME, DURATION_S, Footage, read_store
from vision.config import ClutterConfig
from vision.reference import ReferenceStore
from vision.synth.demo import demo_scenario
from vision.synth.frames import FrameRenderer
from vision.timeline import ObservationTimeline

CUP_BOX = np.array([0.64, 0.52, 0.72, 0.635])


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    lo, hi = np.maximum(a[:2], b[:2]), np.minimum(a[2:], b[2:])
    inter = float(np.prod(np.clip(hi - lo, 0, None)))
    area = float(np.prod(a[2:] - a[:2]) + np.prod(b[2:] - b[:2]))
    return inter / (area - inter)


def test_scan_uses_marked_stills_and_fails_an_unreadable_one(
    footage: Footage, tmp_path: Path
) -> None:
    site = footage.site.model_copy(
        update={"clutter": ClutterConfig(persistence_s=8.0, bootstrap_samples=3)}
    )
    work = tmp_path / "work"
    stills = ReferenceStore(references_root(work))
    scenario = demo_scenario(DEMO_START, DURATION_S, width=640, height=360)
    for camera in scenario.cameras:
        stills.save("demo", camera.script.camera, FrameRenderer(camera.script).empty_view(), "t")
    (references_root(work) / "demo" / "counter.png").write_bytes(b"not a png")

    url = f"sqlite:///{tmp_path / 'bw.db'}"
    options = ScanOptions.build(db_url=url, work_dir=work, workers=1)
    run_scan(
        site,
        footage.config_path,
        [footage.folder],
        options,
        console=Console(file=open(os.devnull, "w")),
    )

    units = read_store(url).units
    counter = {n: u for n, u in units.items() if n.startswith("ch02_")}
    lobby = {n: u for n, u in units.items() if n.startswith("ch01_") and n != CORRUPT_NAME}
    assert counter and lobby
    for state, _, reason, bad_input in counter.values():
        assert (state, bad_input) == ("failed", True)
        assert reason is not None and "clean reference" in reason and "counter" in reason
    assert all(u[0] == "done" for u in lobby.values())

    engine = make_engine(url)
    with session_scope(engine) as session:
        paths = {
            Path(v.path).name: v.timeline_path
            for v in session.scalars(select(Video).where(Video.camera_id == "lobby"))
            if v.timeline_path
        }
    engine.dispose()
    assert set(paths) == set(lobby)
    for name, path in sorted(paths.items()):
        objects = ObservationTimeline.load(Path(path)).objects
        ious = [_iou(box.astype(np.float64), CUP_BOX) for box in objects.xyxy]
        assert ious and max(ious) >= 0.5, f"{name}: cup not found against the clean still"
