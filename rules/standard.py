"""The inspection standard as data: the item catalogue and scoring schemes (YAML files).

``rules/standards/items.yaml`` lists every inspection item (code, 中文 name and description,
category, evidence required, default parameters, the quote from the standard). A scheme file
(``psbc.yaml``, ``xiaowei.yaml``, ``abc.yaml`` or a bank's own file) says how findings become
points and money: points per occurrence, caps per item, table line and category, money per
point or per occurrence, repeats (同样问题再犯), the focus list (重点整治), stage targets by
month with their formulas, and ranking bands (rewards and penalties by rank and score).

A bank adds its own scheme by writing such a file; :func:`load_scheme` accepts a preset name
or a path. Errors name the file, the item and the field.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from rules.formula import Formula

logger = logging.getLogger(__name__)

STANDARDS_DIR = Path(__file__).parent / "standards"
PRESETS = ("psbc", "xiaowei", "abc")
DEFAULT_SCHEME = PRESETS[0]
"""The scoring scheme used where none is configured."""

Category = Literal["环境", "形象", "纪律", "礼仪", "安全"]
Evidence = Literal["still", "clip", "call_log", "footage_index"]
PeriodKind = Literal["day", "week", "month", "quarter", "stage", "year"]
ItemCode = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*$", max_length=64)]
Points = Annotated[float, Field(ge=0.0, le=1000.0)]

FORMULA_NAMES = frozenset(
    {"score", "target", "base", "deducted", "money", "rank", "rank_from_bottom", "branches"}
)
"""Variables a scheme formula may use: the period's score, the stage target, the base score,
points deducted, item money, rank from the top and from the bottom (1 = best / worst), and
the number of branches ranked."""


class StandardError(ValueError):
    """A standards file that cannot be used; the message names the file, item and field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _stage_only() -> list[PeriodKind]:
    return ["stage"]


def _formula(text: str | None) -> str | None:
    if text is not None:
        Formula.parse(text, FORMULA_NAMES)
    return text


class ItemSpec(_Strict):
    """One inspection item of the catalogue."""

    name: str = Field(min_length=1, max_length=100, description="中文 name of the item.")
    description: str = Field(min_length=1, max_length=500, description="中文 description.")
    category: Category = Field(description="环境/形象/纪律/礼仪/安全.")
    evidence: list[Evidence] = Field(min_length=1, description="Evidence a finding needs.")
    defaults: dict[str, Any] = Field(
        default_factory=dict, description="Default rule parameters (as the rule defines them)."
    )
    quote: str = Field(min_length=1, max_length=1000, description="Wording of the standard.")
    source: str = Field(min_length=1, max_length=200, description="Document it is quoted from.")
    video: bool = Field(default=True, description="Whether a built-in rule checks it.")


class Catalog(_Strict):
    """All inspection items by code."""

    items: dict[ItemCode, ItemSpec] = Field(min_length=1, description="Items by code.")


class SchemeItem(_Strict):
    """How one item is scored under a scheme."""

    points: float = Field(default=0.0, ge=0.0, le=100.0, description="Points per occurrence.")
    cap: float | None = Field(
        default=None, ge=0.0, le=100.0, description="Most points the item loses in a period."
    )
    money_per_occurrence: float = Field(
        default=0.0, ge=0.0, le=1_000_000.0, description="Fine per occurrence (元/次)."
    )
    group: str | None = Field(
        default=None, max_length=100, description="Line of the scheme's table (for group caps)."
    )


class MoneyRules(_Strict):
    """Money per point, repeats and the focus list."""

    per_point: float = Field(default=0.0, ge=0.0, le=1_000_000.0, description="元 per point.")
    repeat_per_point: float | None = Field(
        default=None,
        ge=0.0,
        le=1_000_000.0,
        description="元 per point when the same problem happens again (同样问题再犯).",
    )
    repeat_scope: Literal["period", "stage", "year"] = Field(
        default="stage", description="How far back an earlier occurrence makes a repeat."
    )
    repeat_unit: Literal["day", "occurrence"] = Field(
        default="day",
        description="day: occurrences on the day of the first one are first offences; "
        "occurrence: every occurrence after the first is a repeat.",
    )
    focus_multiplier: float = Field(
        default=1.0, ge=1.0, le=10.0, description="Money multiplier of focus-list items."
    )
    focus_items: list[ItemCode] = Field(
        default_factory=list, description="Focus list (重点整治项目) item codes."
    )


class Stage(_Strict):
    """A stage of the year (阶段) with its target score."""

    name: str = Field(min_length=1, max_length=50, description="Stage name, e.g. 第二阶段.")
    months: list[Annotated[int, Field(ge=1, le=12)]] = Field(
        min_length=1, description="Calendar months of the stage."
    )
    target: float = Field(ge=0.0, le=1000.0, description="Target score (目标分值).")
    formula: str | None = Field(
        default=None,
        max_length=500,
        description="Penalty when the stage score is below target, e.g. "
        "'1000 + (target - score) * 200'; none: no shortfall penalty.",
    )

    _check_formula = field_validator("formula")(_formula)


class Band(_Strict):
    """A reward or penalty by rank and/or score."""

    name: str = Field(min_length=1, max_length=100, description="中文 name of the band.")
    kind: Literal["reward", "penalty"] = Field(description="Reward or penalty.")
    periods: list[PeriodKind] = Field(
        default_factory=_stage_only, min_length=1, description="Periods it applies to."
    )
    stages: list[str] | None = Field(default=None, description="Stage names (default all).")
    rank_from_top: tuple[int, int] | None = Field(
        default=None, description="Inclusive rank range from the top (1 = best)."
    )
    rank_from_bottom: tuple[int, int] | None = Field(
        default=None, description="Inclusive rank range from the bottom (1 = worst)."
    )
    when: str | None = Field(default=None, max_length=500, description="Condition formula.")
    amount: str | None = Field(
        default=None,
        max_length=500,
        description="Amount formula in 元; none: the band is not quantified by the standard.",
    )

    _check_formulas = field_validator("when", "amount")(_formula)

    @field_validator("rank_from_top", "rank_from_bottom")
    @classmethod
    def _ordered(cls, value: tuple[int, int] | None) -> tuple[int, int] | None:
        if value is not None and not 1 <= value[0] <= value[1]:
            raise ValueError(
                f"rank range {list(value)} must be [first, last] with 1 <= first <= last"
            )
        return value


class Scheme(_Strict):
    """A scoring scheme."""

    id: str = Field(pattern=r"^[a-z0-9_-]+$", max_length=64, description="Scheme id.")
    name: str = Field(min_length=1, max_length=200, description="中文 name.")
    source: str = Field(min_length=1, max_length=500, description="Document it reproduces.")
    number: str = Field(
        default="",
        max_length=100,
        description="文号 of the bank's rule document titled `name` (cited by notices), "
        "e.g. 示银发〔2026〕18号.",
    )
    base_score: float = Field(
        default=100.0, gt=0.0, le=1000.0, description="Score with no findings."
    )
    min_score: float = Field(default=0.0, ge=0.0, le=1000.0, description="Lowest score.")
    items: dict[ItemCode, SchemeItem] = Field(min_length=1, description="Scored items.")
    group_caps: dict[str, Points] = Field(
        default_factory=dict, description="Most points a table line loses per period."
    )
    category_caps: dict[Category, Points] = Field(
        default_factory=dict, description="Most points a category loses per period."
    )
    money: MoneyRules = Field(default_factory=MoneyRules, description="Money rules.")
    stages: list[Stage] = Field(default_factory=list, description="Stages with targets.")
    stage_exempt_top: int | None = Field(
        default=None, ge=1, description="Branches ranked this high pay no stage penalty."
    )
    bands: list[Band] = Field(default_factory=list, description="Reward and penalty bands.")

    @model_validator(mode="after")
    def _verify(self) -> Scheme:
        verify_stage_months(self)
        verify_names(self)
        if self.min_score >= self.base_score:
            raise ValueError(f"min_score {self.min_score} must be below base_score")
        return self

    def stage_of_month(self, month: int) -> Stage | None:
        """The stage a calendar month belongs to."""
        return next((s for s in self.stages if month in s.months), None)


def verify_stage_months(scheme: Scheme) -> None:
    """No month belongs to two stages."""
    seen: dict[int, str] = {}
    for stage in scheme.stages:
        for month in stage.months:
            if month in seen:
                raise ValueError(
                    f"stages: month {month} is in both {seen[month]!r} and {stage.name!r}"
                )
            seen[month] = stage.name


def verify_names(scheme: Scheme) -> None:
    """Focus items are scored items, groups of caps exist, band stages exist."""
    unknown = sorted(set(scheme.money.focus_items) - set(scheme.items))
    if unknown:
        raise ValueError(f"money.focus_items: {unknown} are not items of this scheme")
    groups = {i.group for i in scheme.items.values() if i.group}
    missing = sorted(set(scheme.group_caps) - groups)
    if missing:
        raise ValueError(f"group_caps: no item is in group(s) {missing}")
    stages = {s.name for s in scheme.stages}
    for band in scheme.bands:
        bad = sorted(set(band.stages or ()) - stages)
        if bad:
            raise ValueError(f"bands.{band.name}: unknown stage(s) {bad}")


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise StandardError(f"{path}: cannot read: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise StandardError(f"{path}: not valid YAML: {exc}") from exc


def _explain(path: Path, exc: ValidationError) -> StandardError:
    problems = "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}"
        for err in exc.errors()
    )
    return StandardError(f"{path}: {problems}")


def parse_catalog(data: Any, path: Path) -> Catalog:
    """Validate catalogue data read from ``path`` (also each item's default parameters)."""
    try:
        catalog = Catalog.model_validate(data)
    except ValidationError as exc:
        raise _explain(path, exc) from exc
    from rules.registry import registered

    rules = registered()
    for code, spec in catalog.items.items():
        if code not in rules:
            if spec.video:
                raise StandardError(f"{path}: items.{code}: video item without a rule")
            continue
        try:
            rules[code].params.model_validate(spec.defaults)
        except ValidationError as exc:
            field = ".".join(str(p) for p in exc.errors()[0]["loc"])
            raise StandardError(
                f"{path}: items.{code}.defaults.{field}: {exc.errors()[0]['msg']}"
            ) from exc
    return catalog


@cache
def load_catalog(path: Path | None = None) -> Catalog:
    """The item catalogue (default: the built-in ``items.yaml``)."""
    path = path or STANDARDS_DIR / "items.yaml"
    return parse_catalog(_read_yaml(path), path)


def item_name(code: str) -> str:
    """中文 name of an inspection item from the standard (``items.yaml``), e.g. 大堂经理不在岗;
    the code itself for an item the standard does not know."""
    spec = load_catalog().items.get(code)
    return spec.name if spec is not None else code


def parse_scheme(data: Any, path: Path, catalog: Catalog | None = None) -> Scheme:
    """Validate scheme data read from ``path`` against the catalogue."""
    try:
        scheme = Scheme.model_validate(data)
    except ValidationError as exc:
        raise _explain(path, exc) from exc
    known = (catalog or load_catalog()).items
    for code in scheme.items:
        if code not in known:
            raise StandardError(
                f"{path}: items.{code}: not an inspection item; known: {sorted(known)}"
            )
    return scheme


def load_scheme(name_or_path: str | Path) -> Scheme:
    """A preset scheme by name (``psbc``, ``xiaowei``, ``abc``) or a bank's own scheme file.

    Raises:
        StandardError: Unknown preset, unreadable file or invalid content (naming the file,
            item and field).
    """
    text = str(name_or_path)
    if text in PRESETS:
        path = STANDARDS_DIR / f"{text}.yaml"
    else:
        path = Path(text)
        if not path.suffix:
            raise StandardError(f"unknown scheme {text!r}; presets: {', '.join(PRESETS)}")
    return parse_scheme(_read_yaml(path), path)
