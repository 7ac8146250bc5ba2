"""What a scan did, file by file, and its one-screen summary in the terminal."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from api.scan.evidence import ClipCost


@dataclass
class FileOutcome:
    """What became of one export file in this run."""

    path: str
    branch: str | None
    camera: str | None
    status: str  # done | skipped | failed | rejected
    reason: str = ""
    stats: dict[str, Any] = field(default_factory=dict)


@dataclass
class ScanSummary:
    files: list[FileOutcome] = field(default_factory=list)
    events_new: int = 0
    events_by_item: dict[str, int] = field(default_factory=dict)
    gaps: list[tuple[str, str, datetime, datetime]] = field(default_factory=list)
    clips: ClipCost = field(default_factory=ClipCost)
    footage_s: float = 0.0
    wall_s: float = 0.0

    @property
    def x_realtime(self) -> float:
        return self.footage_s / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def clip_share(self) -> float:
        """Share of the run's wall time spent cutting clips."""
        return self.clips.seconds / self.wall_s if self.wall_s > 0 else 0.0


def summary_exit_code(summary: ScanSummary) -> int:
    """Non-zero only when there was input and none of it could be processed."""
    if not summary.files:
        return 1
    ok = sum(1 for f in summary.files if f.status in ("done", "skipped"))
    return 0 if ok else 1


def print_summary(summary: ScanSummary, console: Console) -> None:
    """The files table, missing footage, new events, clip cost and speed of the run."""
    table = Table(title="scan summary", show_lines=False)
    for col in ("file", "camera", "status", "footage s", "x-realtime", "note"):
        table.add_column(col, overflow="fold")
    for f in summary.files:
        table.add_row(
            Path(f.path).name,
            f"{f.branch or '-'}/{f.camera or '-'}",
            f.status,
            f"{f.stats.get('duration_s', 0):.0f}" if f.stats else "-",
            f"{f.stats.get('x_realtime', 0):.1f}" if f.stats else "-",
            f.reason or "; ".join(f.stats.get("notes", [])) if f.stats else f.reason,
        )
    console.print(table)
    for branch, camera, start, end in summary.gaps:
        console.print(
            f"missing footage {branch}/{camera}: {start:%Y-%m-%d %H:%M:%S} – {end:%H:%M:%S}"
        )
    counts = ", ".join(f"{k}={v}" for k, v in sorted(summary.events_by_item.items())) or "none"
    console.print(
        f"new events: {summary.events_new} ({counts}); footage {summary.footage_s:.0f} s in "
        f"{summary.wall_s:.1f} s = {summary.x_realtime:.1f}× realtime"
    )
    clips = summary.clips
    failed = f", {clips.failed} could not be cut (see the events)" if clips.failed else ""
    console.print(
        f"evidence clips: {clips.written} written in {clips.seconds:.1f} s "
        f"({summary.clip_share:.1%} of the run's wall time){failed}"
    )
