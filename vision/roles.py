"""Roles of tracked people from zones, uniform colours and each track's history.

Every observation of a track casts weighted votes for roles:

* a staff post zone votes strongly for its role (``teller_seat`` → teller, ``guard_post`` →
  guard, ``lobby_manager_post`` → lobby manager);
* a public zone (``counter_window``, ``lobby``, ``customer_view``, ``self_service``) votes
  weakly for customer;
* a torso colour close to one of the camera's uniform signatures votes for that staff role.

Votes accumulate over the track's life, so a guard who walks out of the post stays a guard
and a customer crossing the guard post for a moment stays a customer. The role is the role
with most votes; its confidence is its share of all votes.

The torso colour histogram lives here too: the tracker uses it for appearance and
``branchwatch calibrate`` stores it as a uniform signature (:func:`signature_from_click`).
"""

from __future__ import annotations

import logging

import cv2
import numpy as np
import numpy.typing as npt
from pydantic import Field

from vision.config import CameraConfig, StrictModel, ZoneKind
from vision.config.camera import UniformSignature
from vision.timeline import UNIFORM_ROLES
from vision.types import NUM_KEYPOINTS, FrameDetections, Keypoint, Role
from vision.zones import CompiledZones

logger = logging.getLogger(__name__)

HIST_BINS = (8, 4, 4)
"""Hue, saturation and value bins of the torso histogram (pixels are spread linearly over
neighbouring bins, see :func:`torso_histogram`)."""

HIST_SIZE = int(np.prod(HIST_BINS))
"""Length of a torso histogram (and of a uniform signature)."""

TORSO_KP_VISIBLE = 0.5
"""Visibility from which shoulders and hips outline the torso."""

TORSO_INSET = 0.15
"""Fraction of the shoulder-to-hip region trimmed on each side (arms, background)."""

TORSO_BOX = (0.3, 0.2, 0.7, 0.5)
"""Torso region as fractions ``x1, y1, x2, y2`` of the person box when keypoints are hidden."""

MIN_TORSO_PX = 4
"""Smallest torso side in pixels from keypoints; smaller regions fall back to the box."""

STAFF_ZONES = {
    ZoneKind.TELLER_SEAT: Role.TELLER,
    ZoneKind.GUARD_POST: Role.GUARD,
    ZoneKind.LOBBY_MANAGER_POST: Role.LOBBY_MANAGER,
}
"""Zone kinds that make whoever stands in them a member of staff."""

PUBLIC_ZONES = (
    ZoneKind.COUNTER_WINDOW,
    ZoneKind.LOBBY,
    ZoneKind.CUSTOMER_VIEW,
    ZoneKind.SELF_SERVICE,
)
"""Zone kinds where people are customers unless other evidence says otherwise."""

_ROLE_NAMES = {"teller": Role.TELLER, "lobby_manager": Role.LOBBY_MANAGER, "guard": Role.GUARD}


class RoleParams(StrictModel):
    """Weights of the evidence that decides roles."""

    staff_zone_vote: float = Field(
        default=1.0, gt=0.0, le=10.0, description="Vote of one observation in a staff post zone."
    )
    public_zone_vote: float = Field(
        default=0.3, ge=0.0, le=10.0,
        description="Customer vote of one observation in a public zone.",
    )  # fmt: skip
    uniform_vote: float = Field(
        default=0.8, ge=0.0, le=10.0,
        description="Vote of one observation whose torso matches a uniform exactly "
        "(scaled down linearly to 0 at uniform_max_dist).",
    )  # fmt: skip
    uniform_max_dist: float = Field(
        default=0.4,
        gt=0.0,
        le=1.0,
        description="Bhattacharyya distance of torso to signature beyond which it does not match.",
    )


def torso_histogram(
    image: npt.NDArray[np.uint8],
    xyxy: npt.NDArray[np.float32],
    keypoints: npt.NDArray[np.float32],
) -> npt.NDArray[np.float32]:
    """HSV colour histogram of each person's torso, robust to small changes of light.

    Each pixel's weight is shared linearly between the two nearest bins of each channel (hue
    wraps around), so a lighting change of 10% shifts weight between neighbouring bins
    instead of moving a flat uniform colour into another bin. The torso is the region between
    the shoulders and the hips (trimmed by :data:`TORSO_INSET`) when those keypoints are
    visible, else :data:`TORSO_BOX` of the box.

    Args:
        image: BGR ``uint8`` frame ``(h, w, 3)``.
        xyxy: ``(n, 4)`` person boxes in pixels of ``image``.
        keypoints: ``(n, 17, 3)`` keypoints, or ``(n, 0, 3)`` without pose.

    Returns:
        ``(n, HIST_SIZE)`` float32 histograms summing to 1 (all zeros for an empty region).

    Raises:
        ValueError: the arrays do not have the shapes above.

    Example:
        >>> img = np.zeros((100, 100, 3), np.uint8)
        >>> boxes = np.array([[10, 10, 60, 90]], np.float32)
        >>> h = torso_histogram(img, boxes, np.zeros((1, 0, 3), np.float32))
        >>> h.shape, float(h.sum())
        ((1, 128), 1.0)
    """
    n = len(xyxy)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"image must be uint8 (h, w, 3), got {image.dtype} {image.shape}")
    if xyxy.shape != (n, 4) or keypoints.ndim != 3 or keypoints.shape[0] != n:
        raise ValueError(f"need (n, 4) boxes and (n, k, 3) keypoints, got {xyxy.shape} "
                         f"and {keypoints.shape}")  # fmt: skip
    regions = _torso_regions(xyxy, keypoints)
    h, w = image.shape[:2]
    regions[:, [0, 2]] = np.clip(regions[:, [0, 2]], 0, w)
    regions[:, [1, 3]] = np.clip(regions[:, [1, 3]], 0, h)
    boxes = np.round(regions).astype(np.int64)
    out = np.zeros((n, HIST_SIZE), np.float32)
    for i, (x1, y1, x2, y2) in enumerate(boxes):
        if x2 - x1 < 1 or y2 - y1 < 1:
            continue
        hsv = cv2.cvtColor(np.ascontiguousarray(image[y1:y2, x1:x2]), cv2.COLOR_BGR2HSV)
        out[i] = _soft_histogram(np.asarray(hsv, np.uint8).reshape(-1, 3))
    return out


def _soft_histogram(hsv: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """Normalised HSV histogram with linear interpolation between neighbouring bins (hue
    wraps around), so a small change of light or hue moves weight gradually between bins
    instead of flipping a whole colour into the next bin."""
    ranges = np.array([180.0, 256.0, 256.0])
    bins = np.array(HIST_BINS)
    pos = hsv.astype(np.float64) * (bins / ranges) - 0.5  # in units of bins, 0 = first centre
    lo = np.floor(pos).astype(np.int64)
    frac = pos - lo
    flat = np.zeros(HIST_SIZE, np.float64)
    for corner in range(8):
        upper = [(corner >> d) & 1 for d in range(3)]
        idx = np.zeros(len(hsv), np.int64)
        weight = np.ones(len(hsv), np.float64)
        for d in range(3):
            k = lo[:, d] + upper[d]
            k = k % bins[d] if d == 0 else np.clip(k, 0, bins[d] - 1)
            idx = idx * bins[d] + k
            weight *= frac[:, d] if upper[d] else 1.0 - frac[:, d]
        flat += np.bincount(idx, weights=weight, minlength=HIST_SIZE)
    total = flat.sum()
    return (flat / total if total > 0 else flat).astype(np.float32)


def _torso_regions(
    xyxy: npt.NDArray[np.float32], keypoints: npt.NDArray[np.float32]
) -> npt.NDArray[np.float64]:
    """``(n, 4)`` torso rectangles in pixels (unclipped)."""
    box = xyxy.astype(np.float64)
    bw, bh = box[:, 2] - box[:, 0], box[:, 3] - box[:, 1]
    fx1, fy1, fx2, fy2 = TORSO_BOX
    out = np.stack(
        [box[:, 0] + fx1 * bw, box[:, 1] + fy1 * bh, box[:, 0] + fx2 * bw, box[:, 1] + fy2 * bh],
        axis=1,
    )
    if keypoints.shape[1] != NUM_KEYPOINTS or len(box) == 0:
        return out
    idx = [Keypoint.LEFT_SHOULDER, Keypoint.RIGHT_SHOULDER, Keypoint.LEFT_HIP, Keypoint.RIGHT_HIP]
    kp = keypoints[:, idx].astype(np.float64)
    seen = kp[..., 2] >= TORSO_KP_VISIBLE
    shoulders_ok = seen[:, 0] & seen[:, 1]
    hips_ok = seen[:, 2] | seen[:, 3]
    x1 = np.minimum(kp[:, 0, 0], kp[:, 1, 0])
    x2 = np.maximum(kp[:, 0, 0], kp[:, 1, 0])
    top = (kp[:, 0, 1] + kp[:, 1, 1]) / 2
    hip_y = np.where(seen[:, 2], kp[:, 2, 1], 0.0) + np.where(seen[:, 3], kp[:, 3, 1], 0.0)
    bottom = hip_y / np.maximum(seen[:, 2:].sum(axis=1), 1)
    dx, dy = (x2 - x1) * TORSO_INSET, (bottom - top) * TORSO_INSET
    kp_box = np.stack([x1 + dx, top + dy, x2 - dx, bottom - dy], axis=1)
    big = (kp_box[:, 2] - kp_box[:, 0] >= MIN_TORSO_PX) & (
        kp_box[:, 3] - kp_box[:, 1] >= MIN_TORSO_PX
    )
    use = shoulders_ok & hips_ok & big
    return np.where(use[:, None], kp_box, out)


def hist_distance(
    a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]
) -> npt.NDArray[np.float32]:
    """Bhattacharyya distances between two sets of normalised histograms.

    Args:
        a: ``(n, B)`` histograms summing to 1 (or all zeros).
        b: ``(m, B)`` histograms.

    Returns:
        ``(n, m)`` float32 distances in ``[0, 1]``; 0 for identical histograms, 1 for
        disjoint ones or an empty histogram.

    Example:
        >>> h = np.array([[0.5, 0.5, 0.0]], np.float32)
        >>> float(hist_distance(h, h)[0, 0])
        0.0
    """
    coeff = np.sqrt(a.astype(np.float64)) @ np.sqrt(b.astype(np.float64)).T
    return np.sqrt(np.clip(1.0 - coeff, 0.0, 1.0)).astype(np.float32)


class NoPersonAtPoint(LookupError):
    """A calibration click did not land on any detected person."""


def signature_from_click(
    image: npt.NDArray[np.uint8], dets: FrameDetections, x: float, y: float, role: Role
) -> UniformSignature:
    """Uniform signature of the person a user clicked on.

    Args:
        image: The frame shown to the user (BGR ``uint8``).
        dets: Pose detections of that frame.
        x: Click position in pixels of ``image``.
        y: Click position in pixels of ``image``.
        role: Staff role the user says this person has.

    Returns:
        A signature to store in ``CameraConfig.uniforms``.

    Raises:
        NoPersonAtPoint: no person box contains the point.
        ValueError: ``role`` is not a staff role.
    """
    names = {v: k for k, v in _ROLE_NAMES.items()}
    if role not in names:
        raise ValueError(f"uniform signatures are for staff roles, not {role.name.lower()}")
    box = dets.xyxy
    inside = (box[:, 0] <= x) & (x <= box[:, 2]) & (box[:, 1] <= y) & (y <= box[:, 3])
    if not inside.any():
        raise NoPersonAtPoint(
            f"camera {dets.camera!r}: no person at ({x:.0f}, {y:.0f}) among {len(dets)} detected"
        )
    area = (box[:, 2] - box[:, 0]) * (box[:, 3] - box[:, 1])
    pick = int(np.argmin(np.where(inside, area, np.inf)))  # the front-most (smallest) box
    hist = torso_histogram(image, box[pick : pick + 1], dets.keypoints[pick : pick + 1])[0]
    return UniformSignature(role=names[role], hist=[float(v) for v in hist])


class RoleAssigner:
    """Per-camera role state: accumulated votes of every track seen so far.

    Args:
        camera: Camera configuration (uniform signatures).
        zones: The camera's compiled zones (columns of the ``in_zone`` masks passed in).
        params: Evidence weights.

    Raises:
        ValueError: a uniform signature has the wrong length.
    """

    def __init__(
        self, camera: CameraConfig, zones: CompiledZones, params: RoleParams | None = None
    ) -> None:
        self.camera = camera.id
        self.params = params or RoleParams()
        for i, sig in enumerate(camera.uniforms):
            if len(sig.hist) != HIST_SIZE:
                raise ValueError(
                    f"camera {camera.id!r}: uniform signature {i} ({sig.role}) has "
                    f"{len(sig.hist)} bins, expected {HIST_SIZE}; calibrate it again"
                )
        hists = np.array([s.hist for s in camera.uniforms], np.float32).reshape(-1, HIST_SIZE)
        self._signatures = hists / np.maximum(hists.sum(axis=1, keepdims=True), 1e-12)
        self._signature_role = np.array([_ROLE_NAMES[s.role] for s in camera.uniforms], np.intp)
        n_roles = len(Role)
        # Per zone column: the vote it casts for each role.
        self._zone_votes = np.zeros((len(zones), n_roles), np.float64)
        for kind, role in STAFF_ZONES.items():
            self._zone_votes[zones.kind_columns(kind), role] = self.params.staff_zone_vote
        self._zone_votes[zones.kind_columns(*PUBLIC_ZONES), Role.CUSTOMER] = (
            self.params.public_zone_vote
        )
        self._votes: dict[int, npt.NDArray[np.float64]] = {}

    def evidence(
        self, in_zone: npt.NDArray[np.bool_], hists: npt.NDArray[np.float32]
    ) -> npt.NDArray[np.float64]:
        """Role votes of one observation of each person.

        Args:
            in_zone: ``(n, Z)`` zone membership.
            hists: ``(n, HIST_SIZE)`` torso histograms.

        Returns:
            ``(n, len(Role))`` votes; a person in several zones of one kind votes once.
        """
        n = len(in_zone)
        votes = np.zeros((n, len(Role)), np.float64)
        if in_zone.shape[1]:
            votes = np.max(in_zone[:, :, None] * self._zone_votes[None], axis=1)
        if len(self._signatures) and n:
            dist = hist_distance(hists, self._signatures)
            best = np.argmin(dist, axis=1)
            d = dist[np.arange(n), best]
            strength = np.clip(1.0 - d / self.params.uniform_max_dist, 0.0, None)
            np.add.at(
                votes,
                (np.arange(n), self._signature_role[best]),
                self.params.uniform_vote * strength,
            )
        return votes

    def uniform_distances(self, hists: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Distance of each torso to the nearest calibrated uniform of each staff role.

        Args:
            hists: ``(n, HIST_SIZE)`` torso histograms (all zeros: no torso seen).

        Returns:
            ``(n, len(UNIFORM_ROLES))`` float32 in ``[0, 1]``; NaN where the role has no
            calibrated uniform on this camera or the torso was not seen.
        """
        out = np.full((len(hists), len(UNIFORM_ROLES)), np.nan, np.float32)
        if not len(hists) or not len(self._signatures):
            return out
        dist = hist_distance(hists, self._signatures)
        seen = hists.sum(axis=1) > 0
        for j, role in enumerate(UNIFORM_ROLES):
            own = self._signature_role == int(role)
            if own.any():
                out[seen, j] = dist[seen][:, own].min(axis=1)
        return out

    def observe(
        self,
        track_id: npt.NDArray[np.int64],
        in_zone: npt.NDArray[np.bool_],
        hists: npt.NDArray[np.float32],
    ) -> None:
        """Add one frame's evidence to the votes of its tracks.

        Args:
            track_id: ``(n,)`` track ids (``-1`` rows are ignored).
            in_zone: ``(n, Z)`` zone membership.
            hists: ``(n, HIST_SIZE)`` torso histograms.
        """
        votes = self.evidence(in_zone, hists)
        for tid, v in zip(track_id.tolist(), votes, strict=True):
            if tid < 0:
                continue
            if tid in self._votes:
                self._votes[tid] += v
            else:
                self._votes[tid] = v.copy()

    def merge(self, young: int, older: int) -> None:
        """Move the votes of a track into the track it was re-identified as.

        Args:
            young: Track id whose votes move.
            older: Track id that receives them.
        """
        votes = self._votes.pop(young, None)
        if votes is None:
            return
        if older in self._votes:
            self._votes[older] += votes
        else:
            self._votes[older] = votes

    def roles(
        self, track_id: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.float32]]:
        """Current role and confidence of each given track.

        Args:
            track_id: ``(n,)`` track ids.

        Returns:
            ``role`` ``(n,)`` int8 :class:`~vision.types.Role` values and ``conf`` ``(n,)``
            float32 in ``[0, 1]``; tracks without votes are unknown with confidence 0.
        """
        empty = np.zeros(len(Role), np.float64)
        votes = np.array([self._votes.get(int(t), empty) for t in track_id], np.float64)
        votes = votes.reshape(len(track_id), len(Role))
        total = votes.sum(axis=1)
        role = np.where(total > 0, np.argmax(votes, axis=1), int(Role.UNKNOWN))
        top = votes[np.arange(len(votes)), role]
        conf = np.where(total > 0, top / np.where(total > 0, total, 1.0), 0.0)
        return role.astype(np.int8), conf.astype(np.float32)
