"""The content of a rectification notice (整改通知书), built from the store.

A notice covers one branch and period: its confirmed violations (each with local time, camera,
item, what was seen, who confirmed it, points and money), evidence stills, the branch's totals
under the scheme, a deadline and responsible role per item, how to appeal, and a sign-off
block naming who checked and who reviewed the findings. With
``preview=True`` pending events are counted too and the content says so (:data:`PREVIEW_BANNER`).

Points and money of a single violation are what it adds to the branch's result when the
branch's findings are charged in time order, so caps and repeats (同样问题再犯) show on the
violation where they take effect and the lines add up to the scorecard's totals.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.config import ConfigError, load_config
from api.db.auth_models import User
from api.db.models import Branch, Camera, EventRecord, Review, Run
from api.notices.findings import Seen, describe, requirement
from api.notices.policy import NoticePolicy
from api.scorecards import scheme_period, scored_event
from api.store import EventFilter, Store
from rules.coverage import ManualItem, counts, video_items
from rules.periods import Period
from rules.scoring import BandResult, Scorecard, ScoredEvent, score_period
from rules.standard import DEFAULT_SCHEME, Catalog, Scheme, load_catalog
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
    still_time: datetime | None
    """The moment the still shows (the time stamped on it), in the branch's zone."""
    checked_by: str
    """Who confirmed the finding ('' while pending)."""
    reviewed_by: tuple[str, ...]
    """Others who reviewed it (relabelled, reopened, confirmed again)."""

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
    requirement: str
    """The standard's requirement, without its penalty clause."""


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
    rule_title: str
    rule_number: str
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
    appeal_deadline: date
    appeal_to: str
    cc: tuple[str, ...]
    signatories: tuple[str, ...]
    manual: tuple[ManualItem, ...] = ()
    """Items of the scheme checked by hand (人工检查项) and their recorded findings."""

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
    def inspectors(self) -> tuple[str, ...]:
        """Who confirmed the findings (检查人), in order of first appearance."""
        return tuple(dict.fromkeys(line.checked_by for line in self.lines if line.checked_by))

    @property
    def reviewers(self) -> tuple[str, ...]:
        """Who else reviewed the findings (复核人), in order of first appearance."""
        names = (n for line in self.lines for n in line.reviewed_by)
        return tuple(dict.fromkeys(n for n in names if n not in self.inspectors))

    @property
    def rule_citation(self) -> str:
        """``《示例银行网点服务质量考核办法》（示银发〔2026〕18号）``."""
        return f"《{self.rule_title}》" + (f"（{self.rule_number}）" if self.rule_number else "")

    @property
    def basis(self) -> str:
        """The inspection basis paragraph."""
        issuer = self.issuer or "我行"
        text = (
            f"根据{self.rule_citation}的有关规定，{issuer}对你网点{self.period_text}"
            "营业期间的监控录像进行了非现场检查。"
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
        """The 主送 line (the branch)."""
        return f"{self.branch_name}："

    @property
    def copies(self) -> str:
        """The 抄送 line ('' when nobody gets a copy)."""
        return f"抄送：{'、'.join(self.cc)}。" if self.cc else ""

    @property
    def appeal(self) -> str:
        """How and by when the branch may appeal."""
        to = self.appeal_to or self.issuer or "检查部门"
        return (
            f"如对上述检查结果有异议，请于{_day(self.appeal_deadline)}前通过复核系统或书面形式"
            f"向{to}提出申诉，写明所申诉问题的序号、理由，并附相关证明材料；逾期未提出的，"
            "视为对检查结果无异议。申诉期间整改工作不停止。"
        )

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
    video: Mapping[str, frozenset[str]],
) -> list[tuple[float, float]]:
    """Points and money each of ``ordered`` adds when the branch's findings are charged in turn."""
    out: list[tuple[float, float]] = []
    before = (0.0, 0.0)
    for i in range(len(ordered)):
        cards, _ = score_period(
            [*earlier, *ordered[: i + 1]],
            scheme,
            period,
            tz=tz,
            preview=True,
            catalog=catalog,
            video=video,
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


def review_names(
    session: Session, event_ids: Sequence[int]
) -> dict[int, tuple[str, tuple[str, ...]]]:
    """Per event: who confirmed it last and who else reviewed it (display names)."""
    users = {u: d for u, d in session.execute(select(User.username, User.display_name))}
    rows = session.execute(
        select(Review.event_id, Review.reviewer, Review.after_status)
        .where(Review.event_id.in_(event_ids))
        .order_by(Review.created_at, Review.id)
    )
    confirmed: dict[int, str] = {}
    everyone: dict[int, dict[str, None]] = {}
    for event_id, reviewer, after in rows:
        name = users.get(reviewer) or reviewer
        everyone.setdefault(event_id, {})[name] = None
        if after == EventStatus.CONFIRMED:
            confirmed[event_id] = name
    return {
        i: (confirmed.get(i, ""), tuple(n for n in everyone[i] if n != confirmed.get(i)))
        for i in everyone
    }


def zone_names(session: Session, events: Sequence[EventRecord]) -> dict[tuple[str, str, str], str]:
    """Names of zones, by (branch, camera, zone id), from the configurations the runs used.

    A configuration that is gone or no longer valid is skipped (its zones show by id).
    """
    run_ids = {e.run_id for e in events if e.run_id is not None}
    paths = session.scalars(select(Run.config_path).where(Run.id.in_(run_ids)).distinct())
    names: dict[tuple[str, str, str], str] = {}
    for path in paths:
        try:
            site = load_config(Path(path))
        except ConfigError as exc:
            logger.warning("zone names of %s unavailable: %s", path, exc)
            continue
        for branch in site.branches:
            for cam in branch.cameras:
                for zone in cam.zones:
                    names[(branch.id, cam.id, zone.id)] = zone.name or zone.id
    return names


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
                requirement=requirement(spec.quote) if spec else "",
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
    records = [scored_event(e) for e in events]
    cards, _ = score_period(
        records,
        scheme,
        period,
        branches=sorted(store.branch_timezones()),
        tz=tz,
        preview=preview,
        video=store.branch_video_items(),
    )
    card = next(c for c in cards if c.branch == branch)
    return card, events


def build_notice(
    session: Session,
    branch: str,
    period: str,
    *,
    scheme: str = DEFAULT_SCHEME,
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
    video = store.branch_video_items()
    checked = video.get(branch, video_items(catalog=catalog))
    own = sorted(
        (
            e
            for e in events
            if e.branch_id == branch
            and _counted(e.status, preview)
            and counts(e.item, scored_event(e).manual, checked)
        ),
        key=lambda e: (e.start_ts, e.key),
    )
    earlier = [e for e in own if e.start_ts.astimezone(tz).date() < per.start]
    found = [e for e in own if per.contains(e.start_ts, tz)]
    charges = _charges(
        [scored_event(e, EventStatus.CONFIRMED) for e in earlier],
        [scored_event(e, EventStatus.CONFIRMED) for e in found],
        rules_scheme,
        per,
        tz,
        catalog,
        video,
    )
    cameras = {
        cam.camera_id: cam.name
        for cam in session.scalars(select(Camera).where(Camera.branch_id == branch))
    }
    reviews = review_names(session, [e.id for e in found])
    zones = zone_names(session, found)
    totals = {item: sum(e.item == item for e in found) for item in {e.item for e in found}}
    nth: dict[str, int] = {}
    lines = []
    for i, (e, (points, money)) in enumerate(zip(found, charges, strict=True)):
        nth[e.item] = nth.get(e.item, 0) + 1
        camera_name = cameras.get(e.camera_id) or e.camera_id or "—"
        seen = Seen(
            item=e.item,
            start=e.start_ts.astimezone(tz),
            end=e.end_ts.astimezone(tz),
            zones=tuple(
                zones.get((branch, e.camera_id, z), z) for z in (e.zone or "").split(",") if z
            ),
            people=tuple((int(p["track_id"]), str(p["role"])) for p in e.people),
            details=e.details,
            nth=nth[e.item],
            of=totals[e.item],
        )
        checked_by, reviewed_by = reviews.get(e.id, ("", ()))
        lines.append(
            NoticeLine(
                seq=i + 1,
                event_id=e.id,
                key=e.key,
                start=seen.start,
                end=seen.end,
                camera=e.camera_id,
                camera_name=camera_name,
                item=e.item,
                item_name=catalog.items[e.item].name if e.item in catalog.items else e.item,
                description=describe(seen),
                points=points,
                money=money,
                pending=e.status == EventStatus.PENDING,
                still=verified_still(e),
                still_time=(e.evidence_ts or e.start_ts).astimezone(tz),
                checked_by=checked_by if e.status == EventStatus.CONFIRMED else "",
                reviewed_by=reviewed_by,
            )
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
            requirement=requirement(catalog.items[d.item].quote),
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
        rule_title=rules_scheme.name,
        rule_number=rules_scheme.number,
        preview=preview,
        pending=sum(line.pending for line in lines),
        lines=tuple(lines),
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
        appeal_deadline=issued + timedelta(days=policy.appeal_days),
        appeal_to=policy.appeal_to,
        cc=tuple(policy.cc),
        signatories=tuple(policy.signatories),
        manual=card.manual,
    )
