"""Which stretches of business hours each camera's footage covers, and what is missing.

Missing footage during business hours is itself a finding: a camera with no recording is
something a supervisor must see. These are pure functions over aware datetimes; the caller
supplies the footage ranges (from discovery or from what the sampler actually read) and the
open intervals of each camera's branch (``rules.hours.BusinessHours.intervals``).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Protocol

logger = logging.getLogger(__name__)

Interval = tuple[datetime, datetime]
"""``[start, end)`` with aware datetimes, as ``BusinessHours.intervals`` returns them."""
CameraKey = tuple[str, str]
"""``(branch, camera)``."""


class Footage(Protocol):
    """A stretch of recording of one camera (an :class:`~vision.discovery.ExportFile`, or a
    :class:`CoveredRange` built from what the sampler read)."""

    @property
    def path(self) -> Path: ...
    @property
    def branch(self) -> str: ...
    @property
    def camera(self) -> str: ...
    @property
    def start(self) -> datetime: ...
    @property
    def end(self) -> datetime | None: ...


@dataclass(frozen=True, slots=True)
class CoveredRange:
    """Footage of one file as far as it could be read."""

    path: Path
    branch: str
    camera: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Gap:
    """A stretch of business hours without footage of a camera.

    Attributes:
        branch: Branch id.
        camera: Camera id.
        day: Local calendar day of the business hours the gap lies in.
        start: Start of the gap (aware, branch time zone).
        end: End of the gap.
    """

    branch: str
    camera: str
    day: date
    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        """Length of the gap in seconds."""
        return (self.end - self.start).total_seconds()


def merge_intervals(intervals: Iterable[Interval], join_s: float = 0.0) -> list[Interval]:
    """Union of intervals; pieces separated by at most ``join_s`` seconds are joined.

    Args:
        intervals: ``(start, end)`` pairs in any order.
        join_s: Largest hole that is closed (e.g. the second DVRs leave between files).

    Returns:
        Sorted, disjoint intervals.

    Example:
        >>> from datetime import datetime, timezone
        >>> t = lambda m: datetime(2026, 11, 22, 9, m, tzinfo=timezone.utc)
        >>> merge_intervals([(t(0), t(10)), (t(5), t(20)), (t(30), t(40))])[0][1] == t(20)
        True
    """
    join = timedelta(seconds=join_s)
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if merged and start <= merged[-1][1] + join:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def covered_intervals(
    footage: Iterable[Footage], join_s: float = 0.0
) -> dict[CameraKey, list[Interval]]:
    """Merged intervals with footage, per camera.

    Args:
        footage: Files or read ranges; entries without an end are skipped (logged).
        join_s: Holes up to this many seconds count as covered.

    Returns:
        ``(branch, camera)`` → sorted disjoint intervals.
    """
    per_camera: dict[CameraKey, list[Interval]] = defaultdict(list)
    for item in footage:
        if item.end is None:
            logger.debug("%s: no end time, not counted as coverage", item.path)
            continue
        per_camera[(item.branch, item.camera)].append((item.start, item.end))
    return {key: merge_intervals(spans, join_s) for key, spans in sorted(per_camera.items())}


def subtract(interval: Interval, covered: Sequence[Interval]) -> list[Interval]:
    """Parts of ``interval`` not inside any of the sorted disjoint ``covered`` intervals."""
    start, end = interval
    out: list[Interval] = []
    cursor = start
    for c_start, c_end in covered:
        if c_end <= cursor:
            continue
        if c_start >= end:
            break
        if c_start > cursor:
            out.append((cursor, c_start))
        cursor = max(cursor, c_end)
        if cursor >= end:
            break
    if cursor < end:
        out.append((cursor, end))
    return out


def coverage_gaps(
    covered: Mapping[CameraKey, Sequence[Interval]],
    open_hours: Mapping[CameraKey, Sequence[Interval]],
    min_gap_s: float = 0.0,
) -> list[Gap]:
    """The parts of business hours each expected camera has no footage for.

    Args:
        covered: ``(branch, camera)`` → sorted disjoint covered intervals (from
            :func:`covered_intervals`); cameras missing here have no footage at all.
        open_hours: ``(branch, camera)`` → open intervals of the days checked, for every
            camera that should have recorded.
        min_gap_s: Gaps shorter than this are not reported.

    Returns:
        Gaps sorted by branch, camera and start, in the time zone of the open intervals.
    """
    gaps: list[Gap] = []
    for (branch, camera), opens in sorted(open_hours.items()):
        spans = merge_intervals(covered.get((branch, camera), ()))
        for open_start, open_end in sorted(opens):
            tz = open_start.tzinfo
            for start, end in subtract((open_start, open_end), spans):
                if (end - start).total_seconds() < min_gap_s:
                    continue
                gaps.append(
                    Gap(branch, camera, open_start.date(), start.astimezone(tz), end.astimezone(tz))
                )
    return gaps
