"""Business hours of a branch: opening times per weekday, breaks and closed dates."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

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
        closed_dates: [2026-10-01]
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    open: TimeRange = Field(
        default=TimeRange(start=time(9, 0), end=time(17, 0)), description="Opening hours."
    )
    days: list[str] = Field(
        default_factory=lambda: list(WEEKDAYS), description="Weekdays open (mon … sun)."
    )
    breaks: list[TimeRange] = Field(default_factory=list, description="Breaks (no service).")
    closed_dates: list[date] = Field(default_factory=list, description="Holidays.")

    @model_validator(mode="after")
    def _check(self) -> BusinessHours:
        bad = [d for d in self.days if d not in WEEKDAYS]
        if bad:
            raise ValueError(f"unknown weekday(s) {bad}; use {', '.join(WEEKDAYS)}")
        for b in self.breaks:
            if b.start < self.open.start or b.end > self.open.end:
                raise ValueError(f"break {b.start}–{b.end} lies outside opening hours")
        return self

    def intervals(self, day: date, tz: ZoneInfo) -> list[tuple[datetime, datetime]]:
        """Open intervals of a local calendar day, breaks removed, as aware datetimes."""
        if WEEKDAYS[day.weekday()] not in self.days or day in self.closed_dates:
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
