"""``branchwatch reference set/show`` against the example configuration."""

from __future__ import annotations

from fractions import Fraction
from importlib import resources
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from api.cli.reference import reference_app
from vision.reference import ReferenceStore

runner = CliRunner()


@pytest.fixture()
def config(tmp_path: Path) -> Path:
    path = tmp_path / "branchwatch.yaml"
    text = resources.files("api.config").joinpath("example.yaml").read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    return path


def _still(tmp_path: Path) -> tuple[Path, np.ndarray]:
    image = np.zeros((90, 160, 3), np.uint8)
    image[30:60, 40:120] = (20, 120, 220)
    path = tmp_path / "clean.png"
    cv2.imwrite(str(path), image)
    return path, image


def test_set_then_show(tmp_path: Path, config: Path) -> None:
    still, image = _still(tmp_path)
    work = tmp_path / "work"
    result = runner.invoke(
        reference_app,
        ["set", str(still), "-c", str(config), "--camera", "lobby", "--work", str(work)],
    )
    assert result.exit_code == 0, result.output
    stored = ReferenceStore(work / "references").load("chengdong", "lobby")
    assert stored is not None and stored.source == "clean.png"
    np.testing.assert_array_equal(stored.image, image)
    out = tmp_path / "previews"
    shown = runner.invoke(
        reference_app, ["show", "-c", str(config), "--work", str(work), "--out", str(out)]
    )
    assert shown.exit_code == 0, shown.output
    assert "clean still" in shown.output and "160x90" in shown.output
    assert (out / "chengdong_lobby.jpg").is_file()


def test_set_from_video(tmp_path: Path, config: Path) -> None:
    video = tmp_path / "ch01.mp4"
    with av.open(str(video), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(5))
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(10):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 25 * i, np.uint8), "rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    work = tmp_path / "work"
    result = runner.invoke(
        reference_app,
        [
            "set",
            str(video),
            "-c",
            str(config),
            "--camera",
            "lobby",
            "--at",
            "1.0",
            "--work",
            str(work),
        ],
    )
    assert result.exit_code == 0, result.output
    stored = ReferenceStore(work / "references").load("chengdong", "lobby")
    assert stored is not None and stored.source == "ch01.mp4@1s"
    assert abs(float(stored.image.mean()) - 125) < 6  # frame 5 at 1.0 s
    late = runner.invoke(
        reference_app,
        [
            "set",
            str(video),
            "-c",
            str(config),
            "--camera",
            "lobby",
            "--at",
            "99",
            "--work",
            str(work),
        ],
    )
    assert late.exit_code == 2
    assert "ends before 99" in " ".join(late.output.split())


@pytest.mark.parametrize(
    "args, message",
    [
        (["--camera", "nope"], "no camera 'nope'"),
        (["--camera", "lobby", "--branch", "nope"], "unknown branch 'nope'"),
        (["--camera", "lobby", "--at", "1"], "cannot decode"),
    ],
)
def test_set_names_the_problem(tmp_path: Path, config: Path, args: list[str], message: str) -> None:
    still, _ = _still(tmp_path)
    if "--at" in args:
        still = tmp_path / "not_a_video.mp4"
        still.write_bytes(b"\x00" * 64)
    result = runner.invoke(
        reference_app, ["set", str(still), "-c", str(config), "--work", str(tmp_path / "w"), *args]
    )
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_set_rejects_a_file_that_is_no_image(tmp_path: Path, config: Path) -> None:
    bad = tmp_path / "x.png"
    bad.write_text("hello")
    result = runner.invoke(
        reference_app,
        ["set", str(bad), "-c", str(config), "--camera", "lobby", "--work", str(tmp_path / "w")],
    )
    assert result.exit_code == 2
    assert "not a readable image" in " ".join(result.output.split())
