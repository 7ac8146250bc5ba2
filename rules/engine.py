"""Run the enabled rules over one camera's timeline."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace

from rules.registry import RuleContext, RuleParams, registered
from rules.types import Event
from vision.timeline import ObservationTimeline

logger = logging.getLogger(__name__)


class RuleParamsError(TypeError):
    """A rule was given parameters of another rule's model."""


def run_rules(
    timeline: ObservationTimeline,
    ctx: RuleContext,
    params: Mapping[str, RuleParams],
) -> list[Event]:
    """Run every enabled rule over a timeline.

    Args:
        timeline: What one camera saw.
        ctx: Branch, camera, time zone, hours, sampling interval and queue calls.
        params: Validated parameters per item code (from
            :func:`rules.registry.validate_rule_settings`); registered rules missing from it
            run with their defaults.

    Returns:
        The events of all enabled rules, sorted by start (then item and camera).

    Raises:
        KeyError: ``params`` names an item no rule is registered for.
        RuleParamsError: ``params`` holds a model of the wrong type for an item.

    Example:
        >>> from rules.registry import validate_rule_settings
        >>> events = run_rules(timeline, ctx, validate_rule_settings({}))  # doctest: +SKIP
    """
    rules = registered()
    unknown = sorted(set(params) - set(rules))
    if unknown:
        raise KeyError(f"no rule is registered for item(s) {unknown}")
    events: list[Event] = []
    for code, rule in sorted(rules.items()):
        p = params.get(code) or rule.params()
        if not isinstance(p, rule.params):
            raise RuleParamsError(
                f"rules.{code}: expected {rule.params.__name__}, got {type(p).__name__}"
            )
        if not p.enabled:
            continue
        hours = ctx.hours.restricted(p.windows, p.exempt)
        found = rule.fn(timeline, ctx if hours is ctx.hours else replace(ctx, hours=hours), p)
        logger.debug("%s on %s/%s: %d event(s)", code, ctx.branch, ctx.camera, len(found))
        events.extend(found)
    events.sort(key=lambda e: (e.start, e.item, e.camera, e.end))
    return events
