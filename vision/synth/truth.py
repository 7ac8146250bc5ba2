"""Ground truth of rendered footage: where each scripted person and object is, over time.

One JSON file per camera (``truth_<camera>.json``) holds the files written, the gaps, the
lighting gain, the screens, the props with their drawn boxes and, for every actor and every
sampled second, the tight box of the drawn person in 0–1 coordinates (``null`` when not visible).
:func:`load_truth` reads it back into arrays.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from vision.synth.frames import place_actors, place_prop
from vision.synth.script import CameraScript, in_intervals
from vision.types import Role

logger = logging.getLogger(__name__)

TRUTH_FORMAT = 1


class TruthFileError(ValueError):
    """A ground-truth file that cannot be read; the message names the file and the field."""


@dataclass(frozen=True, slots=True)
class VideoFile:
    """One written video file and the part of the script it covers."""

    path: Path
    start: datetime
    end: datetime
    first_frame: int
    frames: int


@dataclass(frozen=True, slots=True)
class PropTruth:
    """A prop as drawn: its tight box in 0–1 coordinates and when it is there."""

    id: str
    image: str
    box: tuple[float, float, float, float]
    t0: float
    t1: float


@dataclass(frozen=True)
class CameraTruth:
    """Ground truth of one camera script, as arrays.

    Attributes:
        camera: Camera id.
        channel: Camera token in file names.
        width: Frame width.
        height: Frame height.
        fps: Frame rate.
        start: Wall-clock time of ``t = 0``.
        duration_s: Script length.
        times: ``(T,)`` sampled times in seconds from ``start``.
        actor_ids: Actor ids, in script order.
        roles: ``(A,)`` ``int8`` :class:`~vision.types.Role` values.
        boxes: ``(A, T, 4)`` ``float32`` tight boxes ``x0, y0, x1, y1`` in 0–1; NaN where not
            visible.
        visible: ``(A, T)`` whether the actor is drawn inside the frame.
        gain: ``(T,)`` lighting gain.
        gaps: ``(G, 2)`` intervals without footage.
        props: Props as drawn.
        files: Video files written.
    """

    camera: str
    channel: str
    width: int
    height: int
    fps: int
    start: datetime
    duration_s: float
    times: npt.NDArray[np.float64]
    actor_ids: tuple[str, ...]
    roles: npt.NDArray[np.int8]
    boxes: npt.NDArray[np.float32]
    visible: npt.NDArray[np.bool_]
    gain: npt.NDArray[np.float64]
    gaps: npt.NDArray[np.float64]
    props: tuple[PropTruth, ...]
    files: tuple[VideoFile, ...]

    def actor(self, actor_id: str) -> int:
        """Row of an actor in :attr:`boxes`.

        Raises:
            KeyError: If the camera has no such actor.
        """
        try:
            return self.actor_ids.index(actor_id)
        except ValueError:
            raise KeyError(f"camera {self.camera!r} has no actor {actor_id!r}") from None


def truth_path(out_dir: Path, script: CameraScript) -> Path:
    """Where the truth of a camera script is written."""
    return out_dir / f"truth_{script.camera}.json"


def actor_boxes(script: CameraScript, t: npt.NDArray[np.float64]) -> npt.NDArray[np.float32]:
    """Tight boxes ``(A, T, 4)`` in 0–1 of every actor at times ``t`` (NaN where not drawn).

    The boxes come from the same placements the renderer draws.
    """
    boxes = np.full((len(script.actors), len(t), 4), np.nan, np.float32)
    scale = np.array([script.width, script.height] * 2, np.float32)
    for a, row in enumerate(place_actors(script, t)):
        for i, placed in enumerate(row):
            box = placed.box(script.width, script.height) if placed is not None else None
            if box is not None:
                boxes[a, i] = np.array(box, np.float32) / scale
    return boxes


def _num(value: float) -> float | None:
    return None if math.isinf(value) else value


def build_truth(
    script: CameraScript,
    videos: tuple[VideoFile, ...],
    step_s: float = 1.0,
) -> dict[str, Any]:
    """The JSON document of a script's ground truth.

    Args:
        script: The camera script.
        videos: Files written for it.
        step_s: Seconds between samples.

    Returns:
        A JSON-serialisable dictionary.
    """
    if step_s <= 0:
        raise ValueError(f"truth step must be positive, got {step_s}")
    times = np.arange(0.0, script.duration_s, step_s)
    boxes = actor_boxes(script, times)
    scale = np.array([script.width, script.height] * 2, np.float64)
    props = []
    for prop in script.props:
        box = place_prop(script, prop).box(script.width, script.height)
        props.append(
            {
                "id": prop.id,
                "image": prop.image,
                "t0": prop.t0,
                "t1": _num(prop.t1),
                "box": None if box is None else [round(v, 5) for v in np.array(box) / scale],
            }
        )
    return {
        "format": TRUTH_FORMAT,
        "camera": script.camera,
        "channel": script.token,
        "width": script.width,
        "height": script.height,
        "fps": script.fps,
        "start": script.start.isoformat(),
        "duration_s": script.duration_s,
        "seed": script.seed,
        "step_s": step_s,
        "gaps": [list(g) for g in script.gaps],
        "files": [
            {
                "path": v.path.name,
                "start": v.start.isoformat(),
                "end": v.end.isoformat(),
                "first_frame": v.first_frame,
                "frames": v.frames,
            }
            for v in videos
        ],
        "lighting": {
            "keys": [list(k) for k in script.lighting.keys],
            "gain": [round(float(g), 5) for g in script.lighting.gain(times)],
        },
        "screens": [
            {
                "id": s.id,
                "box": list(s.box),
                "period_s": s.period_s,
                "off": [list(o) for o in s.off],
            }
            for s in script.screens
        ],
        "props": props,
        "actors": [
            {
                "id": actor.id,
                "role": Role(actor.role).name.lower(),
                "sprite": actor.sprite,
                "upper_body": actor.upper_body,
                "uniform_bgr": None if actor.uniform_bgr is None else list(actor.uniform_bgr),
                "shown": [[t0, _num(t1)] for t0, t1 in actor.visible],
                "boxes": [
                    None if np.isnan(b[0]) else [round(float(v), 5) for v in b] for b in boxes[a]
                ],
            }
            for a, actor in enumerate(script.actors)
        ],
    }


def write_truth(
    path: Path, script: CameraScript, videos: tuple[VideoFile, ...], step_s: float = 1.0
) -> None:
    """Write the ground truth of a script as JSON (see :func:`build_truth`)."""
    path.write_text(
        json.dumps(build_truth(script, videos, step_s), separators=(",", ":")), encoding="utf-8"
    )


def _field(doc: dict[str, Any], key: str, path: Path) -> Any:
    if key not in doc:
        raise TruthFileError(f"{path}: ground truth lacks field {key!r}")
    return doc[key]


def load_truth(path: Path) -> CameraTruth:
    """Read a ground-truth file written by :func:`write_truth`.

    Args:
        path: The JSON file.

    Returns:
        The truth as arrays.

    Raises:
        TruthFileError: If the file is not valid JSON, has another format or lacks a field.
    """
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise TruthFileError(f"{path}: cannot read ground truth ({exc})") from exc
    if not isinstance(doc, dict) or doc.get("format") != TRUTH_FORMAT:
        raise TruthFileError(f"{path}: not a ground-truth file of format {TRUTH_FORMAT}")
    step = float(_field(doc, "step_s", path))
    duration = float(_field(doc, "duration_s", path))
    times = np.arange(0.0, duration, step)
    actors = _field(doc, "actors", path)
    boxes = np.full((len(actors), len(times), 4), np.nan, np.float32)
    for a, actor in enumerate(actors):
        rows = _field(actor, "boxes", path)
        if len(rows) != len(times):
            raise TruthFileError(
                f"{path}: actor {actor.get('id')!r} has {len(rows)} boxes for {len(times)} samples"
            )
        for i, box in enumerate(rows):
            if box is not None:
                boxes[a, i] = box
    directory = path.parent
    return CameraTruth(
        camera=str(_field(doc, "camera", path)),
        channel=str(_field(doc, "channel", path)),
        width=int(_field(doc, "width", path)),
        height=int(_field(doc, "height", path)),
        fps=int(_field(doc, "fps", path)),
        start=datetime.fromisoformat(_field(doc, "start", path)),
        duration_s=duration,
        times=times,
        actor_ids=tuple(str(a["id"]) for a in actors),
        roles=np.array([Role[str(a["role"]).upper()] for a in actors], np.int8),
        boxes=boxes,
        visible=~np.isnan(boxes[..., 0]),
        gain=np.array(_field(doc, "lighting", path)["gain"], np.float64),
        gaps=np.array(_field(doc, "gaps", path), np.float64).reshape(-1, 2),
        props=tuple(
            PropTruth(
                p["id"],
                p["image"],
                tuple(p["box"]),
                float(p["t0"]),
                math.inf if p["t1"] is None else float(p["t1"]),
            )
            for p in _field(doc, "props", path)
        ),
        files=tuple(
            VideoFile(
                directory / f["path"],
                datetime.fromisoformat(f["start"]),
                datetime.fromisoformat(f["end"]),
                int(f["first_frame"]),
                int(f["frames"]),
            )
            for f in _field(doc, "files", path)
        ),
    )


def covered(truth: CameraTruth) -> npt.NDArray[np.bool_]:
    """Which sampled times have footage (are not inside a gap)."""
    gaps = tuple((float(a), float(b)) for a, b in truth.gaps)
    return ~in_intervals(truth.times, gaps)
