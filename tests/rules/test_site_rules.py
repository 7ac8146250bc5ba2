"""Rule settings by layer (site, branch, camera) and time windows per item."""

from __future__ import annotations

from datetime import date, time

from rules.engine import run_rules
from rules.hours import BusinessHours, TimeRange
from rules.registry import RuleParams, merge_rule_settings, registered, validate_rule_settings
from tests.rules.factories import SHANGHAI, Person, Scene, make_context, make_timeline, rel
from vision.types import Role

# the lobby manager leaves the post from 09:10 to 09:25
SCENE = Scene(
    people=[
        Person(1, Role.LOBBY_MANAGER, 0, 600, ("post",)),
        Person(1, Role.LOBBY_MANAGER, 1500, 3600, ("post",)),
    ]
)


def _absences(settings: dict[str, dict[str, object]]) -> list[tuple[float, float]]:
    params: dict[str, RuleParams] = {
        code: rule.params(enabled=False) for code, rule in registered().items()
    }
    params.update(validate_rule_settings({"LOBBY_MANAGER_ABSENT": {"grace_s": 120.0, **settings}}))
    params = {k: v for k, v in params.items() if k in settings or k == "LOBBY_MANAGER_ABSENT"}
    events = run_rules(make_timeline(SCENE), make_context(SCENE), params)
    return [(rel(e.start, SCENE), rel(e.end, SCENE)) for e in events]


def test_exempt_window_is_not_checked() -> None:
    ((start, end),) = _absences({})
    assert abs(start - 600) <= 2 and abs(end - 1500) <= 2  # observed from the moment it began
    rotation = [{"start": "09:05", "end": "09:30"}]
    assert _absences({"exempt": rotation}) == []


def test_windows_limit_the_check_to_part_of_the_day() -> None:
    assert _absences({"windows": [{"start": "10:00", "end": "12:00"}]}) == []
    ((start, end),) = _absences({"windows": [{"start": "09:00", "end": "09:20"}]})
    assert abs(start - 600) <= 2 and abs(end - 1200) <= 2  # cut where the window ends


def test_restricted_hours() -> None:
    hours = BusinessHours().restricted(
        [TimeRange(start=time(10), end=time(11)), TimeRange(start=time(15), end=time(18))],
        [TimeRange(start=time(10, 30), end=time(10, 45))],
    )
    day = date(2026, 11, 23)
    got = [(s.time(), e.time()) for s, e in hours.intervals(day, SHANGHAI)]
    assert got == [
        (time(10), time(10, 30)),
        (time(10, 45), time(11)),
        (time(15), time(17)),
    ]
    assert BusinessHours().restricted(None, []) == BusinessHours()


def test_later_layers_override_per_parameter() -> None:
    merged = merge_rule_settings(
        {"LOBBY_MANAGER_ABSENT": {"grace_s": 300.0, "merge_gap_s": 5.0}},
        {"LOBBY_MANAGER_ABSENT": {"grace_s": 600.0}},
        {"LOBBY_MANAGER_ABSENT": {"enabled": False}, "GUARD_POSTURE": {"min_duration_s": 5.0}},
    )
    assert merged == {
        "LOBBY_MANAGER_ABSENT": {"grace_s": 600.0, "merge_gap_s": 5.0, "enabled": False},
        "GUARD_POSTURE": {"min_duration_s": 5.0},
    }
