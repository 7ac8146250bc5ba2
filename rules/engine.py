"""Run the enabled rules over one camera's timeline."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from rules.registry import Rule, RuleContext, RuleParams, registered
from rules.timeseries import withhold
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

    Rules whose findings mark an untrusted view (``withholds``: a moved, black, frozen or
    covered camera) run first; the zone-based rules then run over the timeline with those
    stretches cut out, and each such finding lists the items it withheld
    (``details["withheld_items"]``) so the reason is on record.

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
    enabled: list[tuple[str, Rule[RuleParams], RuleParams]] = []
    for code, rule in sorted(rules.items()):
        p = params.get(code) or rule.params()
        if not isinstance(p, rule.params):
            raise RuleParamsError(
                f"rules.{code}: expected {rule.params.__name__}, got {type(p).__name__}"
            )
        if p.enabled:
            enabled.append((code, rule, p))

    def run(code: str, rule: Rule[RuleParams], p: RuleParams, view: ObservationTimeline) -> None:
        hours = ctx.hours.restricted(p.windows, p.exempt)
        found = rule.fn(view, ctx if hours is ctx.hours else replace(ctx, hours=hours), p)
        logger.debug("%s on %s/%s: %d event(s)", code, ctx.branch, ctx.camera, len(found))
        events.extend(found)

    events: list[Event] = []
    for code, rule, p in enabled:
        if rule.withholds:
            run(code, rule, p, timeline)
    untrusted = [e for e in events if rules[e.item].withholds]
    zone_items = sorted(code for code, rule, _ in enabled if rule.uses_zones)
    trusted = (
        withhold(timeline, np.array([[e.start.timestamp(), e.end.timestamp()] for e in untrusted]))
        if untrusted and zone_items
        else timeline
    )
    if untrusted and zone_items:
        events = [
            replace(e, details={**e.details, "withheld_items": zone_items})
            if rules[e.item].withholds
            else e
            for e in events
        ]
    for code, rule, p in enabled:
        if not rule.withholds:
            run(code, rule, p, trusted if rule.uses_zones else timeline)
    events.sort(key=lambda e: (e.start, e.item, e.camera, e.end))
    return events
