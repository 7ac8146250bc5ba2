"""Every scored item is checked by a rule on video or listed as a manual item (人工检查项)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rules.coverage import CheckKind, manual_text, scheme_checks, video_items
from rules.periods import parse_period
from rules.registry import registered, validate_rule_settings
from rules.scoring import score_period
from rules.standard import PRESETS, load_catalog, load_scheme
from tests.rules.factories import ev

PERIOD = parse_period("2026-05")


@pytest.mark.parametrize("preset", PRESETS)
def test_every_item_of_every_preset_is_checked_on_video_or_by_hand(preset: str) -> None:
    scheme = load_scheme(preset)
    catalog = load_catalog()
    rules = registered()
    video = video_items()
    (card,), _ = score_period([], scheme, PERIOD, branches=["b1"])
    listed = {m.item for m in card.manual}
    for code, kind in scheme_checks(scheme, video).items():
        if kind is CheckKind.VIDEO:
            assert code in rules and catalog.items[code].video, code
            assert code not in listed
        else:
            assert code in listed, f"{preset}: {code} is neither checked on video nor manual"
    # a rule-made event of each manual item takes no points; a manual finding does
    for code in listed:
        made = ev(code, "2026-05-06 10:00")
        (by_rule,), _ = score_period([made], scheme, PERIOD, branches=["b1"])
        assert by_rule.score == scheme.base_score and not by_rule.deductions, code
        (by_hand,), _ = score_period([replace(made, manual=True)], scheme, PERIOD)
        assert by_hand.score < scheme.base_score, code
        assert next(m for m in by_hand.manual if m.item == code).findings == 1


def test_xiaowei_lists_what_a_branch_without_screens_or_uniforms_cannot_check() -> None:
    scheme = load_scheme("xiaowei")
    bare = video_items(capabilities=frozenset({"zone:counter_window", "zone:guard_post"}))
    (card,), _ = score_period([], scheme, PERIOD, branches=["b1"], video={"b1": bare})
    assert {m.item for m in card.manual} == {"SCREENS_OFF", "UNIFORM"}
    assert manual_text(card.manual) == (
        "多媒体显示屏未开启(1分):未录入人工检查结果,不计分;着装不规范(3分):未录入人工检查结果,不计分"
    )


def test_a_rule_switched_off_makes_its_item_manual() -> None:
    scheme = load_scheme("xiaowei")
    params = validate_rule_settings({"STAFF_PHONE_USE": {"enabled": False}})
    video = video_items(params)
    assert "STAFF_PHONE_USE" not in video and "STAFF_SLEEPING" in video
    found = ev("STAFF_PHONE_USE", "2026-05-06 10:00")
    (card,), _ = score_period([found], scheme, PERIOD, branches=["b1"], video={"b1": video})
    assert card.score == scheme.base_score
    assert "STAFF_PHONE_USE" in {m.item for m in card.manual}
    (card,), _ = score_period([found], scheme, PERIOD)
    assert card.score == scheme.base_score - scheme.items["STAFF_PHONE_USE"].points


def test_rules_that_need_what_a_branch_lacks_leave_their_item_manual() -> None:
    bare = video_items(capabilities=frozenset())
    assert "SCREENS_OFF" not in bare and "UNIFORM" not in bare and "GUARD_POSTURE" in bare
    assert "SCREENS_OFF" in video_items(capabilities={"zone:screen"})
    assert "UNIFORM" in video_items(capabilities={"uniforms"})
    scheme = load_scheme("xiaowei")
    found = replace(ev("UNIFORM", "2026-05-06 10:00"), branch="b2")
    cards, _ = score_period([found], scheme, PERIOD, branches=["b1", "b2"], video={"b2": bare})
    by_branch = {c.branch: c for c in cards}
    assert "UNIFORM" in {m.item for m in by_branch["b2"].manual}
    assert by_branch["b2"].score == scheme.base_score  # a rule cannot see it there
    assert "UNIFORM" not in {m.item for m in by_branch["b1"].manual}
