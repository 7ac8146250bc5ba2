"""The rules that apply to one camera of a branch, and where each setting comes from.

``branchwatch check --branch B --camera C`` prints them: for each item whether it runs on
video, is switched off, or is a manual item (人工检查项) because the branch lacks what the rule
needs, and each parameter that differs from the rule's default with the layer that set it
(站点 site, 网点 branch, 摄像机 camera).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from api.config.site import SiteConfig
from rules.registry import registered
from rules.standard import load_catalog

logger = logging.getLogger(__name__)

LAYER_NAMES = ("站点", "网点", "摄像机")
NEED_NAMES = {"uniforms": "未校准制服", "zone:screen": "未划定多媒体屏区域"}


@dataclass(frozen=True, slots=True)
class EffectiveRule:
    """One item as it applies to a camera."""

    item: str
    name: str
    status: str
    settings: tuple[tuple[str, Any, str], ...]
    """``(parameter, value, layer)`` for each parameter that differs from the default."""


def _need_text(need: str) -> str:
    return NEED_NAMES.get(need, f"缺少{need}")


def effective_rules(site: SiteConfig, branch_id: str, camera_id: str) -> list[EffectiveRule]:
    """The rules of one camera, by item code.

    Raises:
        KeyError: unknown branch or camera (the message names the known ones).
    """
    try:
        branch = site.branch(branch_id)
    except KeyError as exc:
        known = ", ".join(b.id for b in site.branches)
        raise KeyError(f"unknown branch {branch_id!r}; branches: {known}") from exc
    try:
        camera = branch.camera(camera_id)
    except KeyError as exc:
        known = ", ".join(c.id for c in branch.cameras)
        raise KeyError(
            f"branch {branch_id!r} has no camera {camera_id!r}; cameras: {known}"
        ) from exc
    layers = site.rule_layers(branch, camera)
    params = site.camera_rules(branch, camera)
    caps = branch.capabilities
    catalog = load_catalog()
    out = []
    for code, rule in sorted(registered().items()):
        p = params[code]
        missing = sorted(rule.needs - caps)
        if not p.enabled:
            status = "已停用(人工检查项)"
        elif missing:
            status = "人工检查项(" + "、".join(_need_text(n) for n in missing) + ")"
        else:
            status = "视频检查"
        default = rule.params().model_dump(mode="json")
        current = p.model_dump(mode="json")
        settings = tuple(
            (
                key,
                current[key],
                next(LAYER_NAMES[i] for i in (2, 1, 0) if key in layers[i].get(code, {})),
            )
            for key in current
            if current[key] != default[key]
        )
        spec = catalog.items.get(code)
        out.append(EffectiveRule(code, spec.name if spec else code, status, settings))
    return out
