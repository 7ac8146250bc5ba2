"""Storing uniform signatures in the configuration file: comments kept, the result validated,
and a click on a real person (the generated lobby, detected by the real pose model)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from api.calibration import CalibrationError, CalibrationSession, add_uniform
from api.config import load_config
from tests.api.calibration_scene import LobbyCalibration, lobby_calibration
from vision.config.camera import UniformSignature
from vision.roles import HIST_SIZE, NoPersonAtPoint, signature_from_click
from vision.types import Role

EXAMPLE = resources.files("api.config").joinpath("example.yaml").read_text(encoding="utf-8")


def _signature(role: str = "guard", value: float = 1.0 / HIST_SIZE) -> UniformSignature:
    return UniformSignature(role=role, hist=[value] * HIST_SIZE)


@pytest.fixture()
def example(tmp_path: Path) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(EXAMPLE, encoding="utf-8")
    return path


def test_signatures_are_appended_with_the_comments_kept(example: Path) -> None:
    assert add_uniform(example, "chengdong", "lobby", _signature("guard")) == 1
    assert add_uniform(example, "chengdong", "lobby", _signature("lobby_manager", 0.5)) == 2
    text = example.read_text(encoding="utf-8")
    comments = [line.strip() for line in EXAMPLE.splitlines() if line.strip().startswith("#")]
    assert comments and all(c in text for c in comments)
    camera = load_config(example).branch("chengdong").camera("lobby")
    assert [u.role for u in camera.uniforms] == ["guard", "lobby_manager"]
    np.testing.assert_allclose(camera.uniforms[0].hist, 1.0 / HIST_SIZE, atol=1e-6)
    assert camera.uniforms[1].hist == [0.5] * HIST_SIZE
    # The rest of the configuration is what it was.
    original = example.parent / "original.yaml"
    original.write_text(EXAMPLE, encoding="utf-8")
    before, after = load_config(original), load_config(example)
    assert before.model_dump(exclude={"branches"}) == after.model_dump(exclude={"branches"})
    lobby = before.branch("chengdong").camera("lobby")
    assert camera.model_copy(update={"uniforms": []}) == lobby


@pytest.mark.parametrize(
    ("branch", "camera", "message"),
    [
        ("nowhere", "lobby", "no branch with id 'nowhere'"),
        ("chengdong", "roof", "chengdong: no camera with id 'roof'"),
    ],
)
def test_unknown_branch_or_camera_is_named_and_the_file_is_untouched(
    example: Path, branch: str, camera: str, message: str
) -> None:
    with pytest.raises(CalibrationError, match=message):
        add_uniform(example, branch, camera, _signature())
    assert example.read_text(encoding="utf-8") == EXAMPLE


def test_a_file_that_would_not_load_is_not_written(example: Path) -> None:
    broken = EXAMPLE.replace("backend: onnx ", "backend: tensorrt ")
    assert broken != EXAMPLE
    example.write_text(broken, encoding="utf-8")
    with pytest.raises(CalibrationError, match="the signature was not stored: .*site.yaml"):
        add_uniform(example, "chengdong", "lobby", _signature())
    assert example.read_text(encoding="utf-8") == broken


def test_a_click_on_the_lobby_manager_stores_their_uniform(tmp_path: Path) -> None:
    """Real pixels: the pose model finds the people of the generated lobby's first frame; a
    click inside the lobby manager's box stores the signature of that person's torso."""
    scene: LobbyCalibration = lobby_calibration(tmp_path)
    site = load_config(scene.config)
    branch = site.branch("demo")
    session = CalibrationSession.open(
        scene.config, site, branch, branch.camera("lobby"), scene.image
    )
    assert len(session.people) == scene.people >= 2
    assert session.save(*scene.manager_point, "lobby_manager") == 1
    stored = load_config(scene.config).branch("demo").camera("lobby").uniforms
    expected = signature_from_click(
        scene.image, session.people, *scene.manager_point, Role.LOBBY_MANAGER
    )
    assert [u.role for u in stored] == ["lobby_manager"]
    np.testing.assert_allclose(stored[0].hist, expected.hist, atol=1e-6)
    with pytest.raises(NoPersonAtPoint, match="no person at"):
        session.save(*scene.empty_point, "guard")
