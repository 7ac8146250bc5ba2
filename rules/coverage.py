"""How each scored item is checked: by a rule over the video, or by hand (人工检查项).

A scheme may score items that no rule can see (着装 where no uniform is calibrated, a rule a
branch switched off, an item of the standard that video cannot show). Such an item is a
*manual* item: the scorecard and the notice list it as 人工检查项, and it gives or takes no
points until a supervisor records a manual finding for it (an event stored with
:data:`MANUAL_RULE_VERSION`, with a frame of the footage or an uploaded photo as its still).
An event a rule produced never counts for a manual item.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum

from rules.registry import RuleParams, registered
from rules.standard import Catalog, Scheme, load_catalog

MANUAL_RULE_VERSION = "manual"
"""``rule_version`` of an event a supervisor recorded by hand (a manual finding)."""

MANUAL_LABEL = "人工检查项"
"""What scorecards and notices call an item checked by hand."""


class CheckKind(StrEnum):
    """How an item of a scheme is checked."""

    VIDEO = "video"
    MANUAL = "manual"


@dataclass(frozen=True, slots=True)
class ManualItem:
    """A scheme item checked by hand, as a scorecard lists it.

    ``findings`` counts the manual findings that the scorecard charged in the period.
    """

    item: str
    name: str
    points: float
    group: str | None
    findings: int


def counts(item: str, manual: bool, video: Collection[str]) -> bool:
    """Whether a finding can score: a manual finding always, a rule's only for a video item."""
    return manual or item in video


def manual_text(items: Collection[ManualItem]) -> str:
    """One line naming the manual items and whether a finding was recorded for each.

    Example: ``着装不规范(3分):未录入人工检查结果,不计分;员工看报纸杂志(2分):人工检查发现1次``.
    """
    return ";".join(
        f"{m.name}({m.points:g}分):"
        + (f"人工检查发现{m.findings}次" if m.findings else "未录入人工检查结果,不计分")
        for m in items
    )


def video_items(
    params: Mapping[str, RuleParams] | None = None,
    catalog: Catalog | None = None,
    capabilities: Collection[str] | None = None,
) -> frozenset[str]:
    """Items a registered rule can check on video.

    Args:
        params: Validated rule settings (from :func:`rules.registry.validate_rule_settings`);
            rules switched off there are left out. ``None``: every rule with its defaults.
        catalog: Item catalogue (default: the built-in one); items it marks ``video: false``
            are never video items.
        capabilities: What the branch's cameras have (``zone:<kind>``, ``uniforms``); a rule
            whose :attr:`~rules.registry.Rule.needs` are not all there cannot fire. ``None``:
            assume everything.
    """
    catalog = catalog or load_catalog()
    out = set()
    for code, rule in registered().items():
        spec = catalog.items.get(code)
        p = (params or {}).get(code) or rule.params()
        able = capabilities is None or rule.needs <= set(capabilities)
        if spec is not None and spec.video and p.enabled and able:
            out.add(code)
    return frozenset(out)


def scheme_checks(scheme: Scheme, video: Collection[str]) -> dict[str, CheckKind]:
    """How each item of a scheme is checked, given the items checked on video."""
    return {code: CheckKind.VIDEO if code in video else CheckKind.MANUAL for code in scheme.items}
