"""Rule quality figures: precision with a Wilson interval, reasons, missed events."""

from __future__ import annotations

import pytest

from rules.quality import Decision, precision_text, reasons_text, rule_quality, wilson_interval
from rules.types import EventStatus

C, D, P = EventStatus.CONFIRMED, EventStatus.DISMISSED, EventStatus.PENDING


def test_wilson_interval_narrows_with_more_reviews() -> None:
    lo2, hi2 = wilson_interval(2, 2)
    lo200, hi200 = wilson_interval(200, 200)
    assert hi2 == pytest.approx(1.0) and hi200 == pytest.approx(1.0)
    assert lo2 < 0.4 < 0.98 < lo200
    assert wilson_interval(0, 0) == (0.0, 1.0)
    lo, hi = wilson_interval(5, 20)
    assert lo < 0.25 < hi


def test_figures_per_item_camera_and_version() -> None:
    decisions = [
        *(Decision("GUARD_POSTURE", "c1", "1", C) for _ in range(5)),
        *(Decision("GUARD_POSTURE", "c1", "1", D, "保安在巡视时弯腰") for _ in range(10)),
        *(Decision("GUARD_POSTURE", "c1", "1", D, "误报") for _ in range(5)),
        Decision("GUARD_POSTURE", "c1", "1", P),
        Decision("GUARD_POSTURE", "c1", "1", C, missed=True),
        Decision("GUARD_POSTURE", "c2", "1", C),
        Decision("GUARD_POSTURE", "c1", "2", D, ""),
    ]
    rows = rule_quality(decisions)
    assert [(r.camera, r.rule_version) for r in rows] == [("c1", "1"), ("c1", "2"), ("c2", "1")]
    main = rows[0]
    assert (main.confirmed, main.dismissed, main.pending, main.missed) == (5, 15, 1, 1)
    assert main.precision == 0.25
    assert main.recall == pytest.approx(5 / 6)
    assert precision_text(main) == "25% (11%–47%)"
    assert reasons_text(main) == "保安在巡视时弯腰 ×10; 误报 ×5"
    assert reasons_text(rows[1]) == "(未填写) ×1"
    assert precision_text(rule_quality([Decision("X", "c", "1", P)])[0]) == "—"
