"""Zone geometry used to derive findings from a script."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from vision.config import ZoneConfig, ZoneKind
from vision.config.zone import Anchor
from vision.synth.findings import Finding, findings_json, inside_polygon, runs, zone_anchor

SQUARE = [(0.2, 0.2), (0.6, 0.2), (0.6, 0.6), (0.2, 0.6)]
TRIANGLE = [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0)]


@pytest.mark.parametrize(
    ("polygon", "point", "inside"),
    [
        (SQUARE, (0.4, 0.4), True),
        (SQUARE, (0.1, 0.4), False),
        (SQUARE, (0.4, 0.7), False),
        (TRIANGLE, (0.2, 0.2), True),
        (TRIANGLE, (0.6, 0.6), False),
        (SQUARE, (np.nan, np.nan), False),
    ],
)
def test_inside_polygon(
    polygon: list[tuple[float, float]], point: tuple[float, float], inside: bool
) -> None:
    assert inside_polygon(np.array([point]), polygon).tolist() == [inside]


@pytest.mark.parametrize(
    ("anchor", "expected"),
    [(Anchor.FEET, (0.3, 0.8)), (Anchor.CENTER, (0.3, 0.5)), (Anchor.HEAD, (0.3, 0.2))],
)
def test_zone_anchor(anchor: Anchor, expected: tuple[float, float]) -> None:
    box = np.array([[0.2, 0.2, 0.4, 0.8]], np.float32)
    np.testing.assert_allclose(zone_anchor(box, anchor)[0], expected, atol=1e-6)


def test_runs_turn_a_mask_into_intervals() -> None:
    t = np.arange(10.0)
    mask = np.array([0, 1, 1, 0, 0, 1, 0, 1, 1, 1], bool)
    assert runs(mask, t) == [(1.0, 3.0), (5.0, 6.0), (7.0, 10.0)]
    assert runs(np.zeros(10, bool), t) == []


def test_findings_json_round_trips_the_fields() -> None:
    start = datetime(2026, 3, 2, 9, 30, tzinfo=timezone(timedelta(hours=8)))
    zone = ZoneConfig(id="z", kind=ZoneKind.LOBBY, polygon=SQUARE)
    finding = Finding(
        item="LOBBY_MANAGER_ABSENT",
        camera="lobby",
        start=start,
        end=start + timedelta(seconds=200),
        expected=True,
        zone=zone.id,
        note="大堂经理离岗",
    )
    (doc,) = json.loads(findings_json((finding,)))
    assert doc == {
        "item": "LOBBY_MANAGER_ABSENT",
        "camera": "lobby",
        "start": "2026-03-02T09:30:00+08:00",
        "end": "2026-03-02T09:33:20+08:00",
        "expected": True,
        "zone": "z",
        "window_id": None,
        "note": "大堂经理离岗",
    }
