"""Charts: trend, deductions by item, and the per-camera heat map over a still."""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import AbstractContextManager
from contextlib import nullcontext as does_not_raise
from pathlib import Path

import cv2
import numpy as np
import pytest

from api.charts import (
    CameraHeat,
    ChartError,
    ItemDeductions,
    ScoreTrend,
    deductions_chart,
    heat_density,
    heatmap_chart,
    trend_chart,
)
from tests.api.notices.seed import make_still

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("boxes", "peak"),
    [
        (np.zeros((0, 4), np.float32), 0.0),
        (np.array([[0.1, 0.1, 0.5, 0.5]], np.float32), 1.0),
        (np.array([[0.1, 0.1, 0.5, 0.5], [0.2, 0.2, 0.6, 0.6]], np.float32), 2.0),
        (np.array([[0.1, 0.1, 0.2, 0.2], [0.7, 0.7, 0.9, 0.9]], np.float32), 1.0),
    ],
)
def test_heat_density_peak_is_the_most_overlapping_boxes(boxes: np.ndarray, peak: float) -> None:
    density = heat_density(boxes)
    assert density.shape == (90, 160)
    assert density.max() == pytest.approx(peak)


def test_heat_density_is_where_the_boxes_are() -> None:
    density = heat_density(np.array([[0.0, 0.0, 0.25, 0.25]], np.float32))
    assert density[:20, :35].mean() > 0.5 and density[60:, 100:].max() < 1e-3


@pytest.mark.parametrize(
    ("shape", "expectation"),
    [((2, 3), does_not_raise()), ((3, 2), pytest.raises(ValueError, match="2 branches × 3"))],
)
def test_score_trend_checks_its_shape(
    shape: tuple[int, int], expectation: AbstractContextManager[object]
) -> None:
    with expectation:
        ScoreTrend(("a", "b", "c"), ("城东支行", "城西支行"), np.full(shape, 99.0))


def _png(path: Path) -> np.ndarray:
    image = cv2.imread(str(path))
    assert image is not None, path
    return image


def test_trend_and_deduction_charts_are_pngs(tmp_path: Path) -> None:
    trend = ScoreTrend(("2026-10", "2026-11"), ("城东支行",), np.array([[99.0, 96.5]]))
    deductions = ItemDeductions(
        ("员工睡觉", "保安坐姿不端正"),
        np.array([2.0, 1.0]),
        np.array([400.0, 200.0]),
        np.array([2, 1]),
    )
    for image in (
        _png(trend_chart(trend, tmp_path / "trend.png")),
        _png(deductions_chart(deductions, tmp_path / "items.png")),
    ):
        assert image.shape[0] > 200 and image.shape[1] > 500
        assert len(np.unique(image.reshape(-1, 3), axis=0)) > 20  # lines, bars and text


def test_heat_map_is_drawn_over_the_still(tmp_path: Path) -> None:
    still = tmp_path / "still.jpg"
    make_still(still, "zidane.jpg", "STAFF_SLEEPING c2", (0.3, 0.25, 0.55, 0.8))
    boxes = np.array([[0.3, 0.25, 0.55, 0.8], [0.32, 0.3, 0.56, 0.82]], np.float32)
    hot = _png(heatmap_chart(CameraHeat("城东支行 2号机", still, boxes, 1), tmp_path / "h.png"))
    cold = _png(heatmap_chart(CameraHeat("城东支行 2号机", still, boxes[:0]), tmp_path / "c.png"))
    assert hot.shape == cold.shape
    changed = np.abs(hot.astype(int) - cold.astype(int)).sum(axis=2) > 60
    h, w = changed.shape
    # The overlay changes the picture where the boxes are (middle), not in the far corners.
    assert changed[h // 3 : 2 * h // 3, int(w * 0.3) : int(w * 0.55)].mean() > 0.3
    assert changed[: h // 10, : w // 10].mean() < 0.05


def test_heat_map_without_still_draws_on_blank(tmp_path: Path) -> None:
    image = _png(
        heatmap_chart(
            CameraHeat("城东支行 1号机", None, np.array([[0.1, 0.1, 0.4, 0.4]], np.float32)),
            tmp_path / "blank.png",
        )
    )
    assert image.size > 0


CHARTS_WITHOUT_FONT_CACHE = """
import sys, warnings
from pathlib import Path
import numpy as np
from matplotlib import font_manager
from api.charts import (CameraHeat, ItemDeductions, ScoreTrend, deductions_chart, heatmap_chart,
                        trend_chart)
from vision.fonts import locate_font

warnings.simplefilter("error")  # any warning (a missing glyph first of all) fails the run
out = Path(sys.argv[1])
trend_chart(ScoreTrend(("2026-10", "2026-11"), ("城东支行", "城西支行"),
                       np.array([[99.0, 96.5], [97.0, 98.0]])), out / "trend.png")
deductions_chart(ItemDeductions(("员工睡觉", "保安坐姿不端正"), np.array([2.0, 1.0]),
                                np.array([400.0, 200.0]), np.array([2, 1])), out / "items.png")
deductions_chart(ItemDeductions((), np.zeros(0), np.zeros(0), np.zeros(0, np.int64)),
                 out / "none.png")
heatmap_chart(CameraHeat("城东支行 大堂", None, np.array([[0.1, 0.1, 0.4, 0.4]], np.float32), 2),
              out / "heat.png")
face = locate_font()
found = font_manager.findfont(font_manager.FontProperties(family=[face.face]),
                              fallback_to_default=False)
assert Path(found) == face.path, found
print("ok", face.path)
"""


def test_every_chart_renders_chinese_with_an_empty_font_cache(tmp_path: Path) -> None:
    """matplotlib with no font cache and no system font lookup still sets every character:
    the chart font is registered by file, and a missing glyph would fail the run."""
    config = tmp_path / "mplconfig"
    config.mkdir()
    env = {**os.environ, "MPLCONFIGDIR": str(config), "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-c", CHARTS_WITHOUT_FONT_CACHE, str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("ok ")
    for name in ("trend", "items", "none", "heat"):
        assert _png(tmp_path / f"{name}.png").size > 0


def test_a_character_missing_from_the_font_fails_the_chart(tmp_path: Path) -> None:
    trend = ScoreTrend(("2026-10", "2026-11"), ("ธนาคาร支行",), np.array([[99.0, 96.5]]))
    with pytest.raises(ChartError, match="THAI CHARACTER"):
        trend_chart(trend, tmp_path / "trend.png")
    assert not (tmp_path / "trend.png").exists()
