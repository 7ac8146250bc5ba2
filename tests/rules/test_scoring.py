"""Scoring: worked examples from the source documents and properties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.periods import parse_period
from rules.scoring import Scorecard, ScoredEvent, score_period
from rules.standard import Scheme, load_scheme
from rules.types import EventStatus
from tests.rules.factories import SHANGHAI, ev

PSBC = load_scheme("psbc")
XIAOWEI = load_scheme("xiaowei")
ABC = load_scheme("abc")
SEVEN = [
    "LOBBY_MANAGER_ABSENT",
    "GUARD_POSTURE",
    "GUARD_NOT_PATROLLING",
    "STAFF_PHONE_USE",
    "STAFF_POSTURE",
    "STAFF_SLEEPING",
    "WINDOW_UNATTENDED",
]


def card(cards: tuple[Scorecard, ...], branch: str) -> Scorecard:
    return next(c for c in cards if c.branch == branch)


def test_stage_two_shortfall_formula() -> None:
    """各网点未完成第一、二阶段得分计划的,考核1000元,并且每差1分考核200元。即:
    考核=1000+(目标分值-得分)x200元 — a branch at 93 points in stage 2 pays
    1000 + (95 − 93) × 200 = 1400 元."""
    records = [ev(item, f"2026-06-{10 + i:02d} 10:00") for i, item in enumerate(SEVEN)]
    cards, _ = score_period(records, PSBC, parse_period("2026-S2"), branches=["b1", "b2", "b3"])
    c = card(cards, "b1")
    assert c.score == 93
    assert c.stage is not None and c.stage.stage == "第二阶段" and c.stage.target == 95
    assert not c.stage.met and c.stage.penalty == 1400
    assert c.item_money == 7 * 200  # 每分考核标准为200元
    assert card(cards, "b2").stage.penalty == 0  # type: ignore[union-attr]


def test_stage_one_target_is_92() -> None:
    """第一阶段:20xx年1月-4月,为自查、整改阶段,全省服务检查工作得分在92分以上。"""
    records = [ev(item, "2026-03-02 10:00") for item in SEVEN[:5]]  # 95 points: above 92
    cards, _ = score_period(records, PSBC, parse_period("2026-S1"), branches=["b1"])
    assert cards[0].score == 95 and cards[0].stage.met and cards[0].stage.penalty == 0  # type: ignore[union-attr]


def test_repeat_costs_500_per_point() -> None:
    """每分考核标准为200元,初犯的必须参加晚间的演练;同样问题再犯的每分考核500元。"""
    records = [
        ev("STAFF_PHONE_USE", "2026-05-06 10:00"),
        ev("STAFF_PHONE_USE", "2026-05-06 15:00"),  # same day: still the first offence
        ev("STAFF_PHONE_USE", "2026-05-20 10:00"),  # again later: 再犯
    ]
    cards, _ = score_period(records, PSBC, parse_period("2026-05"), branches=["b1"])
    (d,) = cards[0].deductions
    assert (d.occurrences, d.repeats, d.points, d.money) == (3, 1, 3, 200 + 200 + 500)
    assert set(d.event_keys) == {r.key for r in records}


def test_repeat_looks_back_within_the_stage() -> None:
    """同样问题再犯 — an earlier finding in the same stage (before this month) makes a repeat;
    one in the previous stage does not."""
    earlier = ev("STAFF_PHONE_USE", "2026-05-06 10:00")
    april = ev("STAFF_PHONE_USE", "2026-04-28 10:00")
    june = ev("STAFF_PHONE_USE", "2026-06-03 10:00")
    cards, _ = score_period([earlier, june], PSBC, parse_period("2026-06"), branches=["b1"])
    assert cards[0].deductions[0].money == 500
    cards, _ = score_period([april, june], PSBC, parse_period("2026-06"), branches=["b1"])
    assert cards[0].deductions[0].money == 200


def test_focus_list_doubles() -> None:
    """相同问题重复发生或上级行重点整治项目扣分的加倍考核。"""
    records = [ev("GUARD_POSTURE", "2026-05-06 10:00"), ev("GUARD_POSTURE", "2026-05-08 10:00")]
    period = parse_period("2026-05")
    plain, _ = score_period(records, PSBC, period, branches=["b1"])
    focused, _ = score_period(records, PSBC, period, branches=["b1"], focus=["GUARD_POSTURE"])
    assert plain[0].item_money == 200 + 500
    assert focused[0].item_money == 2 * (200 + 500)
    assert focused[0].deductions[0].focus and focused[0].score == plain[0].score


def test_fines_per_occurrence() -> None:
    """使用叫号机的网点叫号后应举手示意…未举手示意的扣100元/次。柜员发现有其他非正在办理业务的客户围拢在
    柜台前…未做到的扣100元/次。"""
    records = [ev("RAISE_HAND_AFTER_CALL", f"2026-05-06 1{i}:00") for i in range(3)]
    records.append(ev("COUNTER_CROWDING", "2026-05-07 10:00"))
    cards, _ = score_period(records, PSBC, parse_period("2026-05"), branches=["b1"])
    assert cards[0].score == 100 and cards[0].item_money == 400


def test_third_stage_bands() -> None:
    """第三阶段:各网点在全省服务检查得分列全省倒数后100名且得分98分以下(不含98分),考核支行2000元…
    考核=1000(倒数后100名的为2000)+(98-得分)x200元。各网点在全区服务检查得分列全区后两名的,分别考核
    网点500、300元,并且每差1分考核200元。"""
    records = [ev(i, "2026-10-08 10:00", "b1") for i in SEVEN[:4]]  # 96
    records += [ev(i, "2026-10-09 10:00", "b2") for i in SEVEN[:3]]  # 97
    cards, ranking = score_period(
        records, PSBC, parse_period("2026-S3"), branches=["b1", "b2", "b3"]
    )
    assert [(e.branch, e.score, e.rank) for e in ranking.entries] == [
        ("b3", 100, 1),
        ("b2", 97, 2),
        ("b1", 96, 3),
    ]
    b1 = {b.name: b.amount for b in card(cards, "b1").bands}
    assert b1["全省倒数后100名且低于98分"] == 2000 + 2 * 200
    assert b1["全区后两名(末名)"] == 500 + 2 * 200
    b2 = {b.name: b.amount for b in card(cards, "b2").bands}
    assert b2["全区后两名(倒数第二名)"] == 300 + 1 * 200
    b3 = {b.name: b.amount for b in card(cards, "b3").bands}
    assert b3 == {"达到阶段目标且列全区前2名": 500}  # 达到阶段得分要求且列全区前2名的,分别奖励500元
    assert card(cards, "b1").stage.penalty == 0  # type: ignore[union-attr]  # third stage: bands only
    assert card(cards, "b1").penalty_total == 4 * 200 + 2400 + 900


def test_year_without_findings_is_rewarded() -> None:
    """网点全年没有考核工单的分别奖500元。"""
    cards, _ = score_period(
        [ev("GUARD_POSTURE", "2026-03-01 10:00", "b2")],
        PSBC,
        parse_period("2026"),
        branches=["b1", "b2"],
    )
    assert card(cards, "b1").reward_total == 500
    assert card(cards, "b2").reward_total == 0


def test_stage_exemption_for_top_ranks() -> None:
    """各网点在全省得分前200名的不考核 (applies when more than 200 branches are ranked)."""
    exempt_top = PSBC.model_copy(update={"stage_exempt_top": 1})
    records = [ev(i, "2026-06-01 10:00", "b1") for i in SEVEN[:6]]  # 94
    records += [ev(i, "2026-06-01 10:00", "b2") for i in SEVEN]  # 93
    cards, _ = score_period(records, exempt_top, parse_period("2026-S2"), branches=["b1", "b2"])
    assert card(cards, "b1").stage.exempt and card(cards, "b1").stage.penalty == 0  # type: ignore[union-attr]
    assert card(cards, "b2").stage.penalty == 1400  # type: ignore[union-attr]
    cards, _ = score_period(records, PSBC, parse_period("2026-S2"), branches=["b1", "b2"])
    assert card(cards, "b1").stage.penalty == 1200  # type: ignore[union-attr]  # pool of 2 < 200


def test_xiaowei_line_caps() -> None:
    """员工服务形象分为员工着装、员工站姿和坐姿以及行为纪律三项,每项分值分别为3分、3分、2分 — a line
    loses at most its 分值."""
    records = [ev("STAFF_PHONE_USE", f"2026-11-0{d} 10:00") for d in (2, 3, 4)]
    records.append(ev("STAFF_SLEEPING", "2026-11-05 10:00"))
    records.append(ev("STAFF_POSTURE", "2026-11-05 11:00"))
    cards, _ = score_period(records, XIAOWEI, parse_period("2026-11"), branches=["b1"])
    points = {d.item: d.points for d in cards[0].deductions}
    assert points == {"STAFF_PHONE_USE": 2, "STAFF_SLEEPING": 0, "STAFF_POSTURE": 3}
    assert cards[0].score == 95


def test_xiaowei_quarterly_reward() -> None:
    """每个季度末将对积分最高的员工进行奖励,暂定为三百元。"""
    records = [ev("STAFF_POSTURE", "2026-11-05 11:00", "b2")]
    cards, _ = score_period(records, XIAOWEI, parse_period("2026-Q4"), branches=["b1", "b2"])
    assert card(cards, "b1").reward_total == 300 and card(cards, "b2").reward_total == 0


def test_item_and_category_caps() -> None:
    """A bank may cap what one item or one category (环境/形象/纪律/礼仪/安全) costs per
    period."""
    items = dict(PSBC.items)
    items["STAFF_PHONE_USE"] = items["STAFF_PHONE_USE"].model_copy(update={"cap": 2})
    capped = PSBC.model_copy(update={"items": items, "category_caps": {"纪律": 3}})
    records = [ev("STAFF_PHONE_USE", f"2026-05-0{d} 10:00") for d in range(1, 6)]  # 纪律
    records += [
        ev("STAFF_SLEEPING", "2026-05-07 10:00"),
        ev("LOBBY_MANAGER_ABSENT", "2026-05-07 11:00"),
    ]
    records.append(ev("STAFF_POSTURE", "2026-05-07 12:00"))  # 形象: not capped
    cards, _ = score_period(records, capped, parse_period("2026-05"), branches=["b1"])
    points = {d.item: d.points for d in cards[0].deductions}
    assert points == {
        "STAFF_PHONE_USE": 2,
        "STAFF_SLEEPING": 1,
        "LOBBY_MANAGER_ABSENT": 0,
        "STAFF_POSTURE": 1,
    }
    assert cards[0].score == 96
    (phone,) = [d for d in cards[0].deductions if d.item == "STAFF_PHONE_USE"]
    assert phone.occurrences == 5 and len(phone.event_keys) == 5  # every event stays linked


@pytest.mark.parametrize(
    ("deducted", "bands"),
    [
        (5, {"前五名且90分以上(奖励)"}),
        (16, {"低于85分(扣罚绩效工资)"}),
        (21, {"低于80分(加重扣罚绩效工资)"}),
    ],
)
def test_abc_thresholds(deducted: int, bands: set[str]) -> None:
    """网点得分排名在营业部前五名且当期得分在90分(含)以上的给予奖励。…网点得分低于85分,扣罚网点绩效工资;
    得分低于80分的加重扣罚绩效工资。"""
    records = [ev("STAFF_POSTURE", f"2026-11-{1 + i % 28:02d} 10:00") for i in range(deducted)]
    cards, _ = score_period(records, ABC, parse_period("2026-11"), branches=["b1"])
    assert cards[0].score == 100 - deducted
    assert {b.name for b in cards[0].bands} == bands
    assert all(b.amount is None for b in cards[0].bands)  # the plan names no amounts


def test_only_confirmed_events_count_and_preview_is_labelled() -> None:
    """Only confirmed events count; a preview with pending events is clearly labelled."""
    records = [
        ev("GUARD_POSTURE", "2026-05-06 10:00", status=EventStatus.CONFIRMED),
        ev("STAFF_POSTURE", "2026-05-06 10:00", status=EventStatus.PENDING),
        ev("STAFF_SLEEPING", "2026-05-06 10:00", status=EventStatus.DISMISSED),
    ]
    final, _ = score_period(records, PSBC, parse_period("2026-05"))
    preview, _ = score_period(records, PSBC, parse_period("2026-05"), preview=True)
    assert final[0].score == 99 and not final[0].preview
    assert preview[0].score == 98 and preview[0].preview


# --- properties ---------------------------------------------------------------------------

PERIOD = parse_period("2026-S2")
STATUSES = st.sampled_from(list(EventStatus))


def _records(scheme: Scheme) -> st.SearchStrategy[list[ScoredEvent]]:
    one = st.builds(
        lambda item, branch, minutes, status, k: ScoredEvent(
            item,
            branch,
            datetime(2026, 4, 1, 9, tzinfo=SHANGHAI) + timedelta(minutes=minutes),
            status,
            f"p{k}",
        ),
        st.sampled_from(sorted(scheme.items)),
        st.sampled_from(["b1", "b2", "b3"]),
        st.integers(0, 150 * 24 * 60),
        STATUSES,
        st.integers(0, 10**9),
    )
    return st.lists(one, max_size=40, unique_by=lambda r: r.key)


SCHEMES = st.sampled_from([PSBC, XIAOWEI, ABC])


@settings(max_examples=60, deadline=None)
@given(data=st.data(), scheme=SCHEMES)
def test_score_within_bounds(data: st.DataObject, scheme: Scheme) -> None:
    """积分表实行百分制 — a score stays between the scheme's minimum and its base."""
    records = data.draw(_records(scheme))
    cards, _ = score_period(records, scheme, PERIOD, branches=["b1", "b2", "b3"], preview=True)
    for c in cards:
        assert scheme.min_score <= c.score <= scheme.base_score
        assert c.deducted == pytest.approx(c.base - c.score)
        assert all(d.points >= 0 and d.money >= 0 for d in c.deductions)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), scheme=SCHEMES)
def test_adding_a_confirmed_event_never_raises_the_score(
    data: st.DataObject, scheme: Scheme
) -> None:
    """A new confirmed finding can only cost points."""
    records = data.draw(_records(scheme))
    extra = data.draw(_records(scheme).filter(bool))[0]
    extra = ScoredEvent(extra.item, extra.branch, extra.start, EventStatus.CONFIRMED, "extra")
    before, _ = score_period(records, scheme, PERIOD, branches=["b1", "b2", "b3"])
    after, _ = score_period([*records, extra], scheme, PERIOD, branches=["b1", "b2", "b3"])
    for b in ("b1", "b2", "b3"):
        assert card(after, b).score <= card(before, b).score


@settings(max_examples=60, deadline=None)
@given(data=st.data(), scheme=SCHEMES)
def test_order_independent_and_idempotent(data: st.DataObject, scheme: Scheme) -> None:
    """Scoring does not depend on the order of events; re-scoring (even with the same events
    delivered twice) gives the same scorecards."""
    records = data.draw(_records(scheme))
    shuffled = data.draw(st.permutations(records))
    first = score_period(records, scheme, PERIOD, branches=["b1", "b2", "b3"])
    assert score_period(shuffled, scheme, PERIOD, branches=["b1", "b2", "b3"]) == first
    assert score_period(records + shuffled, scheme, PERIOD, branches=["b1", "b2", "b3"]) == first
    assert score_period(records, scheme, PERIOD, branches=["b1", "b2", "b3"]) == first


def test_each_branch_is_scored_in_its_own_time_zone() -> None:
    """23:30 on 30 June in Urumqi (UTC+6) is 01:30 on 1 July in Shanghai: the same instant
    belongs to June for the Urumqi branch and to July for the Shanghai one."""
    instant = datetime(2026, 6, 30, 17, 30, tzinfo=UTC)
    records = [
        ScoredEvent("GUARD_POSTURE", branch, instant, EventStatus.CONFIRMED, f"k-{branch}")
        for branch in ("east", "west")
    ]
    zones = {"east": SHANGHAI, "west": ZoneInfo("Asia/Urumqi")}
    june, _ = score_period(records, PSBC, parse_period("2026-06"), branches=zones, tz=zones)
    july, _ = score_period(records, PSBC, parse_period("2026-07"), branches=zones, tz=zones)
    assert [card(june, b).deducted > 0 for b in ("east", "west")] == [False, True]
    assert [card(july, b).deducted > 0 for b in ("east", "west")] == [True, False]
