"""Simplified Chinese names shown in the UI for codes stored in the database.

Inspection item names are not here: they come from the standard (:func:`rules.standard.item_name`).
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

STATUS_NAMES = {"pending": "待复核", "confirmed": "已确认", "dismissed": "已排除"}
ROLE_NAMES = {
    "customer": "客户",
    "teller": "柜员",
    "lobby_manager": "大堂经理",
    "guard": "保安",
    "unknown": "未知",
}
ACCOUNT_ROLE_NAMES = {"admin": "管理员", "supervisor": "督导", "branch": "网点"}
ACTION_NAMES = {
    "login": "登录",
    "login_failed": "登录失败",
    "login_blocked": "登录被限制",
    "logout": "退出",
    "confirm": "确认",
    "dismiss": "排除",
    "relabel": "改判检查项",
    "reopen": "重新待复核",
    "token_created": "创建 API 令牌",
    "token_revoked": "吊销 API 令牌",
}
DETAIL_NAMES = {
    "observed_from": "观测起点",
    "observed_s": "持续时长（秒）",
    "label": "物品类别",
    "confidence": "识别置信度",
    "area": "面积占画面比例",
    "window_id": "窗口",
    "min_duration_s": "最短持续（秒）",
    "grace_s": "宽限时长（秒）",
    "radius": "活动半径",
    "postures": "检查的姿态",
    "observed": "观测到的姿态（占比）",
    "peak": "峰值人数",
    "max_customers": "允许客户数",
    "min_people": "最少人数",
    "largest_group": "最大聚集人数",
    "longest_gathering_s": "最长聚集（秒）",
    "missing_s": "缺失时长（秒）",
    "min_gap_s": "最短缺失（秒）",
    "covered_fraction": "录像覆盖率",
    "call_time": "叫号时间",
    "response_s": "举手间隔（秒）",
    "finding": "结论",
}
"""Names of the rule details shown on the event page (keys not listed are shown as they are)."""
OBJECT_NAMES = {
    "unknown object": "未识别物品",
    "backpack": "背包",
    "umbrella": "雨伞",
    "handbag": "手提包",
    "suitcase": "行李箱",
    "bottle": "瓶子",
    "wine glass": "玻璃杯",
    "cup": "水杯",
    "bowl": "碗",
    "banana": "香蕉",
    "apple": "苹果",
    "orange": "橙子",
    "sandwich": "食品",
    "laptop": "笔记本电脑",
    "cell phone": "手机",
    "book": "书本",
    "scissors": "剪刀",
    "teddy bear": "玩偶",
}
"""Chinese names of the object labels a static object can carry."""
POSTURE_NAMES = {
    "seated": "坐姿",
    "leaning": "身体歪斜",
    "head_dropped": "低头",
    "arms_crossed": "双臂抱于胸前",
    "hands_behind_back": "背手",
    "hands_at_hip": "手插口袋/叉腰",
    "wrist_above_shoulder": "举手",
    "wrist_near_ear": "手机贴耳",
    "looking_at_phone": "低头看手机",
    "legs_crossed": "翘二郎腿",
}
"""Chinese names of the posture flags."""
DISMISS_REASONS = (
    "误报：人员角色识别错误",
    "误报：姿态或动作识别错误",
    "画面遮挡或不清晰",
    "属正常业务行为",
)
"""Reasons offered for a dismissal (keys 1-4 on the review page); free text is also allowed."""


def detail_value(key: str, value: object) -> str:
    """A rule detail's value in words (object labels in Chinese)."""
    if key == "label" and isinstance(value, str):
        return OBJECT_NAMES.get(value, value)
    if key == "postures" and isinstance(value, list):
        return "、".join(POSTURE_NAMES.get(str(p), str(p)) for p in value)
    if key == "observed" and isinstance(value, dict):
        return "、".join(
            f"{POSTURE_NAMES.get(str(p), str(p))} {float(v):.0%}" for p, v in value.items()
        )
    return str(value)


EVIDENCE_PROBLEMS = {
    "source_missing": "源录像文件已不存在",
    "source_unreadable": "源录像无法读取",
    "no_frames": "源录像在该时段没有画面（文件不完整或损坏）",
}
"""Why an event's still or clip could not be made (:class:`api.scan.evidence.EvidenceProblem`)."""
