"""What a notice says was seen: one sentence per finding, from the stored event.

A finding names the place (the camera has its own column), who was involved, the observed
stretch (local time, start to end) and its length, what the rule saw (absence, posture, crowd,
object …) and how many times the item occurred in the period. Thresholds such as a grace period
are mentioned as what made it a finding; they are never subtracted from the observed stretch.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from api.labels import OBJECT_NAMES, POSTURE_NAMES, ROLE_NAMES

logger = logging.getLogger(__name__)

_HALF_TO_FULL = str.maketrans({",": "，", ";": "；", "(": "（", ")": "）", "!": "！"})
_COLON = re.compile(r":(?!\d)")
_PENALTY = re.compile(
    r"[,，;；]?\s*(未做到的|违者|否则|的)?\s*(每次)?(考核|扣)\s*\d+(\.\d+)?(\s*[-—~至]\s*\d+(\.\d+)?)?"
    r"\s*(元|分)(\s*/\s*次)?"
)


def full_width(text: str) -> str:
    """Chinese text with full-width punctuation (commas, semicolons, brackets, and colons
    other than those of clock times)."""
    return _COLON.sub("：", text.translate(_HALF_TO_FULL))


def requirement(quote: str) -> str:
    """The standard's requirement without its penalty clause (``…考核100-200元``), full width.

    Example:
        >>> requirement("应请客户在一米线外等待,未做到的扣100元/次。")
        '应请客户在一米线外等待。'
    """
    text = _PENALTY.sub("", quote).strip()
    text = re.sub(r"[，,；;、]+(?=[。]|$)", "", text)
    if text and not text.endswith("。"):
        text += "。"
    return full_width(text)


def duration_text(seconds: float) -> str:
    """``3分22秒``, ``1小时5分``, ``45秒``."""
    s = max(0, round(seconds))
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    if h:
        return f"{h}小时{m}分" if m else f"{h}小时"
    if m:
        return f"{m}分{sec}秒" if sec else f"{m}分钟"
    return f"{sec}秒"


@dataclass(frozen=True, slots=True)
class Seen:
    """One stored event as the notice describes it."""

    item: str
    start: datetime
    end: datetime
    zones: tuple[str, ...]
    people: tuple[tuple[int, str], ...]
    details: Mapping[str, Any]
    nth: int
    of: int


def _who(people: tuple[tuple[int, str], ...]) -> str:
    by_role: dict[str, list[str]] = {}
    for track, role in people:
        by_role.setdefault(ROLE_NAMES.get(role, role), []).append(f"#{track}")
    return "、".join(
        f"{role}{len(tracks)}人（{'、'.join(tracks)}）" if len(tracks) > 1 else f"{role}{tracks[0]}"
        for role, tracks in by_role.items()
    )


def _local(value: object, ref: datetime) -> str:
    """An ISO time from the details as ``HH:MM:SS`` in the zone of ``ref`` ('' if none)."""
    if not isinstance(value, str):
        return ""
    try:
        return f"{datetime.fromisoformat(value).astimezone(ref.tzinfo):%H:%M:%S}"
    except ValueError:
        return ""


def _what(seen: Seen, where: str, who: str) -> str:
    d = seen.details
    item = seen.item
    if item == "LOBBY_MANAGER_ABSENT":
        grace = float(d.get("grace_s", 0.0))
        since = _local(d.get("grace_ended"), seen.start)
        extra = f"，超过宽限时间{duration_text(grace)}" if grace else ""
        extra += f"（{since}起构成问题）" if since and grace else ""
        return f"{where or '大堂'}无大堂经理在岗{extra}"
    if item in ("LOBBY_MANAGER_NOT_PATROLLING", "GUARD_NOT_PATROLLING"):
        return f"{who or '人员'}长时间停留在{where or '同一位置'}附近，未走动巡视"
    if "observed" in d and isinstance(d["observed"], dict):
        seen_names = "、".join(POSTURE_NAMES.get(str(k), str(k)) for k in d["observed"])
        return f"{where}{who or '员工'}出现{seen_names or '不规范姿态'}"
    if item == "COUNTER_CROWDING":
        peak, allowed = d.get("peak"), d.get("max_customers")
        crowd = f"同时有{peak}名客户" if peak else "客户围拢"
        limit = f"（允许{allowed}名）" if allowed else ""
        return f"{where}{crowd}{limit}" + (f"：{who}" if who else "")
    if item == "WINDOW_UNATTENDED":
        return f"{where}有客户等候而柜员席无人"
    if "label" in d:
        label = OBJECT_NAMES.get(str(d["label"]), str(d["label"]))
        return f"{where}摆放{label}，未及时清理"
    if item == "MISSING_FOOTAGE":
        return "无监控录像"
    if item == "RAISE_HAND_AFTER_CALL":
        return f"{where}叫号后{d.get('response_s', '')}秒内柜员未举手示意"
    if item == "MORNING_MEETING":
        return f"营业前未见晨会（最多{d.get('largest_group', 0)}人聚集）"
    return f"{where}{who}"


def describe(seen: Seen) -> str:
    """The 问题描述 of one finding.

    Example:
        ``09:35:02至09:38:22（持续3分20秒）：大堂经理岗无大堂经理在岗，超过宽限时间2分钟
        （09:37:02起构成问题）。本期该项第1次（共1次）。``
    """
    end_fmt = "%H:%M:%S" if seen.end.date() == seen.start.date() else "%m月%d日%H:%M:%S"
    span = (
        f"{seen.start:%H:%M:%S}至{seen.end:{end_fmt}}"
        f"（持续{duration_text((seen.end - seen.start).total_seconds())}）"
    )
    where = "、".join(seen.zones)
    what = _what(seen, where, _who(seen.people))
    count = f"本期该项第{seen.nth}次（共{seen.of}次）。"
    return full_width(f"{span}：{what}。{count}")
