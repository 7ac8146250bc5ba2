"""The demo branch: two cameras, their zone configuration and the findings they are meant to show.

Camera ``lobby`` (channel ``01``) looks at the hall: a guard who never leaves the guard post, a
lobby manager who leaves the post twice (about 60 s, then about 200 s, against a grace period of
120 s), customers walking to the counter or the form desk, a cup left on the desk from
``t = 60 s`` (clutter) and a screen showing a slideshow that is switched off for about 180 s
from ``t = 360 s`` (screens off), under a slow lighting ramp.

Camera ``counter`` (channel ``02``) looks at two service windows from the customer side: two
tellers behind the counter, two customers inside window ``w1``'s zone together for about 60 s
(crowding), the ``w2`` teller away for about 120 s while a customer waits (window unattended),
and a 30 s hole between its two files (missing footage).

The schedule is written for 600 s and scaled to other durations. Findings are derived from the
script geometry and the zone polygons (not typed in), so they stay true to what is drawn.
"""

from __future__ import annotations

import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from vision.config import CameraConfig, ZoneConfig, ZoneKind
from vision.config.zone import Anchor
from vision.synth.findings import Finding, findings_json, occupancy, runs
from vision.synth.moves import Point, away, sway, visit
from vision.synth.render import render_camera
from vision.synth.scene import Counter, Desk, SceneLayout
from vision.synth.script import Actor, CameraScript, Lighting, Prop, Screen
from vision.types import Role

logger = logging.getLogger(__name__)

BASE_DURATION_S = 600.0
ABSENCE_GRACE_S = 120.0
SCREEN_OFF_MIN_S = 120.0
"""The demo's SCREENS_OFF threshold (a real branch uses several minutes more)."""
"""Grace period of the demo's lobby-manager rule; absences shorter than this are not findings."""

MANAGER_BGR = (40, 40, 190)
GUARD_BGR = (120, 60, 20)
TELLER_BGR = (60, 150, 60)


@dataclass(frozen=True, slots=True)
class DemoCamera:
    """A demo camera: its script, its configuration and its file length."""

    script: CameraScript
    config: CameraConfig
    segment_s: float | None


@dataclass(frozen=True, slots=True)
class DemoScenario:
    """The demo branch's cameras and intended findings."""

    cameras: tuple[DemoCamera, ...]
    findings: tuple[Finding, ...]


def _rect(x0: float, y0: float, x1: float, y1: float) -> list[Point]:
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


LOBBY_LAYOUT = SceneLayout(
    horizon=0.5,
    vanish=(0.5, 0.16),
    tiles=9,
    counters=(Counter(x0=0.62, x1=0.98, top=0.42, bottom=0.5, glass_top=0.2, windows=3),),
    desks=(Desk(x0=0.56, x1=0.8, back=0.6, front=0.66, bottom=0.8),),
    doors=((0.03, 0.12, 0.17, 0.5),),
    banner=(0.22, 0.07, 0.58, 0.13),
    posters=(((0.22, 0.2, 0.31, 0.4), "rocket"),),
    screen_bezels=((0.37, 0.19, 0.55, 0.37),),
)
COUNTER_LAYOUT = SceneLayout(
    horizon=0.8,
    vanish=(0.5, 0.3),
    tiles=8,
    counters=(Counter(x0=0.0, x1=1.0, top=0.58, bottom=0.8, glass_top=0.1, windows=2),),
    posters=(((0.44, 0.16, 0.56, 0.34), "hubble"),),
    wall_bgr=(188, 200, 206),
)

LOBBY_ZONES = (
    ZoneConfig(id="lobby", kind=ZoneKind.LOBBY, polygon=_rect(0.0, 0.5, 1.0, 1.0), name="大堂"),
    ZoneConfig(
        id="lobby_manager_post",
        kind=ZoneKind.LOBBY_MANAGER_POST,
        polygon=_rect(0.22, 0.76, 0.44, 0.96),
        name="大堂经理岗",
    ),
    ZoneConfig(
        id="guard_post",
        kind=ZoneKind.GUARD_POST,
        polygon=_rect(0.03, 0.66, 0.21, 0.82),
        name="保安岗",
    ),
    ZoneConfig(
        id="form_desk",
        kind=ZoneKind.CUSTOMER_VIEW,
        polygon=_rect(0.55, 0.5, 0.81, 0.67),
        name="填单台",
    ),
    ZoneConfig(
        id="screen", kind=ZoneKind.SCREEN, polygon=_rect(0.37, 0.19, 0.55, 0.37), name="多媒体屏"
    ),
)
COUNTER_ZONES = (
    ZoneConfig(
        id="w1_customer",
        kind=ZoneKind.COUNTER_WINDOW,
        window_id="w1",
        polygon=_rect(0.22, 0.8, 0.5, 1.0),
        name="1号窗口一米线内",
    ),
    ZoneConfig(
        id="w2_customer",
        kind=ZoneKind.COUNTER_WINDOW,
        window_id="w2",
        polygon=_rect(0.5, 0.8, 0.78, 1.0),
        name="2号窗口一米线内",
    ),
    ZoneConfig(
        id="w1_teller",
        kind=ZoneKind.TELLER_SEAT,
        window_id="w1",
        anchor=Anchor.CENTER,
        polygon=_rect(0.02, 0.15, 0.32, 0.6),
        name="1号窗口柜员席",
    ),
    ZoneConfig(
        id="w2_teller",
        kind=ZoneKind.TELLER_SEAT,
        window_id="w2",
        anchor=Anchor.CENTER,
        polygon=_rect(0.68, 0.15, 0.98, 0.6),
        name="2号窗口柜员席",
    ),
)

_MANAGER_POST: Point = (0.33, 0.86)
_GUARD_POST: Point = (0.11, 0.74)
_LOBBY_EXIT_LEFT: Point = (-0.12, 0.86)
_LOBBY_DOORWAY: Point = (1.1, 0.92)
_TELLER_Y = 0.585


def lobby_script(
    start: datetime,
    duration_s: float = BASE_DURATION_S,
    width: int = 960,
    height: int = 540,
    seed: int = 7,
) -> CameraScript:
    """The lobby camera's script (see the module docstring)."""
    k = duration_s / BASE_DURATION_S
    manager = Actor(
        id="manager",
        role=Role.LOBBY_MANAGER,
        sprite="bus_1",
        height_frac=0.54,
        uniform_bgr=MANAGER_BGR,
        waypoints=away(_MANAGER_POST, _LOBBY_EXIT_LEFT, ((90 * k, 153 * k), (300 * k, 503 * k))),
    )
    guard = Actor(
        id="guard",
        role=Role.GUARD,
        sprite="bus_0",
        height_frac=0.52,
        flip=True,
        uniform_bgr=GUARD_BGR,
        waypoints=sway(_GUARD_POST, duration_s, 20.0, 0.008),
    )
    counter_spot, desk_spot = (0.8, 0.56), (0.5, 0.72)
    customers = (
        ("c1", "bus_1", True, (40, 70, 110), 20, 72, counter_spot),
        ("c2", "bus_0", False, (90, 90, 96), 170, 236, desk_spot),
        ("c3", "bus_1", False, None, 330, 415, (0.86, 0.57)),
        ("c4", "bus_0", True, (50, 100, 60), 450, 535, desk_spot),
    )
    actors = [manager, guard] + [
        Actor(
            id=cid,
            role=Role.CUSTOMER,
            sprite=sprite,
            height_frac=0.55,
            flip=flip,
            uniform_bgr=tint,
            waypoints=visit(t_in * k, t_out * k, spot, _LOBBY_DOORWAY),
            visible=((t_in * k, t_out * k + 10.0),),
        )
        for cid, sprite, flip, tint, t_in, t_out, spot in customers
    ]
    return CameraScript(
        camera="lobby",
        channel="01",
        width=width,
        height=height,
        duration_s=duration_s,
        start=start,
        seed=seed,
        layout=LOBBY_LAYOUT,
        actors=tuple(actors),
        depth_scale=0.6,
        props=(Prop(id="cup", image="cup", box=(0.64, 0.52, 0.72, 0.635), t0=60 * k),),
        screens=(
            Screen(
                id="screen",
                box=(0.37, 0.19, 0.55, 0.37),
                period_s=15.0,
                off=((360.0 * k, 540.0 * k),),
            ),
        ),
        lighting=Lighting(keys=((200 * k, 1.0), (500 * k, 0.9))),
    )


def counter_script(
    start: datetime,
    duration_s: float = BASE_DURATION_S,
    width: int = 960,
    height: int = 540,
    seed: int = 11,
) -> CameraScript:
    """The counter camera's script (see the module docstring)."""
    k = duration_s / BASE_DURATION_S
    left, right = (-0.1, 0.955), (1.1, 0.955)
    tellers = (
        Actor(
            id="teller_w1",
            role=Role.TELLER,
            sprite="zidane_1",
            height_frac=0.36,
            upper_body=True,
            uniform_bgr=TELLER_BGR,
            waypoints=sway((0.17, _TELLER_Y), duration_s, 30.0, 0.004),
        ),
        Actor(
            id="teller_w2",
            role=Role.TELLER,
            sprite="bus_0",
            height_frac=0.36,
            upper_body=True,
            flip=True,
            uniform_bgr=TELLER_BGR,
            waypoints=away((0.83, _TELLER_Y), (1.15, _TELLER_Y), ((300 * k, 422 * k),)),
        ),
    )
    customers = (
        ("a", "bus_1", False, None, 75, 200, (0.44, 0.955), left),
        ("b", "bus_0", False, (40, 70, 110), 105, 168, (0.31, 0.95), left),
        ("c", "bus_1", True, (90, 90, 96), 280, 440, (0.62, 0.955), right),
        ("d", "bus_0", True, None, 450, 540, (0.4, 0.955), left),
    )
    actors = tellers + tuple(
        Actor(
            id=f"customer_{cid}",
            role=Role.CUSTOMER,
            sprite=sprite,
            height_frac=0.56,
            flip=flip,
            uniform_bgr=tint,
            waypoints=visit(t_in * k, t_out * k, spot, door),
            visible=((t_in * k, t_out * k + 10.0),),
        )
        for cid, sprite, flip, tint, t_in, t_out, spot, door in customers
    )
    return CameraScript(
        camera="counter",
        channel="02",
        width=width,
        height=height,
        duration_s=duration_s,
        start=start,
        seed=seed,
        layout=COUNTER_LAYOUT,
        actors=actors,
        gaps=((240 * k, 270 * k),),
    )


def _zone(zones: tuple[ZoneConfig, ...], zone_id: str) -> ZoneConfig:
    return next(z for z in zones if z.id == zone_id)


def _findings(lobby: CameraScript, counter: CameraScript) -> list[Finding]:
    t = np.arange(0.0, lobby.duration_s, 1.0)
    ids = [a.id for a in lobby.actors]

    def at(script: CameraScript, seconds: float) -> datetime:
        return script.start + timedelta(seconds=seconds)

    found: list[Finding] = []
    post = occupancy(lobby, _zone(LOBBY_ZONES, "lobby_manager_post"), t)[ids.index("manager")]
    for a, b in runs(~post, t):
        long = b - a > ABSENCE_GRACE_S
        found.append(
            Finding(
                item="LOBBY_MANAGER_ABSENT",
                camera="lobby",
                start=at(lobby, a),
                end=at(lobby, b),
                expected=long,
                zone="lobby_manager_post",
                note=f"lobby manager away from the post for {b - a:.0f} s",
            )
        )
    guard = occupancy(lobby, _zone(LOBBY_ZONES, "guard_post"), t)[ids.index("guard")]
    for a, b in runs(guard, t):
        found.append(
            Finding(
                item="GUARD_NOT_PATROLLING",
                camera="lobby",
                start=at(lobby, a),
                end=at(lobby, b),
                expected=True,
                zone="guard_post",
                note="guard stands inside the guard post and never patrols",
            )
        )
    for prop in lobby.props:
        found.append(
            Finding(
                item="CLUTTER_CUSTOMER_VIEW",
                camera="lobby",
                start=at(lobby, prop.t0),
                end=at(lobby, min(prop.t1, lobby.duration_s)),
                expected=True,
                zone="form_desk",
                note=f"a {prop.image} left on the form desk",
            )
        )
    for screen in lobby.screens:
        for a, b in screen.off:
            found.append(
                Finding(
                    item="SCREENS_OFF",
                    camera="lobby",
                    start=at(lobby, a),
                    end=at(lobby, min(b, lobby.duration_s)),
                    expected=min(b, lobby.duration_s) - a >= SCREEN_OFF_MIN_S,
                    zone=screen.id,
                    note="the screen is switched off",
                )
            )
    tc = np.arange(0.0, counter.duration_s, 1.0)
    roles = np.array([a.role for a in counter.actors])
    customers = roles == Role.CUSTOMER
    w1 = occupancy(counter, _zone(COUNTER_ZONES, "w1_customer"), tc)[customers].sum(axis=0)
    for a, b in runs(w1 >= 2, tc):
        found.append(
            Finding(
                item="COUNTER_CROWDING",
                camera="counter",
                start=at(counter, a),
                end=at(counter, b),
                expected=True,
                zone="w1_customer",
                window_id="w1",
                note="two customers inside window w1's zone",
            )
        )
    teller = occupancy(counter, _zone(COUNTER_ZONES, "w2_teller"), tc)[roles == Role.TELLER]
    waiting = occupancy(counter, _zone(COUNTER_ZONES, "w2_customer"), tc)[customers]
    for a, b in runs(~teller.any(axis=0) & waiting.any(axis=0), tc):
        found.append(
            Finding(
                item="WINDOW_UNATTENDED",
                camera="counter",
                start=at(counter, a),
                end=at(counter, b),
                expected=True,
                zone="w2_teller",
                window_id="w2",
                note="no teller at w2 while a customer waits",
            )
        )
    for a, b in counter.gaps:
        found.append(
            Finding(
                item="MISSING_FOOTAGE",
                camera="counter",
                start=at(counter, a),
                end=at(counter, b),
                expected=True,
                note="no export file covers this interval",
            )
        )
    return found


def demo_scenario(
    start: datetime, duration_s: int = 600, width: int = 960, height: int = 540
) -> DemoScenario:
    """The demo branch: camera scripts, zone configuration and intended findings.

    Args:
        start: Wall-clock start (timezone-aware; file names use its timezone).
        duration_s: Footage length per camera; the schedule is written for 600 s and scaled.
        width: Frame width.
        height: Frame height.

    Returns:
        The scenario.

    Example:
        >>> from datetime import datetime, timezone
        >>> s = demo_scenario(datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc))
        >>> [c.config.token for c in s.cameras]
        ['01', '02']
    """
    lobby = lobby_script(start, duration_s, width, height)
    counter = counter_script(start, duration_s, width, height)
    cameras = (
        DemoCamera(
            lobby,
            CameraConfig(
                id="lobby",
                name="大堂",
                channel="01",
                looks_at="大堂、大堂经理岗、保安岗、填单台、多媒体屏",
                zones=list(LOBBY_ZONES),
            ),
            300.0 * duration_s / 600,
        ),
        DemoCamera(
            counter,
            CameraConfig(
                id="counter",
                name="柜台",
                channel="02",
                looks_at="1号、2号窗口（客户侧与柜员席）",
                zones=list(COUNTER_ZONES),
            ),
            None,
        ),
    )
    return DemoScenario(cameras, tuple(_findings(lobby, counter)))


def _render_one(camera: DemoCamera, out_dir: Path) -> list[Path]:
    return render_camera(camera.script, out_dir, camera.segment_s).paths


def render_demo(
    out_dir: Path,
    start: datetime,
    duration_s: int = 600,
    workers: int = 2,
) -> list[Path]:
    """Render the demo footage, its ground truth and its findings into ``out_dir``.

    Args:
        out_dir: Output folder (created if missing).
        start: Wall-clock start (timezone-aware).
        duration_s: Footage length per camera.
        workers: Cameras rendered at once in separate processes (1: in this process).

    Returns:
        Paths of the videos, the ``truth_<camera>.json`` files and ``demo_findings.json``.
    """
    scenario = demo_scenario(start, duration_s)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    if workers > 1:
        # Spawned workers: forking a process that has loaded torch or started threads can hang.
        context = multiprocessing.get_context("spawn")
        workers = min(workers, len(scenario.cameras))
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            for result in pool.map(
                _render_one, scenario.cameras, [out_dir] * len(scenario.cameras)
            ):
                paths += result
    else:
        for camera in scenario.cameras:
            paths += _render_one(camera, out_dir)
    findings = out_dir / "demo_findings.json"
    findings.write_text(findings_json(scenario.findings), encoding="utf-8")
    return paths + [findings]
