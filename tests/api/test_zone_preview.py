"""Previewing redrawn zones on a stored night: samples per zone and events that change."""

from __future__ import annotations

from api.zone_preview import preview_zones, rezoned
from rules.registry import validate_rule_settings
from tests.rules.factories import Person, Scene, make_context, make_timeline
from vision.config import CameraConfig, ZoneConfig
from vision.types import Role

# The lobby manager stands with feet at (0.5, 0.8) all hour (box 0.45–0.55 × 0.4–0.8).
SCENE = Scene(
    duration_s=3600.0,
    people=[Person(1, Role.LOBBY_MANAGER, 0, 3600, ("post", "hall"), xyxy=(0.45, 0.4, 0.55, 0.8))],
)


def _camera(post: list[tuple[float, float]]) -> CameraConfig:
    return CameraConfig(
        id="cam1",
        zones=[
            ZoneConfig(id="post", kind="lobby_manager_post", polygon=post),
            ZoneConfig(id="hall", kind="lobby", polygon=[(0, 0.9), (1, 0.9), (1, 1), (0, 1)]),
        ],
    )


def test_rezoned_tests_the_feet_against_the_drawn_polygons() -> None:
    t = make_timeline(SCENE)
    moved = rezoned(t, _camera([(0.4, 0.7), (0.6, 0.7), (0.6, 0.9), (0.4, 0.9)]))
    assert [z.id for z in moved.zones] == ["post", "hall"]
    assert moved.in_zone[:, 0].all() and not moved.in_zone[:, 1].any()


def test_a_post_drawn_away_from_the_manager_shows_the_absence_it_would_report() -> None:
    t = make_timeline(SCENE)
    away = _camera([(0.0, 0.1), (0.2, 0.1), (0.2, 0.3), (0.0, 0.3)])
    result = preview_zones(t, away, make_context(SCENE), validate_rule_settings({}))
    assert result.total_samples == t.num_samples
    assert result.current_samples == {"post": t.num_samples, "hall": t.num_samples}
    assert result.samples == {"post": 0, "hall": 0}
    assert [e.item for e in result.added] == ["LOBBY_MANAGER_ABSENT"]
    assert result.removed == []
    same = preview_zones(
        t,
        _camera([(0.4, 0.7), (0.6, 0.7), (0.6, 0.9), (0.4, 0.9)]),
        make_context(SCENE),
        validate_rule_settings({}),
    )
    assert same.added == [] and same.samples["post"] == t.num_samples
