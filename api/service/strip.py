"""The observation strip of the event page: who the camera saw around an event, over time."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import numpy as np

from api.db.models import EventRecord
from vision.timeline import ObservationTimeline
from vision.types import Role

logger = logging.getLogger(__name__)

CONTEXT_S = 60.0
"""Seconds shown before and after the event."""

MAX_ROWS = 12
"""Most people shown (those involved in the event first)."""

ROLE_CODES = {int(role): role.name.lower() for role in Role}


@dataclass(frozen=True, slots=True)
class StripRow:
    """One person: when they were seen, as ``(left, width)`` percentages of the strip."""

    track_id: int
    role: str
    involved: bool
    segments: tuple[tuple[float, float], ...]


@dataclass(frozen=True, slots=True)
class Strip:
    """People seen from ``CONTEXT_S`` before to ``CONTEXT_S`` after an event."""

    start: datetime
    end: datetime
    event_left: float
    event_width: float
    rows: tuple[StripRow, ...]


@lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int) -> ObservationTimeline:
    return ObservationTimeline.load(Path(path))


def _segments(
    times: np.ndarray, gap: float, t0: float, span: float
) -> tuple[tuple[float, float], ...]:
    breaks = np.flatnonzero(np.diff(times) > gap) + 1
    out = []
    for part in np.split(times, breaks):
        left = (part[0] - t0) / span * 100.0
        width = max((part[-1] - part[0] + gap / 2) / span * 100.0, 0.5)
        out.append((round(float(left), 2), round(float(min(width, 100.0 - left)), 2)))
    return tuple(out)


def event_strip(event: EventRecord, timeline_path: str | None) -> Strip | None:
    """The strip of an event from its video's observation timeline (``None`` if unreadable)."""
    if not timeline_path:
        return None
    path = Path(timeline_path)
    try:
        timeline = _load(str(path), path.stat().st_mtime_ns)
    except (OSError, ValueError, KeyError) as exc:
        logger.warning("event %d: cannot read timeline %s: %s", event.id, path, exc)
        return None
    t0 = event.start_ts.timestamp() - CONTEXT_S
    t1 = event.end_ts.timestamp() + CONTEXT_S
    span = t1 - t0
    in_window = (timeline.ts >= t0) & (timeline.ts <= t1)
    rows_mask = in_window[timeline.sample]
    if not rows_mask.any():
        return Strip(
            datetime.fromtimestamp(t0, UTC),
            datetime.fromtimestamp(t1, UTC),
            CONTEXT_S / span * 100,
            (span - 2 * CONTEXT_S) / span * 100,
            (),
        )
    gap = float(np.median(np.diff(timeline.ts))) * 1.5 if timeline.num_samples > 1 else 3.0
    involved = {int(p.get("track_id", -1)) for p in event.people}
    tracks = timeline.track_id[rows_mask]
    times = timeline.ts[timeline.sample[rows_mask]]
    roles = timeline.role[rows_mask]
    rows = []
    for track in np.unique(tracks):
        sel = tracks == track
        role = int(np.bincount(roles[sel].astype(np.intp)).argmax())
        rows.append(
            StripRow(
                track_id=int(track),
                role=ROLE_CODES.get(role, "unknown"),
                involved=int(track) in involved,
                segments=_segments(np.sort(times[sel]), gap, t0, span),
            )
        )
    rows.sort(key=lambda r: (not r.involved, r.segments[0][0]))
    return Strip(
        start=datetime.fromtimestamp(t0, UTC),
        end=datetime.fromtimestamp(t1, UTC),
        event_left=round(CONTEXT_S / span * 100, 2),
        event_width=round((span - 2 * CONTEXT_S) / span * 100, 2),
        rows=tuple(rows[:MAX_ROWS]),
    )
