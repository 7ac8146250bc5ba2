"""Charts of scorecards as PNG files (matplotlib, Agg): score trend, deductions by item, and a
per-camera heat map of where violations happen, drawn over the camera's still.

Every function takes typed data and a target path and returns the path; nothing here reads the
store (see :mod:`api.reports`). Text is set in Noto Sans CJK SC, the font file of
:func:`vision.fonts.locate_font` registered with matplotlib by path (never looked up in
matplotlib's font cache); a character the font lacks fails the chart (:class:`ChartError`)
instead of drawing a box.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import cv2
import matplotlib
import numpy as np
import numpy.typing as npt
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from scipy.ndimage import gaussian_filter

from vision.fonts import locate_font

logger = logging.getLogger(__name__)

DPI = 110
HEAT_GRID = (90, 160)
"""Rows and columns of the heat map's grid (16:9, like the cameras)."""


@dataclass(frozen=True, slots=True)
class ScoreTrend:
    """Scores of branches over consecutive periods.

    Attributes:
        periods: Period labels, oldest first (``P``).
        branches: Branch names (``B``).
        scores: ``(B, P)`` scores.
    """

    periods: tuple[str, ...]
    branches: tuple[str, ...]
    scores: npt.NDArray[np.float64]

    def __post_init__(self) -> None:
        if self.scores.shape != (len(self.branches), len(self.periods)):
            raise ValueError(
                f"scores shape {self.scores.shape} does not match "
                f"{len(self.branches)} branches × {len(self.periods)} periods"
            )


@dataclass(frozen=True, slots=True)
class ItemDeductions:
    """Points and money lost per item (``N`` items)."""

    names: tuple[str, ...]
    points: npt.NDArray[np.float64]
    money: npt.NDArray[np.float64]
    occurrences: npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class CameraHeat:
    """Where a camera's violations were, as normalised ``(N, 4)`` boxes.

    Attributes:
        title: Branch and camera name.
        still: A still of the camera to draw over (``None``: a blank frame).
        boxes: ``x0, y0, x1, y1`` in 0–1 of each placed violation.
        unplaced: Violations without a position (not drawn).
        branch: Branch id.
        camera: Camera id.
    """

    title: str
    still: Path | None
    boxes: npt.NDArray[np.float32]
    unplaced: int = 0
    branch: str = ""
    camera: str = ""


class ChartError(RuntimeError):
    """A chart cannot be drawn as it should be (a character its font lacks)."""


_registered: set[str] = set()
"""Font files added to matplotlib's font manager by this process."""


def chart_family() -> str:
    """Add the CJK font file to matplotlib by path (once per process); its SC face's family.

    Raises:
        vision.fonts.FontMissing: No verified Noto Sans CJK file is installed.
    """
    face = locate_font()
    if str(face.path) not in _registered:
        font_manager.fontManager.addfont(face.path)  # every face of the collection
        _registered.add(str(face.path))
    return face.face


@contextmanager
def cjk_style() -> Iterator[None]:
    """Matplotlib settings for Chinese text; a glyph missing from the font is an error.

    Raises:
        ChartError: Some text drawn inside has a character the font lacks.
        vision.fonts.FontMissing: No verified Noto Sans CJK file is installed.
    """
    family = chart_family()
    with (
        warnings.catch_warnings(),
        matplotlib.rc_context({"font.family": [family], "axes.unicode_minus": False}),
    ):
        warnings.filterwarnings("error", message=r"Glyph \d+ .*missing from", category=UserWarning)
        try:
            yield
        except UserWarning as exc:
            raise ChartError(f"chart text cannot be set in {family}: {exc}") from exc


def _save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, format="png")
    logger.debug("wrote chart %s", path)
    return path


def trend_chart(trend: ScoreTrend, path: Path, title: str = "得分趋势") -> Path:
    """Lines of each branch's score per period.

    Example:
        >>> trend = ScoreTrend(("2026-10", "2026-11"), ("城东支行",), np.array([[98.0, 96.0]]))
        >>> trend_chart(trend, Path("trend.png"))
    """
    with cjk_style():
        fig = Figure(figsize=(7.2, 3.6))
        ax = fig.add_subplot()
        x = np.arange(len(trend.periods))
        for name, scores in zip(trend.branches, trend.scores, strict=True):
            ax.plot(x, scores, marker="o", label=name)
        ax.set_xticks(x, trend.periods, rotation=30 if len(x) > 6 else 0)
        low = float(trend.scores.min()) if trend.scores.size else 0.0
        ax.set_ylim(min(low - 2.0, 90.0), 100.5)
        ax.set_ylabel("得分")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        if trend.branches:
            ax.legend(fontsize=8, loc="lower left", ncol=min(4, len(trend.branches)))
        fig.tight_layout()
        return _save(fig, path)


def deductions_chart(data: ItemDeductions, path: Path, title: str = "扣分项目分布") -> Path:
    """Horizontal bars of points lost per item, annotated with occurrences and money."""
    with cjk_style():
        height = 1.2 + 0.4 * max(1, len(data.names))
        fig = Figure(figsize=(7.2, height))
        ax = fig.add_subplot()
        order = np.argsort(data.points, kind="stable")
        y = np.arange(len(order))
        ax.barh(y, data.points[order], color="#c0392b")
        ax.set_yticks(y, [data.names[i] for i in order])
        for yi, i in zip(y, order, strict=True):
            ax.text(
                float(data.points[i]),
                float(yi),
                f" {int(data.occurrences[i])}次  {data.money[i]:,.0f}元",
                va="center",
                fontsize=8,
            )
        top = float(data.points.max()) if data.points.size else 1.0
        ax.set_xlim(0, max(top, 1.0) * 1.45)
        ax.set_xlabel("扣分")
        ax.set_title(title)
        if not data.names:
            ax.text(0.5, 0.5, "本期无扣分", transform=ax.transAxes, ha="center", va="center")
        fig.tight_layout()
        return _save(fig, path)


def heat_density(
    boxes: npt.NDArray[np.float32], grid: tuple[int, int] = HEAT_GRID, sigma: float = 2.0
) -> npt.NDArray[np.float64]:
    """Violation density on a grid: each box adds 1 over its area, then a Gaussian blur.

    Args:
        boxes: ``(N, 4)`` normalised boxes.
        grid: Rows and columns.
        sigma: Blur in grid cells.

    Returns:
        ``grid``-shaped density whose maximum is the most violations covering one place.
    """
    rows, cols = grid
    density = np.zeros(grid, np.float64)
    if len(boxes) == 0:
        return density
    b = np.clip(boxes.reshape(-1, 4).astype(np.float64), 0.0, 1.0)
    c0 = np.floor(b[:, 0] * cols).astype(int)
    c1 = np.maximum(c0 + 1, np.ceil(b[:, 2] * cols).astype(int))
    r0 = np.floor(b[:, 1] * rows).astype(int)
    r1 = np.maximum(r0 + 1, np.ceil(b[:, 3] * rows).astype(int))
    # Summed-area trick: +1 at the top-left corner, -1 past the right and bottom edges.
    marks = np.zeros((rows + 1, cols + 1), np.float64)
    np.add.at(marks, (r0, c0), 1.0)
    np.add.at(marks, (r0, c1), -1.0)
    np.add.at(marks, (r1, c0), -1.0)
    np.add.at(marks, (r1, c1), 1.0)
    density = marks.cumsum(axis=0).cumsum(axis=1)[:rows, :cols]
    peak = density.max()
    blurred = gaussian_filter(density, sigma)
    return np.asarray(blurred * (peak / blurred.max()) if blurred.max() > 0 else blurred)


def heatmap_chart(heat: CameraHeat, path: Path) -> Path:
    """The camera's still with the violation density over it and the boxes outlined."""
    image: npt.NDArray[np.uint8] | None = None
    if heat.still is not None:
        read = cv2.imread(str(heat.still))
        if read is None:
            logger.warning(
                "heat map %s: still %s is unreadable; drawing on blank", heat.title, heat.still
            )
        else:
            image = np.asarray(cv2.cvtColor(read, cv2.COLOR_BGR2RGB), np.uint8)
    if image is None:
        image = np.full((360, 640, 3), 200, np.uint8)
    h, w = image.shape[:2]
    density = heat_density(heat.boxes)
    with cjk_style():
        fig = Figure(figsize=(6.4, 6.4 * h / w + 0.5))
        ax = fig.add_subplot()
        ax.imshow(image, extent=(0, w, h, 0))
        masked = np.ma.masked_less_equal(density, 0.05 * max(float(density.max()), 1e-9))
        shown = ax.imshow(
            masked,
            extent=(0, w, h, 0),
            cmap="jet",
            alpha=0.45,
            vmin=0,
            vmax=max(float(density.max()), 1.0),
            interpolation="bilinear",
        )
        for x0, y0, x1, y1 in heat.boxes.reshape(-1, 4):
            ax.add_patch(
                Rectangle(
                    (x0 * w, y0 * h),
                    (x1 - x0) * w,
                    (y1 - y0) * h,
                    fill=False,
                    ec="white",
                    lw=0.8,
                )
            )
        ax.set_axis_off()
        extra = f"，{heat.unplaced}项无位置" if heat.unplaced else ""
        ax.set_title(f"{heat.title}（{len(heat.boxes)}项违规{extra}）", fontsize=10)
        fig.colorbar(shown, ax=ax, fraction=0.03, pad=0.01, label="违规次数")
        fig.tight_layout()
        return _save(fig, path)
