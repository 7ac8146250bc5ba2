"""The clean-scene reference of a camera and the comparison of frames against it.

All comparison happens on a small grey image (``work_width`` pixels wide, values 0–1):

* **light compensation** — the log-ratio between reference and frame is estimated as a
  robust median on a coarse grid of cells (people, screens and regions already known to have
  changed are left out), smoothed up to full size and applied to the frame, so a slow
  lighting ramp of the day does not read as change;
* **brightness change** — the light-compensated frame differs from the reference by more
  than ``diff_threshold``;
* **structure change** — one minus the zero-mean normalised cross-correlation of the two
  images in a small window exceeds ``structure_threshold`` where either window has texture.
  This measure ignores any local gain and offset of brightness.

Reference policy (see :class:`vision.config.clutter.ClutterConfig`): a still marked clean by
the user (:class:`ReferenceStore`, ``branchwatch reference set``) wins; otherwise the
reference is the median of the first samples of the file with person boxes masked out
(:func:`median_reference`). During a file the in-memory reference follows slow light drift on
pixels that match it and takes in "ghosts" (something in the reference that was removed).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from vision.config.base import ID_PATTERN
from vision.config.clutter import ClutterConfig
from vision.types import FrameDetections

logger = logging.getLogger(__name__)

GainGrid = npt.NDArray[np.float32]
GreyImage = npt.NDArray[np.float32]
Mask = npt.NDArray[np.bool_]

_MAX_LOG_GAIN = float(np.log(4.0))
_MIN_CELL_FRACTION = 0.2
_SAFE_ID = re.compile(ID_PATTERN)


class ReferenceError(ValueError):
    """A reference still is missing, unreadable or does not fit the camera's frames."""


def work_shape(frame_shape: tuple[int, int], width: int) -> tuple[int, int]:
    """Height and width of the work image for frames of ``frame_shape``.

    Args:
        frame_shape: ``(height, width)`` of the sampled frames.
        width: Work width in pixels (never wider than the frame).

    Returns:
        ``(height, width)`` of the work image.

    Example:
        >>> work_shape((720, 1280), 320)
        (180, 320)
    """
    h, w = frame_shape
    out_w = min(width, w)
    return max(1, round(h * out_w / w)), out_w


def to_work_grey(image: npt.NDArray[np.uint8], shape: tuple[int, int]) -> GreyImage:
    """Downscaled, lightly smoothed grey version of a BGR frame, values 0–1.

    Args:
        image: BGR ``uint8`` frame.
        shape: ``(height, width)`` of the result.

    Returns:
        float32 image of ``shape``.
    """
    grey_full = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    small = cv2.resize(grey_full, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
    grey = small.astype(np.float32) * np.float32(1 / 255)
    return np.asarray(cv2.GaussianBlur(grey, (3, 3), 0), np.float32)


def person_mask(persons: FrameDetections, shape: tuple[int, int], pad: float) -> Mask:
    """Pixels of the work image covered by widened person boxes.

    Args:
        persons: Detections of the frame; rows with class 0 (person) are used.
        shape: ``(height, width)`` of the work image.
        pad: Each box is widened by this fraction of its width/height on every side.

    Returns:
        bool mask of ``shape``.

    Example:
        >>> from datetime import datetime, timezone
        >>> d = FrameDetections.empty((90, 160), "c1", 0, datetime.now(timezone.utc))
        >>> bool(person_mask(d, (45, 80), 0.1).any())
        False
    """
    h, w = shape
    mask = np.zeros(shape, bool)
    people = persons[persons.class_id == 0]
    if len(people) == 0:
        return mask
    box = people.normalized_xyxy().astype(np.float64)
    size = np.stack([box[:, 2] - box[:, 0], box[:, 3] - box[:, 1]], axis=1)
    grown = box + np.concatenate([-size, size], axis=1) * pad
    px = np.round(grown * np.array([w, h, w, h])).astype(np.int64)
    px[:, [0, 2]] = np.clip(px[:, [0, 2]], 0, w)
    px[:, [1, 3]] = np.clip(px[:, [1, 3]], 0, h)
    for x0, y0, x1, y1 in px:  # one slice per person, not per pixel
        mask[y0:y1, x0:x1] = True
    return mask


def nan_median(values: npt.NDArray[np.float32], axis: int) -> npt.NDArray[np.float32]:
    """Median along ``axis`` ignoring NaN (vectorised sort; NaN where all values are NaN).

    Example:
        >>> nan_median(np.array([[1, np.nan, 3, 2], [np.nan] * 4], np.float32), 1).tolist()
        [2.0, nan]
    """
    ordered = np.sort(values, axis=axis)  # NaN sorts last
    count = np.isfinite(ordered).sum(axis=axis, keepdims=True)
    lo = np.take_along_axis(ordered, np.maximum(count - 1, 0) // 2, axis=axis)
    hi = np.take_along_axis(ordered, count // 2 - (count == 0), axis=axis)
    mid = np.where(count > 0, (lo + hi) / 2, np.nan)
    return np.asarray(np.squeeze(mid, axis=axis), np.float32)


def light_gain(frame: GreyImage, reference: GreyImage, usable: Mask, cells: int) -> GreyImage:
    """Per-pixel gain that maps the frame's brightness onto the reference's.

    The log-ratio is reduced to its median in each cell of a ``cells``-wide grid (cells with
    too few usable pixels take the median of all cells), then resized smoothly to full size.

    Args:
        frame: Work grey image of the frame.
        reference: Work grey image of the reference.
        usable: Pixels that may be used (no people, screens or known changes).
        cells: Number of cells across the width.

    Returns:
        float32 gain of the frame's shape, within 1/4…4.
    """
    h, w = frame.shape
    side = max(1, int(np.ceil(w / cells)))
    rows, cols = int(np.ceil(h / side)), int(np.ceil(w / side))
    log_ratio = np.log(reference + 1e-2) - np.log(frame + 1e-2)
    padded = np.full((rows * side, cols * side), np.nan, np.float32)
    padded[:h, :w] = np.where(usable, log_ratio, np.nan)
    blocks = padded.reshape(rows, side, cols, side).transpose(0, 2, 1, 3).reshape(rows, cols, -1)
    count = np.isfinite(blocks).sum(axis=2)
    enough = count >= _MIN_CELL_FRACTION * side * side
    grid = np.zeros((rows, cols), np.float32)
    if enough.any():
        grid[enough] = nan_median(blocks[enough], axis=1)
        grid[~enough] = np.median(grid[enough])
    grid = np.clip(grid, -_MAX_LOG_GAIN, _MAX_LOG_GAIN)
    full = cv2.resize(grid, (cols * side, rows * side), interpolation=cv2.INTER_LINEAR)
    return np.asarray(np.exp(full[:h, :w]), np.float32)


@dataclass(frozen=True)
class Comparison:
    """A frame compared with the reference.

    Attributes:
        gain: Per-pixel light gain from the frame to the reference.
        corrected: The frame's grey image after light compensation.
        changed: Pixels that differ from the reference (not yet masked for people).
        clean: Pixels that match the reference well (safe to blend into it).
    """

    gain: GreyImage
    corrected: GreyImage
    changed: Mask
    clean: Mask


def _box(image: GreyImage, k: int) -> GreyImage:
    return np.asarray(cv2.boxFilter(image, cv2.CV_32F, (k, k)), np.float32)


def compare(
    frame: GreyImage, reference: GreyImage, gain_usable: Mask, config: ClutterConfig
) -> Comparison:
    """Compare a work grey frame with the reference (see the module docstring).

    Args:
        frame: Work grey image of the frame.
        reference: Work grey image of the reference.
        gain_usable: Pixels that may inform the light compensation.
        config: Thresholds.

    Returns:
        The comparison.
    """
    gain = light_gain(frame, reference, gain_usable, config.light_cells)
    corrected = frame * gain
    diff = np.abs(corrected - reference)
    k = config.window
    mu_a, mu_b = _box(corrected, k), _box(reference, k)
    var_a = np.maximum(_box(corrected * corrected, k) - mu_a * mu_a, 0)
    var_b = np.maximum(_box(reference * reference, k) - mu_b * mu_b, 0)
    cov = _box(corrected * reference, k) - mu_a * mu_b
    textured = np.maximum(var_a, var_b) > config.min_texture**2
    ncc = cov / np.sqrt(var_a * var_b + 1e-10)
    structure = textured & (1 - ncc > config.structure_threshold)
    # A window straddling an object's edge reads as changed: erode by half a window.
    kernel = np.ones((k, k), np.uint8)
    structure = cv2.erode(structure.astype(np.uint8), kernel).astype(bool)
    changed = structure | (diff > config.diff_threshold)
    opened = cv2.morphologyEx(changed.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    clean = (diff < config.diff_threshold / 2) & ~(
        textured & (1 - ncc > config.structure_threshold / 2)
    )
    return Comparison(gain=gain, corrected=corrected, changed=opened.astype(bool), clean=clean)


def refresh(
    reference: GreyImage, frame: GreyImage, gain: GreyImage, clean: Mask, rate: float
) -> None:
    """Let the reference follow slow change, in place.

    Pixels that match the frame (``clean``) move by ``rate`` toward it; all others (objects,
    people, screens) only follow the smooth light gain by the same rate, so the reference
    under an object stays as lit as its surroundings and matches again once it is gone.

    Args:
        reference: Work grey reference, updated in place.
        frame: Work grey frame (not light-compensated).
        gain: Light gain from frame to reference (:func:`light_gain`).
        clean: Pixels that match the reference.
        rate: Blend weight per sample.
    """
    if rate <= 0:
        return
    follow = reference / (1 + np.float32(rate) * (gain - 1))  # ≈ reference * gain**-rate
    blended = reference + np.float32(rate) * (frame - reference)
    reference[...] = np.where(clean, blended, follow)


def ring_gradient(image: GreyImage, region: Mask) -> float:
    """Mean gradient magnitude of ``image`` on the outline ring of ``region``.

    Args:
        image: Work grey image.
        region: bool mask of one region.

    Returns:
        The mean gradient magnitude (0 for an empty ring).
    """
    u8 = region.astype(np.uint8)
    kernel = np.ones((3, 3), np.uint8)
    ring = (cv2.dilate(u8, kernel) - cv2.erode(u8, kernel)).astype(bool)
    if not ring.any():
        return 0.0
    gx = cv2.Sobel(image, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(image, cv2.CV_32F, 0, 1, ksize=3)
    return float(np.hypot(gx[ring], gy[ring]).mean())


def is_ghost(frame: GreyImage, reference: GreyImage, region: Mask, ratio: float) -> bool:
    """Whether a changed region is something removed from the reference, not added.

    An added object draws its outline in the frame; a removed one leaves its outline only in
    the reference.

    Args:
        frame: Light-compensated work grey frame.
        reference: Work grey reference.
        region: bool mask of the region.
        ratio: How much stronger the reference outline must be.

    Returns:
        True for a ghost.
    """
    return ring_gradient(reference, region) > ratio * ring_gradient(frame, region)


def median_reference(greys: list[GreyImage], occluded: list[Mask]) -> tuple[GreyImage, Mask]:
    """Per-pixel median of bootstrap samples with occluded pixels left out.

    Args:
        greys: Work grey images of the first samples.
        occluded: Person masks of the same samples.

    Returns:
        The reference image and the mask of pixels seen at least once (elsewhere the
        reference is the plain median and must be learnt later).

    Raises:
        ValueError: no samples were given.
    """
    if not greys:
        raise ValueError("a median reference needs at least one sample")
    stack = np.stack(greys)
    hidden = np.stack(occluded)
    known = np.asarray(~hidden.all(axis=0), bool)
    masked = np.where(hidden, np.float32(np.nan), stack)
    image = np.where(known, nan_median(masked, axis=0), np.median(stack, axis=0))
    return image.astype(np.float32), known


@dataclass(frozen=True)
class ReferenceStill:
    """A still marked clean by the user for one camera.

    Attributes:
        image: BGR ``uint8`` image.
        marked_at: When it was marked.
        source: Where it came from (file name, free text).
    """

    image: npt.NDArray[np.uint8]
    marked_at: datetime
    source: str


class ReferenceStore:
    """User-marked clean stills on disk: ``<root>/<branch>/<camera>.png`` plus a ``.json``.

    Args:
        root: Folder of the stills (``<work>/references`` in a scan).
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def _paths(self, branch: str, camera: str) -> tuple[Path, Path]:
        for kind, value in (("branch", branch), ("camera", camera)):
            if not _SAFE_ID.match(value):
                raise ReferenceError(f"{kind} id {value!r} is not a valid id")
        base = self.root / branch / camera
        return base.with_suffix(".png"), base.with_suffix(".json")

    def still_path(self, branch: str, camera: str) -> Path | None:
        """The PNG of a camera's clean still, if one was marked."""
        png = self._paths(branch, camera)[0]
        return png if png.is_file() else None

    def save(self, branch: str, camera: str, image: npt.NDArray[np.uint8], source: str) -> Path:
        """Store ``image`` as the clean still of a camera (replacing any earlier one).

        Args:
            branch: Branch id.
            camera: Camera id.
            image: BGR ``uint8`` image of shape ``(h, w, 3)``.
            source: Where the still came from.

        Returns:
            Path of the stored PNG.

        Raises:
            ReferenceError: bad ids or an image that is not BGR ``uint8``.
        """
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ReferenceError(
                f"camera {camera!r}: a reference still must be BGR uint8 (h, w, 3), got "
                f"{image.dtype} {image.shape}"
            )
        png, meta = self._paths(branch, camera)
        png.parent.mkdir(parents=True, exist_ok=True)
        ok, encoded = cv2.imencode(".png", image)
        if not ok:
            raise ReferenceError(f"camera {camera!r}: the still could not be encoded")
        tmp = png.with_suffix(".tmp")
        tmp.write_bytes(encoded.tobytes())
        tmp.replace(png)
        marked = {
            "marked_at": datetime.now(UTC).isoformat(),
            "source": source,
            "width": int(image.shape[1]),
            "height": int(image.shape[0]),
        }
        meta.write_text(json.dumps(marked, ensure_ascii=False), encoding="utf-8")
        logger.info("stored clean reference of %s/%s from %s", branch, camera, source)
        return png

    def load(self, branch: str, camera: str) -> ReferenceStill | None:
        """The clean still of a camera, or ``None`` when none is stored.

        Raises:
            ReferenceError: a stored still exists but cannot be read.
        """
        png, meta = self._paths(branch, camera)
        if not png.exists():
            return None
        image = cv2.imread(str(png), cv2.IMREAD_COLOR)
        if image is None:
            raise ReferenceError(f"{png}: reference still of camera {camera!r} is unreadable")
        try:
            info = json.loads(meta.read_text(encoding="utf-8"))
            marked_at = datetime.fromisoformat(info["marked_at"])
            source = str(info["source"])
        except (OSError, ValueError, KeyError) as exc:
            raise ReferenceError(f"{meta}: metadata of camera {camera!r} is unreadable") from exc
        return ReferenceStill(image=np.asarray(image, np.uint8), marked_at=marked_at, source=source)


def still_to_work(
    still: npt.NDArray[np.uint8],
    frame_shape: tuple[int, int],
    shape: tuple[int, int],
    camera: str,
) -> GreyImage:
    """The work grey image of a clean still, checked against the camera's frames.

    Args:
        still: BGR still.
        frame_shape: ``(height, width)`` of the sampled frames.
        shape: Work shape.
        camera: Camera id (for the error message).

    Returns:
        Work grey image.

    Raises:
        ReferenceError: the still's aspect ratio differs from the frames' by more than 2 %.
    """
    sh, sw = still.shape[:2]
    fh, fw = frame_shape
    if abs(sh / sw - fh / fw) > 0.02 * fh / fw:
        raise ReferenceError(
            f"camera {camera!r}: reference still is {sw}x{sh} but frames are {fw}x{fh} "
            "(aspect ratios differ)"
        )
    return to_work_grey(still, shape)
