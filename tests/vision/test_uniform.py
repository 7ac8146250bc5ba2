"""UNIFORM on generated footage: a teller out of uniform is reported, tellers in uniform are not.

The teller uniform is calibrated as ``branchwatch calibrate`` does it (a click on the first
frame), the footage goes through the real pose model and the production timeline builder.
"""

from __future__ import annotations

from datetime import UTC, time, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from rules.engine import run_rules
from rules.hours import BusinessHours, TimeRange
from rules.items.uniform import UniformParams
from rules.registry import RuleContext, RuleParams, registered
from rules.types import Event
from tests.vision.perception_scene import DEMO_S, INTERVAL_S, T0, Footage, demo_footage, detect
from vision.config import CameraConfig
from vision.observe import TimelineBuilder
from vision.roles import RoleAssigner, signature_from_click, torso_histogram
from vision.types import Role, box_iou
from vision.zones import CompiledZones

OPEN_ALL_DAY = BusinessHours(open=TimeRange(start=time(0), end=time(23, 59)))
MIN_DURATION_S = 20.0


def _events(footage: Footage, camera: CameraConfig) -> list[Event]:
    builder = TimelineBuilder("b1", camera, footage.frames[0].image.shape[:2])
    for frame, dets in zip(footage.frames, footage.detections, strict=True):
        builder.add(frame, dets, 0.1)
    timeline = builder.build(np.array([[T0.timestamp(), T0.timestamp() + DEMO_S]]))
    ctx = RuleContext("b1", camera.id, UTC, OPEN_ALL_DAY, INTERVAL_S)
    only: dict[str, RuleParams] = {
        code: rule.params(enabled=False) for code, rule in registered().items()
    }
    only["UNIFORM"] = UniformParams(min_duration_s=MIN_DURATION_S)
    return run_rules(timeline, ctx, only)


def _actor(footage: Footage, actor: str) -> int:
    from vision.synth.demo import demo_scenario

    script = demo_scenario(T0, DEMO_S).cameras[1].script
    return [a.id for a in script.actors].index(actor)


@pytest.fixture(scope="module")
def calibrated() -> CameraConfig:
    """The counter camera with the teller uniform clicked on teller_w1 in the first frame."""
    footage = demo_footage("counter")
    teller = _actor(footage, "teller_w1")
    box = footage.truth_xyxy[0][list(footage.truth_id[0]).index(teller)]
    x, y = float(box[0] + box[2]) / 2, float(box[1] * 0.6 + box[3] * 0.4)
    sig = signature_from_click(footage.frames[0].image, footage.detections[0], x, y, Role.TELLER)
    return footage.camera.model_copy(update={"uniforms": [sig]})


def test_teller_out_of_uniform_is_reported(calibrated: CameraConfig) -> None:
    footage = demo_footage("counter", "teller_w2")
    events = _events(footage, calibrated)
    assert len(events) == 1, [(e.roles, e.box, e.details) for e in events]
    (event,) = events
    assert event.roles == ("teller",)
    assert event.end - event.start >= timedelta(seconds=MIN_DURATION_S)
    assert event.details["distance"] > UniformParams().max_distance
    # the outlined person is teller_w2, at the evidence time
    assert event.evidence_ts is not None and event.box is not None
    i = round((event.evidence_ts - T0).total_seconds() / INTERVAL_S)
    teller = _actor(footage, "teller_w2")
    truth = footage.truth_xyxy[i][list(footage.truth_id[i]).index(teller)]
    h, w = footage.frames[0].image.shape[:2]
    found = np.array([event.box], np.float64) * np.array([w, h, w, h])
    assert box_iou(found, truth[None].astype(np.float64))[0, 0] >= 0.4


def test_tellers_in_uniform_are_not_reported(calibrated: CameraConfig) -> None:
    assert _events(demo_footage("counter"), calibrated) == []


def test_no_calibrated_uniform_reports_nothing() -> None:
    footage = demo_footage("counter", "teller_w2")
    assert _events(footage, footage.camera) == []


def test_real_photos_tell_the_calibrated_clothing_from_other_clothing() -> None:
    """Real frames (eval/stills, Intel sample videos, CC BY 4.0; see eval/SOURCES.md): the
    clothing of the woman in black calibrated as the teller uniform; the man in black matches
    it, the man and the woman in grey do not."""
    names = ["desk_woman_black", "desk_man_black", "desk_man_grey", "desk_woman_grey"]
    stills = Path(__file__).parents[2] / "eval" / "stills"
    images = [cv2.imread(str(stills / f"{name}.jpg")) for name in names]
    assert all(image is not None for image in images)
    found = detect([np.asarray(i, np.uint8) for i in images], [T0] * len(images))
    assert all(len(d) == 1 for d in found)
    box = found[0].xyxy[0]
    x, y = float(box[0] + box[2]) / 2, float(box[1] * 0.6 + box[3] * 0.4)
    sig = signature_from_click(images[0], found[0], x, y, Role.TELLER)
    camera = CameraConfig(id="desk", uniforms=[sig])
    h, w = images[0].shape[:2]
    roles = RoleAssigner(camera, CompiledZones.from_camera(camera, (h, w)))
    limit = UniformParams().max_distance
    dist = {
        name: float(roles.uniform_distances(torso_histogram(image, d.xyxy, d.keypoints))[0, 0])
        for name, image, d in zip(names, images, found, strict=True)
    }
    assert dist["desk_woman_black"] < 0.05
    assert dist["desk_man_black"] < limit
    assert dist["desk_man_grey"] > limit and dist["desk_woman_grey"] > limit
