"""The metric code against figures worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from api.eval.metrics import (
    EventScore,
    count_tally,
    flag_tally,
    match_events,
    point_owner,
    span_truth,
)


def test_events_match_one_to_one_within_tolerance() -> None:
    # labelled: A [10, 20], B [30, 40], C [50, 52]
    # predicted: a [11, 22] (A: 1 + 2 = 3), b [29, 40.5] (B: 1 + 0.5), c [31, 39] (B: 1 + 1),
    # d [60, 70] (nothing). b and c both fit B; b is closer, c is left over.
    score = match_events(
        [(11, 22), (29, 40.5), (31, 39), (60, 70)], [(10, 20), (30, 40), (50, 52)], 2.0
    )
    assert (score.tp, score.fp, score.fn) == (2, 2, 1)
    assert score.precision == pytest.approx(2 / 4)
    assert score.recall == pytest.approx(2 / 3)
    assert score.f1 == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    # errors: A start 1, end 2; B start 1, end 0.5 → (1 + 2 + 1 + 0.5) / 4
    assert score.boundary_err_s == pytest.approx(4.5 / 4)


def test_an_end_beyond_tolerance_is_no_match() -> None:
    score = match_events([(10, 23.5)], [(10, 20)], 2.0)
    assert (score.tp, score.fp, score.fn) == (0, 1, 1)
    assert score.f1 == 0.0
    assert score.boundary_err_s is None


def test_nothing_labelled_and_nothing_found_is_perfect() -> None:
    score = match_events([], [], 2.0)
    assert (score.precision, score.recall, score.f1) == (1.0, 1.0, 1.0)


def test_scores_add_up_over_items() -> None:
    total = EventScore(1, 0, 1, 1.0, 2.0) + EventScore(2, 1, 0, 0.5, 0.5)
    assert (total.tp, total.fp, total.fn) == (3, 1, 1)
    assert total.boundary_err_s == pytest.approx(4.0 / 6)


def test_counts_are_scored_only_inside_labelled_spans() -> None:
    ts = np.array([0.0, 2.0, 4.0, 6.0, 8.0])
    truth = span_truth(ts, [(0, 2, 0), (6, 8, 1)])
    assert truth.tolist() == [0, 0, -1, 1, 1]
    tally = count_tally(truth, np.array([0, 1, 5, 1, 2]))
    assert (tally.n, tally.right, tally.rate) == (4, 2, 0.5)


def test_flags_unknown_and_unfound_are_undecided() -> None:
    decided, right = flag_tally([1, 0, 1, -1, None], [True, True, False, True, True])
    assert (decided.n, decided.right) == (5, 3)
    assert (right.n, right.right) == (3, 1)


def test_a_point_belongs_to_the_nearest_box_around_it() -> None:
    boxes = np.array([[0.1, 0.1, 0.4, 0.9], [0.3, 0.2, 0.6, 0.8]], np.float32)
    assert point_owner(boxes, (0.2, 0.5)) == 0
    assert point_owner(boxes, (0.38, 0.5)) == 1  # inside both, nearer the second centre
    assert point_owner(boxes, (0.9, 0.5)) is None
    assert point_owner(np.zeros((0, 4), np.float32), (0.5, 0.5)) is None
