"""Jinja2 templates of the UI, with filters that show codes and times in Chinese."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi.templating import Jinja2Templates

from api.labels import (
    ACCOUNT_ROLE_NAMES,
    ACTION_NAMES,
    DETAIL_NAMES,
    DISMISS_REASONS,
    EVIDENCE_PROBLEMS,
    ROLE_NAMES,
    STATUS_NAMES,
    detail_value,
)
from api.notices.findings import duration_text
from api.notices.sections import points
from rules.standard import item_name

logger = logging.getLogger(__name__)

TEMPLATE_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


def local_time(
    value: datetime | None, tz: ZoneInfo | None = None, fmt: str = "%Y-%m-%d %H:%M:%S"
) -> str:
    """A UTC time shown in a branch's time zone."""
    if value is None:
        return "—"
    return value.astimezone(tz).strftime(fmt) if tz is not None else value.strftime(fmt)


AUDIT_FIELDS = {
    "status": "状态",
    "item": "检查项",
    "reason": "原因",
    "role": "角色",
    "last_login_at": "上次登录",
    "name": "名称",
    "prefix": "前缀",
    "revoked_at": "吊销时间",
}


def audit_value(value: object, field: str) -> str:
    """An audit before/after value in words (status and item codes in Chinese)."""
    if field == "status" and isinstance(value, str):
        return STATUS_NAMES.get(value, value)
    if field == "item" and isinstance(value, str):
        return item_name(value)
    if field == "role" and isinstance(value, str):
        return ACCOUNT_ROLE_NAMES.get(value, value)
    return "—" if value in (None, "") else str(value)


def make_templates() -> Jinja2Templates:
    """The template set with the UI's filters and globals."""
    templates = Jinja2Templates(directory=str(TEMPLATE_DIR))
    env = templates.env
    env.filters.update(
        local_time=local_time,
        duration=duration_text,
        points=points,
        item_name=item_name,
        status_name=lambda s: STATUS_NAMES.get(s, s),
        role_name=lambda r: ROLE_NAMES.get(r, r),
        account_role=lambda r: ACCOUNT_ROLE_NAMES.get(r, r),
        action_name=lambda a: ACTION_NAMES.get(a, a),
        audit_field=lambda f: AUDIT_FIELDS.get(f, f),
        audit_value=audit_value,
        detail_name=lambda k: DETAIL_NAMES.get(k, k),
        detail_value=detail_value,
        evidence_problem=lambda p: EVIDENCE_PROBLEMS.get(p, p),
    )
    env.globals.update(
        dismiss_reasons=DISMISS_REASONS, status_names=STATUS_NAMES, role_names=ROLE_NAMES
    )
    return templates
