"""Score what a method saw in one item against that item's labels."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from api.eval.labels import Item, PersonLabel, PostureLabel
from api.eval.metrics import (
    EventScore,
    Tally,
    count_tally,
    flag_tally,
    match_events,
    point_owner,
    span_truth,
)
from api.eval.runner import Failure, Seen
from vision.types import Posture

EPS_S = 1e-6


@dataclass(frozen=True)
class ItemScore:
    """One method's figures on one item (or, summed, on a set of items).

    Attributes:
        events: Presence events per zone id.
        count: Samples whose person count equals the label.
        found: Labelled people (per sample) with a box of the method on their point.
        seated_decided: Labelled seated people (per sample) whose seated flag is decided.
        posture: Decided seated flags (any labelled posture) that agree with the label.
        slumped: Decided head-dropped flags that agree with the label.
        phone: Decided phone flags that agree with the label.
        failed: Why the method could not analyse the item, if it could not.
        wall_s: Seconds the method took.
    """

    events: dict[str, EventScore] = field(default_factory=dict)
    count: Tally = Tally()
    found: Tally = Tally()
    seated_decided: Tally = Tally()
    posture: Tally = Tally()
    slumped: Tally = Tally()
    phone: Tally = Tally()
    failed: str | None = None
    wall_s: float = 0.0

    @property
    def event_total(self) -> EventScore:
        total = EventScore()
        for score in self.events.values():
            total = total + score
        return total

    def __add__(self, other: ItemScore) -> ItemScore:
        events = dict(self.events)
        for zone, score in other.events.items():
            events[zone] = events.get(zone, EventScore()) + score
        return ItemScore(
            events=events,
            count=self.count + other.count,
            found=self.found + other.found,
            seated_decided=self.seated_decided + other.seated_decided,
            posture=self.posture + other.posture,
            slumped=self.slumped + other.slumped,
            phone=self.phone + other.phone,
            failed=self.failed or other.failed,
            wall_s=self.wall_s + other.wall_s,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "events": {z: s.as_dict() for z, s in self.events.items()},
            "events_all": self.event_total.as_dict(),
            "count_exact": self.count.as_dict(),
            "people_found": self.found.as_dict(),
            "seated_decided": self.seated_decided.as_dict(),
            "posture_right": self.posture.as_dict(),
            "slumped_right": self.slumped.as_dict(),
            "phone_right": self.phone.as_dict(),
            "failed": self.failed,
            "wall_s": round(self.wall_s, 3),
        }


def _phone_flag(flags: np.ndarray[Any, Any]) -> int:
    """Kleene ``or`` of the two phone cues of one person."""
    cues = flags[[int(Posture.WRIST_NEAR_EAR), int(Posture.LOOKING_AT_PHONE)]]
    if (cues == 1).any():
        return 1
    return 0 if (cues == 0).all() else -1


def _people(item: Item, seen: Seen) -> dict[str, tuple[list[int | None], list[bool]]]:
    """Per check, the method's flag for each (labelled person, sample) and the label."""
    checks: dict[str, tuple[list[int | None], list[bool]]] = {
        k: ([], []) for k in ("found", "seated", "seated_only", "slumped", "phone")
    }

    def add(check: str, flag: int | None, truth: bool) -> None:
        checks[check][0].append(flag)
        checks[check][1].append(truth)

    for person in item.people:
        for i in _samples_in(seen, person):
            owner = point_owner(seen.boxes[i], person.at)
            add("found", 1 if owner is not None else None, True)
            row = None if owner is None or seen.flags is None else seen.flags[i][owner]
            if person.posture is not None:
                flag = None if row is None else int(row[int(Posture.SEATED)])
                add("seated", flag, person.posture is PostureLabel.SEATED)
                if person.posture is PostureLabel.SEATED:
                    add("seated_only", flag, True)
            if person.slumped is not None:
                add(
                    "slumped",
                    None if row is None else int(row[int(Posture.HEAD_DROPPED)]),
                    person.slumped,
                )
            if person.phone is not None:
                add("phone", None if row is None else _phone_flag(row), person.phone)
    return checks


def _samples_in(seen: Seen, person: PersonLabel) -> list[int]:
    start, end = person.during
    return [i for i, t in enumerate(seen.ts) if start - EPS_S <= t <= end + EPS_S]


def score_item(
    item: Item, seen: Seen | Failure, tolerance_s: float, interval_s: float
) -> ItemScore:
    """All figures of one method on one item."""
    if isinstance(seen, Failure):
        return ItemScore(failed=seen.reason)
    events = {
        zone: match_events(seen.events(zone, interval_s), labelled, tolerance_s)
        for zone, labelled in item.presence.items()
    }
    checks = _people(item, seen)
    found, _ = flag_tally(*checks["found"])
    _, posture = flag_tally(*checks["seated"])
    seated_decided, _ = flag_tally(*checks["seated_only"])
    _, slumped = flag_tally(*checks["slumped"])
    _, phone = flag_tally(*checks["phone"])
    return ItemScore(
        events=events,
        count=count_tally(span_truth(seen.ts, item.counts), seen.count),
        found=found,
        seated_decided=seated_decided,
        posture=posture,
        slumped=slumped,
        phone=phone,
        wall_s=seen.wall_s,
    )
