from dataclasses import fields
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from tests.vision.perception_scene import CAMERA, T0, demo_footage, make_detections
from vision.config import CameraConfig, ZoneConfig
from vision.observe import TimelineBuilder
from vision.timeline import ObservationTimeline, ZoneInfo
from vision.types import FrameDetections, Posture, Role, SampledFrame

SHAPE = (100, 200)
CAM = CameraConfig(
    id=CAMERA,
    zones=[
        ZoneConfig(id="guard", kind="guard_post", polygon=[(0.8, 0), (1, 0), (1, 1), (0.8, 1)]),
        ZoneConfig(id="hall", kind="lobby", polygon=[(0, 0), (1, 0), (1, 1), (0, 1)]),
    ],
)


def frame(i: int, camera: str = CAMERA, shape: tuple[int, int] = SHAPE) -> SampledFrame:
    return SampledFrame(camera, T0 + timedelta(seconds=2 * i), i,
                        np.full((*shape, 3), 90, np.uint8))  # fmt: skip


def dets_at(i: int, boxes: list[list[float]], class_id: list[int] | None = None
            ) -> FrameDetections:  # fmt: skip
    d = make_detections(boxes, frame_shape=SHAPE, ts=T0 + timedelta(seconds=2 * i),
                        frame_index=i)  # fmt: skip
    if class_id is None:
        return d
    return FrameDetections(d.xyxy, d.confidence, np.array(class_id, np.int32), d.track_id,
                           d.keypoints, d.frame_shape, d.camera, d.frame_index, d.ts)  # fmt: skip


def test_a_track_gets_its_settled_role_from_its_first_sample() -> None:
    """A person seen twice in the hall, then five times at the guard post: a guard, also in
    the first two samples. A held sample repeats the previous rows without inference."""
    builder = TimelineBuilder("b1", CAM, SHAPE)
    xs = [60, 100, 170, 172, 174, 176, 178]
    for i, x in enumerate(xs):
        builder.add(frame(i), dets_at(i, [[x - 10, 40, x + 10, 90]]), 0.05)
    builder.add(frame(len(xs)), None, 0.001)
    tl = builder.build(np.array([[T0.timestamp(), T0.timestamp() + 16]]))
    assert tl.num_samples == 8
    assert tl.inferred.tolist() == [True] * 7 + [False]
    np.testing.assert_allclose(tl.motion, [0.05] * 7 + [0.001], rtol=1e-6)
    assert tl.sample.tolist() == list(range(8))
    assert len(set(tl.track_id.tolist())) == 1
    assert [Role(r) for r in tl.role] == [Role.GUARD] * 8
    assert tl.in_zone[:, 0].tolist() == [False, False] + [True] * 6
    np.testing.assert_array_equal(tl.xyxy[-1], tl.xyxy[-2])  # held: repeated row
    assert (tl.posture == -1).all()  # no keypoints: every posture unknown
    assert tl.zones == (ZoneInfo("guard", "guard_post"), ZoneInfo("hall", "lobby"))


def test_held_sample_before_any_inference_has_no_people() -> None:
    builder = TimelineBuilder("b1", CAM, SHAPE)
    builder.add(frame(0), None, 0.0)
    builder.add(frame(1), dets_at(1, [[10, 10, 30, 60], [50, 10, 70, 60]]), 0.2)
    tl = builder.build(np.zeros((0, 2)))
    assert tl.sample.tolist() == [1, 1]
    assert tl.inferred.tolist() == [False, True]


def test_objects_other_than_people_are_not_rows() -> None:
    builder = TimelineBuilder("b1", CAM, SHAPE)
    builder.add(frame(0), dets_at(0, [[10, 10, 30, 60], [50, 10, 70, 60]], [0, 41]), 0.2)
    assert len(builder.build(np.zeros((0, 2))).sample) == 1


def test_empty_builder_gives_an_empty_timeline() -> None:
    tl = TimelineBuilder("b1", CAM, SHAPE).build(np.zeros((0, 2)))
    assert tl.num_samples == 0 and len(tl.sample) == 0 and tl.in_zone.shape == (0, 2)


@pytest.mark.parametrize(
    ("bad_frame", "bad_dets", "match"),
    [
        (frame(1, camera="vault"), None, "'vault'"),
        (frame(0), None, "not after"),
        (frame(1, shape=(50, 100)), None, r"\(50, 100\)"),
        (frame(1), make_detections([[1, 1, 5, 5]], frame_shape=(50, 100),
                                   ts=T0 + timedelta(seconds=2)), r"\(50, 100\)"),
    ],
)  # fmt: skip
def test_bad_input(bad_frame: SampledFrame, bad_dets: FrameDetections | None, match: str) -> None:
    builder = TimelineBuilder("b1", CAM, SHAPE)
    builder.add(frame(0), dets_at(0, []), 0.0)
    with pytest.raises(ValueError, match=match):
        builder.add(bad_frame, bad_dets, 0.0)


def test_generated_lobby_round_trips_through_npz(tmp_path: Path) -> None:
    """The synth demo lobby through the real pose model, with every third sample held by the
    motion gate, saved and loaded back unchanged."""
    footage = demo_footage("lobby")
    builder = TimelineBuilder("b1", footage.camera, footage.frames[0].image.shape[:2])
    for i, (f, d) in enumerate(zip(footage.frames, footage.detections, strict=True)):
        builder.add(f, None if i % 3 == 2 else d, 0.0 if i % 3 == 2 else 0.1)
    start = footage.frames[0].ts.timestamp()
    tl = builder.build(np.array([[start, start + 80.0]]))
    path = tmp_path / "run" / "lobby.npz"
    tl.save(path)
    back = ObservationTimeline.load(path)
    for field in fields(ObservationTimeline):
        a, b = getattr(tl, field.name), getattr(back, field.name)
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b, err_msg=field.name)
            assert a.dtype == b.dtype, field.name
        elif field.name != "objects":
            assert a == b, field.name
    # What rules will read: the scripted roles, people per zone, held samples, boxes.
    assert {Role(r) for r in tl.role} == {Role.GUARD, Role.LOBBY_MANAGER, Role.CUSTOMER}
    guards = tl.count_per_sample(tl.people_in("guard_post", role=Role.GUARD))
    assert (guards == 1).mean() >= 0.9  # the guard never leaves the post
    managers = tl.count_per_sample(tl.people_in("lobby_manager_post", role=Role.LOBBY_MANAGER))
    assert 0.3 <= (managers == 1).mean() <= 0.9  # the manager leaves the post twice
    assert (~tl.inferred[2::3]).all() and tl.inferred[0::3].all()
    assert ((tl.xyxy >= 0) & (tl.xyxy <= 1)).all()
    assert ((tl.face_xyxy >= 0) & (tl.face_xyxy <= 1)).all()
    faces_inside = (tl.face_xyxy[:, 0] >= tl.xyxy[:, 0] - 0.02) & (
        tl.face_xyxy[:, 2] <= tl.xyxy[:, 2] + 0.02
    )
    assert faces_inside.mean() > 0.9
    assert (tl.posture[:, Posture.SEATED] != 1).mean() >= 0.9  # everyone stands
    assert (tl.role_conf > 0.5).all()
