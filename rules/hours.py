"""Business hours of a branch: opening times per weekday, breaks and closed dates."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rules.calendar import DayKind, day_kind

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class TimeRange(BaseModel):
    """A stretch of local time within one day."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: time = Field(description="Local start time, e.g. 09:00.")
    end: time = Field(description="Local end time, e.g. 17:00; after start.")

    @field_validator("start", "end", mode="before")
    @classmethod
    def _clock_text(cls, value: object) -> object:
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise ValueError(f"write local times as 'HH:MM', not the number {value!r}")
        return value

    @field_validator("start", "end")
    @classmethod
    def _local(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise ValueError(f"{value} has a UTC offset; times are local to the branch's timezone")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> TimeRange:
        if self.end <= self.start:
            raise ValueError(f"end {self.end} must be after start {self.start}")
        return self


class BusinessHours(BaseModel):
    """When a branch is open for business.

    Example YAML::

        open: {start: "09:00", end: "17:00"}
        days: [mon, tue, wed, thu, fri, sat]
        breaks: [{start: "12:00", end: "12:30"}]
        holidays: cn              # closed on public holidays, open on worked weekend days
        closed_dates: [2026-11-20]  # the branch's own closures
        open_dates: [2026-10-03]    # opens on a day it would be closed
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    open: TimeRange = Field(
        default=TimeRange(start=time(9, 0), end=time(17, 0)), description="Opening hours."
    )
    days: list[str] = Field(
        default_factory=lambda: list(WEEKDAYS), description="Weekdays open (mon … sun)."
    )
    breaks: list[TimeRange] = Field(default_factory=list, description="Breaks (no service).")
    holidays: Literal["cn", "none"] = Field(
        default="cn",
        description="cn: closed on Chinese public holidays and open on the weekend days worked "
        "in exchange (调休); none: the weekdays alone decide.",
    )
    closed_dates: list[date] = Field(
        default_factory=list, description="Branch-specific closures (dates it does not open)."
    )
    open_dates: list[date] = Field(
        default_factory=list,
        description="Dates the branch opens although its weekdays or a holiday say closed.",
    )

    @model_validator(mode="after")
    def _check(self) -> BusinessHours:
        bad = [d for d in self.days if d not in WEEKDAYS]
        if bad:
            raise ValueError(f"unknown weekday(s) {bad}; use {', '.join(WEEKDAYS)}")
        both = sorted(set(self.closed_dates) & set(self.open_dates))
        if both:
            raise ValueError(f"date(s) {[str(d) for d in both]} are both closed and open")
        for b in self.breaks:
            if b.start < self.open.start or b.end > self.open.end:
                raise ValueError(f"break {b.start}–{b.end} lies outside opening hours")
        return self

    def is_open(self, day: date) -> bool:
        """Whether the branch opens on a local calendar day.

        Its own closures and extra opening days decide first; then, with ``holidays: cn``, a
        public holiday is closed and a worked weekend day (调休) is open; otherwise its
        weekdays decide.
        """
        if day in self.closed_dates:
            return False
        if day in self.open_dates:
            return True
        if self.holidays == "cn":
            kind = day_kind(day)
            if kind == DayKind.HOLIDAY:
                return False
            if kind == DayKind.WORKED_WEEKEND:
                return True
        return WEEKDAYS[day.weekday()] in self.days

    def intervals(self, day: date, tz: ZoneInfo) -> list[tuple[datetime, datetime]]:
        """Open intervals of a local calendar day, breaks removed, as aware datetimes."""
        if not self.is_open(day):
            return []
        pieces = [(self.open.start, self.open.end)]
        for b in sorted(self.breaks, key=lambda r: r.start):
            nxt: list[tuple[time, time]] = []
            for s, e in pieces:
                if b.end <= s or b.start >= e:
                    nxt.append((s, e))
                    continue
                if b.start > s:
                    nxt.append((s, b.start))
                if b.end < e:
                    nxt.append((b.end, e))
            pieces = nxt
        return [(datetime.combine(day, s, tz), datetime.combine(day, e, tz)) for s, e in pieces]

    def restricted(self, windows: list[TimeRange] | None, exempt: list[TimeRange]) -> BusinessHours:
        """These hours checked only inside ``windows`` (``None``: all day) and never inside
        ``exempt``: the parts of the day left out become breaks."""
        if windows is None and not exempt:
            return self
        lo, hi = self.open.start, self.open.end
        off = list(exempt)
        if windows is not None:
            edges = sorted((w.start, w.end) for w in windows)
            cursor = lo
            for s, e in edges:
                if s > cursor:
                    off.append(TimeRange(start=cursor, end=min(s, hi)))
                cursor = max(cursor, e)
                if cursor >= hi:
                    break
            if cursor < hi:
                off.append(TimeRange(start=cursor, end=hi))
        clipped = [
            TimeRange(start=max(r.start, lo), end=min(r.end, hi))
            for r in off
            if r.start < hi and r.end > lo and max(r.start, lo) < min(r.end, hi)
        ]
        return self.model_copy(update={"breaks": [*self.breaks, *clipped]})

    def mask(self, ts: npt.NDArray[np.float64], tz: ZoneInfo) -> npt.NDArray[np.bool_]:
        """Whether each UTC epoch time falls inside business hours."""
        out = np.zeros(len(ts), bool)
        if len(ts) == 0:
            return out
        first = datetime.fromtimestamp(float(ts.min()), tz).date()
        last = datetime.fromtimestamp(float(ts.max()), tz).date()
        day = first
        while day <= last:
            for s, e in self.intervals(day, tz):
                out |= (ts >= s.timestamp()) & (ts < e.timestamp())
            day += timedelta(days=1)
        return out
