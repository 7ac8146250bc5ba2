"""Camera-health rules over timelines with planted health measures (no video)."""

from __future__ import annotations

import dataclasses

import numpy as np

from rules.engine import run_rules
from rules.items.camera import HEALTH_ITEMS
from rules.registry import validate_rule_settings
from rules.timeseries import withhold
from tests.rules.factories import OPEN, Person, Scene, make_context, make_timeline
from vision.timeline import CameraHealth, ObservationTimeline
from vision.types import Role

SCENE = Scene(
    duration_s=3600.0,
    # The lobby manager stands at the post all hour: nothing to report while the view is fine.
    people=[Person(1, Role.LOBBY_MANAGER, 0, 3600, ("post", "hall"))],
)


def _healthy(t: ObservationTimeline) -> CameraHealth:
    n = t.num_samples
    return CameraHealth(
        luma=np.full(n, 0.5, np.float32),
        contrast=np.full(n, 0.2, np.float32),
        change=np.full(n, 0.1, np.float32),
        sharpness=np.ones(n, np.float32),
        covered=np.zeros(n, np.float32),
        shift=np.full(n, 0.001, np.float32),
        zone_shift=np.full(n, 0.002, np.float32),
        rotation=np.zeros(n, np.float32),
    )


def _with(t: ObservationTimeline, t0: float, t1: float, **values: float) -> ObservationTimeline:
    health = t.health or _healthy(t)
    rel = t.ts - OPEN
    inside = (rel >= t0) & (rel < t1)
    for name, value in values.items():
        getattr(health, name)[inside] = value
    return dataclasses.replace(t, health=health)


def _events(t: ObservationTimeline, **settings: dict[str, object]) -> list:  # type: ignore[type-arg]
    return run_rules(t, make_context(SCENE), validate_rule_settings(settings))


def test_each_fault_is_reported_from_its_first_to_its_last_sample() -> None:
    t = make_timeline(SCENE)
    t = _with(t, 600, 1200, luma=0.01, contrast=0.001, change=0.0)
    t = _with(t, 1800, 2400, change=0.0)
    t = _with(t, 2000, 2002, change=np.nan)  # a new file starts: nothing to compare with
    t = _with(t, 2400, 3000, covered=0.6)
    t = _with(t, 3000, 3600, shift=0.05, zone_shift=0.08, rotation=2.5)
    found = {e.item: e for e in _events(t) if e.item in HEALTH_ITEMS}
    assert set(found) == {"CAMERA_BLACK", "CAMERA_FROZEN", "CAMERA_OBSTRUCTED", "CAMERA_MOVED"}
    for item, (t0, t1) in {
        "CAMERA_BLACK": (600, 1200),
        "CAMERA_FROZEN": (1800, 2400),
        "CAMERA_OBSTRUCTED": (2400, 3000),
        "CAMERA_MOVED": (3000, 3600),
    }.items():
        assert found[item].start.timestamp() == OPEN + t0
        assert found[item].end.timestamp() == OPEN + t1
    assert found["CAMERA_BLACK"].details["black"] is True
    moved = found["CAMERA_MOVED"].details
    assert (moved["shift_pct"], moved["zone_shift_pct"], moved["rotation_deg"]) == (5.0, 8.0, 2.5)


def test_a_short_blip_and_an_unregistered_sample_are_not_findings() -> None:
    t = _with(make_timeline(SCENE), 600, 640, luma=0.0, contrast=0.0)  # 40 s < 60 s
    t = _with(t, 1000, 1002, shift=np.nan)
    assert not [e for e in _events(t) if e.item in HEALTH_ITEMS]


def test_a_still_view_that_changes_every_other_sample_is_not_frozen() -> None:
    """Seated tellers barely move: every other sample may change too little, but a sample
    that changed shows the channel live."""
    t = make_timeline(SCENE)
    health = _healthy(t)
    health.change[::2] = 0.0
    assert not [e for e in _events(dataclasses.replace(t, health=health)) if e.item in HEALTH_ITEMS]


def test_a_moved_view_withholds_zone_items_and_says_so() -> None:
    """The manager is still at the post in the picture, but the picture no longer shows the
    post: without withholding, the post would read as empty (absence); with it, the moved
    stretch is not judged and the moved finding lists what it withheld."""
    people = [
        Person(1, Role.LOBBY_MANAGER, 0, 1800, ("post", "hall")),
        Person(1, Role.LOBBY_MANAGER, 1800, 3600, ()),
    ]
    scene = dataclasses.replace(SCENE, people=people)
    t = _with(make_timeline(scene), 1800, 3600, shift=0.05, zone_shift=0.06)
    off = {code: {"enabled": False} for code in HEALTH_ITEMS}
    unguarded = run_rules(t, make_context(scene), validate_rule_settings(off))
    assert [e.item for e in unguarded] == ["LOBBY_MANAGER_ABSENT"]
    guarded = run_rules(t, make_context(scene), validate_rule_settings({}))
    assert [e.item for e in guarded] == ["CAMERA_MOVED"]
    assert "LOBBY_MANAGER_ABSENT" in guarded[0].details["withheld_items"]
    assert "MISSING_FOOTAGE" not in guarded[0].details["withheld_items"]


def test_withhold_cuts_samples_people_coverage_and_health() -> None:
    t = make_timeline(SCENE)
    t = dataclasses.replace(t, health=_healthy(t))
    cut = withhold(t, np.array([[OPEN + 100, OPEN + 200]]))
    assert cut.num_samples == t.num_samples - 50
    assert cut.health is not None and len(cut.health) == cut.num_samples
    assert cut.coverage.tolist() == [[OPEN, OPEN + 100], [OPEN + 200, OPEN + 3600]]
    assert len(cut.sample) == len(t.sample) - 50
    assert cut.sample.max() == cut.num_samples - 1
