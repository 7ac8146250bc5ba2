"""Scorecards as rows for table, JSON or CSV output (``branchwatch score``).

Keys are English (for JSON and CSV); :data:`SUMMARY_HEADERS` and :data:`DEDUCTION_HEADERS` give
the 中文 column headers of the table view. A preview (pending events counted) says so in its
``status`` column.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from rules.coverage import MANUAL_LABEL, manual_text
from rules.scoring import Scorecard

logger = logging.getLogger(__name__)

PREVIEW_LABEL = "预览(含待审核事件,非正式结果)"
FINAL_LABEL = "正式"

SUMMARY_HEADERS = {
    "branch": "网点",
    "period": "期间",
    "scheme": "考核方案",
    "score": "得分",
    "deducted": "扣分",
    "item_money": "扣分考核(元)",
    "stage": "阶段",
    "target": "目标分值",
    "target_met": "达标",
    "stage_penalty": "阶段考核(元)",
    "rank": "排名",
    "bands": "奖惩档次",
    "penalty_total": "考核合计(元)",
    "reward_total": "奖励合计(元)",
    "manual": MANUAL_LABEL,
    "status": "状态",
}
DEDUCTION_HEADERS = {
    "branch": "网点",
    "period": "期间",
    "item": "项目代码",
    "name": "检查项目",
    "category": "类别",
    "occurrences": "次数",
    "repeats": "再犯次数",
    "focus": "重点整治",
    "points": "扣分",
    "money": "考核(元)",
    "events": "事件",
}
"""Column keys (JSON/CSV) and their 中文 table headers."""


def summary_rows(cards: Iterable[Scorecard]) -> list[dict[str, Any]]:
    """One row per scorecard, keyed as :data:`SUMMARY_HEADERS`."""
    rows = []
    for c in cards:
        rows.append(
            {
                "branch": c.branch,
                "period": c.period.label,
                "scheme": c.scheme,
                "score": c.score,
                "deducted": c.deducted,
                "item_money": c.item_money,
                "stage": c.stage.stage if c.stage else None,
                "target": c.stage.target if c.stage else None,
                "target_met": c.stage.met if c.stage else None,
                "stage_penalty": c.stage.penalty if c.stage else None,
                "rank": f"{c.rank}/{c.branches}" if c.rank is not None else None,
                "bands": "; ".join(
                    b.name + (f" {b.amount:g}元" if b.amount is not None else "") for b in c.bands
                ),
                "penalty_total": round(c.penalty_total, 2),
                "reward_total": round(c.reward_total, 2),
                "manual": manual_text(c.manual),
                "status": PREVIEW_LABEL if c.preview else FINAL_LABEL,
            }
        )
    return rows


def deduction_rows(cards: Iterable[Scorecard]) -> list[dict[str, Any]]:
    """One row per deduction, keyed as :data:`DEDUCTION_HEADERS` (events joined by spaces)."""
    return [
        {
            "branch": c.branch,
            "period": c.period.label,
            "item": d.item,
            "name": d.name,
            "category": d.category,
            "occurrences": d.occurrences,
            "repeats": d.repeats,
            "focus": d.focus,
            "points": d.points,
            "money": d.money,
            "events": " ".join(d.event_keys),
        }
        for c in cards
        for d in c.deductions
    ]
