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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args

import numpy as np
import numpy.typing as npt
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from api.config import ConfigError, SiteConfig, parse_config
from api.config.site import BranchConfig
from vision.config import CameraConfig
from vision.config.camera import UniformSignature
from vision.config.zone import ZoneConfig
from vision.detector import PoseDetector
from vision.roles import signature_from_click
from vision.types import FrameDetections, Role, SampledFrame

logger = logging.getLogger(__name__)

StaffRole = Literal["teller", "lobby_manager", "guard"]
"""Roles a uniform signature can be stored for, as the configuration names them."""
STAFF_ROLES: tuple[StaffRole, ...] = get_args(StaffRole)

T = TypeVar("T")

HIST_DECIMALS = 6
"""Decimals kept of each histogram bin in the YAML file."""


class CalibrationError(ValueError):
    """The signature cannot be stored; the message names the file and what is wrong."""


def _find(items: Any, key: str, what: str, where: str) -> Any:
    for item in items or ():
        if isinstance(item, dict) and str(item.get("id")) == key:
            return item
    raise CalibrationError(f"{where}: no {what} with id {key!r}")


def edit_camera(
    config_path: Path,
    branch_id: str,
    camera_id: str,
    edit: Callable[[CommentedMap], T],
    *,
    what: str,
) -> T:
    """Change one camera's entry of the YAML configuration file in place.

    Comments, key order and quoting of the file are kept (round-trip YAML). The new text is
    validated as a whole configuration before it replaces the file, atomically; a change that
    would not load is refused and the file is left as it was.

    Args:
        config_path: The site configuration file.
        branch_id: Branch of the camera.
        camera_id: The camera.
        edit: Changes the camera's mapping in place; what it returns is returned.
        what: What is being stored, for the error message (e.g. "the signature").

    Returns:
        What ``edit`` returned.

    Raises:
        CalibrationError: the file cannot be read or parsed, has no such branch or camera,
            or would not load after the change.
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
    result = edit(camera)
    out = io.StringIO()
    yaml.dump(doc, out)
    text = out.getvalue()
    try:
        parse_config(text, str(config_path))
    except ConfigError as exc:
        raise CalibrationError(f"{what} was not stored: {exc}") from exc
    tmp = config_path.with_name(f".{config_path.name}.calibrate")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, config_path)
    return result


def add_uniform(
    config_path: Path, branch_id: str, camera_id: str, signature: UniformSignature
) -> int:
    """Append a uniform signature to a camera of the YAML configuration file
    (:func:`edit_camera`: comments kept, validated, atomic).

    Returns:
        How many signatures the camera has now.

    Raises:
        CalibrationError: see :func:`edit_camera`.
    """

    def append(camera: CommentedMap) -> int:
        hist = CommentedSeq(round(float(v), HIST_DECIMALS) for v in signature.hist)
        hist.fa.set_flow_style()
        entry = CommentedMap([("role", signature.role), ("hist", hist)])
        if camera.get("uniforms") is None:
            camera["uniforms"] = CommentedSeq()
        camera["uniforms"].append(entry)
        return len(camera["uniforms"])

    count = edit_camera(config_path, branch_id, camera_id, append, what="the signature")
    logger.info("%s: %s/%s has %d uniform signatures", config_path, branch_id, camera_id, count)
    return count


ZONE_DECIMALS = 4
"""Decimals kept of each zone vertex coordinate in the YAML file."""


def set_zones(
    config_path: Path, branch_id: str, camera_id: str, zones: Sequence[ZoneConfig]
) -> int:
    """Replace a camera's zones in the YAML configuration file (:func:`edit_camera`: comments
    elsewhere kept, validated as a whole, atomic). Each zone is written with the fields that
    differ from their defaults and its polygon on one line.

    Returns:
        How many zones the camera has now.

    Raises:
        CalibrationError: see :func:`edit_camera` (e.g. a zone the configuration refuses).
    """

    def replace(camera: CommentedMap) -> int:
        if camera.get("zones") is None:
            camera["zones"] = CommentedSeq()
        entries: CommentedSeq = camera["zones"]
        wanted = {zone.id: zone for zone in zones}
        # Edit in place so comments attached to the zones that stay are kept.
        for i in reversed(range(len(entries))):
            if str(entries[i].get("id")) not in wanted:
                del entries[i]
        kept = {str(entry.get("id")): entry for entry in entries}
        for zone in zones:
            data = zone.model_dump(mode="json", exclude_defaults=True)
            data["polygon"] = _flow_polygon(zone)
            entry = kept.get(zone.id)
            if entry is None:
                entries.append(CommentedMap((k, data[k]) for k in ZONE_KEYS if k in data))
                continue
            for key in [k for k in entry if k not in data]:
                del entry[key]
            for key in ZONE_KEYS:
                if key in data and entry.get(key) != data[key]:
                    entry[key] = data[key]
        return len(entries)

    count = edit_camera(config_path, branch_id, camera_id, replace, what="the zones")
    logger.info("%s: %s/%s has %d zones", config_path, branch_id, camera_id, count)
    return count


ZONE_KEYS = tuple(ZoneConfig.model_fields)
"""Order of a zone's keys in the YAML file (the model's field order)."""


def _flow_polygon(zone: ZoneConfig) -> CommentedSeq:
    """A zone's polygon as one YAML line of ``[x, y]`` pairs."""
    polygon = CommentedSeq()
    for x, y in zone.polygon:
        point = CommentedSeq([round(x, ZONE_DECIMALS), round(y, ZONE_DECIMALS)])
        point.fa.set_flow_style()
        polygon.append(point)
    polygon.fa.set_flow_style()
    return polygon


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
