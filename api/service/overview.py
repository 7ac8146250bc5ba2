"""What the overview and the scorecard pages show beyond the counts: money, deductions per
item, a score trend per branch and heat maps of where in each camera's frame violations were.

The figures come from :func:`api.reports.report_data` (the management report's numbers), so
the UI and the PDF report never disagree. Heat maps are drawn over the camera's clean
reference frame (``references/`` in the scan's work folder, next to a SQLite store) where one
was marked, else over the still of one of the violations.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy.orm import Session

from api.charts import CameraHeat, heatmap_chart
from api.db.session import parse_db_url
from api.reports import ReportData, report_data
from api.scan.driver import references_root
from rules.scoring import Scorecard
from vision.reference import ReferenceError, ReferenceStore

logger = logging.getLogger(__name__)

TREND_PERIODS = 6
SPARK_SIZE = (120, 28)
"""Width and height (pixels) of a trend sparkline."""


@dataclass(frozen=True, slots=True)
class BranchPictures:
    """One branch's scorecard, score trend and heat maps for a period."""

    card: Scorecard | None
    periods: tuple[str, ...]
    scores: tuple[float, ...]
    heats: tuple[CameraHeat, ...]

    @property
    def sparkline(self) -> str:
        """SVG ``points`` of the score trend (oldest left; higher is better)."""
        return sparkline(self.scores)


def sparkline(scores: tuple[float, ...], size: tuple[int, int] = SPARK_SIZE) -> str:
    """Polyline points of a series scaled into ``size`` (a flat series sits in the middle)."""
    if not scores:
        return ""
    w, h = size
    values = np.asarray(scores, np.float64)
    lo, hi = float(values.min()), float(values.max())
    span = hi - lo
    xs = np.linspace(2, w - 2, len(values)) if len(values) > 1 else np.array([w / 2])
    ys = (h - 2 - (values - lo) / span * (h - 4)) if span > 0 else np.full(len(values), h / 2)
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))


def reference_frames(db_url: str) -> Callable[[str, str], Path | None]:
    """The clean reference frame of a (branch, camera), looked up next to a SQLite store."""
    url = parse_db_url(db_url)
    folder = (
        Path(url.database).resolve().parent
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
        else None
    )

    def frame(branch: str, camera: str) -> Path | None:
        if folder is None:
            return None
        try:
            return ReferenceStore(references_root(folder)).still_path(branch, camera)
        except ReferenceError:
            return None

    return frame


def branch_pictures(
    db: Session, db_url: str, scheme: str, period: str
) -> dict[str, BranchPictures]:
    """Per branch id: scorecard, trend over :data:`TREND_PERIODS` periods and heat maps.

    Raises:
        rules.periods.PeriodError, rules.standard.StandardError: Bad period or scheme.
    """
    data: ReportData = report_data(
        db, scheme, period, trend=TREND_PERIODS, frames=reference_frames(db_url)
    )
    cards = {c.branch: c for c in data.cards}
    out: dict[str, BranchPictures] = {}
    # The trend's rows are the stored branches in id order.
    for row, branch in enumerate(sorted(data.names)):
        out[branch] = BranchPictures(
            card=cards.get(branch),
            periods=data.trend.periods,
            scores=tuple(float(v) for v in data.trend.scores[row]),
            heats=tuple(h for h in data.heats if h.branch == branch),
        )
    return out


def heatmap_png(heat: CameraHeat) -> bytes:
    """The heat map of one camera as PNG bytes."""
    with tempfile.TemporaryDirectory(prefix="bw-heat-") as tmp:
        return heatmap_chart(heat, Path(tmp) / "heat.png").read_bytes()
