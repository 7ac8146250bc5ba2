"""A short generated lobby clip used across the synth tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from vision.synth.demo import LOBBY_LAYOUT
from vision.synth.script import Actor, CameraScript, Prop, Screen, Waypoint
from vision.types import Role

START = datetime(2026, 3, 2, 9, 30, tzinfo=timezone(timedelta(hours=8)))


def short_script(
    seed: int = 3, duration_s: float = 12.0, gaps: tuple[tuple[float, float], ...] = ((5.0, 7.0),)
) -> CameraScript:
    """A 12 s lobby clip at 640x360: one person walking across, one standing, a cup, a screen."""
    return CameraScript(
        camera="cam_test",
        channel="07",
        width=640,
        height=360,
        duration_s=duration_s,
        start=START,
        seed=seed,
        layout=LOBBY_LAYOUT,
        depth_scale=0.6,
        actors=(
            Actor(
                id="walker",
                role=Role.CUSTOMER,
                sprite="bus_1",
                height_frac=0.6,
                waypoints=(Waypoint(0.0, 0.55, 0.9), Waypoint(duration_s, 0.95, 0.9)),
            ),
            Actor(
                id="stander",
                role=Role.GUARD,
                sprite="bus_0",
                height_frac=0.55,
                uniform_bgr=(120, 60, 20),
                waypoints=(Waypoint(0.0, 0.2, 0.8),),
            ),
        ),
        props=(Prop(id="cup", image="cup", box=(0.64, 0.52, 0.72, 0.635), t0=2.0),),
        screens=(Screen(id="screen", box=(0.37, 0.19, 0.55, 0.37), period_s=3.0),),
        gaps=gaps,
    )
