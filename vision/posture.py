"""Posture features from COCO keypoints: one number and one three-valued flag per posture.

Every posture in :class:`vision.types.Posture` is computed for ``n`` people at once from
``(n, 17, 3)`` keypoints. Keypoints whose visibility is below :data:`KP_VISIBLE` are treated
as missing (NaN); a flag whose inputs are missing is ``-1`` (unknown), never ``0``. Flags
combine with Kleene logic: ``or`` is true if any side is true, false only if all sides are
known and false; ``and`` is false if any part is false.

Lengths are divided by the person's scale: the torso length (shoulder midpoint to hip
midpoint), or :data:`SHOULDER_TO_TORSO` times the shoulder width when the hips are hidden
(a teller behind a counter). Image ``y`` grows downwards. Values are NaN when unknown.
Only what a single 2-D view shows is measured: leaning towards the camera, for instance,
does not change the lean angle.
"""

from __future__ import annotations

import logging

import numpy as np
import numpy.typing as npt

from vision.timeline import NUM_POSTURES
from vision.types import NUM_KEYPOINTS, Keypoint, Posture

logger = logging.getLogger(__name__)

F = npt.NDArray[np.float64]
Tri = npt.NDArray[np.int8]

KP_VISIBLE = 0.5
"""Keypoint visibility (model confidence) from which a keypoint is used."""

SHOULDER_TO_TORSO = 2.0
"""Torso length over shoulder-keypoint width of a person facing the camera (measured on the
ultralytics asset photos: 1.9–2.4); used as the scale when the hips are hidden."""

MIN_FRONTAL_WIDTH = 0.2
"""Shoulder or hip width, over the scale, below which a person is seen side-on and left/right
comparisons (crossed arms, crossed legs) are unknown."""

SEATED_MAX_THIGH_DROP = 0.45
"""SEATED: value is the drop from hip to knee along the body's axis (shoulders to hips, or
the image's vertical when the shoulders are hidden) over the scale, mean of the visible
sides. Standing people measure about 0.7, also when the whole body is tilted; a thigh that
is horizontal (side view) or points at the camera (front view) drops much less. Seated when
the drop is below this."""

SEATED_HIDDEN_LEGS_MAX_BELOW_HIP = 0.35
"""SEATED from the upper body, where the thigh rule is unknown because both knees are hidden:
the distance from the hips down to the box's bottom, over the scale. A box that ends this close
under visible hips, without reaching the bottom edge of the frame, shows a person whose legs
are hidden by something at hip height in front of them (a desk, a counter): seated. Measured on
the classroom of the evaluation set (``eval/``): 0.1–0.2 for the four seated people. Someone
standing behind a counter of usual height (1.1 m) shows no hips and stays unknown; a person cut
by the frame's bottom edge, or standing behind a nearer person (the bottom of their box inside
that person's box), stays unknown too. The flag is set, the value column keeps the
thigh drop (NaN here)."""

FRAME_EDGE = 0.02
"""A box whose bottom lies within this fraction of the frame height from the frame's bottom
edge is cut by the frame, not by something in front of the person."""

LEAN_MIN_DEG = 20.0
"""LEANING: value is the angle in degrees between the hip→shoulder line and the vertical;
leaning when above this."""

HEAD_DROP_MAX_RISE = 0.12
"""HEAD_DROPPED: value is the height of the head (nose, else eyes, else ears) above the
shoulder line over the scale. Upright people measure 0.3–0.4; the chin on the chest brings
the nose level with the shoulders. Dropped when below this."""

ARMS_CROSSED_MAX_DIST = 0.45
"""ARMS_CROSSED: value is the larger of the two wrist-to-opposite-elbow distances over the
scale. Crossed when below this, with each wrist past the body's midline and at chest height
(between the shoulder line and :data:`CHEST_DEPTH` below it)."""

CHEST_DEPTH = 0.8
"""Depth below the shoulder line, over the scale, that counts as in front of the chest."""

HANDS_BEHIND_MAX_VIS = KP_VISIBLE
"""HANDS_BEHIND_BACK: value is the larger wrist visibility. Hands are behind the back when
both wrists are hidden (below this) while both elbows hang below the shoulders and a hip is
visible, so the body is in view down to where the hands would be. Any visible wrist makes
the flag false; hidden elbows or hips make it unknown."""

HIP_MAX_DIST = 0.35
"""HANDS_AT_HIP: value is the smallest wrist-to-same-side-hip distance over the scale. A hand
is at the hip or in a pocket when nearer than this with the elbow bent below
:data:`HIP_MAX_ELBOW_DEG` (a relaxed, straight arm also ends near the hip)."""

HIP_MAX_ELBOW_DEG = 150.0
"""Elbow angle (shoulder–elbow–wrist) in degrees below which an arm counts as bent."""

RAISE_MIN = 0.1
"""WRIST_ABOVE_SHOULDER: value is the largest height of a wrist above its shoulder over the
scale; raised when above this."""

EAR_MAX_DIST = 0.3
"""WRIST_NEAR_EAR: value is the smallest wrist-to-ear distance over the scale (eyes stand in
when both ears are hidden); a phone call when nearer than this."""

PHONE_MAX_WRIST_GAP = 0.3
"""LOOKING_AT_PHONE: value is the distance between the wrists over the scale. Looking at a
phone when below this, with both wrists in front of the chest (see :data:`CHEST_DEPTH`,
horizontally within the shoulders widened by half the scale) and the head lowered below
:data:`PHONE_MAX_HEAD_RISE`."""

READING_MAX_WRIST_GAP = 1.0
"""READING: value is the distance between the wrists over the scale. Reading a sheet (report,
newspaper, magazine) held in both hands when it lies from :data:`PHONE_MAX_WRIST_GAP` up to
this, with both wrists in front of the chest and the head bowed as for LOOKING_AT_PHONE."""

PHONE_MAX_HEAD_RISE = 0.25
"""Head height above the shoulders (as for HEAD_DROPPED) below which the head is bowed
enough to look at something held at the chest."""

LEGS_CROSSED_MAX_SEP = -0.05
"""LEGS_CROSSED: value is the smaller of the left-minus-right separation of the ankles and of
the knees along the right-hip→left-hip axis, over the scale (positive for legs side by side).
Crossed when below this and the person is seated; false for people who are not seated."""

K = Keypoint


def posture_features(
    keypoints: npt.NDArray[np.float32],
    xyxy: npt.NDArray[np.float32],
    frame_h: float | None = None,
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.float32]]:
    """Posture flags and values for ``n`` people.

    Args:
        keypoints: ``(n, 17, 3)`` COCO keypoints ``x, y, visibility`` in pixels, or
            ``(n, 0, 3)`` from a detector without pose (every flag unknown).
        xyxy: ``(n, 4)`` person boxes in pixels.
        frame_h: Height of the frame in pixels; without it SEATED is never decided from the
            upper body (see :data:`SEATED_HIDDEN_LEGS_MAX_BELOW_HIP`).

    Returns:
        ``flags`` ``(n, P)`` int8 in ``{-1, 0, 1}`` and ``values`` ``(n, P)`` float32 (NaN when
        unknown), columns in :class:`~vision.types.Posture` order; the constants of this
        module document each value and threshold.

    Raises:
        ValueError: the arrays do not have the shapes above.

    Example:
        >>> kp = np.zeros((1, 17, 3), np.float32)
        >>> flags, values = posture_features(kp, np.zeros((1, 4), np.float32))
        >>> int(flags[0, Posture.SEATED])
        -1
    """
    n = len(xyxy)
    if xyxy.shape != (n, 4):
        raise ValueError(f"xyxy must have shape (n, 4), got {xyxy.shape}")
    if keypoints.ndim != 3 or keypoints.shape[0] != n or keypoints.shape[2] != 3:
        raise ValueError(f"keypoints must have shape ({n}, 17, 3), got {keypoints.shape}")
    flags = np.full((n, NUM_POSTURES), -1, np.int8)
    values = np.full((n, NUM_POSTURES), np.nan, np.float32)
    if keypoints.shape[1] == 0:
        return flags, values
    if keypoints.shape[1] != NUM_KEYPOINTS:
        raise ValueError(f"keypoints must have 17 COCO points, got {keypoints.shape[1]}")

    seen = keypoints[..., 2] >= KP_VISIBLE
    p = np.where(seen[..., None], keypoints[..., :2].astype(np.float64), np.nan)
    b = _Body(p)

    def put(posture: Posture, value: F, flag: Tri) -> None:
        values[:, posture] = value
        flags[:, posture] = flag

    seated_v = _mid(
        _along(p[:, K.LEFT_KNEE] - p[:, K.LEFT_HIP], b.down) / b.scale,
        _along(p[:, K.RIGHT_KNEE] - p[:, K.RIGHT_HIP], b.down) / b.scale,
    )
    seated = _tri(seated_v < SEATED_MAX_THIGH_DROP, seated_v)
    if frame_h is not None:
        seated = np.where(seated < 0, _seated_behind(p, b, xyxy, frame_h), seated).astype(np.int8)
    put(Posture.SEATED, seated_v, seated)

    up = b.shoulder - b.hip
    lean_v = np.degrees(np.arctan2(np.abs(up[:, 0]), -up[:, 1]))
    put(Posture.LEANING, lean_v, _tri(lean_v > LEAN_MIN_DEG, lean_v))

    rise = (b.shoulder[:, 1] - b.head[:, 1]) / b.scale
    put(Posture.HEAD_DROPPED, rise, _tri(rise < HEAD_DROP_MAX_RISE, rise))

    put(Posture.ARMS_CROSSED, *_arms_crossed(p, b))
    put(Posture.HANDS_BEHIND_BACK, *_hands_behind(keypoints, p))
    put(Posture.HANDS_AT_HIP, *_hands_at_hip(p, b))

    raise_l = (p[:, K.LEFT_SHOULDER, 1] - p[:, K.LEFT_WRIST, 1]) / b.scale
    raise_r = (p[:, K.RIGHT_SHOULDER, 1] - p[:, K.RIGHT_WRIST, 1]) / b.scale
    raised = _or(_tri(raise_l > RAISE_MIN, raise_l), _tri(raise_r > RAISE_MIN, raise_r))
    put(Posture.WRIST_ABOVE_SHOULDER, np.fmax(raise_l, raise_r), raised)

    put(Posture.WRIST_NEAR_EAR, *_wrist_near_ear(p, b))
    put(Posture.LOOKING_AT_PHONE, *_held_at_chest(p, b, rise, 0.0, PHONE_MAX_WRIST_GAP))
    put(
        Posture.READING,
        *_held_at_chest(p, b, rise, PHONE_MAX_WRIST_GAP, READING_MAX_WRIST_GAP),
    )
    put(Posture.LEGS_CROSSED, *_legs_crossed(p, b, seated))
    return flags, values


class _Body:
    """Reference points of ``n`` people (NaN where missing)."""

    def __init__(self, p: npt.NDArray[np.float64]) -> None:
        self.shoulder = _mid(p[:, K.LEFT_SHOULDER], p[:, K.RIGHT_SHOULDER])
        self.hip = _mid(p[:, K.LEFT_HIP], p[:, K.RIGHT_HIP])
        self.shoulder_axis = p[:, K.LEFT_SHOULDER] - p[:, K.RIGHT_SHOULDER]
        self.hip_axis = p[:, K.LEFT_HIP] - p[:, K.RIGHT_HIP]
        torso = np.linalg.norm(self.shoulder - self.hip, axis=1)
        fallback = SHOULDER_TO_TORSO * np.linalg.norm(self.shoulder_axis, axis=1)
        scale = np.where(np.isfinite(torso), torso, fallback)
        self.scale: F = np.where(scale > 1e-6, scale, np.nan)
        # The body's "down" direction: shoulders to hips, else the image's down.
        axis = self.hip - self.shoulder
        self.down: F = np.where(np.isfinite(torso)[:, None] & (torso > 1e-6)[:, None], axis,
                                np.array([0.0, 1.0]))  # fmt: skip
        head = p[:, K.NOSE]
        for a, b in ((K.LEFT_EYE, K.RIGHT_EYE), (K.LEFT_EAR, K.RIGHT_EAR)):
            head = np.where(np.isfinite(head), head, _mid(p[:, a], p[:, b]))
        self.head: F = head


def _seated_behind(p: F, b: _Body, xyxy: npt.NDArray[np.float32], frame_h: float) -> Tri:
    """SEATED from the upper body: 1 where the legs are hidden just under visible hips, by
    something in front rather than the frame's edge or another person; -1 elsewhere."""
    knees_hidden = np.isnan(p[:, K.LEFT_KNEE, 1]) & np.isnan(p[:, K.RIGHT_KNEE, 1])
    box = xyxy.astype(np.float64)
    bottom = box[:, 3]
    below = (bottom - b.hip[:, 1]) / b.scale
    inside = bottom < frame_h * (1.0 - FRAME_EDGE)
    # A person whose box's bottom centre lies in a nearer person's box is hidden by that person.
    cx = (box[:, 0] + box[:, 2]) / 2
    behind = (
        (box[None, :, 0] <= cx[:, None])
        & (cx[:, None] <= box[None, :, 2])
        & (box[None, :, 1] <= bottom[:, None])
        & (bottom[:, None] < box[None, :, 3])
    )
    np.fill_diagonal(behind, False)
    hidden = knees_hidden & inside & ~behind.any(axis=1)
    hidden &= below < SEATED_HIDDEN_LEGS_MAX_BELOW_HIP
    return np.where(hidden, np.int8(1), np.int8(-1)).astype(np.int8)


def _mid(a: F, b: F) -> F:
    """Mean of two arrays (points or values) ignoring NaN, NaN where both are."""
    return np.where(np.isnan(a), b, np.where(np.isnan(b), a, (a + b) / 2))


def _tri(cond: npt.NDArray[np.bool_], known: F) -> Tri:
    """Three-valued flag: ``cond`` where ``known`` is finite, else -1."""
    return np.where(np.isfinite(known), cond.astype(np.int8), np.int8(-1)).astype(np.int8)


def _or(a: Tri, b: Tri) -> Tri:
    return np.where((a == 1) | (b == 1), 1, np.where((a == 0) & (b == 0), 0, -1)).astype(np.int8)


def _and(a: Tri, b: Tri) -> Tri:
    return np.where((a == 0) | (b == 0), 0, np.where((a == 1) & (b == 1), 1, -1)).astype(np.int8)


def _dist(a: F, b: F) -> F:
    return np.asarray(np.linalg.norm(a - b, axis=1), np.float64)


def _along(vec: F, axis: F) -> F:
    """Component of ``vec`` along the unit vector of ``axis`` (row-wise)."""
    norm = np.linalg.norm(axis, axis=1)
    return np.asarray(np.sum(vec * axis, axis=1) / np.where(norm > 0, norm, np.nan), np.float64)


def _frontal(axis: F, b: _Body) -> npt.NDArray[np.bool_]:
    return np.asarray(np.linalg.norm(axis, axis=1) / b.scale >= MIN_FRONTAL_WIDTH)


def _at_chest(wrist: F, b: _Body) -> npt.NDArray[np.bool_]:
    depth = (wrist[:, 1] - b.shoulder[:, 1]) / b.scale
    return np.asarray((depth >= 0) & (depth <= CHEST_DEPTH))


def _arms_crossed(p: F, b: _Body) -> tuple[F, Tri]:
    lw, rw = p[:, K.LEFT_WRIST], p[:, K.RIGHT_WRIST]
    # np.maximum keeps NaN: both distances are needed.
    value = np.maximum(_dist(lw, p[:, K.RIGHT_ELBOW]), _dist(rw, p[:, K.LEFT_ELBOW])) / b.scale
    # Each wrist on the far side of the midline: left wrist towards the right shoulder.
    past = (_along(lw - b.shoulder, b.shoulder_axis) < 0) & (
        _along(rw - b.shoulder, b.shoulder_axis) > 0
    )
    cond = (value < ARMS_CROSSED_MAX_DIST) & past & _at_chest(lw, b) & _at_chest(rw, b)
    known = np.where(_frontal(b.shoulder_axis, b), value, np.nan)
    return known, _tri(cond, known)


def _hands_behind(kp: npt.NDArray[np.float32], p: F) -> tuple[F, Tri]:
    vis = kp[..., 2].astype(np.float64)
    value = np.maximum(vis[:, K.LEFT_WRIST], vis[:, K.RIGHT_WRIST])
    elbows_down = (p[:, K.LEFT_ELBOW, 1] > p[:, K.LEFT_SHOULDER, 1]) & (
        p[:, K.RIGHT_ELBOW, 1] > p[:, K.RIGHT_SHOULDER, 1]
    )
    hip_seen = np.isfinite(p[:, K.LEFT_HIP, 1]) | np.isfinite(p[:, K.RIGHT_HIP, 1])
    hidden = value < HANDS_BEHIND_MAX_VIS
    flag = np.where(~hidden, 0, np.where(elbows_down & hip_seen, 1, -1)).astype(np.int8)
    return value, flag


def _elbow_angle(p: F, s: int, e: int, w: int) -> F:
    u, v = p[:, s] - p[:, e], p[:, w] - p[:, e]
    cos = np.sum(u * v, axis=1) / (np.linalg.norm(u, axis=1) * np.linalg.norm(v, axis=1))
    return np.asarray(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))), np.float64)


def _hands_at_hip(p: F, b: _Body) -> tuple[F, Tri]:
    sides = (
        (K.LEFT_SHOULDER, K.LEFT_ELBOW, K.LEFT_WRIST, K.LEFT_HIP),
        (K.RIGHT_SHOULDER, K.RIGHT_ELBOW, K.RIGHT_WRIST, K.RIGHT_HIP),
    )
    flag = np.zeros(len(p), np.int8)
    dists = []
    for i, (s, e, w, h) in enumerate(sides):
        d = _dist(p[:, w], p[:, h]) / b.scale
        angle = _elbow_angle(p, s, e, w)
        side = _tri((d < HIP_MAX_DIST) & (angle < HIP_MAX_ELBOW_DEG), d + angle)
        flag = side if i == 0 else _or(flag, side)
        dists.append(d)
    return np.fmin(dists[0], dists[1]), flag


def _wrist_near_ear(p: F, b: _Body) -> tuple[F, Tri]:
    ears = p[:, [K.LEFT_EAR, K.RIGHT_EAR]]
    no_ear = np.asarray(np.isnan(ears).all(axis=(1, 2)), bool)
    heads = np.where(no_ear[:, None, None], p[:, [K.LEFT_EYE, K.RIGHT_EYE]], ears)
    wrists = p[:, [K.LEFT_WRIST, K.RIGHT_WRIST]]
    # (n, wrist, head point) distances; NaN pairs are skipped by fmin below.
    d = (
        np.linalg.norm(wrists[:, :, None, :] - heads[:, None, :, :], axis=3)
        / b.scale[:, None, None]
    )
    per_wrist = np.fmin(d[:, :, 0], d[:, :, 1])
    value = np.fmin(per_wrist[:, 0], per_wrist[:, 1])
    flag = _or(
        _tri(per_wrist[:, 0] < EAR_MAX_DIST, per_wrist[:, 0]),
        _tri(per_wrist[:, 1] < EAR_MAX_DIST, per_wrist[:, 1]),
    )
    return value, flag


def _held_at_chest(p: F, b: _Body, rise: F, min_gap: float, max_gap: float) -> tuple[F, Tri]:
    """Something held in front of the chest with the wrists ``min_gap`` to ``max_gap`` apart
    (over the scale) and the head bowed over it: a phone (narrow) or a sheet (wide)."""
    lw, rw = p[:, K.LEFT_WRIST], p[:, K.RIGHT_WRIST]
    gap = _dist(lw, rw) / b.scale
    half = np.linalg.norm(b.shoulder_axis, axis=1) / 2 + b.scale / 2
    inside = (np.abs(lw[:, 0] - b.shoulder[:, 0]) <= half) & (
        np.abs(rw[:, 0] - b.shoulder[:, 0]) <= half
    )
    hands = _tri(
        (gap >= min_gap) & (gap < max_gap) & _at_chest(lw, b) & _at_chest(rw, b) & inside,
        gap + half,
    )
    bowed = _tri(rise < PHONE_MAX_HEAD_RISE, rise)
    return gap, _and(hands, bowed)


def _legs_crossed(p: F, b: _Body, seated: Tri) -> tuple[F, Tri]:
    ankle = _along(p[:, K.LEFT_ANKLE] - p[:, K.RIGHT_ANKLE], b.hip_axis) / b.scale
    knee = _along(p[:, K.LEFT_KNEE] - p[:, K.RIGHT_KNEE], b.hip_axis) / b.scale
    value = np.fmin(ankle, knee)
    known = np.where(_frontal(b.hip_axis, b), value, np.nan)
    return known, _and(seated, _tri(value < LEGS_CROSSED_MAX_SEP, known))
