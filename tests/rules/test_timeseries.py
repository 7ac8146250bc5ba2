"""Run helpers: held samples, coverage segments, joining, cool-downs."""

from __future__ import annotations

import numpy as np
import pytest

from rules.timeseries import Runs, apply_cooldown, coverage_segments, find_runs, hold_forward


@pytest.mark.parametrize(
    ("values", "inferred", "expected"),
    [
        ([1, 0, 0, 5], [1, 0, 0, 1], [1, 1, 1, 5]),
        ([7, 0, 3], [0, 1, 0], [7, 0, 0]),  # held before any inference keeps its own value
        ([], [], []),
    ],
)
def test_hold_forward(values: list[int], inferred: list[int], expected: list[int]) -> None:
    """Held samples (motion gate) repeat the last observation: they count as looked at."""
    got = hold_forward(np.array(values, np.int64), np.array(inferred, bool))
    assert got.tolist() == expected


def test_coverage_segments_join_tiny_holes_only() -> None:
    """A one-second join between files is not a gap; a ten-minute hole is."""
    cov = np.array([[0.0, 100.0], [101.0, 200.0], [800.0, 900.0]])
    ts = np.array([-5.0, 50.0, 100.5, 150.0, 500.0, 850.0, 950.0])
    seg, end = coverage_segments(cov, ts, tolerance_s=3.0)
    assert seg.tolist() == [-1, 0, -1, 0, -1, 1, -1]
    assert end[1] == 200.0 and end[5] == 900.0 and np.isnan(end[0])


def test_find_runs_never_bridges_segments() -> None:
    """Time not looked at splits a run even when the flagged samples are close."""
    t = np.arange(10, dtype=float) * 2
    seg = np.array([0] * 5 + [1] * 5, np.int64)
    runs = find_runs(t, np.ones(10, bool), seg, np.where(seg == 0, 9.0, 99.0), interval_s=2.0)
    assert runs.start.tolist() == [0.0, 10.0]
    assert runs.end.tolist() == [9.0, 20.0]  # first capped at its segment's end


@pytest.mark.parametrize(("merge_gap", "n_runs"), [(0.0, 2), (4.0, 2), (6.0, 1)])
def test_find_runs_merge_gap(merge_gap: float, n_runs: int) -> None:
    """Interruptions up to merge_gap_s do not split a run."""
    t = np.arange(20, dtype=float) * 2
    flag = np.ones(20, bool)
    flag[8:11] = False  # a 6-second interruption (samples 8, 9, 10)
    seg = np.zeros(20, np.int64)
    runs = find_runs(t, flag, seg, np.full(20, 1e9), interval_s=2.0, merge_gap_s=merge_gap)
    assert len(runs) == n_runs


def test_find_runs_groups_and_held_stretches() -> None:
    """Groups never join; a stretch of held samples joins even when longer than the tolerance."""
    t = np.array([0.0, 2.0, 40.0, 0.0, 40.0])
    group = np.array([1, 1, 1, 2, 2], np.int64)
    seg = np.zeros(5, np.int64)
    count = np.array([1, 2, 3, 1, 2], np.int64)  # consecutive inferred samples
    runs = find_runs(t, np.ones(5, bool), seg, np.full(5, 1e9), interval_s=2.0, group=group)
    assert len(runs) == 4
    runs = find_runs(
        t, np.ones(5, bool), seg, np.full(5, 1e9), interval_s=2.0, group=group, inferred_count=count
    )
    assert runs.group.tolist() == [1, 2] and runs.end.tolist() == [42.0, 42.0]


def test_cooldown_per_group() -> None:
    """After a finding, the same person's next finding within the cool-down is dropped."""
    runs = Runs(
        start=np.array([0.0, 100.0, 500.0, 50.0]),
        end=np.array([10.0, 110.0, 510.0, 60.0]),
        first=np.zeros(4, np.int64),
        last=np.zeros(4, np.int64),
        group=np.array([1, 1, 1, 2], np.int64),
    )
    assert apply_cooldown(runs, 300.0).tolist() == [True, False, True, True]
    assert apply_cooldown(runs, 0.0).all()
