import dataclasses
from pathlib import Path

import numpy as np
import pytest

from vision.timeline import NUM_POSTURES, ObservationTimeline, ZoneInfo, empty_timeline
from vision.types import Role

ZONES = (ZoneInfo("post", "lobby_manager_post"), ZoneInfo("floor", "lobby"))


def make_timeline(
    ts: list[float],
    people: list[tuple[int, int, Role, tuple[bool, bool]]],
    coverage: list[tuple[float, float]] | None = None,
) -> ObservationTimeline:
    n = len(people)
    return ObservationTimeline(
        branch="b1",
        camera="lobby",
        zones=ZONES,
        ts=np.array(ts, np.float64),
        inferred=np.ones(len(ts), bool),
        motion=np.zeros(len(ts), np.float32),
        sample=np.array([p[0] for p in people], np.int32),
        track_id=np.array([p[1] for p in people], np.int64),
        role=np.array([int(p[2]) for p in people], np.int8),
        role_conf=np.ones(n, np.float32),
        xyxy=np.tile(np.array([0.1, 0.1, 0.2, 0.5], np.float32), (n, 1)),
        in_zone=np.array([p[3] for p in people], bool).reshape(n, len(ZONES)),
        posture=np.full((n, NUM_POSTURES), -1, np.int8),
        posture_value=np.full((n, NUM_POSTURES), np.nan, np.float32),
        face_xyxy=np.full((n, 4), np.nan, np.float32),
        coverage=np.array(coverage or [(ts[0], ts[-1] + 2)], np.float64),
    )


def test_count_per_sample_by_zone_kind_and_role() -> None:
    tl = make_timeline(
        [0, 2, 4],
        [
            (0, 1, Role.LOBBY_MANAGER, (True, True)),
            (0, 2, Role.CUSTOMER, (False, True)),
            (2, 1, Role.LOBBY_MANAGER, (False, True)),
        ],
    )
    managers = tl.people_in("lobby_manager_post", role=Role.LOBBY_MANAGER)
    np.testing.assert_array_equal(tl.count_per_sample(managers), [1, 0, 0])
    np.testing.assert_array_equal(tl.count_per_sample(tl.people_in("lobby")), [2, 0, 1])
    assert not tl.people_in("guard_post").any()


def test_covered_distinguishes_gaps() -> None:
    tl = make_timeline([0, 2, 10], [], coverage=[(0, 4), (10, 12)])
    np.testing.assert_array_equal(
        tl.covered(np.array([0.0, 3.9, 4.0, 7.0, 11.0, 12.0])),
        [True, True, False, False, True, False],
    )


def test_save_load_round_trip(tmp_path: Path) -> None:
    tl = make_timeline([0, 2], [(1, 7, Role.GUARD, (False, True))])
    tl.save(tmp_path / "t.npz")
    back = ObservationTimeline.load(tmp_path / "t.npz")
    assert back.zones == tl.zones and back.camera == "lobby"
    np.testing.assert_array_equal(back.track_id, [7])
    np.testing.assert_array_equal(back.in_zone, tl.in_zone)
    np.testing.assert_array_equal(back.coverage, tl.coverage)
    # measures not taken are NaN and keep their shapes through save, load and concat
    assert back.uniform_dist.shape == (1, 3) and np.isnan(back.uniform_dist).all()
    measured = dataclasses.replace(tl, uniform_dist=np.array([[0.1, np.nan, 0.7]], np.float32))
    measured.save(tmp_path / "m.npz")
    again = ObservationTimeline.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(again.uniform_dist, measured.uniform_dist)
    joined = ObservationTimeline.concat([again, again])
    assert joined.uniform_dist.shape == (1, 3)  # the second copy overlaps and is dropped


def test_concat_reindexes_samples_and_merges_coverage() -> None:
    a = make_timeline([0, 2], [(1, 1, Role.GUARD, (True, False))], coverage=[(0, 4)])
    b = make_timeline(
        [4, 6],
        [(0, 1, Role.GUARD, (True, False)), (1, 2, Role.CUSTOMER, (False, True))],
        coverage=[(4, 8)],
    )
    joined = ObservationTimeline.concat([b, a])
    np.testing.assert_array_equal(joined.ts, [0, 2, 4, 6])
    np.testing.assert_array_equal(joined.sample, [1, 2, 3])
    np.testing.assert_array_equal(joined.coverage, [[0, 8]])


def test_concat_drops_overlapping_samples_of_later_file() -> None:
    a = make_timeline([0, 2, 4], [(2, 1, Role.GUARD, (True, False))])
    b = make_timeline(
        [4, 6], [(0, 5, Role.GUARD, (True, False)), (1, 5, Role.GUARD, (True, False))]
    )
    joined = ObservationTimeline.concat([a, b])
    np.testing.assert_array_equal(joined.ts, [0, 2, 4, 6])
    np.testing.assert_array_equal(joined.track_id, [1, 5])
    np.testing.assert_array_equal(joined.sample, [2, 3])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ts": np.array([2.0, 0.0])}, "strictly increasing"),
        ({"inferred": np.ones(3, bool)}, "inferred"),
        ({"coverage": np.zeros(3)}, "coverage"),
    ],
)
def test_invalid_timelines_are_refused(change: dict[str, np.ndarray], message: str) -> None:
    tl = make_timeline([0, 2], [])
    kwargs = {f: getattr(tl, f) for f in tl.__dataclass_fields__}
    kwargs.update(change)
    with pytest.raises(ValueError, match=message):
        ObservationTimeline(**kwargs)


def test_empty_timeline_has_no_people() -> None:
    tl = empty_timeline("b", "c", ZONES, np.array([0.0, 2.0]), np.array([[0.0, 4.0]]))
    assert tl.count_per_sample(tl.people_in("lobby")).tolist() == [0, 0]
