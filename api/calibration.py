"""Uniform calibration: the torso colours of a staff member a user points at on a camera's
frame, stored in the site configuration as a uniform signature (``CameraConfig.uniforms``).

:class:`CalibrationSession` holds one frame and the people the pose model finds in it; each
:meth:`CalibrationSession.save` turns a click into a signature
(:func:`vision.roles.signature_from_click`) and appends it to the camera in the YAML file with
:func:`add_uniform`, which keeps the file's comments and layout and never writes a file that
would not load.
"""

from __future__ import annotations

import io
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
import numpy.typing as npt
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from api.config import ConfigError, SiteConfig, parse_config
from api.config.site import BranchConfig
from vision.config import CameraConfig
from vision.config.camera import UniformSignature
from vision.detector import PoseDetector
from vision.roles import signature_from_click
from vision.types import FrameDetections, Role, SampledFrame

logger = logging.getLogger(__name__)

StaffRole = Literal["teller", "lobby_manager", "guard"]
"""Roles a uniform signature can be stored for, as the configuration names them."""
STAFF_ROLES: tuple[StaffRole, ...] = get_args(StaffRole)

HIST_DECIMALS = 6
"""Decimals kept of each histogram bin in the YAML file."""


class CalibrationError(ValueError):
    """The signature cannot be stored; the message names the file and what is wrong."""


def _find(items: Any, key: str, what: str, where: str) -> Any:
    for item in items or ():
        if isinstance(item, dict) and str(item.get("id")) == key:
            return item
    raise CalibrationError(f"{where}: no {what} with id {key!r}")


def add_uniform(
    config_path: Path, branch_id: str, camera_id: str, signature: UniformSignature
) -> int:
    """Append a uniform signature to a camera of the YAML configuration file.

    Comments, key order and quoting of the file are kept (round-trip YAML). The new text is
    validated as a whole configuration before it replaces the file, atomically.

    Args:
        config_path: The site configuration file.
        branch_id: Branch of the camera.
        camera_id: Camera the signature was taken on.
        signature: The signature to store.

    Returns:
        How many signatures the camera has now.

    Raises:
        CalibrationError: the file cannot be read or parsed, has no such branch or camera,
            or would not load with the signature added.
    """
    yaml = YAML()
    yaml.preserve_quotes = True  # "09:00" stays quoted for readers that take it as a number
    yaml.width = 4096  # a histogram stays on one line
    try:
        doc = yaml.load(config_path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CalibrationError(f"{config_path}: cannot read ({exc.strerror})") from exc
    except Exception as exc:  # ruamel's parser and scanner errors share no public base
        raise CalibrationError(f"{config_path}: not valid YAML ({exc})") from exc
    if not isinstance(doc, dict):
        raise CalibrationError(f"{config_path}: not a configuration mapping")
    branch = _find(doc.get("branches"), branch_id, "branch", str(config_path))
    camera = _find(branch.get("cameras"), camera_id, "camera", f"{config_path}: {branch_id}")
    hist = CommentedSeq(round(float(v), HIST_DECIMALS) for v in signature.hist)
    hist.fa.set_flow_style()
    entry = CommentedMap([("role", signature.role), ("hist", hist)])
    if camera.get("uniforms") is None:
        camera["uniforms"] = CommentedSeq()
    camera["uniforms"].append(entry)
    out = io.StringIO()
    yaml.dump(doc, out)
    text = out.getvalue()
    try:
        parse_config(text, str(config_path))
    except ConfigError as exc:
        raise CalibrationError(f"the signature was not stored: {exc}") from exc
    tmp = config_path.with_name(f".{config_path.name}.calibrate")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, config_path)
    count = len(camera["uniforms"])
    logger.info("%s: %s/%s has %d uniform signatures", config_path, branch_id, camera_id, count)
    return count


@dataclass(frozen=True)
class CalibrationSession:
    """One frame of a camera, the people found in it, and where signatures are stored.

    Attributes:
        config_path: The site configuration file signatures are added to.
        branch: The camera's branch.
        camera: The camera.
        image: The frame (BGR ``uint8``) shown to the user.
        people: The pose model's people on that frame.
    """

    config_path: Path
    branch: BranchConfig
    camera: CameraConfig
    image: npt.NDArray[np.uint8]
    people: FrameDetections

    @classmethod
    def open(
        cls,
        config_path: Path,
        site: SiteConfig,
        branch: BranchConfig,
        camera: CameraConfig,
        image: npt.NDArray[np.uint8],
        detector: PoseDetector | None = None,
    ) -> CalibrationSession:
        """Find the people on ``image`` with the configured pose model (or ``detector``)."""
        detector = detector or PoseDetector(site.detector)
        frame = SampledFrame(camera.id, datetime.now(UTC), 0, image)
        (people,) = detector.detect([frame])
        return cls(config_path, branch, camera, image, people)

    def save(self, x: float, y: float, role: StaffRole) -> int:
        """Store the uniform of the person at pixel ``(x, y)`` as ``role``'s signature.

        Returns:
            How many signatures the camera has now.

        Raises:
            vision.roles.NoPersonAtPoint: nobody was found at that point.
            CalibrationError: the configuration file could not be updated.
        """
        signature = signature_from_click(self.image, self.people, x, y, Role[role.upper()])
        return add_uniform(self.config_path, self.branch.id, self.camera.id, signature)
