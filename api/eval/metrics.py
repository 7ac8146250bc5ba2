"""Scores of what a method saw against the labels: pure functions over arrays.

Events are ``[start, end]`` intervals in seconds of the item. A predicted event matches a
labelled one when both its start and its end lie within ``tolerance_s`` of the label's; pairs
are taken one-to-one, closest first (sum of the two boundary errors). Precision is the share
of predicted events that match, recall the share of labelled events matched; with nothing
predicted precision is 1, with nothing labelled recall is 1.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class EventScore:
    """Matching of predicted against labelled events.

    Attributes:
        tp: Matched pairs.
        fp: Predicted events without a match.
        fn: Labelled events without a match.
        start_err_s: Sum over matched pairs of ``|predicted start - labelled start|``.
        end_err_s: The same for ends.
    """

    tp: int = 0
    fp: int = 0
    fn: int = 0
    start_err_s: float = 0.0
    end_err_s: float = 0.0

    def __add__(self, other: EventScore) -> EventScore:
        return EventScore(
            self.tp + other.tp,
            self.fp + other.fp,
            self.fn + other.fn,
            self.start_err_s + other.start_err_s,
            self.end_err_s + other.end_err_s,
        )

    @property
    def precision(self) -> float:
        predicted = self.tp + self.fp
        return self.tp / predicted if predicted else 1.0

    @property
    def recall(self) -> float:
        labelled = self.tp + self.fn
        return self.tp / labelled if labelled else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r > 0 else 0.0

    @property
    def boundary_err_s(self) -> float | None:
        """Mean absolute boundary error over the matched events' starts and ends."""
        return (self.start_err_s + self.end_err_s) / (2 * self.tp) if self.tp else None

    def as_dict(self) -> dict[str, float | int | None]:
        err = self.boundary_err_s
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "boundary_err_s": None if err is None else round(err, 3),
        }


def match_events(
    predicted: Sequence[tuple[float, float]],
    labelled: Sequence[tuple[float, float]],
    tolerance_s: float,
) -> EventScore:
    """Match predicted events to labelled ones (see the module docstring).

    Example:
        >>> s = match_events([(8.0, 20.0)], [(7.0, 19.0)], 2.0)
        >>> (s.tp, s.fp, s.fn, s.boundary_err_s)
        (1, 0, 0, 1.0)
    """
    pairs: list[tuple[float, int, int, float, float]] = []
    for i, (ps, pe) in enumerate(predicted):
        for j, (ls, le) in enumerate(labelled):
            ds, de = abs(ps - ls), abs(pe - le)
            if ds <= tolerance_s and de <= tolerance_s:
                pairs.append((ds + de, i, j, ds, de))
    pairs.sort()
    used_p: set[int] = set()
    used_l: set[int] = set()
    start_err = end_err = 0.0
    for _, i, j, ds, de in pairs:
        if i in used_p or j in used_l:
            continue
        used_p.add(i)
        used_l.add(j)
        start_err += ds
        end_err += de
    tp = len(used_p)
    return EventScore(tp, len(predicted) - tp, len(labelled) - tp, start_err, end_err)


@dataclass(frozen=True, slots=True)
class Tally:
    """How many scored cases, and how many of them came out right."""

    n: int = 0
    right: int = 0

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.n + other.n, self.right + other.right)

    @property
    def rate(self) -> float | None:
        return self.right / self.n if self.n else None

    def as_dict(self) -> dict[str, float | int | None]:
        rate = self.rate
        return {"n": self.n, "right": self.right, "rate": None if rate is None else round(rate, 4)}


def span_truth(ts: F64, spans: Iterable[tuple[float, float, int]]) -> npt.NDArray[np.int64]:
    """Labelled count at each sample time; ``-1`` where no span covers the sample.

    Example:
        >>> span_truth(np.array([0.0, 2.0, 4.0, 6.0]), [(0, 2, 0), (4, 5, 1)]).tolist()
        [0, 0, 1, -1]
    """
    truth = np.full(len(ts), -1, np.int64)
    for start, end, n in spans:
        truth[(ts >= start - 1e-6) & (ts <= end + 1e-6)] = n
    return truth


def count_tally(truth: npt.NDArray[np.int64], counted: npt.NDArray[np.int64]) -> Tally:
    """Samples whose count equals the labelled one, among the labelled samples."""
    scored = truth >= 0
    return Tally(int(scored.sum()), int((counted[scored] == truth[scored]).sum()))


def flag_tally(flags: Sequence[int | None], truth: Sequence[bool]) -> tuple[Tally, Tally]:
    """A three-valued flag against labels: (decided among all, right among decided).

    ``None`` (person not found) and ``-1`` (unknown) are undecided.

    Example:
        >>> decided, right = flag_tally([1, 0, -1, None], [True, True, True, False])
        >>> (decided.n, decided.right, right.n, right.right)
        (4, 2, 2, 1)
    """
    decided = [(f, t) for f, t in zip(flags, truth, strict=True) if f is not None and f >= 0]
    right = sum(1 for f, t in decided if (f == 1) == t)
    return Tally(len(flags), len(decided)), Tally(len(decided), right)


def point_owner(xyxy: npt.NDArray[np.float32], at: tuple[float, float]) -> int | None:
    """Row of the box that contains ``at`` with its centre nearest to it, if any.

    Example:
        >>> boxes = np.array([[0.0, 0.0, 0.5, 1.0], [0.4, 0.0, 1.0, 1.0]], np.float32)
        >>> point_owner(boxes, (0.45, 0.5)), point_owner(boxes, (0.9, 0.5))
        (0, 1)
    """
    if len(xyxy) == 0:
        return None
    x, y = at
    inside = (xyxy[:, 0] <= x) & (x <= xyxy[:, 2]) & (xyxy[:, 1] <= y) & (y <= xyxy[:, 3])
    if not inside.any():
        return None
    cx = (xyxy[:, 0] + xyxy[:, 2]) / 2
    cy = (xyxy[:, 1] + xyxy[:, 3]) / 2
    dist = np.where(inside, (cx - x) ** 2 + (cy - y) ** 2, np.inf)
    return int(np.argmin(dist))
