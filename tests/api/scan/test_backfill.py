"""Clips of events stored without one: ``branchwatch evidence backfill``; re-runs rewrite none."""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from rich.console import Console
from sqlalchemy import select
from typer.testing import CliRunner

from api.cli.main import app
from api.config import load_config
from api.db.models import EventRecord
from api.db.session import make_engine, session_scope
from api.scan.options import ScanOptions
from api.scan.run import run_scan
from tests.api.scan.conftest import Footage


def _evidence(db_url: str) -> dict[str, dict[str, object]]:
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as session:
            rows = session.scalars(select(EventRecord).where(EventRecord.video_id.is_not(None)))
            return {e.key: dict(e.evidence) for e in rows}
    finally:
        engine.dispose()


def test_backfill_cuts_missing_clips_and_rescans_rewrite_none(
    footage: Footage, tmp_path: Path
) -> None:
    doc = yaml.safe_load(footage.config_path.read_text(encoding="utf-8"))
    doc["evidence"] = {"clips": False}  # as a run before clips were cut
    config = tmp_path / "branchwatch.yaml"
    config.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    db_url, work = f"sqlite:///{tmp_path / 'bw.db'}", tmp_path / "work"
    options = ScanOptions.build(db_url=db_url, work_dir=work, workers=2)
    quiet = Console(file=open(os.devnull, "w"))
    first = run_scan(load_config(config), config, [footage.folder], options, console=quiet)
    before = _evidence(db_url)
    assert before and first.clips.written == 0
    assert all("clip" not in e and "still" in e for e in before.values())

    result = CliRunner().invoke(
        app, ["evidence", "backfill", "-c", str(config), "--db", db_url, "--work", str(work)]
    )
    assert result.exit_code == 0, result.output
    after = _evidence(db_url)
    assert all(Path(str(e["clip"])).is_file() for e in after.values())
    assert f"evidence clips: {len(after)} written, 0 could not be cut" in result.output
    stamps = {k: Path(str(e["clip"])).stat().st_mtime_ns for k, e in after.items()}

    again = run_scan(footage.site, footage.config_path, [footage.folder], options, console=quiet)
    assert again.clips.written == 0 and again.events_new == 0
    assert {k: Path(str(e["clip"])).stat().st_mtime_ns for k, e in after.items()} == stamps
    nothing = CliRunner().invoke(
        app, ["evidence", "backfill", "-c", str(config), "--db", db_url, "--work", str(work)]
    )
    assert "evidence clips: 0 written" in nothing.output


def test_a_clip_that_cannot_be_cut_is_a_named_problem(footage: Footage, tmp_path: Path) -> None:
    """The exports are moved away after the scan: backfill records why there is no clip."""
    doc = yaml.safe_load(footage.config_path.read_text(encoding="utf-8"))
    doc["evidence"] = {"clips": False}
    config = tmp_path / "branchwatch.yaml"
    config.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    moved = tmp_path / "footage"
    moved.mkdir()
    for f in footage.folder.glob("*.mp4"):
        (moved / f.name).symlink_to(f)
    db_url, work = f"sqlite:///{tmp_path / 'bw.db'}", tmp_path / "work"
    options = ScanOptions.build(db_url=db_url, work_dir=work, workers=2)
    quiet = Console(file=open(os.devnull, "w"))
    run_scan(load_config(config), config, [moved], options, console=quiet)
    for link in moved.iterdir():
        link.unlink()
    result = CliRunner().invoke(
        app, ["evidence", "backfill", "-c", str(config), "--db", db_url, "--work", str(work)]
    )
    assert result.exit_code == 1
    problems = [e.get("clip_problem") for e in _evidence(db_url).values()]
    assert problems and set(problems) == {"source_missing"}
    assert "could not be cut" in result.output
