"""Small factories of synthetic observation timelines for rule tests (no video needed)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo as TZ

import numpy as np

from rules.hours import BusinessHours, TimeRange
from rules.registry import CallRecord, RuleContext
from rules.scoring import ScoredEvent
from rules.types import EventStatus
from vision.timeline import (
    NUM_POSTURES,
    UNKNOWN_LABEL,
    ObservationTimeline,
    StaticObjects,
    ZoneInfo,
)
from vision.types import Posture, Role

SHANGHAI = TZ("Asia/Shanghai")
DAY = datetime(2026, 11, 23, tzinfo=SHANGHAI)  # a Monday
OPEN = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI).timestamp()
"""09:00 local on the test day, as UTC epoch seconds."""

LOBBY_ZONES = (
    ZoneInfo("post", "lobby_manager_post"),
    ZoneInfo("hall", "lobby"),
)
COUNTER_ZONES = (
    ZoneInfo("w1", "counter_window", "1"),
    ZoneInfo("s1", "teller_seat", "1"),
    ZoneInfo("w2", "counter_window", "2"),
    ZoneInfo("s2", "teller_seat", "2"),
)


@dataclass(frozen=True)
class Person:
    """One tracked person over a stretch of the timeline.

    Times are seconds after the timeline's start; the person is seen at every sample in
    ``[t0, t1)``, in ``zones``, with ``postures`` set true (all others false).
    """

    track_id: int
    role: Role
    t0: float
    t1: float
    zones: tuple[str, ...] = ()
    postures: tuple[Posture, ...] = ()
    xyxy: tuple[float, float, float, float] | None = None
    path: tuple[tuple[float, float], tuple[float, float]] | None = None
    """Centre moves linearly from the first to the second point (normalised) over t0..t1."""
    posture_times: tuple[float, float] | None = None
    """Postures hold only within this sub-stretch (seconds after start); default all of it."""


@dataclass(frozen=True)
class StaticObject:
    """An object that stays put from ``t0`` to ``t1`` (seconds after start) in a zone.

    ``confidence`` is the object detector's; as in the static-object layer, an object labelled
    ``"unknown object"`` (no detector named it) has confidence 0 whatever is given.
    """

    zone: str
    t0: float
    t1: float
    label: str = "bag"
    xyxy: tuple[float, float, float, float] = (0.4, 0.4, 0.45, 0.45)
    confidence: float = 0.9


@dataclass(frozen=True)
class Scene:
    """Inputs of :func:`make_timeline`."""

    duration_s: float = 3600.0
    interval_s: float = 2.0
    start: float = OPEN
    zones: tuple[ZoneInfo, ...] = LOBBY_ZONES
    people: Sequence[Person] = ()
    objects: Sequence[StaticObject] = ()
    coverage: Sequence[tuple[float, float]] | None = None
    """Covered stretches (seconds after start); default: all of it."""
    held: Sequence[tuple[float, float]] = ()
    """Stretches (seconds after start) whose samples were held by the motion gate; people
    rows are *not* repeated there (the harder case for rules)."""
    calls: Sequence[tuple[str, float]] = field(default_factory=tuple)


def make_timeline(scene: Scene, *, branch: str = "b1", camera: str = "cam1") -> ObservationTimeline:
    """Build a timeline from a scene description."""
    rel = np.arange(0.0, scene.duration_s, scene.interval_s)
    ts = scene.start + rel
    cov_rel = scene.coverage if scene.coverage is not None else [(0.0, scene.duration_s)]
    coverage = np.array(
        [(scene.start + a, scene.start + b) for a, b in cov_rel], np.float64
    ).reshape(-1, 2)
    in_cov = np.zeros(len(ts), bool)
    for a, b in cov_rel:
        in_cov |= (rel >= a) & (rel < b)
    # Samples exist only where footage was decoded.
    keep = in_cov
    rel, ts = rel[keep], ts[keep]
    inferred = np.ones(len(ts), bool)
    for a, b in scene.held:
        inferred &= ~((rel >= a) & (rel < b))
    zone_index = {z.id: i for i, z in enumerate(scene.zones)}
    rows: list[tuple[int, int, int, tuple[float, ...], list[int], list[int]]] = []
    for p in scene.people:
        for s in np.flatnonzero((rel >= p.t0) & (rel < p.t1) & inferred):
            box = p.xyxy or (0.45, 0.4, 0.55, 0.8)
            if p.path is not None:
                frac = (rel[s] - p.t0) / max(p.t1 - p.t0, 1e-9)
                (x0, y0), (x1, y1) = p.path
                cx, cy = x0 + (x1 - x0) * frac, y0 + (y1 - y0) * frac
                box = (cx - 0.03, cy - 0.1, cx + 0.03, cy + 0.1)
            on = p.posture_times is None or (p.posture_times[0] <= rel[s] < p.posture_times[1])
            flags = [int(q) for q in p.postures] if on else []
            rows.append(
                (int(s), p.track_id, int(p.role), box, [zone_index[z] for z in p.zones], flags)
            )
    rows.sort(key=lambda r: (r[0], r[1]))
    n, z = len(rows), len(scene.zones)
    in_zone = np.zeros((n, z), bool)
    posture = np.zeros((n, NUM_POSTURES), np.int8)
    for i, (_, _, _, _, zs, flags) in enumerate(rows):
        in_zone[i, zs] = True
        posture[i, flags] = 1
    objects = StaticObjects(
        first_seen=np.array([scene.start + o.t0 for o in scene.objects], np.float64),
        last_seen=np.array([scene.start + o.t1 for o in scene.objects], np.float64),
        xyxy=np.array([o.xyxy for o in scene.objects], np.float32).reshape(-1, 4),
        zone=np.array([zone_index[o.zone] for o in scene.objects], np.int32),
        label=np.array([o.label for o in scene.objects], "<U32"),
        confidence=np.array(
            [0.0 if o.label == UNKNOWN_LABEL else o.confidence for o in scene.objects],
            np.float32,
        ),
    )
    return ObservationTimeline(
        branch=branch,
        camera=camera,
        zones=scene.zones,
        ts=ts,
        inferred=inferred,
        motion=np.zeros(len(ts), np.float32),
        sample=np.array([r[0] for r in rows], np.int32),
        track_id=np.array([r[1] for r in rows], np.int64),
        role=np.array([r[2] for r in rows], np.int8),
        role_conf=np.ones(n, np.float32),
        xyxy=np.array([r[3] for r in rows], np.float32).reshape(-1, 4),
        in_zone=in_zone,
        posture=posture,
        posture_value=posture.astype(np.float32),
        face_xyxy=np.zeros((n, 4), np.float32),
        coverage=coverage,
        objects=objects,
    )


def make_context(
    scene: Scene,
    *,
    hours: BusinessHours | None = None,
    window: tuple[float, float] | None = None,
) -> RuleContext:
    """A rule context for a scene: branch b1, camera cam1, Shanghai, open 09:00–17:00."""
    return RuleContext(
        branch="b1",
        camera="cam1",
        tz=SHANGHAI,
        hours=hours or BusinessHours(),
        interval_s=scene.interval_s,
        calls=tuple(CallRecord(w, scene.start + t) for w, t in scene.calls),
        window=window,
    )


def lunch_break() -> BusinessHours:
    """09:00–17:00 with a 12:00–13:00 break."""
    return BusinessHours(breaks=[TimeRange(start=time(12, 0), end=time(13, 0))])


def rel(ev_time: datetime, scene: Scene) -> float:
    """An event time as seconds after the scene start."""
    return ev_time.timestamp() - scene.start


_keys = itertools.count()


def ev(
    item: str,
    when: str,
    branch: str = "b1",
    status: EventStatus = EventStatus.CONFIRMED,
) -> ScoredEvent:
    """A scored event at a local time such as '2026-05-06 10:00'."""
    start = datetime.fromisoformat(when).replace(tzinfo=SHANGHAI)
    return ScoredEvent(item, branch, start, status, f"k{next(_keys)}")
