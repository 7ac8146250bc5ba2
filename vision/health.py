"""Camera health: measures of the picture itself, taken on the frames the scan already decodes.

For every sampled frame (no second decode) :class:`HealthMonitor` records, on a grey copy:

* **brightness and contrast** — a black or uniform picture (lens covered, channel lost);
* **change** — how much of the picture changed since the previous sample: the 99.5th
  percentile of the grey change on a :data:`CHANGE_WIDTH`-pixel-wide copy. A frozen channel
  repeats the same picture; the DVR re-encoding it only adds quantisation noise, which the
  small copy averages away, while people, screens and light in a live view stay visible;
* **sharpness** — fine detail (mean absolute Laplacian over mean gradient, a measure that does
  not change with lighting) relative to the clean reference: a defocused or fogged lens;
* **covered area** — the fraction of the reference's textured cells whose texture is gone:
  something in front of the lens;
* **registration** — ORB features of the frame matched to the camera's clean reference and a
  RANSAC homography: the shift of the view and how far the zones' vertices moved. A camera
  knocked or re-aimed shows a steady shift; the zones drawn on the reference no longer fit.

The reference is the still marked clean with ``branchwatch reference set``; without one, the
first usable frame of the file stands in (shifts are then relative to that frame, and a note
says so). Thresholds that turn measures into findings belong to the rules
(:mod:`rules.items.camera`); this module only measures.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np
import numpy.typing as npt

from vision.config import CameraConfig
from vision.motion import thumbnail
from vision.reference import ReferenceStill
from vision.timeline import CameraHealth
from vision.types import SampledFrame

logger = logging.getLogger(__name__)

WORK_WIDTH = 320
"""Width of the grey image on which sharpness, covered area and registration are measured."""
CHANGE_WIDTH = 160
"""Width of the copy on which the change between samples is measured."""
CHANGE_PERCENTILE = 99.5
REREGISTER_CHANGE = 0.004
"""A frame is registered again when its thumbnail differs from the last registered one's by
more than this mean grey change (a view that did not change did not move)."""
REREGISTER_EVERY = 15
"""…and at least every this many samples."""
CELLS = 8
"""Cells across the width for the covered-area measure (square cells)."""
MIN_CELL_TEXTURE = 0.03
"""Grey standard deviation of a reference cell that has texture worth losing."""
LOST_TEXTURE = 0.25
"""A cell has lost its texture when its deviation falls below this share of the reference's."""
USABLE_CONTRAST = 0.02
"""Frames with less grey deviation than this are uniform: not usable as a reference."""
ORB_FEATURES = 500
MATCH_RATIO = 0.75
"""Lowe's ratio test of descriptor matches."""
MIN_INLIERS = 20
"""Fewest RANSAC inliers for a registration to count (fewer: the shift is unknown)."""
RANSAC_PX = 3.0
GRID_POINTS = 5
"""Points per side of the grid whose displacement measures the shift."""

Grey = npt.NDArray[np.float32]
Points = npt.NDArray[np.float32]


def detail(grey: Grey) -> float:
    """Fine detail of a grey image: mean |Laplacian| over mean gradient magnitude.

    Lighting scales both alike, so the ratio follows focus, not brightness.
    """
    lap = cv2.Laplacian(grey, cv2.CV_32F, ksize=1)
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    grad = float(np.mean(np.hypot(gx, gy)))
    return float(np.mean(np.abs(lap))) / grad if grad > 1e-4 else 0.0


def cell_deviation(grey: Grey, cells: int = CELLS) -> npt.NDArray[np.float32]:
    """Grey standard deviation of each square cell of a ``cells``-wide grid (ragged edges cut)."""
    h, w = grey.shape
    side = max(1, w // cells)
    rows, cols = h // side, w // side
    block = grey[: rows * side, : cols * side].reshape(rows, side, cols, side)
    return np.asarray(block.std(axis=(1, 3)), np.float32)


def _scaled(grey: npt.NDArray[np.uint8], width: int) -> npt.NDArray[np.uint8]:
    """The grey frame scaled to ``width`` pixels wide (never enlarged)."""
    h, w = grey.shape
    if w <= width:
        return grey
    size = (width, max(1, round(h * width / w)))
    return np.asarray(cv2.resize(grey, size, interpolation=cv2.INTER_AREA), np.uint8)


class Registration:
    """Matches frames to one reference image with ORB features and a RANSAC homography.

    Args:
        reference: Grey ``uint8`` reference at the frames' size.
        zone_points: Zone vertices in pixels of that size, ``(n, 2)``.
    """

    def __init__(self, reference: npt.NDArray[np.uint8], zone_points: Points) -> None:
        self.orb = cv2.ORB_create(  # type: ignore[attr-defined]  # missing from the stubs
            nfeatures=ORB_FEATURES, fastThreshold=10
        )
        self.matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
        self.keypoints, self.descriptors = self.orb.detectAndCompute(reference, None)
        h, w = reference.shape
        self.width = float(w)
        gx, gy = np.meshgrid(np.linspace(0.1, 0.9, GRID_POINTS), np.linspace(0.1, 0.9, GRID_POINTS))
        self.grid = np.stack([gx.ravel() * w, gy.ravel() * h], axis=1).astype(np.float32)
        self.zone_points = zone_points

    def measure(self, grey: npt.NDArray[np.uint8]) -> tuple[float, float, float]:
        """Shift (fraction of the width), largest zone-vertex shift and rotation (degrees) of
        a frame against the reference; NaN when the frame cannot be registered."""
        unknown = (float("nan"),) * 3
        if self.descriptors is None or len(self.keypoints) < MIN_INLIERS:
            return unknown
        keypoints, descriptors = self.orb.detectAndCompute(grey, None)
        if descriptors is None or len(keypoints) < MIN_INLIERS:
            return unknown
        pairs = self.matcher.knnMatch(self.descriptors, descriptors, k=2)
        good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < MATCH_RATIO * p[1].distance]
        if len(good) < MIN_INLIERS:
            return unknown
        src = np.array([self.keypoints[m.queryIdx].pt for m in good], np.float32)
        dst = np.array([keypoints[m.trainIdx].pt for m in good], np.float32)
        homography, inliers = cv2.findHomography(src, dst, cv2.RANSAC, RANSAC_PX)
        if homography is None or int(inliers.sum()) < MIN_INLIERS:
            return unknown

        def moved(points: Points) -> npt.NDArray[np.float64]:
            if len(points) == 0:
                return np.zeros(0, np.float64)
            mapped = cv2.perspectiveTransform(points.reshape(-1, 1, 2), homography).reshape(-1, 2)
            return np.asarray(np.hypot(*(mapped - points).T), np.float64) / self.width

        shift = float(np.median(moved(self.grid)))
        zone_shift = float(moved(self.zone_points).max()) if len(self.zone_points) else shift
        rotation = float(np.degrees(np.arctan2(homography[1, 0], homography[0, 0])))
        return shift, zone_shift, rotation


class HealthMonitor:
    """Collects :class:`~vision.timeline.CameraHealth` over the sampled frames of one file.

    Args:
        camera: The camera (its zones are checked against the registration).
        reference: The clean still marked for the camera, if any.
    """

    def __init__(self, camera: CameraConfig, reference: ReferenceStill | None) -> None:
        self.camera = camera
        self.still = reference
        self.notes: list[str] = []
        self._values: dict[str, list[float]] = {
            name: [] for name in CameraHealth.__dataclass_fields__
        }
        self._previous: Grey | None = None
        self._ref_detail = 0.0
        self._ref_cells: npt.NDArray[np.float32] | None = None
        self._registration: Registration | None = None
        self._held: tuple[Grey, tuple[float, float, float]] | None = None
        self._since_registered = 0

    def _set_reference(self, image: npt.NDArray[np.uint8]) -> None:
        small = _scaled(np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), np.uint8), WORK_WIDTH)
        grey = small.astype(np.float32) * np.float32(1 / 255)
        self._ref_detail = detail(grey)
        self._ref_cells = cell_deviation(grey)
        h, w = small.shape
        vertices = [(x * w, y * h) for zone in self.camera.zones for x, y in zone.polygon]
        self._registration = Registration(small, np.array(vertices, np.float32).reshape(-1, 2))

    def update(self, frame: SampledFrame) -> None:
        """Measure one sampled frame."""
        u8 = np.asarray(cv2.cvtColor(frame.image, cv2.COLOR_BGR2GRAY), np.uint8)
        full = u8.astype(np.float32) * np.float32(1 / 255)
        contrast = float(full.std())
        if self._registration is None:
            if self.still is not None:
                self._set_reference(self.still.image)
            elif contrast >= USABLE_CONTRAST:
                self._set_reference(frame.image)
                self.notes.append(
                    "no clean reference marked for this camera: view shifts are measured "
                    f"against the file's first usable frame ({frame.ts.isoformat()})"
                )
        values = self._values
        values["luma"].append(float(full.mean()))
        values["contrast"].append(contrast)
        tiny = _scaled(u8, CHANGE_WIDTH).astype(np.float32) * np.float32(1 / 255)
        previous, self._previous = self._previous, tiny
        values["change"].append(
            float(np.percentile(np.abs(tiny - previous), CHANGE_PERCENTILE))
            if previous is not None and previous.shape == tiny.shape
            else float("nan")
        )
        if self._registration is None or self._ref_cells is None:
            for name in ("sharpness", "covered", "shift", "zone_shift", "rotation"):
                values[name].append(float("nan"))
            return
        small = _scaled(u8, WORK_WIDTH)
        grey = small.astype(np.float32) * np.float32(1 / 255)
        values["sharpness"].append(detail(grey) / self._ref_detail if self._ref_detail else np.nan)
        cells = cell_deviation(grey)
        textured = self._ref_cells > MIN_CELL_TEXTURE
        lost = textured & (cells < LOST_TEXTURE * self._ref_cells)
        values["covered"].append(float(lost.sum() / max(1, int(textured.sum()))))
        shift, zone_shift, rotation = self._register(small)
        values["shift"].append(shift)
        values["zone_shift"].append(zone_shift)
        values["rotation"].append(rotation)

    def _register(self, small: npt.NDArray[np.uint8]) -> tuple[float, float, float]:
        """The registration of a work frame, held from the last one while the view is still."""
        assert self._registration is not None
        thumb = thumbnail(small)
        held = self._held
        if (
            held is not None
            and self._since_registered < REREGISTER_EVERY
            and float(np.mean(np.abs(thumb - held[0]))) <= REREGISTER_CHANGE
        ):
            self._since_registered += 1
            return held[1]
        measured = self._registration.measure(small)
        self._held, self._since_registered = (thumb, measured), 0
        return measured

    def result(self) -> CameraHealth:
        """The measures of every frame given to :meth:`update`, in order."""
        return CameraHealth(**{name: np.array(v, np.float32) for name, v in self._values.items()})
