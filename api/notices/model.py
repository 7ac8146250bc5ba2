"""The content of a rectification notice (整改通知书), built from the store.

A notice covers one branch and period: its confirmed violations (each with local time, camera,
item, the standard's description, points and money), evidence stills, the branch's totals
under the scheme, a deadline and responsible role per item, and a sign-off block. With
``preview=True`` pending events are counted too and the content says so (:data:`PREVIEW_BANNER`).

Points and money of a single violation are what it adds to the branch's result when the
branch's findings are charged in time order, so caps and repeats (同样问题再犯) show on the
violation where they take effect and the lines add up to the scorecard's totals.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db.models import Branch, Camera, EventRecord
from api.notices.policy import NoticePolicy
from api.scorecards import scheme_period
from api.store import EventFilter, Store
from rules.periods import Period
from rules.scoring import BandResult, Scorecard, ScoredEvent, score_period
from rules.standard import Catalog, Scheme, load_catalog
from rules.types import EventStatus
from vision.digest import file_sha256

logger = logging.getLogger(__name__)

TITLE = "整改通知书"
PREVIEW_BANNER = "预览（含待审核事件）"
"""Printed on every page of a notice that counts pending events."""


class NoticeError(LookupError):
    """A notice cannot be built: the branch is not stored."""


class NoticeFilesExist(NoticeError):
    """The folder of a new version already holds files (older files are never overwritten)."""


@dataclass(frozen=True, slots=True)
class NoticeLine:
    """One violation as the notice's table lists it (times in the branch's time zone)."""

    seq: int
    event_id: int
    key: str
    start: datetime
    end: datetime
    camera: str
    camera_name: str
    item: str
    item_name: str
    description: str
    points: float
    money: float
    pending: bool
    still: Path | None

    @property
    def time_text(self) -> str:
        """``11-20 09:41:05–09:43:10`` (the end's date too when it differs)."""
        end_fmt = "%H:%M:%S" if self.end.date() == self.start.date() else "%m-%d %H:%M:%S"
        return f"{self.start:%m-%d %H:%M:%S}–{self.end:{end_fmt}}"


@dataclass(frozen=True, slots=True)
class ItemTotal:
    """One item's totals with what the branch must do about it."""

    item: str
    name: str
    category: str
    occurrences: int
    repeats: int
    points: float
    money: float
    deadline: date
    responsible: str
    quote: str
    source: str


@dataclass(frozen=True, slots=True)
class NoticeContent:
    """Everything a rendered notice shows."""

    number: str
    version: int
    issued: date
    issuer: str
    branch: str
    branch_name: str
    period: Period
    scheme_id: str
    scheme_name: str
    scheme_source: str
    preview: bool
    pending: int
    lines: tuple[NoticeLine, ...]
    items: tuple[ItemTotal, ...]
    stills: tuple[NoticeLine, ...]
    stills_left_out: int
    base: float
    score: float
    deducted: float
    item_money: float
    stage_penalty: float
    bands: tuple[BandResult, ...]
    penalty_total: float
    rank: int | None
    branches: int
    report_deadline: date
    signatories: tuple[str, ...]

    @property
    def title(self) -> str:
        return TITLE

    @property
    def period_text(self) -> str:
        return period_text(self.period)

    @property
    def deadline(self) -> date:
        """The latest item deadline (the issue date when there is nothing to rectify)."""
        return max((i.deadline for i in self.items), default=self.issued)

    @property
    def standards(self) -> tuple[str, ...]:
        """Documents the items' wording is quoted from, in order of appearance."""
        seen: dict[str, None] = {}
        for item in self.items:
            for part in item.source.split("/"):
                if part.strip():
                    seen.setdefault(part.strip(), None)
        return tuple(seen)

    @property
    def basis(self) -> str:
        """The inspection basis paragraph."""
        standards = "、".join(f"《{s}》" for s in self.standards)
        issuer = self.issuer or "我行"
        text = (
            f"根据《{self.scheme_name}》"
            + (f"及{standards}" if standards else "")
            + f"的有关规定，{issuer}对你网点{self.period_text}营业期间的监控录像进行了非现场检查。"
        )
        if not self.lines:
            return text + "经检查，本期未发现违反上述规定的问题。"
        found = f"经复核确认，共发现问题{len(self.lines)}项（涉及{len(self.items)}个检查项目）"
        if self.preview:
            found = (
                f"共发现问题{len(self.lines)}项（涉及{len(self.items)}个检查项目），"
                f"其中{self.pending}项尚待复核"
            )
        return text + found + "，现将有关情况通知如下。"

    @property
    def addressee(self) -> str:
        return f"{self.branch_name}："

    @property
    def preview_note(self) -> str:
        """Why a preview is not a notice ('' for a final one)."""
        if not self.preview:
            return ""
        return (
            f"{PREVIEW_BANNER}：本文件包含{self.pending}项尚未经督导复核确认的事件，"
            "仅供预览，不作为正式整改通知。"
        )


def period_text(period: Period) -> str:
    """The period in Chinese: ``2026年11月20日`` or ``2026年11月1日至2026年11月30日``."""
    first, last = period.start, period.end - timedelta(days=1)
    if first == last:
        return _day(first)
    return f"{_day(first)}至{_day(last)}"


def _day(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def notice_number(
    policy: NoticePolicy, issued: date, branch: str, period: Period, version: int
) -> str:
    """``整改〔2026〕demo-2026-11-20-01号``: prefix, issue year, branch, period, version."""
    return f"{policy.number_prefix}〔{issued.year}〕{branch}-{period.label}-{version:02d}号"


def _counted(status: str, preview: bool) -> bool:
    return status == EventStatus.CONFIRMED or (preview and status == EventStatus.PENDING)


def _charges(
    earlier: Sequence[ScoredEvent],
    ordered: Sequence[ScoredEvent],
    scheme: Scheme,
    period: Period,
    tz: ZoneInfo,
    catalog: Catalog,
) -> list[tuple[float, float]]:
    """Points and money each of ``ordered`` adds when the branch's findings are charged in turn."""
    out: list[tuple[float, float]] = []
    before = (0.0, 0.0)
    for i in range(len(ordered)):
        cards, _ = score_period(
            [*earlier, *ordered[: i + 1]], scheme, period, tz=tz, preview=True, catalog=catalog
        )
        total = (
            (sum(d.points for d in cards[0].deductions), sum(d.money for d in cards[0].deductions))
            if cards
            else (0.0, 0.0)
        )
        out.append((round(total[0] - before[0], 6), round(total[1] - before[1], 2)))
        before = total
    return out


def verified_still(event: EventRecord) -> Path | None:
    """The event's still if the file is there and matches the sha256 stored with it."""
    value = event.evidence.get("still")
    if not isinstance(value, str) or not value:
        return None
    path = Path(value)
    if not path.is_file():
        logger.warning("event %d: still %s is gone", event.id, path)
        return None
    if file_sha256(path) != event.evidence.get("still_sha256"):
        logger.error("event %d: still %s does not match its sha256; left out", event.id, path)
        return None
    return path


def _unscored_items(
    lines: Sequence[NoticeLine],
    card: Scorecard,
    policy: NoticePolicy,
    issued: date,
    catalog: Catalog,
) -> tuple[ItemTotal, ...]:
    """Items found but not scored by the scheme: listed without points, still to rectify."""
    scored = {d.item for d in card.deductions}
    counts: dict[str, int] = {}
    for line in lines:
        if line.item not in scored:
            counts[line.item] = counts.get(line.item, 0) + 1
    out = []
    for code, n in sorted(counts.items()):
        spec = catalog.items.get(code)
        rect = policy.rectification(code)
        out.append(
            ItemTotal(
                item=code,
                name=spec.name if spec else code,
                category=spec.category if spec else "",
                occurrences=n,
                repeats=0,
                points=0.0,
                money=0.0,
                deadline=issued + timedelta(days=rect.deadline_days),
                responsible=rect.responsible,
                quote=spec.quote if spec else "",
                source=spec.source if spec else "",
            )
        )
    return tuple(out)


def branch_scorecard(
    store: Store, branch: str, scheme: Scheme, period: Period, tz: ZoneInfo, preview: bool
) -> tuple[Scorecard, list[EventRecord]]:
    """The branch's scorecard (ranked among all stored branches) and the events it read.

    Events before the period are read too: they decide repeats.
    """
    until = datetime.combine(period.end, time.min, tz)
    events = store.list_events(EventFilter(until=until))
    records = [
        ScoredEvent(e.item, e.branch_id, e.start_ts, EventStatus(e.status), e.key) for e in events
    ]
    cards, _ = score_period(
        records, scheme, period, branches=sorted(store.branch_timezones()), tz=tz, preview=preview
    )
    card = next(c for c in cards if c.branch == branch)
    return card, events


def build_notice(
    session: Session,
    branch: str,
    period: str,
    *,
    scheme: str = "psbc",
    policy: NoticePolicy | None = None,
    preview: bool = False,
    version: int = 1,
    issued: date | None = None,
) -> NoticeContent:
    """Build the notice of a branch for a period from the stored events.

    Args:
        session: Session on the store.
        branch: Branch id.
        period: Period text (``2026-11-20``, ``2026-11``, ``2026-S2`` …).
        scheme: Scheme preset name or YAML path.
        policy: Issuer, deadlines and roles (default :class:`NoticePolicy`).
        preview: Count pending events too (the notice is then labelled a preview).
        version: Version of the notice for this branch and period.
        issued: Date of the notice (default: today in the branch's time zone).

    Returns:
        The notice's content.

    Raises:
        NoticeError: The branch is not stored.
        rules.periods.PeriodError: Malformed period.
        rules.standard.StandardError: Unknown or invalid scheme.

    Example:
        >>> with session_scope(engine) as session:
        ...     content = build_notice(session, "b001", "2026-11", preview=True)
    """
    policy = policy or NoticePolicy()
    row = session.get(Branch, branch)
    if row is None:
        known = sorted(session.scalars(select(Branch.id)))
        raise NoticeError(f"unknown branch {branch!r}; stored branches: {known}")
    tz = ZoneInfo(row.timezone)
    rules_scheme, per = scheme_period(scheme, period)
    catalog = load_catalog()
    store = Store(session)
    card, events = branch_scorecard(store, branch, rules_scheme, per, tz, preview)
    own = sorted(
        (e for e in events if e.branch_id == branch and _counted(e.status, preview)),
        key=lambda e: (e.start_ts, e.key),
    )
    earlier = [e for e in own if e.start_ts.astimezone(tz).date() < per.start]
    found = [e for e in own if per.contains(e.start_ts, tz)]
    charges = _charges(
        [ScoredEvent(e.item, branch, e.start_ts, EventStatus.CONFIRMED, e.key) for e in earlier],
        [ScoredEvent(e.item, branch, e.start_ts, EventStatus.CONFIRMED, e.key) for e in found],
        rules_scheme,
        per,
        tz,
        catalog,
    )
    cameras = {
        cam.camera_id: cam.name
        for cam in session.scalars(select(Camera).where(Camera.branch_id == branch))
    }
    lines = tuple(
        NoticeLine(
            seq=i + 1,
            event_id=e.id,
            key=e.key,
            start=e.start_ts.astimezone(tz),
            end=e.end_ts.astimezone(tz),
            camera=e.camera_id,
            camera_name=cameras.get(e.camera_id) or e.camera_id or "—",
            item=e.item,
            item_name=catalog.items[e.item].name if e.item in catalog.items else e.item,
            description=catalog.items[e.item].description if e.item in catalog.items else "",
            points=points,
            money=money,
            pending=e.status == EventStatus.PENDING,
            still=verified_still(e),
        )
        for i, (e, (points, money)) in enumerate(zip(found, charges, strict=True))
    )
    issued = issued or datetime.now(tz).date()
    items = tuple(
        ItemTotal(
            item=d.item,
            name=d.name,
            category=d.category,
            occurrences=d.occurrences,
            repeats=d.repeats,
            points=d.points,
            money=d.money,
            deadline=issued + timedelta(days=policy.rectification(d.item).deadline_days),
            responsible=policy.rectification(d.item).responsible,
            quote=catalog.items[d.item].quote,
            source=catalog.items[d.item].source,
        )
        for d in card.deductions
    ) + _unscored_items(lines, card, policy, issued, catalog)
    with_still = [line for line in lines if line.still is not None]
    return NoticeContent(
        number=notice_number(policy, issued, branch, per, version),
        version=version,
        issued=issued,
        issuer=policy.issuer,
        branch=branch,
        branch_name=row.name,
        period=per,
        scheme_id=rules_scheme.id,
        scheme_name=rules_scheme.name,
        scheme_source=rules_scheme.source,
        preview=preview,
        pending=sum(line.pending for line in lines),
        lines=lines,
        items=items,
        stills=tuple(with_still[: policy.max_stills]),
        stills_left_out=max(0, len(with_still) - policy.max_stills),
        base=card.base,
        score=card.score,
        deducted=card.deducted,
        item_money=card.item_money,
        stage_penalty=card.stage.penalty if card.stage else 0.0,
        bands=card.bands,
        penalty_total=round(card.penalty_total, 2),
        rank=card.rank,
        branches=card.branches,
        report_deadline=issued + timedelta(days=policy.report_days),
        signatories=tuple(policy.signatories),
    )
