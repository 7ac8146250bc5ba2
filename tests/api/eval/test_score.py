"""One tiny labelled item scored from hand-made observations, figures checked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from api.eval.labels import parse_labels
from api.eval.runner import Failure, Seen
from api.eval.score import score_item
from vision.timeline import NUM_POSTURES
from vision.types import Posture

LABELS = """
name: tiny
sources: {s: {repo: r, commit: c, licence: CC0-1.0}}
items:
  - id: one
    kind: clip
    file: one.mp4
    source: s
    zones: [{id: post, kind: guard_post, polygon: [[0, 0], [1, 0], [1, 1]]}]
    presence: {post: [[2.0, 9.0]]}
    counts: [[0, 1, 0], [2, 8, 1]]
    people:
      - {during: [2, 6], at: [0.5, 0.5], posture: seated, phone: false}
"""


def _flags(seated: int, ear: int = 0) -> np.ndarray:
    row = np.full((1, NUM_POSTURES), 0, np.int8)
    row[0, Posture.SEATED] = seated
    row[0, Posture.WRIST_NEAR_EAR] = ear
    return row


def test_a_tiny_item_scores_as_worked_out_by_hand() -> None:
    item = parse_labels(LABELS).items[0]
    box = np.array([[0.4, 0.3, 0.6, 0.9]], np.float32)
    none = np.zeros((0, 4), np.float32)
    # samples every 2 s: nobody at 0, someone at 2..6, gone at 8 (counted 0: a miss)
    seen = Seen(
        ts=np.array([0.0, 2.0, 4.0, 6.0, 8.0]),
        end_s=10.0,
        count=np.array([0, 1, 1, 1, 0]),
        in_zone={"post": np.array([False, True, True, True, False])},
        boxes=[none, box, box, box, none],
        flags=[
            np.zeros((0, NUM_POSTURES), np.int8),
            _flags(1),
            _flags(-1),
            _flags(0, ear=1),
            np.zeros((0, NUM_POSTURES), np.int8),
        ],
        wall_s=1.5,
    )
    score = score_item(item, seen, tolerance_s=2.0, interval_s=2.0)
    # event: samples 2..6 flagged → [2, 8] against [2, 9]: matched, errors 0 and 1
    ev = score.events["post"]
    assert (ev.tp, ev.fp, ev.fn) == (1, 0, 0)
    assert ev.boundary_err_s == pytest.approx(0.5)
    # counts: spans cover 0 (0 ✓), 2, 4, 6 (1 ✓ each), 8 (1 ✗) → 4 of 5
    assert (score.count.n, score.count.right) == (5, 4)
    # the seated person at samples 2, 4, 6: found 3/3; seated decided at 2 and 6 (2/3);
    # right where decided: 1 at sample 2 ✓, 0 at sample 6 ✗ → 1 of 2
    assert (score.found.n, score.found.right) == (3, 3)
    assert (score.seated_decided.n, score.seated_decided.right) == (3, 2)
    assert (score.posture.n, score.posture.right) == (2, 1)
    # phone: labelled false; the cue fires at sample 6 only → 2 of 3 right
    assert (score.phone.n, score.phone.right) == (3, 2)


def test_a_method_without_posture_decides_nothing() -> None:
    item = parse_labels(LABELS).items[0]
    box = np.array([[0.4, 0.3, 0.6, 0.9]], np.float32)
    seen = Seen(
        ts=np.array([2.0]),
        end_s=4.0,
        count=np.array([1]),
        in_zone={"post": np.array([True])},
        boxes=[box],
        flags=None,
        wall_s=0.1,
    )
    score = score_item(item, seen, tolerance_s=2.0, interval_s=2.0)
    assert (score.found.right, score.seated_decided.right, score.posture.n) == (1, 0, 0)


def test_a_failed_item_carries_the_reason() -> None:
    item = parse_labels(LABELS).items[0]
    score = score_item(item, Failure("cannot open"), tolerance_s=2.0, interval_s=2.0)
    assert score.failed == "cannot open"
    assert score.count.n == 0
