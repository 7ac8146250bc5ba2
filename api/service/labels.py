"""Simplified Chinese names shown in the UI for codes stored in the database."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

ITEM_NAMES = {
    "CLUTTER_CUSTOMER_VIEW": "客户视线内杂物",
    "SELF_SERVICE_LITTER": "自助区域垃圾",
    "LOBBY_MANAGER_ABSENT": "大堂经理不在岗",
    "LOBBY_MANAGER_NOT_PATROLLING": "大堂经理未巡视",
    "GUARD_POSTURE": "保安坐姿不端",
    "GUARD_NOT_PATROLLING": "保安未巡视",
    "STAFF_PHONE_USE": "员工使用手机",
    "STAFF_POSTURE": "员工站姿坐姿不规范",
    "STAFF_SLEEPING": "员工睡岗",
    "STAFF_READING": "员工看报刊",
    "COUNTER_CROWDING": "柜台前客户围拢",
    "RAISE_HAND_AFTER_CALL": "叫号后未举手示意",
    "WINDOW_UNATTENDED": "窗口无人值守",
    "MORNING_MEETING": "晨会",
    "UNIFORM": "着装不规范",
    "SCREENS_OFF": "多媒体屏幕未开启",
    "MISSING_FOOTAGE": "录像缺失",
}
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
DISMISS_REASONS = (
    "误报：人员角色识别错误",
    "误报：姿态或动作识别错误",
    "画面遮挡或不清晰",
    "属正常业务行为",
)
"""Reasons offered for a dismissal (keys 1-4 on the review page); free text is also allowed."""


def item_name(code: str) -> str:
    """Chinese name of an inspection item, or the code itself if unknown."""
    return ITEM_NAMES.get(code, code)
