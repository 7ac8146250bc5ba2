"""Ground truth written next to the footage and read back."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from tests.vision.synth.clips import START, short_script
from vision.synth.render import RenderedCamera
from vision.synth.script import Actor, Waypoint
from vision.synth.truth import TruthFileError, actor_boxes, covered, load_truth
from vision.types import Role


def test_truth_round_trip(clip: RenderedCamera) -> None:
    truth = load_truth(clip.truth)
    script = short_script()
    assert (truth.camera, truth.channel, truth.width, truth.height, truth.fps) == (
        "cam_test",
        "07",
        640,
        360,
        25,
    )
    assert truth.start == START
    np.testing.assert_allclose(truth.times, np.arange(12.0))
    assert truth.actor_ids == ("walker", "stander")
    np.testing.assert_array_equal(truth.roles, [Role.CUSTOMER, Role.GUARD])
    np.testing.assert_allclose(truth.boxes, actor_boxes(script, truth.times), atol=1e-5)
    assert truth.visible.all()
    np.testing.assert_array_equal(truth.gaps, [[5.0, 7.0]])
    np.testing.assert_array_equal(covered(truth), [t < 5 or t >= 7 for t in range(12)])
    assert [f.path for f in truth.files] == [v.path for v in clip.videos]
    (cup,) = truth.props
    assert cup.t0 == 2.0 and cup.t1 == np.inf
    x0, y0, x1, y1 = cup.box
    assert 0.64 <= x0 < x1 <= 0.72 and y1 == pytest.approx(0.635, abs=0.004)


def test_walker_box_moves_right_and_stander_stays(clip: RenderedCamera) -> None:
    truth = load_truth(clip.truth)
    walker = truth.boxes[truth.actor("walker")]
    stander = truth.boxes[truth.actor("stander")]
    assert np.all(np.diff((walker[:, 0] + walker[:, 2]) / 2) > 0)
    assert np.ptp(stander, axis=0).max() == 0
    with pytest.raises(KeyError, match="nobody"):
        truth.actor("nobody")


def test_actor_off_frame_or_hidden_has_no_box() -> None:
    leaver = Actor(
        id="leaver",
        role=Role.CUSTOMER,
        sprite="bus_1",
        height_frac=0.5,
        waypoints=(Waypoint(0.0, 0.5, 0.9), Waypoint(10.0, 1.6, 0.9)),
        visible=((0.0, 8.0),),
    )
    script = dataclasses.replace(short_script(), actors=(leaver,))
    boxes = actor_boxes(script, np.array([0.0, 4.5, 7.0, 9.0]))[0]
    assert not np.isnan(boxes[:2]).any()
    assert boxes[1, 2] == 1.0  # partly out of the frame: clipped at the right edge
    assert np.isnan(boxes[2:]).all()  # walked out at t = 7, hidden at t = 9


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("not json", "cannot read"),
        ('{"format": 99}', "format"),
        ('{"format": 1, "step_s": 1}', "duration_s"),
    ],
)
def test_bad_truth_files_are_named(tmp_path: Path, content: str, match: str) -> None:
    path = tmp_path / "truth_x.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(TruthFileError, match=match) as raised:
        load_truth(path)
    assert str(path) in str(raised.value)


def test_truth_with_a_box_count_mismatch_is_refused(clip: RenderedCamera, tmp_path: Path) -> None:
    doc = json.loads(clip.truth.read_text(encoding="utf-8"))
    doc["actors"][0]["boxes"] = doc["actors"][0]["boxes"][:-1]
    path = tmp_path / "truth_short.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(TruthFileError, match="walker"):
        load_truth(path)
