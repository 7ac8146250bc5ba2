"""The management report: ranking, trend, deductions and heat maps from the store."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from api.db.session import make_engine, session_scope
from api.reports import ReportData, period_series, previous_period, report_data, write_report
from rules.periods import DEFAULT_STAGES, parse_period
from rules.standard import load_scheme
from tests.api.notices.seed import DAY, Seeded, seed_store


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    folder = tmp_path_factory.mktemp("reports")
    return seed_store(f"sqlite:///{folder / 'store.db'}", folder / "media")


def _data(seeded: Seeded, preview: bool, period: str = DAY) -> ReportData:
    engine = make_engine(seeded.url)
    with session_scope(engine) as session:
        data = report_data(session, "psbc", period, preview=preview, trend=8)
    engine.dispose()
    return data


@pytest.mark.parametrize(
    ("label", "previous"),
    [
        ("2026-11-20", "2026-11-19"),
        ("2026-01-01", "2025-12-31"),
        ("2026-W01", "2025-W52"),
        ("2026-01", "2025-12"),
        ("2026-Q1", "2025-Q4"),
        ("2026-S1", "2025-S3"),
        ("2026-S3", "2026-S2"),
        ("2026", "2025"),
    ],
)
def test_previous_period(label: str, previous: str) -> None:
    assert previous_period(parse_period(label), DEFAULT_STAGES).label == previous


def test_period_series_ends_with_the_period() -> None:
    series = period_series(parse_period("2026-11"), 3, load_scheme("psbc"))
    assert [p.label for p in series] == ["2026-09", "2026-10", "2026-11"]


def test_ranking_trend_and_deductions(seeded: Seeded) -> None:
    data = _data(seeded, preview=False)
    assert [(c.branch, c.rank, c.score) for c in data.cards] == [("b2", 1, 99.0), ("b1", 2, 97.0)]
    assert data.trend.periods[-1] == DAY and data.trend.periods[0] == "2026-11-13"
    assert data.trend.scores[0].tolist() == [99.0] + [100.0] * 6 + [97.0]  # b1: 11-13, 11-20
    assert dict(zip(data.deductions.names, data.deductions.money.tolist(), strict=True)) == {
        "保安坐姿不端正": 400.0,
        "员工睡觉": 400.0,
    }
    assert [(h.title, len(h.boxes)) for h in data.heats] == [
        ("城东支行 1号机 营业大厅", 1),
        ("城东支行 2号机 柜台", 2),
        ("城西支行 1号机 营业大厅", 1),
    ]


def test_preview_counts_pending_events(seeded: Seeded) -> None:
    data = _data(seeded, preview=True)
    assert "客户视线内杂物" in data.deductions.names
    assert [len(h.boxes) for h in data.heats][0] == 2


@pytest.mark.parametrize("preview", [False, True])
def test_report_pdf(seeded: Seeded, tmp_path: Path, preview: bool) -> None:
    path = write_report(_data(seeded, preview), tmp_path / "report.pdf", issued=date(2026, 11, 23))
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    pages = [re.sub(r"\s+", "", p) for p in text.split("\f") if p.strip()]
    joined = "".join(pages)
    for needle in (
        "网点服务质量检查管理报告",
        "一、网点排名",
        "二、得分趋势",
        "三、扣分项目分布",
        "四、违规位置热力图",
        "城东支行",
        "城西支行",
        "邮储银行服务质量提升方案",
    ):
        assert needle in joined
    assert all(("预览（含待审核事件）" in p) is preview for p in pages)
    charts = sorted(p.name for p in (tmp_path / "report_charts").iterdir())
    assert charts == ["deductions.png", "heat_01.png", "heat_02.png", "heat_03.png", "trend.png"]
    shutil.rmtree(tmp_path / "report_charts")
