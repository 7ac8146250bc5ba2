"""``branchwatch calibrate --click X,Y --role ROLE`` on the generated lobby's first frame."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli.main import app
from api.config import load_config
from tests.api.calibration_scene import COMMENT, LobbyCalibration, lobby_calibration, lobby_clip

runner = CliRunner()


@pytest.fixture()
def scene(tmp_path: Path) -> LobbyCalibration:
    return lobby_calibration(tmp_path)


def _calibrate(scene: LobbyCalibration, *args: str) -> tuple[int, str]:
    result = runner.invoke(
        app, ["calibrate", str(scene.still), "-c", str(scene.config), "--camera", "lobby", *args]
    )
    return result.exit_code, result.output


def test_click_stores_the_signature_in_the_configuration(scene: LobbyCalibration) -> None:
    x, y = scene.manager_point
    code, output = _calibrate(scene, "--click", f"{x:.1f},{y:.1f}", "--role", "lobby_manager")
    assert code == 0, output
    assert f"{scene.people} people on the frame (640x360)" in output
    assert "stored a lobby_manager uniform signature; lobby has 1 now" in output
    assert scene.config.read_text(encoding="utf-8").startswith(COMMENT)
    uniforms = load_config(scene.config).branch("demo").camera("lobby").uniforms
    assert [u.role for u in uniforms] == ["lobby_manager"]


def test_click_on_a_frame_of_a_video_export(scene: LobbyCalibration, tmp_path: Path) -> None:
    video, (x, y) = lobby_clip(tmp_path / "exports", at_s=3)
    args = ["--at", "3", "--click", f"{x:.1f},{y:.1f}", "--role", "lobby_manager"]
    result = runner.invoke(
        app, ["calibrate", str(video), "-c", str(scene.config), "--camera", "lobby", *args]
    )
    assert result.exit_code == 0, result.output
    uniforms = load_config(scene.config).branch("demo").camera("lobby").uniforms
    assert [u.role for u in uniforms] == ["lobby_manager"]
    late = runner.invoke(
        app, ["calibrate", str(video), "-c", str(scene.config), "--camera", "lobby", "--at", "9"]
    )
    assert late.exit_code == 2
    assert "the video ends before 9 s" in " ".join(late.output.split())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--click", "4,4", "--role", "guard"], "no person at (4, 4)"),
        (["--click", "100,100"], "--click and --role go together"),
        (["--click", "100", "--role", "guard"], "--click must be X,Y"),
        (["--click", "1,1", "--role", "customer"], "--role must be teller, lobby_manager or guard"),
        (["--branch", "nowhere"], "unknown branch 'nowhere'"),
    ],
)
def test_bad_calibration_requests_are_refused(
    scene: LobbyCalibration, args: list[str], message: str
) -> None:
    before = scene.config.read_text(encoding="utf-8")
    code, output = _calibrate(scene, *args)
    assert code == 2
    assert message in " ".join(output.split())
    assert scene.config.read_text(encoding="utf-8") == before


def test_unknown_camera_lists_the_branch_cameras(scene: LobbyCalibration) -> None:
    result = runner.invoke(
        app, ["calibrate", str(scene.still), "-c", str(scene.config), "--camera", "roof"]
    )
    assert result.exit_code == 2
    assert "branch 'demo' has no camera 'roof' (cameras: lobby)" in result.output


def test_a_missing_source_file_is_named(scene: LobbyCalibration, tmp_path: Path) -> None:
    missing = tmp_path / "nope.mp4"
    result = runner.invoke(
        app, ["calibrate", str(missing), "-c", str(scene.config), "--camera", "lobby"]
    )
    assert result.exit_code == 2
    assert f"{missing}: no such file" in " ".join(result.output.split())
