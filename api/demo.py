"""``branchwatch demo``: generate footage of a branch, scan it with the real model, show results.

The demo branch is open exactly while its footage runs, so every finding can be checked
against the footage script: the scenario's intended findings (``demo_findings.json``) are
printed next to what the rules found.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import yaml
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from api.auth import Principal, Role, add_user
from api.config import load_config
from api.db.auth_models import User
from api.db.models import EventRecord
from api.db.session import make_engine, session_scope
from api.notices import load_policy, write_demo_notice
from api.scan.driver import references_root
from api.scan.options import ScanOptions
from api.scan.run import run_scan
from api.scan.summary import summary_exit_code
from api.schemas.events import ReviewAction, ReviewCreate
from api.service.review import apply_review
from api.store import EventFilter, Store
from rules.standard import DEFAULT_SCHEME, STANDARDS_DIR, load_catalog
from rules.types import EventStatus
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
    "SCREENS_OFF": {"min_duration_s": 120.0},
}
"""Shorter thresholds than a real branch uses, so ten minutes of footage show the items."""
DEMO_USER = "demo"
DEMO_REVIEWER = "演示督导"
DEMO_RULE = {"name": "示例银行网点服务质量考核办法", "number": "示银发〔2026〕18号"}
"""The demo bank's own rule document (the psbc preset's scoring under the bank's title)."""
DEMO_POLICY = {
    "issuer": "示例银行运营管理部",
    "cc": ["示例银行个人金融部", "示例银行安全保卫部"],
    "appeal_days": 5,
}
"""Who issues the demo's notices, who gets a copy, how long the branch may appeal."""


def demo_config(
    duration_s: int, cameras: list[Any], scheme: str = DEFAULT_SCHEME
) -> dict[str, Any]:
    """The demo's configuration document (written as YAML next to the footage)."""
    end = DEMO_START + timedelta(seconds=duration_s)
    return {
        "version": 1,
        "bank": "示例银行",
        "naming": ["channel_range"],
        "detector": {"backend": "onnx", "imgsz": 640},
        "rules": DEMO_RULES,
        "scheme": scheme,
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


def render_with_progress(footage: Path, duration_s: int, console: Console) -> None:
    """Render the footage, printing a line whenever another file is under way."""
    from vision.synth.demo import demo_scenario, render_demo

    cameras = len(demo_scenario(DEMO_START, duration_s).cameras)
    console.print(f"rendering {duration_s} s of footage for {cameras} cameras…")
    done = threading.Event()
    began = time.monotonic()

    def report() -> None:
        seen = 0
        while not done.wait(2.0):
            files = len(list(footage.glob("*.mp4")))
            if files != seen:
                seen = files
                console.print(
                    f"  rendering: {files} video file(s) started, "
                    f"{time.monotonic() - began:.0f} s elapsed"
                )

    watcher = threading.Thread(target=report, daemon=True)
    watcher.start()
    try:
        render_demo(footage, DEMO_START, duration_s)
    finally:
        done.set()
        watcher.join()
    console.print(f"rendered the footage in {time.monotonic() - began:.0f} s")


def run_demo(out: Path, duration_s: int, console: Console) -> int:
    """Render (or reuse) the demo footage, scan it, review it as the demo supervisor, print
    the scorecard, write the notice and say what to open next; returns an exit code."""
    from vision.synth.demo import demo_scenario

    out = out.resolve()
    footage = out / "footage"
    scenario = demo_scenario(DEMO_START, duration_s)
    marker = footage / f"rendered-{duration_s}s"
    if not marker.exists():
        render_with_progress(footage, duration_s, console)
        marker.touch()
    scheme = write_demo_scheme(out)
    config_path = out / "branchwatch.yaml"
    config_path.write_text(
        "# Written by `branchwatch demo`; the branch is open while the footage runs.\n"
        + yaml.safe_dump(
            demo_config(duration_s, [c.config for c in scenario.cameras], str(scheme)),
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
    password = demo_login(db_url, out)
    confirmed = review_scripted(db_url, footage / "demo_findings.json")
    console.print(
        f"the demo supervisor {DEMO_REVIEWER} ({DEMO_USER}) confirmed {confirmed} event(s) "
        "that match the footage script; the others wait for your review"
    )
    print_scorecard(db_url, site.scheme, console)
    print_findings(db_url, footage / "demo_findings.json", console)
    policy = load_policy(write_demo_policy(out))
    notice = write_demo_notice(
        db_url, out, "demo", DEMO_START.strftime("%Y-%m-%d"), policy=policy, scheme=site.scheme
    )
    console.print(
        f"footage:  {footage}\nconfig:   {config_path}\ndatabase: {db_url}\n"
        f"evidence: {out / 'evidence'}"
    )
    print_next_steps(out, notice, password, console)
    return summary_exit_code(summary)


def serve_environment(out: Path) -> dict[str, str]:
    """The ``BRANCHWATCH_*`` settings of the review service on the demo store."""
    return {
        "BRANCHWATCH_DB": f"sqlite:///{out / 'branchwatch.db'}",
        "BRANCHWATCH_ENVIRONMENT": "development",
        "BRANCHWATCH_NOTICES_SCHEME": str(out / "scheme.yaml"),
        "BRANCHWATCH_NOTICES_POLICY": str(out / "notice_policy.yaml"),
        "BRANCHWATCH_SCHEME": str(out / "scheme.yaml"),
    }


def print_next_steps(out: Path, notice: list[Path], password: str, console: Console) -> None:
    """What to open now, and how to go on with one's own footage."""
    env = " ".join(f"{k}={v}" for k, v in serve_environment(out).items())
    lines = [
        "",
        "next steps:",
        "  1. open the rectification notice: " + "  ".join(str(p) for p in notice),
        "  2. review the events in the browser (demo login: "
        f"user {DEMO_USER}, password {password}):",
        f"       branchwatch demo --out {out} --serve",
        f"     or: {env} branchwatch serve",
        "     then open http://127.0.0.1:8000/ (scorecards, review queue, notices)",
        "  3. your own footage: branchwatch init ./site, draw the zones in "
        "site/branchwatch.yaml, then",
        "       branchwatch check -c site/branchwatch.yaml && "
        "branchwatch scan -c site/branchwatch.yaml /path/to/exports --db sqlite:///bw.db",
        "     (README.md, 'Using it on real footage'; docs/operations.md for the service)",
    ]
    for line in lines:
        console.print(line, highlight=False, soft_wrap=True)


def write_demo_scheme(out: Path) -> Path:
    """The demo bank's scheme file: the psbc preset under the bank's own title and 文号."""
    data = yaml.safe_load((STANDARDS_DIR / "psbc.yaml").read_text(encoding="utf-8"))
    path = out / "scheme.yaml"
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# Written by `branchwatch demo`: the psbc preset as the demo bank's own rule.\n"
        + yaml.safe_dump({**data, **DEMO_RULE}, allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )
    return path


def write_demo_policy(out: Path) -> Path:
    """The demo's notice policy file (issuer, 抄送, appeal period)."""
    path = out / "notice_policy.yaml"
    path.write_text(
        "# Written by `branchwatch demo`: how the demo bank issues notices.\n"
        + yaml.safe_dump(DEMO_POLICY, allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )
    return path


def demo_login(db_url: str, out: Path) -> str:
    """The demo supervisor's password (the account is made on the first run).

    The password is kept in ``OUT/demo_login.txt`` so every run prints the same one.
    """
    secret = out / "demo_login.txt"
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as session:
            exists = session.scalars(select(User.id).where(User.username == DEMO_USER)).first()
            if exists is not None and secret.is_file():
                return secret.read_text(encoding="utf-8").strip()
            password = secrets.token_urlsafe(12)
            if exists is None:
                add_user(
                    session,
                    DEMO_USER,
                    password,
                    Role.SUPERVISOR,
                    branches=["demo"],
                    display_name=DEMO_REVIEWER,
                )
            else:
                from api.auth import hash_password

                user = session.scalars(select(User).where(User.username == DEMO_USER)).one()
                user.password_hash = hash_password(password)
    finally:
        engine.dispose()
    secret.write_text(password + "\n", encoding="utf-8")
    secret.chmod(0o600)
    return password


def review_scripted(db_url: str, findings_path: Path) -> int:
    """As the demo supervisor, confirm the pending events that match a scripted finding.

    The decisions go through the review service's code (review rows and audit records), so
    the notice names the reviewer; events the script does not explain stay pending.

    Returns:
        Number of events confirmed now.
    """
    intended = [f for f in json.loads(findings_path.read_text(encoding="utf-8")) if f["expected"]]
    items = frozenset(load_catalog().items)
    engine = make_engine(db_url)
    confirmed = 0
    try:
        with session_scope(engine) as session:
            user = session.scalars(select(User).where(User.username == DEMO_USER)).one()
            principal = Principal(
                user_id=user.id,
                username=user.username,
                display_name=user.display_name,
                role=Role(user.role),
                branches=frozenset(b.branch_id for b in user.branches),
            )
            pending = session.scalars(
                select(EventRecord).where(EventRecord.status == EventStatus.PENDING.value)
            ).all()
            for event in pending:
                if any(_matches(event, f) for f in intended):
                    body = ReviewCreate(action=ReviewAction.CONFIRM, reason="与录像脚本一致")
                    apply_review(session, principal, event, body, "127.0.0.1", items)
                    confirmed += 1
    finally:
        engine.dispose()
    return confirmed


def _matches(event: EventRecord, finding: dict[str, Any]) -> bool:
    start = datetime.fromisoformat(finding["start"])
    end = datetime.fromisoformat(finding["end"])
    return (
        event.item == finding["item"]
        and event.camera_id == finding["camera"]
        and event.start_ts <= end
        and event.end_ts >= start
    )


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
                f"-{d.points:g}" if d.points else "0",
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
