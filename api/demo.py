"""``branchwatch demo``: generate footage of a branch, scan it with the real model, show results.

The demo branch is open exactly while its footage runs, so every finding can be checked
against the footage script: the scenario's intended findings (``demo_findings.json``) are
printed next to what the rules found.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import yaml
from rich.console import Console
from rich.table import Table

from api.config import load_config
from api.db.session import make_engine, session_scope
from api.notices import write_demo_notice
from api.scan.driver import references_root
from api.scan.options import ScanOptions
from api.scan.run import run_scan
from api.scan.summary import summary_exit_code
from api.store import EventFilter, Store
from vision.reference import ReferenceStore

if TYPE_CHECKING:
    from vision.synth.demo import DemoScenario

logger = logging.getLogger(__name__)

DEMO_TZ = ZoneInfo("Asia/Shanghai")
DEMO_START = datetime(2026, 11, 20, 9, 30, tzinfo=DEMO_TZ)
"""A Friday morning; the branch opens when the footage starts."""

DEMO_RULES: dict[str, dict[str, Any]] = {
    "LOBBY_MANAGER_ABSENT": {"grace_s": 120.0},
    "GUARD_NOT_PATROLLING": {"min_duration_s": 300.0, "require_customers": False},
    "CLUTTER_CUSTOMER_VIEW": {"min_duration_s": 120.0},
    "COUNTER_CROWDING": {"min_duration_s": 20.0},
    "WINDOW_UNATTENDED": {"min_duration_s": 60.0},
    "MISSING_FOOTAGE": {"min_gap_s": 20.0},
}
"""Shorter thresholds than a real branch uses, so ten minutes of footage show the items."""


def demo_config(duration_s: int, cameras: list[Any]) -> dict[str, Any]:
    """The demo's configuration document (written as YAML next to the footage)."""
    end = DEMO_START + timedelta(seconds=duration_s)
    return {
        "version": 1,
        "bank": "示例银行",
        "naming": ["channel_range"],
        "detector": {"backend": "onnx", "imgsz": 640},
        "rules": DEMO_RULES,
        "scheme": "psbc",
        "branches": [
            {
                "id": "demo",
                "name": "示例支行",
                "timezone": str(DEMO_TZ),
                "hours": {
                    "open": {
                        "start": DEMO_START.strftime("%H:%M:%S"),
                        "end": end.strftime("%H:%M:%S"),
                    },
                    "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                },
                "cameras": [c.model_dump(mode="json", exclude_defaults=True) for c in cameras],
            }
        ],
    }


def run_demo(out: Path, duration_s: int, console: Console) -> int:
    """Render (or reuse) the demo footage, scan it, print the scorecard; returns an exit code."""
    from vision.synth.demo import demo_scenario, render_demo

    out = out.resolve()
    footage = out / "footage"
    scenario = demo_scenario(DEMO_START, duration_s)
    marker = footage / f"rendered-{duration_s}s"
    if not marker.exists():
        console.print(f"rendering {duration_s} s of footage for {len(scenario.cameras)} cameras…")
        render_demo(footage, DEMO_START, duration_s)
        marker.touch()
    config_path = out / "branchwatch.yaml"
    config_path.write_text(
        "# Written by `branchwatch demo`; the branch is open while the footage runs.\n"
        + yaml.safe_dump(
            demo_config(duration_s, [c.config for c in scenario.cameras]),
            allow_unicode=True,
            sort_keys=False,
        ),
        encoding="utf-8",
    )
    site = load_config(config_path)
    mark_clean_references(scenario, out)
    db_url = f"sqlite:///{out / 'branchwatch.db'}"
    options = ScanOptions.build(db_url=db_url, work_dir=out, workers=0)
    summary = run_scan(site, config_path, [footage], options, console=console)
    print_scorecard(db_url, site.scheme, console)
    print_findings(db_url, footage / "demo_findings.json", console)
    notice = write_demo_notice(
        db_url, out, "demo", DEMO_START.strftime("%Y-%m-%d"), issuer=site.bank, scheme=site.scheme
    )
    console.print(
        f"footage:  {footage}\nconfig:   {config_path}\ndatabase: {db_url}\n"
        f"evidence: {out / 'evidence'}\nnotice:   " + "  ".join(str(p) for p in notice)
    )
    return summary_exit_code(summary)


def mark_clean_references(scenario: DemoScenario, out: Path) -> None:
    """Store each camera's empty view as its clean reference, as an installer would with
    ``branchwatch reference set`` (the clutter checks compare footage with it)."""
    from vision.synth.frames import FrameRenderer

    store = ReferenceStore(references_root(out))
    for camera in scenario.cameras:
        still = FrameRenderer(camera.script).empty_view()
        store.save("demo", camera.script.camera, still, "empty view at opening (demo)")


def print_scorecard(db_url: str, scheme: str, console: Console) -> None:
    """Scorecard of the demo day from the stored events (a preview: none is confirmed yet)."""
    from api.scorecards import ScoreQuery, scorecards_for
    from rules.score_table import PREVIEW_LABEL

    query = ScoreQuery(scheme, DEMO_START.strftime("%Y-%m-%d"), preview=True)
    cards, _ = scorecards_for(db_url, query)
    for card in cards:
        table = Table(title=f"scorecard {card.branch} {card.period.label} ({PREVIEW_LABEL})")
        for col in ("branch", "item", "count", "points", "money (元)"):
            table.add_column(col, overflow="fold")
        for d in card.deductions:
            table.add_row(
                card.branch,
                f"{d.item} {d.name}",
                str(d.occurrences),
                f"-{d.points:g}",
                f"{d.money:g}",
            )
        table.add_row(card.branch, "score", "", f"{card.score:g}", f"{card.penalty_total:g}")
        console.print(table)


def print_findings(db_url: str, findings_path: Path, console: Console) -> None:
    """The footage script's intended findings next to the stored events that match them."""
    intended = json.loads(findings_path.read_text(encoding="utf-8"))
    engine = make_engine(db_url)
    with session_scope(engine) as session:
        events = Store(session).list_events(EventFilter(limit=10_000))
        found = [(e.item, e.camera_id, e.start_ts, e.end_ts) for e in events]
    table = Table(title="scripted findings (ground truth) and what the rules reported")
    for col in ("item", "camera", "scripted", "expected", "reported"):
        table.add_column(col, overflow="fold")
    for f in intended:
        start = datetime.fromisoformat(f["start"])
        end = datetime.fromisoformat(f["end"])
        hits = [
            f"{s.astimezone(DEMO_TZ):%H:%M:%S}–{e.astimezone(DEMO_TZ):%H:%M:%S}"
            for item, cam, s, e in found
            if item == f["item"] and cam == f["camera"] and s <= end and e >= start
        ]
        table.add_row(
            f["item"],
            f["camera"],
            f"{start.astimezone(DEMO_TZ):%H:%M:%S}–{end.astimezone(DEMO_TZ):%H:%M:%S}",
            "yes" if f["expected"] else "no (near miss)",
            ", ".join(hits) or "-",
        )
    console.print(table)
