"""Registry of rules: each inspection item is a pure function registered by its code."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rules.hours import BusinessHours, TimeRange
from rules.types import Event
from vision.timeline import ObservationTimeline

logger = logging.getLogger(__name__)


class RuleParams(BaseModel):
    """Base of every rule's parameter model; ``enabled`` is common to all."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(default=True, description="Whether the rule runs.")
    windows: list[TimeRange] | None = Field(
        default=None,
        description="Local times of day the rule checks (e.g. the opening routine "
        "08:50–09:10); none: all business hours.",
    )
    exempt: list[TimeRange] = Field(
        default_factory=list,
        description="Local times of day the rule does not check (e.g. the lobby manager's "
        "lunch rotation 12:00–13:00, the morning meeting 08:30–08:50).",
    )


P = TypeVar("P", bound=RuleParams)


@dataclass(frozen=True)
class CallRecord:
    """One call of the queue machine (叫号机): which window called when (UTC epoch)."""

    window_id: str
    ts: float


@dataclass(frozen=True)
class RuleContext:
    """What a rule knows besides the timeline: where and when the branch is open."""

    branch: str
    camera: str
    tz: ZoneInfo
    hours: BusinessHours
    interval_s: float
    calls: tuple[CallRecord, ...] = field(default_factory=tuple)
    window: tuple[float, float] | None = None
    """Stretch of time this run analyses (UTC epoch seconds). MISSING_FOOTAGE reports the
    business hours inside it that no footage covers; ``None`` means the timeline's own span."""


RuleFn = Callable[[ObservationTimeline, RuleContext, Any], list[Event]]


@dataclass(frozen=True)
class Rule(Generic[P]):
    """A registered rule.

    Attributes:
        code: Inspection item code.
        version: Rule version (part of each event's key).
        params: Parameter model.
        fn: The rule.
        uses_zones: Its findings depend on the zones fitting the view (people in posts,
            windows, areas); such rules are withheld where the view cannot be trusted.
        withholds: Its findings mark stretches where the view cannot be trusted (a moved,
            black, frozen or covered camera); zone-based rules do not run over them.
    """

    code: str
    version: str
    params: type[P]
    fn: Callable[[ObservationTimeline, RuleContext, P], list[Event]]
    needs: frozenset[str] = frozenset()
    """What a branch's cameras must have for the rule to be able to fire: ``zone:<kind>`` (a
    zone of that kind) or ``uniforms`` (a calibrated uniform signature)."""
    uses_zones: bool = True
    withholds: bool = False


_REGISTRY: dict[str, Rule[Any]] = {}


def register(
    code: str,
    params: type[P],
    version: str,
    needs: tuple[str, ...] = (),
    *,
    uses_zones: bool = True,
    withholds: bool = False,
) -> Callable[
    [Callable[[ObservationTimeline, RuleContext, P], list[Event]]],
    Callable[[ObservationTimeline, RuleContext, P], list[Event]],
]:
    """Register a rule function under an inspection item code.

    Example:
        >>> @register("EXAMPLE_ITEM", RuleParams, "1")
        ... def example(timeline, ctx, params):
        ...     return []
    """

    def wrap(
        fn: Callable[[ObservationTimeline, RuleContext, P], list[Event]],
    ) -> Callable[[ObservationTimeline, RuleContext, P], list[Event]]:
        if code in _REGISTRY and _REGISTRY[code].fn is not fn:
            raise ValueError(f"rule {code!r} is registered twice")
        _REGISTRY[code] = Rule(
            code=code,
            version=version,
            params=params,
            fn=fn,
            needs=frozenset(needs),
            uses_zones=uses_zones,
            withholds=withholds,
        )
        return fn

    return wrap


def registered() -> dict[str, Rule[Any]]:
    """All registered rules by code (loads the built-in rule modules first)."""
    import rules.items  # noqa: F401  (registers the built-in rules)

    return dict(_REGISTRY)


class RuleSettingsError(ValueError):
    """Rule settings name unknown items or invalid parameters; ``problems`` holds each one as
    (location under ``rules``, message), all of them, not only the first."""

    def __init__(self, problems: list[tuple[tuple[str | int, ...], str]]) -> None:
        super().__init__(
            "; ".join(f"rules.{'.'.join(str(p) for p in loc)}: {msg}" for loc, msg in problems)
        )
        self.problems = problems


RuleSettings = Mapping[str, Mapping[str, Any]]
"""Per-item rule settings as written in the config: ``{item: {parameter: value}}``."""


def merge_rule_settings(*layers: RuleSettings) -> dict[str, dict[str, Any]]:
    """Settings of later layers override earlier ones parameter by parameter (site defaults,
    then a branch's, then a camera's)."""
    out: dict[str, dict[str, Any]] = {}
    for layer in layers:
        for code, values in layer.items():
            out.setdefault(code, {}).update(values)
    return out


def validate_rule_settings(settings: RuleSettings) -> dict[str, RuleParams]:
    """Validate per-item settings from the config into each rule's parameter model.

    Items not mentioned get their defaults.

    Raises:
        RuleSettingsError: Every unknown item and invalid field, each with its location.
    """
    rules = registered()
    problems: list[tuple[tuple[str | int, ...], str]] = [
        ((code,), f"unknown inspection item; known: {', '.join(sorted(rules))}")
        for code in sorted(set(settings) - set(rules))
    ]
    out: dict[str, RuleParams] = {}
    for code, rule in rules.items():
        given = settings.get(code, {})
        if not isinstance(given, Mapping):
            problems.append(((code,), "must be a mapping of parameters"))
            continue
        try:
            out[code] = rule.params.model_validate(dict(given))
        except ValidationError as exc:
            problems += [
                (
                    (code, *err["loc"]),
                    "unknown parameter; check its spelling"
                    if err["type"] == "extra_forbidden"
                    else err["msg"],
                )
                for err in exc.errors()
            ]
    if problems:
        raise RuleSettingsError(problems)
    return out
