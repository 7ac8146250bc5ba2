"""One evaluation run: both methods over every item, scored; and sweeps of a setting."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from api.config import SiteConfig
from api.eval.labels import LabelSet
from api.eval.report import BASELINE, PIPELINE, EvalResult, ItemResult
from api.eval.runner import eval_site, run_baseline, run_pipeline
from api.eval.score import score_item

SWEEPABLE = ("sampling", "detector")
"""Sections of the site configuration whose fields ``--sweep`` may vary."""


class SweepError(ValueError):
    """A ``--sweep`` argument names no setting, or gives a value the setting refuses."""


def evaluate(
    labels: LabelSet,
    root: Path,
    base: SiteConfig,
    threads: int,
    on_item: Callable[[str], None] | None = None,
) -> EvalResult:
    """Run the scan's worker and the naive baseline over every item and score both."""
    site = eval_site(base, labels)
    t0 = time.perf_counter()
    mine = run_pipeline(site, labels, root, threads, on_item)
    t1 = time.perf_counter()
    theirs = run_baseline(site, labels, root, on_item)
    t2 = time.perf_counter()
    tol = labels.tolerance.boundary_s
    interval = site.sampling.interval_s
    items = [
        ItemResult(
            item.id,
            item.kind,
            {
                PIPELINE: score_item(item, mine[item.id], tol, interval),
                BASELINE: score_item(item, theirs[item.id], tol, interval),
            },
        )
        for item in labels.items
    ]
    settings: dict[str, Any] = {
        "sampling": site.sampling.model_dump(mode="json"),
        "detector": site.detector.model_dump(mode="json"),
        "threads": threads,
        "pipeline_wall_s": round(t1 - t0, 2),
        "baseline_wall_s": round(t2 - t1, 2),
    }
    return EvalResult(labels, settings, items)


def parse_sweep(spec: str, base: SiteConfig) -> tuple[str, list[SiteConfig]]:
    """``detector.imgsz=640,960`` → the setting's name and one site per value.

    Raises:
        SweepError: the setting is unknown or a value is refused (the message says which).
    """
    name, sep, values = spec.partition("=")
    section, _, key = name.strip().partition(".")
    if not sep or section not in SWEEPABLE or not key or not values.strip():
        raise SweepError(
            f"--sweep {spec!r}: write SECTION.FIELD=a,b,c with SECTION one of "
            f"{', '.join(SWEEPABLE)} (e.g. detector.imgsz=640,960)"
        )
    fields = type(getattr(base, section)).model_fields
    if key not in fields:
        raise SweepError(
            f"--sweep {spec!r}: {section} has no setting {key!r}; it has {', '.join(fields)}"
        )
    sites = []
    for value in (v.strip() for v in values.split(",")):
        raw = base.model_dump(mode="json")
        raw[section][key] = value
        try:
            sites.append(SiteConfig.model_validate(raw))
        except ValidationError as exc:
            msg = exc.errors()[0]["msg"]
            raise SweepError(f"--sweep {spec!r}: {section}.{key}={value}: {msg}") from exc
    return f"{section}.{key}", sites
