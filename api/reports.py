"""The management report (PDF): ranking with the scheme's bands, score trend, deductions by
item and per-camera heat maps of where violations happen.

Like notices, reports count confirmed events only; with ``preview=True`` pending ones too, and
every page then says :data:`~api.notices.model.PREVIEW_BANNER`.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from PIL import Image as PILImage
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Image, KeepTogether, SimpleDocTemplate, Spacer
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.charts import (
    CameraHeat,
    ItemDeductions,
    ScoreTrend,
    deductions_chart,
    heatmap_chart,
    trend_chart,
)
from api.db.models import Branch, Camera, EventRecord
from api.notices.fonts import CjkFonts
from api.notices.lifecycle import overdue_counts
from api.notices.model import PREVIEW_BANNER, period_text, verified_still
from api.notices.pdf import MARGIN, WIDTH, PdfStyles, grid_table, page_decorator
from api.outputs import complete_file
from api.scorecards import scheme_period, scored_event
from api.store import EventFilter, Store
from rules.periods import DEFAULT_STAGES, Period, parse_period
from rules.scoring import Scorecard, score_period
from rules.standard import Scheme
from rules.types import EventStatus

logger = logging.getLogger(__name__)

TITLE = "网点服务质量检查管理报告"
DEFAULT_TZ = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True, slots=True)
class ReportData:
    """What the report shows."""

    scheme: Scheme
    period: Period
    preview: bool
    names: dict[str, str]
    cards: tuple[Scorecard, ...]
    trend: ScoreTrend
    deductions: ItemDeductions
    heats: tuple[CameraHeat, ...]
    overdue: dict[str, int] = field(default_factory=dict)
    """Issued notices per branch whose answer is overdue (today)."""


def previous_period(period: Period, stages: tuple[tuple[int, ...], ...]) -> Period:
    """The period of the same kind just before ``period``."""
    start = period.start
    if period.kind == "day":
        label = (start - timedelta(days=1)).isoformat()
    elif period.kind == "week":
        year, week, _ = (start - timedelta(days=7)).isocalendar()
        label = f"{year}-W{week:02d}"
    elif period.kind == "month":
        prev = start - timedelta(days=1)
        label = f"{prev.year}-{prev.month:02d}"
    elif period.kind == "quarter":
        prev = start - timedelta(days=1)
        label = f"{prev.year}-Q{(prev.month - 1) // 3 + 1}"
    elif period.kind == "stage":
        prev = start - timedelta(days=1)
        index = next(i for i, months in enumerate(stages) if prev.month in months)
        label = f"{prev.year}-S{index + 1}"
    else:
        label = str(start.year - 1)
    return parse_period(label, stages)


def period_series(period: Period, count: int, scheme: Scheme) -> list[Period]:
    """``count`` consecutive periods of ``period``'s kind ending with it, oldest first."""
    stages = tuple(tuple(s.months) for s in scheme.stages) or DEFAULT_STAGES
    out = [period]
    while len(out) < count:
        out.append(previous_period(out[-1], stages))
    return out[::-1]


def _counted(status: str, preview: bool) -> bool:
    return status == EventStatus.CONFIRMED or (preview and status == EventStatus.PENDING)


def camera_heats(
    events: list[EventRecord],
    period: Period,
    tz: ZoneInfo,
    preview: bool,
    names: dict[tuple[str, str], str],
    branch_names: dict[str, str],
    frames: Callable[[str, str], Path | None] | None = None,
) -> tuple[CameraHeat, ...]:
    """Per camera with counted violations in the period: their boxes over a still of it
    (the camera's clean reference frame from ``frames`` where there is one, else the still
    of one of the violations)."""
    groups: dict[tuple[str, str], list[EventRecord]] = defaultdict(list)
    for e in events:
        if e.camera_id and _counted(e.status, preview) and period.contains(e.start_ts, tz):
            groups[(e.branch_id, e.camera_id)].append(e)
    heats = []
    for (branch, camera), group in sorted(groups.items()):
        placed = [e for e in group if e.box is not None]
        still = frames(branch, camera) if frames is not None else None
        still = still or next((s for s in map(verified_still, group) if s is not None), None)
        heats.append(
            CameraHeat(
                title=f"{branch_names.get(branch, branch)} {names.get((branch, camera), camera)}",
                still=still,
                boxes=np.array([e.box for e in placed], np.float32).reshape(-1, 4),
                unplaced=len(group) - len(placed),
                branch=branch,
                camera=camera,
            )
        )
    return tuple(heats)


def report_data(
    session: Session,
    scheme_name: str,
    period: str,
    *,
    preview: bool = False,
    trend: int = 6,
    frames: Callable[[str, str], Path | None] | None = None,
) -> ReportData:
    """Read and score what the management report shows.

    Args:
        session: Session on the store.
        scheme_name: Scheme preset name or YAML path.
        period: Period text; the trend ends with it.
        preview: Count pending events too.
        trend: Periods in the trend chart.
        frames: The clean reference frame of a (branch, camera), for the heat maps.
    """
    scheme, per = scheme_period(scheme_name, period)
    store = Store(session)
    zones = store.branch_timezones()
    tz = next(iter(zones.values()), DEFAULT_TZ)
    branches = sorted(zones)
    branch_names = {b.id: b.name for b in session.scalars(select(Branch))}
    cameras = {
        (c.branch_id, c.camera_id): c.name or c.camera_id for c in session.scalars(select(Camera))
    }
    events = store.list_events(EventFilter(until=datetime.combine(per.end, time.min, tz)))
    records = [scored_event(e) for e in events]
    video = store.branch_video_items()
    series = period_series(per, trend, scheme)
    scores = np.zeros((len(branches), len(series)), np.float64)
    cards: tuple[Scorecard, ...] = ()
    for j, p in enumerate(series):
        cards, _ = score_period(
            records, scheme, p, branches=branches, tz=tz, preview=preview, video=video
        )
        by_branch = {c.branch: c.score for c in cards}
        scores[:, j] = [by_branch[b] for b in branches]
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for card in cards:
        for d in card.deductions:
            acc = totals[d.name]
            acc[0] += d.points
            acc[1] += d.money
            acc[2] += d.occurrences
    names = tuple(totals)
    return ReportData(
        scheme=scheme,
        period=per,
        preview=preview,
        names=branch_names,
        cards=cards,
        trend=ScoreTrend(
            periods=tuple(p.label for p in series),
            branches=tuple(branch_names.get(b, b) for b in branches),
            scores=scores,
        ),
        deductions=ItemDeductions(
            names=names,
            points=np.array([totals[n][0] for n in names], np.float64),
            money=np.array([totals[n][1] for n in names], np.float64),
            occurrences=np.array([totals[n][2] for n in names], np.int64),
        ),
        heats=camera_heats(events, per, tz, preview, cameras, branch_names, frames),
        overdue=overdue_counts(session),
    )


def ranking_rows(data: ReportData) -> list[tuple[str, ...]]:
    """Rows of the ranking table."""
    rows: list[tuple[str, ...]] = []
    for c in data.cards:
        bands = "；".join(
            b.name + (f" {b.amount:,.0f}元" if b.amount is not None else "") for b in c.bands
        )
        target = "—"
        if c.stage is not None:
            target = f"{c.stage.target:g}（{'达标' if c.stage.met else '未达标'}）"
        rows.append(
            (
                str(c.rank),
                data.names.get(c.branch, c.branch),
                f"{c.score:g}",
                f"{c.deducted:g}",
                f"{c.penalty_total:,.2f}",
                target,
                bands or "—",
            )
        )
    return rows


def overdue_text(data: ReportData) -> str:
    """The line on overdue rectification answers (empty when none is overdue)."""
    if not data.overdue:
        return ""
    each = "；".join(f"{data.names.get(b, b)} {n} 份" for b, n in sorted(data.overdue.items()))
    return f"逾期未回复的整改通知书共 {sum(data.overdue.values())} 份：{each}。"


def write_charts(data: ReportData, folder: Path) -> dict[str, Path]:
    """Write the report's charts as PNG files into ``folder``."""
    out = {
        "trend": trend_chart(data.trend, folder / "trend.png", f"得分趋势（{data.scheme.name}）"),
        "deductions": deductions_chart(data.deductions, folder / "deductions.png"),
    }
    for n, heat in enumerate(data.heats, start=1):
        out[f"heat:{heat.title}"] = heatmap_chart(heat, folder / f"heat_{n:02d}.png")
    return out


def _image(path: Path, width: float, max_height: float = 110 * mm) -> Image:
    with PILImage.open(path) as img:
        w, h = img.size
    scale = min(width / w, max_height / h)
    return Image(str(path), width=w * scale, height=h * scale)


def write_report(data: ReportData, path: Path, issued: date | None = None) -> Path:
    """Write the management report PDF (its charts go to ``<stem>_charts/`` beside it).

    Example:
        >>> with session_scope(engine) as session:
        ...     data = report_data(session, "psbc", "2026-11")
        >>> write_report(data, Path("out/report.pdf"))
    """
    charts = write_charts(data, path.parent / f"{path.stem}_charts")
    fonts = CjkFonts()
    styles = PdfStyles(fonts)
    issued = issued or date.today()
    story: list[Flowable] = []
    if data.preview:
        story += [
            styles.p(f"{PREVIEW_BANNER}：本报告包含尚未复核确认的事件，仅供预览。", styles.banner),
            Spacer(1, 4 * mm),
        ]
    story += [
        styles.p(TITLE, styles.title),
        styles.p(f"{period_text(data.period)}（{data.period.label}）", styles.issuer),
        styles.p(
            f"考核方案：《{data.scheme.name}》    生成日期：{issued.isoformat()}", styles.number
        ),
        styles.p("一、网点排名", styles.heading),
        grid_table(
            styles,
            ("排名", "网点", "得分", "扣分", "考核金额(元)", "阶段目标", "奖惩档次"),
            ranking_rows(data),
            (12 * mm, 32 * mm, 16 * mm, 14 * mm, 24 * mm, 28 * mm, 48 * mm),
            False,
        ),
    ]
    if overdue_text(data):
        story.append(styles.p(overdue_text(data), styles.banner))
    story += [
        KeepTogether([styles.p("二、得分趋势", styles.heading), _image(charts["trend"], WIDTH)]),
        KeepTogether(
            [styles.p("三、扣分项目分布", styles.heading), _image(charts["deductions"], WIDTH)]
        ),
    ]
    heats = [p for k, p in charts.items() if k.startswith("heat:")]
    for n, chart in enumerate(heats):
        heading = [styles.p("四、违规位置热力图（按摄像机）", styles.heading)] if n == 0 else []
        story.append(KeepTogether([*heading, _image(chart, WIDTH), Spacer(1, 4 * mm)]))
    footer = f"{TITLE} {data.period.label}"
    decorate = page_decorator(fonts, footer, data.preview)
    fonts.register()
    with complete_file(path) as tmp:
        doc = SimpleDocTemplate(
            str(tmp),
            pagesize=A4,
            leftMargin=MARGIN,
            rightMargin=MARGIN,
            topMargin=16 * mm,
            bottomMargin=18 * mm,
            title=f"{TITLE} {data.period.label}",
        )
        doc.build(story, onFirstPage=decorate, onLaterPages=decorate)
    logger.info("wrote %s (%d branches, %d heat maps)", path, len(data.cards), len(heats))
    return path
