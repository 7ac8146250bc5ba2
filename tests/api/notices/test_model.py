"""Notice content from the store: what counts, per-line charges, deadlines and roles."""

from __future__ import annotations

from contextlib import AbstractContextManager
from contextlib import nullcontext as does_not_raise
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from api.db.models import EventRecord
from api.db.session import make_engine, session_scope
from api.notices import NoticeError, NoticePolicy, PolicyError, Rectification, build_notice
from api.notices.model import NoticeContent, period_text
from api.notices.policy import DEFAULT_RECTIFICATION, load_policy
from rules.periods import parse_period
from rules.standard import load_catalog
from tests.api.notices.conftest import ISSUED
from tests.api.notices.seed import CONFIRMED_MONEY, CONFIRMED_POINTS, DAY, PREVIEW_MONEY, Seeded


def _build(url: str, **kwargs: object) -> NoticeContent:
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            return build_notice(session, "b1", DAY, issued=ISSUED, **kwargs)  # type: ignore[arg-type]
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("preview", "items", "points", "money", "pending"),
    [
        (
            False,
            ["STAFF_SLEEPING", "GUARD_POSTURE", "STAFF_SLEEPING"],
            CONFIRMED_POINTS,
            CONFIRMED_MONEY,
            0,
        ),
        (
            True,
            ["STAFF_SLEEPING", "GUARD_POSTURE", "CLUTTER_CUSTOMER_VIEW", "STAFF_SLEEPING"],
            CONFIRMED_POINTS,
            PREVIEW_MONEY,
            1,
        ),
    ],
)
def test_only_confirmed_events_count_unless_preview(
    store_url: str, preview: bool, items: list[str], points: float, money: float, pending: int
) -> None:
    content = _build(store_url, preview=preview)
    assert [line.item for line in content.lines] == items
    assert content.deducted == points and content.penalty_total == money
    assert content.pending == pending and content.preview is preview
    assert "LOBBY_MANAGER_ABSENT" not in {line.item for line in content.lines}  # dismissed


def test_lines_add_up_to_the_scorecard(store_url: str) -> None:
    content = _build(store_url, preview=True)
    assert sum(line.points for line in content.lines) == content.deducted
    assert sum(line.money for line in content.lines) == content.item_money
    assert [line.money for line in content.lines] == [200.0, 200.0, 100.0, 200.0]


def test_month_notice_spans_days(store_url: str) -> None:
    engine = make_engine(store_url)
    with session_scope(engine) as session:
        month = build_notice(session, "b1", "2026-11", issued=ISSUED)
    engine.dispose()
    assert [line.item for line in month.lines][0] == "STAFF_PHONE_USE"  # 11-13 first
    assert len(month.lines) == 4
    assert sum(line.money for line in month.lines) == month.item_money == 800.0


def test_policy_sets_deadline_and_role(store_url: str) -> None:
    policy = NoticePolicy(
        items={"STAFF_SLEEPING": Rectification(deadline_days=1, responsible="网点负责人")}
    )
    content = _build(store_url, policy=policy)
    by_item = {i.item: i for i in content.items}
    assert by_item["STAFF_SLEEPING"].responsible == "网点负责人"
    assert by_item["STAFF_SLEEPING"].deadline.isoformat() == "2026-11-24"
    assert (
        by_item["GUARD_POSTURE"].responsible == DEFAULT_RECTIFICATION["GUARD_POSTURE"].responsible
    )
    assert content.deadline.isoformat() == "2026-11-30"  # GUARD_POSTURE: 7 days


def test_stills_are_those_that_match_their_sha256(store_url: str, template_store: Seeded) -> None:
    content = _build(store_url)
    assert [line.still for line in content.stills] == [
        template_store.stills["s1"],
        template_store.stills["g1"],
        template_store.stills["s2"],
    ]


def test_unknown_branch_is_named(store_url: str) -> None:
    engine = make_engine(store_url)
    with session_scope(engine) as session, pytest.raises(NoticeError, match="'nope'.*b1"):
        build_notice(session, "nope", DAY)
    engine.dispose()


def test_defaults_cover_every_catalogue_item() -> None:
    assert set(DEFAULT_RECTIFICATION) == set(load_catalog().items)


@pytest.mark.parametrize(
    ("data", "expectation"),
    [
        (
            {"items": {"STAFF_SLEEPING": {"deadline_days": 2, "responsible": "柜员"}}},
            does_not_raise(),
        ),
        (
            {"items": {"NOT_AN_ITEM": {"deadline_days": 2, "responsible": "柜员"}}},
            pytest.raises(ValidationError, match="NOT_AN_ITEM"),
        ),
        (
            {"items": {"STAFF_SLEEPING": {"deadline_days": 0, "responsible": "柜员"}}},
            pytest.raises(ValidationError, match="deadline_days"),
        ),
        ({"colour": "red"}, pytest.raises(ValidationError, match="colour")),
    ],
)
def test_policy_validation(
    data: dict[str, object], expectation: AbstractContextManager[object]
) -> None:
    with expectation:
        NoticePolicy.model_validate(data)


def test_policy_file_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("items:\n  STAFF_SLEEPING: {deadline_days: 500, responsible: 柜员}\n", "utf-8")
    with pytest.raises(PolicyError, match=r"policy.yaml: items.STAFF_SLEEPING.deadline_days"):
        load_policy(path)


@pytest.mark.parametrize(
    ("label", "text"),
    [
        ("2026-11-20", "2026年11月20日"),
        ("2026-11", "2026年11月1日至2026年11月30日"),
        ("2026-W47", "2026年11月16日至2026年11月22日"),
    ],
)
def test_period_text(label: str, text: str) -> None:
    assert period_text(parse_period(label)) == text


def test_still_that_does_not_match_its_sha256_is_left_out(store_url: str) -> None:
    engine = make_engine(store_url)
    with session_scope(engine) as session:
        event = session.scalars(
            select(EventRecord).where(
                EventRecord.item == "GUARD_POSTURE", EventRecord.branch_id == "b1"
            )
        ).one()
        event.evidence = {**event.evidence, "still_sha256": "0" * 64}
    engine.dispose()
    content = _build(store_url)
    assert [line.still is None for line in content.lines] == [False, True, False]
    assert len(content.stills) == 2
