"""The generated lobby's first frame and a configuration of it, for the calibration tests."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import numpy.typing as npt
import yaml

from api.demo import demo_config
from tests.vision.perception_scene import DEMO_S, DEMO_SHAPE, demo_footage
from vision.types import Role


@dataclass(frozen=True)
class LobbyCalibration:
    """Attributes:
    config: A site configuration (branch ``demo``, camera ``lobby``) starting with a comment.
    image: The lobby's first frame (BGR).
    still: That frame as a PNG file.
    manager_point: A pixel on the lobby manager's torso (from the scene's script).
    empty_point: A pixel with nobody around it.
    people: How many scripted people the frame shows.
    """

    config: Path
    image: npt.NDArray[np.uint8]
    still: Path
    manager_point: tuple[float, float]
    empty_point: tuple[float, float]
    people: int


COMMENT = "# demo branch for calibration tests: this line must survive"


def lobby_calibration(folder: Path) -> LobbyCalibration:
    """Write the configuration and the still under ``folder``."""
    footage = demo_footage("lobby")
    manager = next(i for i, r in footage.truth_role.items() if r is Role.LOBBY_MANAGER)
    box = footage.truth_xyxy[0][list(footage.truth_id[0]).index(manager)]
    point = (float(box[0] + box[2]) / 2, float(box[1] * 0.6 + box[3] * 0.4))
    image = footage.frames[0].image
    # Nobody near the top left corner of the lobby's first frame.
    everyone = np.concatenate([footage.truth_xyxy[0], footage.detections[0].xyxy])
    empty = (4.0, 4.0)
    assert not ((everyone[:, 0] <= 8) & (everyone[:, 1] <= 8)).any()
    config = folder / "site.yaml"
    text = yaml.safe_dump(demo_config(DEMO_S, [footage.camera]), allow_unicode=True)
    config.write_text(f"{COMMENT}\n{text}", encoding="utf-8")
    still = folder / "lobby.png"
    cv2.imwrite(str(still), image)
    return LobbyCalibration(config, image, still, point, empty, len(footage.truth_xyxy[0]))


def lobby_clip(folder: Path, at_s: int) -> tuple[Path, tuple[float, float]]:
    """An H.264 export (1 fps, a keyframe every 2 frames) of the generated lobby's first
    samples, and a pixel on the lobby manager's torso in the frame at ``at_s`` seconds."""
    footage = demo_footage("lobby")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "ch01_20261123093000_20261123093008.mp4"
    h, w = DEMO_SHAPE
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(1))
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.codec_context.gop_size = 2
        for frame in footage.frames[: at_s + 3]:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame.image, "bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    manager = next(i for i, r in footage.truth_role.items() if r is Role.LOBBY_MANAGER)
    box = footage.truth_xyxy[at_s][list(footage.truth_id[at_s]).index(manager)]
    return path, (float(box[0] + box[2]) / 2, float(box[1] * 0.6 + box[3] * 0.4))
