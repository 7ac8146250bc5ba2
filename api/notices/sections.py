"""The wording and tables of a notice, shared by the DOCX, PDF and HTML renderers.

Each function turns :class:`~api.notices.model.NoticeContent` into plain strings and rows, so
the three formats say exactly the same things in the same order.
"""

from __future__ import annotations

import logging
from datetime import date

from api.notices.model import NoticeContent, NoticeLine
from rules.coverage import MANUAL_LABEL, manual_text

logger = logging.getLogger(__name__)

CN_NUMBERS = "一二三四五六七八九十"
HEADINGS = ("一、检查发现的问题", "二、扣分及考核汇总", "三、整改要求", "四、证据截图")
LINE_HEADERS = (
    "序号",
    "时间",
    "摄像机",
    "检查项目",
    "问题描述",
    "确认人",
    "扣分",
    "考核金额（元）",
)
ITEM_HEADERS = (
    "检查项目",
    "类别",
    "次数",
    "其中再犯",
    "扣分",
    "考核金额（元）",
    "整改期限",
    "责任岗位",
)
RECEIPT = "网点负责人（签字）：____________    签收日期：______年____月____日"
EVIDENCE_NOTE = "截图取自监控录像，客户面部已做模糊处理；完整录像片段可在复核系统中调阅。"


def day_text(day: date) -> str:
    """``2026年11月27日``."""
    return f"{day.year}年{day.month}月{day.day}日"


def amount(value: float) -> str:
    """Money with two decimals and thousands separators."""
    return f"{value:,.2f}"


def points(value: float) -> str:
    """Points without trailing zeros (never ``-0``)."""
    return f"{value + 0.0:g}" if value else "0"


def header_lines(content: NoticeContent) -> tuple[str, str]:
    """The issuer line (may be empty) and the number line."""
    return content.issuer, f"编号：{content.number}"


def line_row(line: NoticeLine) -> tuple[str, ...]:
    """One row of the violations table."""
    item = line.item_name + ("（待审核）" if line.pending else "")
    return (
        str(line.seq),
        line.time_text,
        line.camera_name,
        item,
        line.description,
        line.checked_by or ("待复核" if line.pending else "—"),
        points(line.points),
        amount(line.money),
    )


def line_rows(content: NoticeContent) -> list[tuple[str, ...]]:
    """Rows of the violations table, ending with the total row."""
    rows = [line_row(line) for line in content.lines]
    rows.append(
        (
            f"合计 {len(content.lines)}项",
            "",
            "",
            "",
            "",
            "",
            points(sum(line.points for line in content.lines)),
            amount(sum(line.money for line in content.lines)),
        )
    )
    return rows


def item_rows(content: NoticeContent) -> list[tuple[str, ...]]:
    """Rows of the per-item summary table."""
    return [
        (
            i.name,
            i.category,
            str(i.occurrences),
            str(i.repeats),
            points(i.points),
            amount(i.money),
            day_text(i.deadline),
            i.responsible,
        )
        for i in content.items
    ]


def total_rows(content: NoticeContent) -> list[tuple[str, str]]:
    """Label and value of each total."""
    rows = [
        ("基础分", points(content.base)),
        ("扣分合计", points(content.deducted)),
        ("本期得分", points(content.score)),
        ("扣分考核金额（元）", amount(content.item_money)),
    ]
    if content.stage_penalty:
        rows.append(("阶段目标考核（元）", amount(content.stage_penalty)))
    for band in content.bands:
        value = amount(band.amount) if band.amount is not None else "按方案执行"
        rows.append((f"{'奖励' if band.kind == 'reward' else '考核'}：{band.name}", value))
    rows.append(("考核金额合计（元）", amount(content.penalty_total)))
    if content.rank is not None:
        rows.append(("本期排名", f"第{content.rank}名（共{content.branches}个网点）"))
    if content.manual:
        rows.append((MANUAL_LABEL, manual_text(content.manual)))
    return rows


def requirements(content: NoticeContent) -> list[str]:
    """The rectification requirements, one paragraph each."""
    out = []
    for n, item in enumerate(content.items):
        mark = f"（{CN_NUMBERS[n]}）" if n < len(CN_NUMBERS) else f"（{n + 1}）"
        out.append(
            f"{mark}{item.name}（{item.occurrences}次）：由{item.responsible}负责，"
            f"于{day_text(item.deadline)}前完成整改。标准要求：{item.requirement}"
        )
    sender = content.issuer or "检查部门"
    out.append(
        f"请你网点对照上述问题逐项整改，举一反三，于{day_text(content.report_deadline)}前将"
        f"整改报告（含整改措施、责任人处理意见及整改后照片）报送{sender}。"
        "逾期未整改或整改不到位的，将按考核方案从重考核。"
    )
    if not content.items:
        return [f"本期未发现问题，请你网点继续保持。整改报告无需报送{sender}。"]
    out.append(content.appeal)
    return out


def still_caption(n: int, line: NoticeLine) -> str:
    """Caption of the n-th evidence still: the time is the one stamped on the image."""
    at = line.still_time or line.start
    return f"图{n}  第{line.seq}项 {line.item_name}  {line.camera_name}  {at:%Y-%m-%d %H:%M:%S}" + (
        "（待审核）" if line.pending else ""
    )


def stills_note(content: NoticeContent) -> str:
    """The note under the stills."""
    extra = (
        f"另有{content.stills_left_out}张截图未列出，可在复核系统中查看。"
        if content.stills_left_out
        else ""
    )
    missing = len(content.lines) - len(content.stills) - content.stills_left_out
    gone = f"{missing}项问题无可用截图（如录像缺失类问题）。" if missing > 0 else ""
    return EVIDENCE_NOTE + extra + gone


def signoff(content: NoticeContent) -> tuple[list[str], str, str]:
    """Signature lines (检查人 and 复核人 named from the reviews), the seal line and the date."""
    named = {"检查人": content.inspectors, "复核人": content.reviewers}
    signs = [
        f"{role}：{'、'.join(named.get(role, ())) or '____________'}"
        for role in content.signatories
    ]
    seal = f"{content.issuer}（盖章）" if content.issuer else "（盖章）"
    return signs, seal, day_text(content.issued)


def footer(content: NoticeContent) -> str:
    """The page footer text (page numbers are added by the renderer)."""
    return f"{content.branch_name} {content.title} {content.number}"
