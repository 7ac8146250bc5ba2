"""The rule engine: enabled rules only, sorted events, no heavy imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from rules.engine import RuleParamsError, run_rules
from rules.items.presence import LobbyManagerAbsentParams
from rules.registry import registered, validate_rule_settings
from tests.rules.factories import Person, Scene, make_context, make_timeline
from vision.types import Posture, Role

SCENE = Scene(
    people=[
        Person(1, Role.LOBBY_MANAGER, 0, 600, ("post",)),
        Person(
            3, Role.GUARD, 0, 3600, ("hall",), postures=(Posture.LEANING,), posture_times=(100, 400)
        ),
    ],
    coverage=[(0, 2000), (2500, 3600)],
)


def test_runs_enabled_rules_sorted_by_start() -> None:
    """大堂经理在营业时间内必须全天候在岗; 保安坐姿不端正 — every enabled item is checked."""
    events = run_rules(make_timeline(SCENE), make_context(SCENE), validate_rule_settings({}))
    items = {e.item for e in events}
    assert {
        "LOBBY_MANAGER_ABSENT",
        "GUARD_POSTURE",
        "MISSING_FOOTAGE",
        "GUARD_NOT_PATROLLING",
    } <= items
    assert [e.start for e in events] == sorted(e.start for e in events)


def test_disabled_rules_do_not_run() -> None:
    """A bank that does not check an item switches it off in the config."""
    params = validate_rule_settings({"GUARD_POSTURE": {"enabled": False}})
    events = run_rules(make_timeline(SCENE), make_context(SCENE), params)
    assert "GUARD_POSTURE" not in {e.item for e in events}


def test_settings_are_validated_with_item_and_field() -> None:
    """Default parameters are overridable per config, and bad values are named."""
    params = validate_rule_settings({"LOBBY_MANAGER_ABSENT": {"grace_s": 60}})
    assert isinstance(params["LOBBY_MANAGER_ABSENT"], LobbyManagerAbsentParams)
    assert params["LOBBY_MANAGER_ABSENT"].grace_s == 60
    with pytest.raises(ValueError, match=r"rules\.LOBBY_MANAGER_ABSENT\.grace_s: "):
        validate_rule_settings({"LOBBY_MANAGER_ABSENT": {"grace_s": -1}})
    with pytest.raises(ValueError, match=r"rules\.COUNTER_CROWDING\.colour: "):
        validate_rule_settings({"COUNTER_CROWDING": {"colour": "red"}})


def test_wrong_parameter_model_is_an_error() -> None:
    """Parameters of one item cannot be given to another."""
    with pytest.raises(RuleParamsError, match="GUARD_POSTURE"):
        run_rules(
            make_timeline(SCENE), make_context(SCENE), {"GUARD_POSTURE": LobbyManagerAbsentParams()}
        )
    with pytest.raises(KeyError, match="NO_SUCH_ITEM"):
        run_rules(
            make_timeline(SCENE), make_context(SCENE), {"NO_SUCH_ITEM": LobbyManagerAbsentParams()}
        )


def test_all_items_of_the_issue_are_registered() -> None:
    """Every video-checkable item of inspection-items.md in scope has a rule."""
    assert set(registered()) == {
        "CLUTTER_CUSTOMER_VIEW",
        "SELF_SERVICE_LITTER",
        "LOBBY_MANAGER_ABSENT",
        "LOBBY_MANAGER_NOT_PATROLLING",
        "GUARD_POSTURE",
        "GUARD_NOT_PATROLLING",
        "STAFF_PHONE_USE",
        "STAFF_POSTURE",
        "STAFF_SLEEPING",
        "COUNTER_CROWDING",
        "WINDOW_UNATTENDED",
        "MORNING_MEETING",
        "RAISE_HAND_AFTER_CALL",
        "MISSING_FOOTAGE",
        "CAMERA_MOVED",
        "CAMERA_BLACK",
        "CAMERA_FROZEN",
        "CAMERA_OBSTRUCTED",
        "CAMERA_DEFOCUSED",
        "SCREENS_OFF",
        "UNIFORM",
        "STAFF_READING",
    }


def test_rules_never_import_vision_heavyweights() -> None:
    """Nothing in rules imports OpenCV, torch, PyAV or ultralytics (style rule 2)."""
    code = """
import sys
import rules, rules.engine, rules.scoring, rules.standard, rules.calls
from rules.registry import validate_rule_settings
from rules.engine import run_rules
from tests.rules.factories import Scene, Person, make_timeline, make_context
from vision.types import Role
scene = Scene(people=[Person(1, Role.GUARD, 0, 600, ("hall",))])
run_rules(make_timeline(scene), make_context(scene), validate_rule_settings({}))
from rules.standard import load_scheme
load_scheme("psbc")
heavy = sorted(m for m in ("cv2", "torch", "av", "ultralytics") if m in sys.modules)
assert not heavy, heavy
"""
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=root
    )
    assert done.returncode == 0, done.stderr


def test_camera_without_footage_reports_only_missing_footage() -> None:
    """非现场检查采取调阅监控的方式进行 — a camera with no footage at all: every rule copes, and the
    whole business day is reported as missing."""
    scene = Scene(coverage=[], calls=[("1", 600.0)])
    window = (SCENE.start - 9 * 3600, SCENE.start + 15 * 3600)
    events = run_rules(
        make_timeline(scene), make_context(scene, window=window), validate_rule_settings({})
    )
    assert [e.item for e in events] == ["MISSING_FOOTAGE"]
    assert events[0].duration_s == 8 * 3600
