"""``branchwatch eval``: accuracy of the scan's perception on a labelled set of clips and stills."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from api.cli.common import fail, load_site
from api.config import SiteConfig
from api.eval.evaluate import SweepError, evaluate, parse_sweep
from api.eval.labels import LabelError, LabelSet, load_labels
from api.eval.metrics import Tally
from api.eval.report import PIPELINE, EvalResult, result_table, targets_table

TABLE_WIDTH = 150
"""Columns of the tables when the output is not a terminal (CI logs, files)."""


def _write_json(path: Path, data: object) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)


def _rate(tally: Tally) -> str:
    return "—" if tally.rate is None else f"{tally.rate:.2f}"


def _sweep_table(name: str, runs: list[tuple[str, EvalResult]]) -> Table:
    table = Table(title=f"sweep of {name} (pipeline)")
    for col in (
        name,
        "event F1",
        "boundary err s",
        "count exact",
        "people found",
        "seated decided",
        "wall s",
    ):
        table.add_column(col)
    for value, result in runs:
        total = result.total(PIPELINE)
        ev = total.event_total
        err = ev.boundary_err_s
        table.add_row(
            value,
            f"{ev.f1:.2f}",
            "—" if err is None else f"{err:.1f}",
            _rate(total.count),
            _rate(total.found),
            _rate(total.seated_decided),
            f"{result.settings['pipeline_wall_s']:.1f}",
        )
    return table


def eval_command(
    labels_file: Annotated[Path, typer.Argument(metavar="LABELS.yaml", help="Label file.")],
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="Site configuration whose sampling and detector "
            "settings to use (default: the built-in defaults).",
        ),
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the figures as JSON here.")
    ] = None,
    only: Annotated[
        list[str] | None, typer.Option("--only", help="Evaluate only this item (repeatable).")
    ] = None,
    sweep: Annotated[
        str | None,
        typer.Option(
            help="Vary one setting, e.g. detector.imgsz=640,960 or "
            "sampling.interval_s=1,2,4; prints the trade-off."
        ),
    ] = None,
    threads: Annotated[int, typer.Option(min=1, help="Inference threads.")] = 2,
) -> None:
    """Run the scan's perception and a naive baseline on labelled clips; print how often each
    check is right (format of LABELS.yaml: docs/eval.md)."""
    try:
        labels = load_labels(labels_file)
    except LabelError as exc:
        raise fail(str(exc)) from exc
    if only:
        unknown = sorted(set(only) - {i.id for i in labels.items})
        if unknown:
            raise fail(f"--only: no item {', '.join(unknown)} in {labels_file}")
        labels = LabelSet.model_validate(
            {**labels.model_dump(), "items": [i.model_dump() for i in labels.items if i.id in only]}
        )
    base = load_site(config) if config is not None else _default_site()
    out = Console(width=None if Console().is_terminal else TABLE_WIDTH)
    err = Console(stderr=True)
    root = labels_file.parent
    if sweep is not None:
        try:
            name, sites = parse_sweep(sweep, base)
        except SweepError as exc:
            raise fail(str(exc)) from exc
        runs = []
        for site in sites:
            value = str(_dotted(site, name))
            err.print(f"{name}={value}…", highlight=False)
            runs.append((value, evaluate(labels, root, site, threads)))
        out.print(_sweep_table(name, runs))
        if json_out is not None:
            _write_json(
                json_out, {"sweep": name, "runs": [{"value": v, **r.as_dict()} for v, r in runs]}
            )
        return
    with err.status("evaluating…") as status:
        result = evaluate(
            labels, root, base, threads, on_item=lambda i: status.update(f"evaluated {i}")
        )
    out.print(result_table(result))
    out.print(targets_table(result))
    out.print(
        f"pipeline {result.settings['pipeline_wall_s']:.1f} s, "
        f"baseline {result.settings['baseline_wall_s']:.1f} s",
        highlight=False,
    )
    if json_out is not None:
        _write_json(json_out, result.as_dict())


def _dotted(site: SiteConfig, name: str) -> object:
    section, key = name.split(".", 1)
    return getattr(getattr(site, section), key)


def _default_site() -> SiteConfig:
    return SiteConfig.model_validate(
        {"branches": [{"id": "eval", "name": "eval", "cameras": [{"id": "eval"}]}]}
    )
