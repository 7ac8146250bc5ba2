"""What happens in front of a synthetic camera: actors, props, screens, lighting and gaps.

All positions are normalised 0–1 image coordinates. An actor's position is the point it stands
on (its feet, or for an upper-body actor the bottom centre of what is drawn), linearly
interpolated between waypoints, so people walk. Actors are drawn in order of their feet row
(further back first); props are drawn before all actors, so people pass in front of them.
Times are seconds from the script's start.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt

from vision.synth.people import CUTOUT_NAMES
from vision.synth.props import PROP_NAMES, NormBox
from vision.synth.scene import BGR, SceneLayout
from vision.types import Role

logger = logging.getLogger(__name__)

Interval = tuple[float, float]
"""``[t0, t1)`` in seconds from the script start."""

ALWAYS: tuple[Interval, ...] = ((0.0, math.inf),)


class ScriptError(ValueError):
    """A camera script that cannot be rendered; the message names the camera and the field."""


def _check_intervals(where: str, intervals: tuple[Interval, ...]) -> None:
    previous = -math.inf
    for t0, t1 in intervals:
        if not (t0 < t1) or t0 < previous:
            raise ScriptError(
                f"{where}: intervals must be increasing and disjoint, got {intervals}"
            )
        previous = t1


def _check_box(where: str, box: NormBox) -> None:
    x0, y0, x1, y1 = box
    if not (0.0 <= x0 < x1 <= 1.0 and 0.0 <= y0 < y1 <= 1.0):
        raise ScriptError(f"{where}: box {box} must satisfy 0 <= x0 < x1 <= 1, 0 <= y0 < y1 <= 1")


def in_intervals(
    t: npt.NDArray[np.float64],
    intervals: tuple[Interval, ...],
) -> npt.NDArray[np.bool_]:
    """Which times fall inside any ``[t0, t1)`` interval.

    Args:
        t: Times in seconds.
        intervals: Disjoint intervals.

    Returns:
        Boolean array shaped like ``t``.
    """
    inside = np.zeros(t.shape, bool)
    for t0, t1 in intervals:
        inside |= (t >= t0) & (t < t1)
    return inside


@dataclass(frozen=True, slots=True)
class Waypoint:
    """Where an actor stands at a time: ``x, y`` in 0–1 (may leave the frame to walk out)."""

    t_s: float
    x: float
    y: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Actor:
    """A person in the script.

    Attributes:
        id: Unique id within the camera.
        role: Role the ground truth gives this person.
        sprite: Person cutout name (``vision.synth.people.CUTOUT_NAMES``).
        height_frac: Drawn height as a fraction of the frame height (at the bottom row when the
            script has ``depth_scale``).
        waypoints: Positions over time, in time order; before the first and after the last the
            actor stands at that waypoint.
        visible: Intervals in which the actor is drawn at all.
        upper_body: Draw only down to the hips (a teller behind a counter).
        uniform_bgr: Tint the torso toward this uniform colour.
        flip: Mirror the cutout.
    """

    id: str
    role: Role
    sprite: str
    height_frac: float
    waypoints: tuple[Waypoint, ...]
    visible: tuple[Interval, ...] = ALWAYS
    upper_body: bool = False
    uniform_bgr: BGR | None = None
    flip: bool = False
    _times: npt.NDArray[np.float64] = field(init=False, repr=False, compare=False)
    _xy: npt.NDArray[np.float64] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        where = f"actor {self.id!r}"
        if self.sprite not in CUTOUT_NAMES:
            raise ScriptError(
                f"{where}: unknown sprite {self.sprite!r}; known: {', '.join(CUTOUT_NAMES)}"
            )
        if not 0.02 <= self.height_frac <= 1.5:
            raise ScriptError(f"{where}: height_frac {self.height_frac} is outside 0.02–1.5")
        if not self.waypoints:
            raise ScriptError(f"{where}: needs at least one waypoint")
        times = np.array([w.t_s for w in self.waypoints], np.float64)
        if np.any(np.diff(times) < 0):
            raise ScriptError(f"{where}: waypoints must be in time order")
        _check_intervals(f"{where} visible", self.visible)
        if self.uniform_bgr is not None and not all(0 <= c <= 255 for c in self.uniform_bgr):
            raise ScriptError(f"{where}: uniform_bgr {self.uniform_bgr} must be 0–255 per channel")
        object.__setattr__(self, "_times", times)
        object.__setattr__(self, "_xy", np.array([(w.x, w.y) for w in self.waypoints], np.float64))

    def positions(self, t: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Feet positions ``(n, 2)`` at times ``t`` (linear between waypoints).

        Args:
            t: Times in seconds.

        Returns:
            ``x, y`` per time in 0–1 coordinates.
        """
        return np.stack(
            [np.interp(t, self._times, self._xy[:, 0]), np.interp(t, self._times, self._xy[:, 1])],
            axis=-1,
        )

    def shown(self, t: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
        """Whether the actor is drawn at times ``t`` (before clipping to the frame)."""
        return in_intervals(t, self.visible)


@dataclass(frozen=True, slots=True, kw_only=True)
class Prop:
    """An object photo placed in a box for an interval.

    Attributes:
        id: Unique id within the camera.
        image: Prop name (``vision.synth.props.PROP_NAMES``).
        box: Box the photo is fitted into (kept aspect, standing on the box bottom).
        t0: Time it appears.
        t1: Time it is taken away (``inf``: stays).
    """

    id: str
    image: str
    box: NormBox
    t0: float = 0.0
    t1: float = math.inf

    def __post_init__(self) -> None:
        if self.image not in PROP_NAMES:
            raise ScriptError(
                f"prop {self.id!r}: unknown image {self.image!r}; known: {', '.join(PROP_NAMES)}"
            )
        _check_box(f"prop {self.id!r}", self.box)
        if not self.t0 < self.t1:
            raise ScriptError(f"prop {self.id!r}: t0 {self.t0} must be before t1 {self.t1}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Lighting:
    """Global gain over time: ``keys`` of ``(t_s, gain)``, linear in between, constant outside.

    No keys means a constant gain of 1.
    """

    keys: tuple[tuple[float, float], ...] = ()

    def __post_init__(self) -> None:
        times = [t for t, _ in self.keys]
        if times != sorted(times):
            raise ScriptError(f"lighting keys must be in time order, got {self.keys}")
        if any(not 0.05 <= g <= 4.0 for _, g in self.keys):
            raise ScriptError(f"lighting gains must be within 0.05–4, got {self.keys}")

    def gain(self, t: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Gain at times ``t``."""
        if not self.keys:
            return np.ones(t.shape, np.float64)
        return np.interp(t, [k[0] for k in self.keys], [k[1] for k in self.keys])


@dataclass(frozen=True, slots=True, kw_only=True)
class Screen:
    """A display whose content changes: a new slide every ``period_s``, dark during ``off``.

    Attributes:
        id: Unique id within the camera.
        box: Content area.
        period_s: Seconds per slide.
        off: Intervals in which the screen is switched off (dark).
    """

    id: str
    box: NormBox
    period_s: float = 10.0
    off: tuple[Interval, ...] = ()

    def __post_init__(self) -> None:
        _check_box(f"screen {self.id!r}", self.box)
        if self.period_s <= 0:
            raise ScriptError(f"screen {self.id!r}: period_s must be positive")
        _check_intervals(f"screen {self.id!r} off", self.off)


@dataclass(frozen=True, slots=True, kw_only=True)
class CameraFaults:
    """What goes wrong with the camera itself (camera-health checks, :mod:`vision.health`).

    Attributes:
        turn_at_s: From this time on the camera is panned by ``turn_deg`` (``None``: never).
        turn_deg: Pan angle in degrees (positive: the view turns right, the scene moves left).
        hfov_deg: Horizontal field of view, which sets how far a pan moves the picture.
        black: Intervals in which the channel records a black picture.
        frozen: Intervals in which the channel repeats the picture of the interval's start.
    """

    turn_at_s: float | None = None
    turn_deg: float = 0.0
    hfov_deg: float = 90.0
    black: tuple[Interval, ...] = ()
    frozen: tuple[Interval, ...] = ()

    def __post_init__(self) -> None:
        _check_intervals("faults black", self.black)
        _check_intervals("faults frozen", self.frozen)
        if not -30.0 <= self.turn_deg <= 30.0:
            raise ScriptError(f"faults: turn_deg {self.turn_deg} is outside -30–30")
        if not 20.0 <= self.hfov_deg <= 150.0:
            raise ScriptError(f"faults: hfov_deg {self.hfov_deg} is outside 20–150")

    def turned(self, t: float) -> bool:
        """Whether the camera is turned at time ``t``."""
        return self.turn_at_s is not None and t >= self.turn_at_s and self.turn_deg != 0.0

    def frozen_since(self, t: float) -> float | None:
        """Start of the frozen interval holding ``t``, if any."""
        return next((t0 for t0, t1 in self.frozen if t0 <= t < t1), None)

    def is_black(self, t: float) -> bool:
        """Whether the picture at time ``t`` is black."""
        return any(t0 <= t < t1 for t0, t1 in self.black)


@dataclass(frozen=True, slots=True, kw_only=True)
class CameraScript:
    """Everything needed to render one camera's footage and its ground truth.

    Attributes:
        camera: Camera id.
        width: Frame width (even).
        height: Frame height (even).
        fps: Frames per second.
        duration_s: Length of the script.
        start: Wall-clock time of ``t = 0`` (timezone-aware; file names use its timezone).
        seed: Seed of everything random (textures, slides).
        layout: The fit-out of the view.
        actors: People.
        props: Objects.
        lighting: Global gain over time.
        screens: Displays with changing content.
        gaps: Intervals with no footage (no file covers them).
        channel: Camera token in file names (defaults to ``camera``).
        depth_scale: Perspective shrink of people: height is multiplied by
            ``1 - depth_scale * (1 - y)`` at feet row ``y``.
        faults: Faults of the camera itself (turned, black, frozen).
    """

    camera: str
    width: int
    height: int
    fps: int = 25
    duration_s: float
    start: datetime
    seed: int
    layout: SceneLayout
    actors: tuple[Actor, ...] = ()
    props: tuple[Prop, ...] = ()
    lighting: Lighting = Lighting()
    screens: tuple[Screen, ...] = ()
    gaps: tuple[Interval, ...] = ()
    channel: str | None = None
    depth_scale: float = 0.0
    faults: CameraFaults = CameraFaults()

    def __post_init__(self) -> None:
        where = f"camera {self.camera!r}"
        if self.start.tzinfo is None:
            raise ScriptError(f"{where}: start must be timezone-aware, got {self.start!r}")
        if self.width < 64 or self.height < 64 or self.width % 2 or self.height % 2:
            raise ScriptError(
                f"{where}: frame size {self.width}x{self.height} must be even and at least 64x64"
            )
        if not 1 <= self.fps <= 120:
            raise ScriptError(f"{where}: fps {self.fps} is outside 1–120")
        if self.duration_s <= 0:
            raise ScriptError(f"{where}: duration_s must be positive")
        if not 0.0 <= self.depth_scale < 1.0:
            raise ScriptError(f"{where}: depth_scale must be within [0, 1)")
        _check_intervals(f"{where} gaps", self.gaps)
        if any(t0 < 0 or t1 > self.duration_s for t0, t1 in self.gaps):
            raise ScriptError(f"{where}: gaps {self.gaps} must lie within 0–{self.duration_s}")
        for kind, items in (("actor", self.actors), ("prop", self.props), ("screen", self.screens)):
            ids = [item.id for item in items]
            if len(ids) != len(set(ids)):
                raise ScriptError(f"{where}: {kind} ids must be unique, got {ids}")

    @property
    def token(self) -> str:
        """Camera token in file names."""
        return self.channel if self.channel is not None else self.camera

    @property
    def frame_count(self) -> int:
        """Frames in the whole script (gaps included)."""
        return round(self.duration_s * self.fps)
