"""What a notice asks of a branch: rectification deadline and responsible role per item.

A bank can adjust it with a YAML file (``branchwatch notices --policy FILE``)::

    issuer: 示例银行运营管理部
    cc: [示例银行个人金融部]
    appeal_days: 5
    items:
      STAFF_SLEEPING: {deadline_days: 1, responsible: 网点负责人}

Items the file does not name keep the defaults of :data:`DEFAULT_RECTIFICATION`, which cover
every item of the catalogue.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from rules.standard import load_catalog

logger = logging.getLogger(__name__)


class PolicyError(ValueError):
    """A notice policy that cannot be used; the message names the file, item and field."""


class Rectification(BaseModel):
    """Deadline and responsible role of one item."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    deadline_days: int = Field(
        ge=1, le=365, description="Days after the notice date by which it must be rectified."
    )
    responsible: str = Field(
        min_length=1, max_length=50, description="Role responsible for it (中文, e.g. 运营主管)."
    )


def _rect(days: int, role: str) -> Rectification:
    return Rectification(deadline_days=days, responsible=role)


DEFAULT_RECTIFICATION: dict[str, Rectification] = {
    "CLUTTER_CUSTOMER_VIEW": _rect(3, "大堂经理"),
    "SELF_SERVICE_LITTER": _rect(3, "大堂经理"),
    "LOBBY_MANAGER_ABSENT": _rect(7, "网点负责人"),
    "LOBBY_MANAGER_NOT_PATROLLING": _rect(7, "大堂经理"),
    "GUARD_POSTURE": _rect(7, "网点安全员"),
    "GUARD_NOT_PATROLLING": _rect(7, "网点安全员"),
    "STAFF_PHONE_USE": _rect(5, "运营主管"),
    "STAFF_POSTURE": _rect(5, "运营主管"),
    "STAFF_SLEEPING": _rect(3, "运营主管"),
    "STAFF_READING": _rect(5, "运营主管"),
    "COUNTER_CROWDING": _rect(5, "大堂经理"),
    "WINDOW_UNATTENDED": _rect(5, "运营主管"),
    "MORNING_MEETING": _rect(7, "网点负责人"),
    "RAISE_HAND_AFTER_CALL": _rect(5, "运营主管"),
    "MISSING_FOOTAGE": _rect(3, "网点安全员"),
    "UNIFORM": _rect(5, "运营主管"),
    "SCREENS_OFF": _rect(3, "大堂经理"),
}
"""Default deadline and responsible role of every catalogue item."""


def _default_signatories() -> list[str]:
    return ["检查人", "复核人", "签发人"]


class NoticePolicy(BaseModel):
    """How notices are issued: issuer, numbering, deadlines and roles, sign-off."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    issuer: str = Field(
        default="",
        max_length=200,
        description="Issuing bank or department shown on the notice; empty: a blank line.",
    )
    number_prefix: str = Field(
        default="整改",
        min_length=1,
        max_length=20,
        description="Word before the year in the notice number, e.g. 整改〔2026〕….",
    )
    items: dict[str, Rectification] = Field(
        default_factory=dict,
        description="Deadline and responsible role per item code (others: the defaults).",
    )
    fallback: Rectification = Field(
        default_factory=lambda: _rect(7, "网点负责人"),
        description="Used for an item neither here nor in the defaults (a bank's own item).",
    )
    report_days: int = Field(
        default=10,
        ge=1,
        le=365,
        description="Days after the notice date by which the branch sends its 整改报告.",
    )
    signatories: list[str] = Field(
        default_factory=_default_signatories,
        min_length=1,
        max_length=6,
        description="Roles that sign the notice (sign-off block).",
    )
    cc: list[str] = Field(
        default_factory=list,
        max_length=10,
        description="抄送: departments that receive a copy (the branch is 主送).",
    )
    appeal_days: int = Field(
        default=5,
        ge=1,
        le=90,
        description="Days after the notice date within which the branch may appeal a finding.",
    )
    appeal_to: str = Field(
        default="",
        max_length=200,
        description="Who receives appeals (default: the issuer).",
    )
    max_stills: int = Field(
        default=12, ge=0, le=200, description="Most evidence stills printed in a notice."
    )

    @model_validator(mode="after")
    def _known_items(self) -> NoticePolicy:
        verify_known_items(self)
        return self

    def rectification(self, item: str) -> Rectification:
        """Deadline and responsible role of an item."""
        return self.items.get(item) or DEFAULT_RECTIFICATION.get(item) or self.fallback


def verify_known_items(policy: NoticePolicy) -> None:
    """Every item the policy names is an item of the catalogue."""
    known = load_catalog().items
    unknown = sorted(set(policy.items) - set(known))
    if unknown:
        raise ValueError(f"items: {unknown} are not inspection items; known: {sorted(known)}")


def load_policy(path: Path | None) -> NoticePolicy:
    """A notice policy from a YAML file, or the defaults when ``path`` is ``None``.

    Raises:
        PolicyError: Unreadable file or invalid content (naming the file and field).
    """
    if path is None:
        return NoticePolicy()
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise PolicyError(f"{path}: not valid YAML: {exc}") from exc
    try:
        return NoticePolicy.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise PolicyError(f"{path}: {problems}") from exc
