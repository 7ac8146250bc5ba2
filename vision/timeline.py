"""The observation timeline: what one camera saw, as arrays indexed by sampled time.

This is the contract between vision and rules. Rules read it without touching pixels, torch
or OpenCV (this module imports NumPy only), and it is saved next to a run as ``.npz`` so
rules can be re-run without decoding video again.

Layout:

* per sample (``T`` rows): ``ts`` (UTC epoch seconds), ``inferred`` (the model ran; ``False``
  means the motion gate found the view unchanged and the previous observation is repeated),
  ``motion`` (the gate's change measure);
* per person-sample (``N`` rows, sorted by ``sample``): the sample index, track id, role and
  its confidence, normalised box, zone membership ``(N, Z)``, posture flags ``(N, P)`` as
  -1 unknown / 0 false / 1 true with their numeric values, and a normalised face box;
* per static object (``M`` rows): first and last time seen, box, zone index and label;
* ``screen``: ``(T, S, 3)`` brightness, contrast and change of each ``screen`` zone (in zone
  order) per sample, see :mod:`vision.screens`; NaN where not measured;
* ``uniform_dist``: ``(N, 3)`` per person row, the distance of the torso colours to the nearest
  calibrated uniform of each staff role (teller, lobby manager, guard; see
  :data:`UNIFORM_ROLES`); NaN where the role has no calibrated uniform or no torso was seen;
* ``coverage``: ``(K, 2)`` intervals ``[start, end)`` in which footage was looked at. Time
  outside coverage is "not looked at" and never counts as "absent".
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from vision.types import Posture, Role

logger = logging.getLogger(__name__)

TIMELINE_FORMAT = 1
NUM_POSTURES = len(Posture)
NUM_SCREEN_MEASURES = 3
"""Brightness, contrast and change (see :class:`vision.screens.ScreenMeasure`)."""
SCREEN_KIND = "screen"
UNIFORM_ROLES = (Role.TELLER, Role.LOBBY_MANAGER, Role.GUARD)
"""Staff roles, in the column order of ``uniform_dist``."""


@dataclass(frozen=True, slots=True)
class ZoneInfo:
    """A zone as rules see it."""

    id: str
    kind: str
    window_id: str | None = None


UNKNOWN_LABEL = "unknown object"
"""Label of a static object that no object detector named (its confidence is 0)."""


@dataclass(frozen=True, slots=True)
class StaticObjects:
    """Objects that stayed put against the clean reference (clutter, litter).

    ``confidence`` is the object detector's for the ``label``; an object no detector named is
    labelled :data:`UNKNOWN_LABEL` with confidence 0.
    """

    first_seen: npt.NDArray[np.float64]
    last_seen: npt.NDArray[np.float64]
    xyxy: npt.NDArray[np.float32]
    zone: npt.NDArray[np.int32]
    label: npt.NDArray[np.str_]
    confidence: npt.NDArray[np.float32]

    def __len__(self) -> int:
        return len(self.first_seen)

    @property
    def named(self) -> npt.NDArray[np.bool_]:
        """Mask of the objects an object detector named (label other than unknown)."""
        return np.asarray(self.label != UNKNOWN_LABEL, np.bool_)

    @classmethod
    def empty(cls) -> StaticObjects:
        return cls(
            first_seen=np.zeros(0, np.float64),
            last_seen=np.zeros(0, np.float64),
            xyxy=np.zeros((0, 4), np.float32),
            zone=np.zeros(0, np.int32),
            label=np.zeros(0, "<U32"),
            confidence=np.zeros(0, np.float32),
        )


@dataclass(frozen=True)
class ObservationTimeline:
    """What one camera saw over a stretch of footage (see the module docstring)."""

    branch: str
    camera: str
    zones: tuple[ZoneInfo, ...]
    ts: npt.NDArray[np.float64]
    inferred: npt.NDArray[np.bool_]
    motion: npt.NDArray[np.float32]
    sample: npt.NDArray[np.int32]
    track_id: npt.NDArray[np.int64]
    role: npt.NDArray[np.int8]
    role_conf: npt.NDArray[np.float32]
    xyxy: npt.NDArray[np.float32]
    in_zone: npt.NDArray[np.bool_]
    posture: npt.NDArray[np.int8]
    posture_value: npt.NDArray[np.float32]
    face_xyxy: npt.NDArray[np.float32]
    coverage: npt.NDArray[np.float64]
    objects: StaticObjects = field(default_factory=StaticObjects.empty)
    screen: npt.NDArray[np.float32] = field(default_factory=lambda: _UNMEASURED)
    uniform_dist: npt.NDArray[np.float32] = field(default_factory=lambda: _UNMEASURED)

    def __post_init__(self) -> None:
        t, n, z = len(self.ts), len(self.sample), len(self.zones)
        s = sum(zone.kind == SCREEN_KIND for zone in self.zones)
        if self.screen is _UNMEASURED:
            object.__setattr__(
                self, "screen", np.full((t, s, NUM_SCREEN_MEASURES), np.nan, np.float32)
            )
        if self.uniform_dist is _UNMEASURED:
            object.__setattr__(
                self, "uniform_dist", np.full((n, len(UNIFORM_ROLES)), np.nan, np.float32)
            )
        checks: list[tuple[str, npt.NDArray[Any], tuple[int, ...]]] = [
            ("inferred", self.inferred, (t,)),
            ("motion", self.motion, (t,)),
            ("track_id", self.track_id, (n,)),
            ("role", self.role, (n,)),
            ("role_conf", self.role_conf, (n,)),
            ("xyxy", self.xyxy, (n, 4)),
            ("in_zone", self.in_zone, (n, z)),
            ("posture", self.posture, (n, NUM_POSTURES)),
            ("posture_value", self.posture_value, (n, NUM_POSTURES)),
            ("face_xyxy", self.face_xyxy, (n, 4)),
            ("screen", self.screen, (t, s, NUM_SCREEN_MEASURES)),
            ("uniform_dist", self.uniform_dist, (n, len(UNIFORM_ROLES))),
        ]
        for name, arr, shape in checks:
            if arr.shape != shape:
                raise ValueError(
                    f"timeline {self.camera!r}: {name} must have shape {shape}, got {arr.shape}"
                )
        if self.coverage.ndim != 2 or self.coverage.shape[1] != 2:
            raise ValueError(f"timeline {self.camera!r}: coverage must be (k, 2)")
        if t > 1 and not np.all(np.diff(self.ts) > 0):
            raise ValueError(f"timeline {self.camera!r}: ts must be strictly increasing")
        if n and (self.sample.min() < 0 or self.sample.max() >= t):
            raise ValueError(f"timeline {self.camera!r}: sample index out of range")
        if n > 1 and not np.all(np.diff(self.sample) >= 0):
            raise ValueError(f"timeline {self.camera!r}: person rows must be sorted by sample")

    @property
    def num_samples(self) -> int:
        return len(self.ts)

    def zone_indices(self, *kinds: str) -> npt.NDArray[np.intp]:
        """Column indices in ``in_zone`` of the zones of the given kinds."""
        return np.array([i for i, zone in enumerate(self.zones) if zone.kind in kinds], np.intp)

    def people_in(self, *kinds: str, role: Role | None = None) -> npt.NDArray[np.bool_]:
        """Mask over person rows: inside any zone of ``kinds`` (and with ``role`` if given)."""
        cols = self.zone_indices(*kinds)
        mask = np.zeros(len(self.sample), np.bool_)
        if len(cols):
            mask |= self.in_zone[:, cols].any(axis=1)
        if role is not None:
            mask &= self.role == int(role)
        return mask

    def count_per_sample(self, person_mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.int32]:
        """Number of selected person rows in each sample, shape ``(T,)``."""
        return np.bincount(self.sample[person_mask], minlength=self.num_samples).astype(np.int32)

    def covered(self, ts: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
        """Whether each time lies inside footage that was looked at."""
        if len(self.coverage) == 0:
            return np.zeros(len(ts), bool)
        starts, ends = self.coverage[:, 0], self.coverage[:, 1]
        idx = np.searchsorted(starts, ts, side="right") - 1
        ok = idx >= 0
        out = np.zeros(len(ts), bool)
        out[ok] = ts[ok] < ends[idx[ok]]
        return out

    # --- persistence -----------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Write the timeline as a compressed ``.npz`` file."""
        arrays: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                arrays[f.name] = value
        for f in fields(StaticObjects):
            arrays[f"objects_{f.name}"] = getattr(self.objects, f.name)
        meta = {
            "format": TIMELINE_FORMAT,
            "branch": self.branch,
            "camera": self.camera,
            "zones": [[z.id, z.kind, z.window_id] for z in self.zones],
        }
        arrays["meta"] = np.array(json.dumps(meta))
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez_compressed(tmp, **arrays)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> ObservationTimeline:
        """Read a timeline written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            if meta.get("format") != TIMELINE_FORMAT:
                raise ValueError(f"{path}: timeline format {meta.get('format')} is not supported")
            objects = StaticObjects(
                **{f.name: data[f"objects_{f.name}"] for f in fields(StaticObjects)}
            )
            kwargs = {
                f.name: data[f.name]
                for f in fields(cls)
                if f.name not in ("branch", "camera", "zones", "objects") and f.name in data.files
            }
        return cls(
            branch=meta["branch"],
            camera=meta["camera"],
            zones=tuple(ZoneInfo(z[0], z[1], z[2]) for z in meta["zones"]),
            objects=objects,
            **kwargs,
        )

    @classmethod
    def concat(cls, parts: list[ObservationTimeline]) -> ObservationTimeline:
        """Join timelines of consecutive files of one camera (ordered by time)."""
        if not parts:
            raise ValueError("concat needs at least one timeline")
        parts = sorted(parts, key=lambda p: float(p.ts[0]) if len(p.ts) else float("inf"))
        first = parts[0]
        for p in parts[1:]:
            if (p.branch, p.camera, p.zones) != (first.branch, first.camera, first.zones):
                raise ValueError(
                    f"cannot join timelines of {first.camera!r} and {p.camera!r}: "
                    "camera or zones differ"
                )
        # Overlapping files: keep the earlier file's samples, drop later samples not after it.
        keep_ts: list[npt.NDArray[np.bool_]] = []
        last = -np.inf
        for p in parts:
            keep = p.ts > last
            keep_ts.append(keep)
            if keep.any():
                last = float(p.ts[keep][-1])
        new_index = []
        base = 0
        for p, keep in zip(parts, keep_ts, strict=True):
            idx = np.full(p.num_samples, -1, np.int64)
            idx[keep] = base + np.arange(int(keep.sum()))
            new_index.append(idx)
            base += int(keep.sum())
        rows = [keep[p.sample] for p, keep in zip(parts, keep_ts, strict=True)]

        def cat(name: str) -> Any:
            return np.concatenate(
                [getattr(p, name)[r] for p, r in zip(parts, rows, strict=True)], axis=0
            )

        def cat_t(name: str) -> Any:
            return np.concatenate(
                [getattr(p, name)[k] for p, k in zip(parts, keep_ts, strict=True)], axis=0
            )

        coverage = _merge_intervals(np.concatenate([p.coverage for p in parts], axis=0))
        objects = StaticObjects(
            **{
                f.name: np.concatenate([getattr(p.objects, f.name) for p in parts], axis=0)
                for f in fields(StaticObjects)
            }
        )
        return cls(
            branch=first.branch,
            camera=first.camera,
            zones=first.zones,
            ts=cat_t("ts"),
            inferred=cat_t("inferred"),
            motion=cat_t("motion"),
            sample=np.concatenate(
                [idx[p.sample[r]] for p, idx, r in zip(parts, new_index, rows, strict=True)]
            ).astype(np.int32),
            track_id=cat("track_id"),
            role=cat("role"),
            role_conf=cat("role_conf"),
            xyxy=cat("xyxy"),
            in_zone=cat("in_zone"),
            posture=cat("posture"),
            posture_value=cat("posture_value"),
            face_xyxy=cat("face_xyxy"),
            coverage=coverage,
            objects=objects,
            screen=cat_t("screen"),
            uniform_dist=cat("uniform_dist"),
        )


_UNMEASURED: npt.NDArray[np.float32] = np.zeros(0, np.float32)
"""Default of the measured arrays: replaced by NaN arrays of the right shape."""


def _merge_intervals(intervals: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Union of ``[start, end)`` intervals, sorted and non-overlapping."""
    if len(intervals) == 0:
        return np.zeros((0, 2), np.float64)
    order = np.argsort(intervals[:, 0], kind="stable")
    merged: list[list[float]] = []
    for start, end in intervals[order]:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], float(end))
        else:
            merged.append([float(start), float(end)])
    return np.array(merged, np.float64)


def empty_timeline(
    branch: str,
    camera: str,
    zones: tuple[ZoneInfo, ...],
    ts: npt.NDArray[np.float64],
    coverage: npt.NDArray[np.float64],
) -> ObservationTimeline:
    """A timeline with samples but no people (useful for tests and empty footage)."""
    t = len(ts)
    return ObservationTimeline(
        branch=branch,
        camera=camera,
        zones=zones,
        ts=np.asarray(ts, np.float64),
        inferred=np.ones(t, bool),
        motion=np.zeros(t, np.float32),
        sample=np.zeros(0, np.int32),
        track_id=np.zeros(0, np.int64),
        role=np.zeros(0, np.int8),
        role_conf=np.zeros(0, np.float32),
        xyxy=np.zeros((0, 4), np.float32),
        in_zone=np.zeros((0, len(zones)), bool),
        posture=np.zeros((0, NUM_POSTURES), np.int8),
        posture_value=np.zeros((0, NUM_POSTURES), np.float32),
        face_xyxy=np.zeros((0, 4), np.float32),
        coverage=np.asarray(coverage, np.float64).reshape(-1, 2),
    )
