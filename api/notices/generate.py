"""Generating notices: render the files of a new version and record it as a ``Notice`` row.

Each generation of a branch and period is a new version (1, 2, …) written to a folder of its
own, ``OUT/<branch>/<period>/v<version>/``; older versions' files and rows are kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.db.models import Notice
from api.db.session import make_engine, session_scope
from api.notices.docx import write_docx
from api.notices.history import answer_history
from api.notices.html import write_html
from api.notices.model import NoticeContent, NoticeFilesExist, build_notice
from api.notices.pdf import write_pdf
from api.notices.policy import NoticePolicy
from api.outputs import complete_folder
from api.scorecards import scheme_period
from rules.standard import DEFAULT_SCHEME

logger = logging.getLogger(__name__)


class NoticeFormat(StrEnum):
    """File formats of a notice."""

    DOCX = "docx"
    PDF = "pdf"
    HTML = "html"


WRITERS: dict[NoticeFormat, Callable[[NoticeContent, Path], Path]] = {
    NoticeFormat.DOCX: write_docx,
    NoticeFormat.PDF: write_pdf,
    NoticeFormat.HTML: write_html,
}


@dataclass(frozen=True, slots=True)
class GeneratedNotice:
    """A stored notice version and its files."""

    notice_id: int
    content: NoticeContent
    paths: dict[str, Path]

    @property
    def summary(self) -> dict[str, Any]:
        """What the audit log records of a generation."""
        return {
            "number": self.content.number,
            "period": self.content.period.label,
            "preview": self.content.preview,
            "files": sorted(p.name for p in self.paths.values()),
        }


def next_version(session: Session, branch: str, period: str) -> int:
    """The version the next notice of a branch and period gets."""
    latest = session.scalar(
        select(func.max(Notice.version)).where(Notice.branch_id == branch, Notice.period == period)
    )
    return (latest or 0) + 1


def file_stem(content: NoticeContent) -> str:
    """``整改通知书_b001_2026-11_v2`` (``_预览`` added for a preview)."""
    tag = "_预览" if content.preview else ""
    return f"{content.title}_{content.branch}_{content.period.label}_v{content.version}{tag}"


def generate_notice(
    session: Session,
    branch: str,
    period: str,
    out_dir: Path,
    *,
    scheme: str = DEFAULT_SCHEME,
    policy: NoticePolicy | None = None,
    preview: bool = False,
    formats: Sequence[NoticeFormat] = tuple(NoticeFormat),
    issued: date | None = None,
) -> GeneratedNotice:
    """Render a new version of a branch's notice and record it.

    Args:
        session: Session on the store (the caller commits).
        branch: Branch id.
        period: Period text (``2026-11-20``, ``2026-11`` …).
        out_dir: Root folder of notice files.
        scheme: Scheme preset name or YAML path.
        policy: Issuer, deadlines and roles.
        preview: Count pending events too (labelled as a preview).
        formats: Files to write.
        issued: Date of the notice (default today in the branch's time zone).

    Returns:
        The new row's id, the content and the written files.

    Raises:
        NoticeError: Unknown branch.
        NoticeFilesExist: The new version's folder already holds files.
    """
    label = scheme_period(scheme, period)[1].label
    version = next_version(session, branch, label)
    content = build_notice(
        session,
        branch,
        period,
        scheme=scheme,
        policy=policy,
        preview=preview,
        version=version,
        issued=issued,
    )
    content = replace(content, history=answer_history(session, branch, content.period.label))
    folder = out_dir / branch / content.period.label / f"v{version}"
    if folder.exists() and any(folder.iterdir()):
        raise NoticeFilesExist(
            f"{folder} already holds files but the store has no version {version} of the "
            f"{branch} {content.period.label} notice; use another --out folder"
        )
    stem = file_stem(content)
    with complete_folder(folder) as staging:  # a failed run leaves no partial version behind
        for fmt in formats:
            WRITERS[fmt](content, staging / f"{stem}.{fmt.value}")
    paths = {fmt.value: folder / f"{stem}.{fmt.value}" for fmt in formats}
    for written in paths.values():
        logger.info("wrote %s (%d violations)", written, len(content.lines))
    row = Notice(
        number=content.number,
        branch_id=branch,
        period=content.period.label,
        version=version,
        preview=preview,
        paths={k: str(v) for k, v in paths.items()},
        total_points=content.deducted,
        total_money=content.penalty_total,
    )
    session.add(row)
    session.flush()
    logger.info("notice %s: version %d of %s %s", content.number, version, branch, label)
    return GeneratedNotice(notice_id=row.id, content=content, paths=paths)


def write_demo_notice(
    db_url: str,
    out_dir: Path,
    branch: str,
    period: str,
    *,
    policy: NoticePolicy,
    scheme: str = DEFAULT_SCHEME,
) -> list[Path]:
    """Write the demo branch's notice of its confirmed events.

    Args:
        db_url: Store URL of the demo.
        out_dir: The demo's output folder; files go under ``out_dir/notices``.
        branch: Demo branch id.
        period: Demo period (its day, ``2026-11-20``).
        policy: Issuer, 抄送 and appeal period of the demo bank.
        scheme: Scheme preset or path (the config's ``scheme``).

    Returns:
        The DOCX and PDF files written.
    """
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as session:
            generated = generate_notice(
                session,
                branch,
                period,
                out_dir / "notices",
                scheme=scheme,
                policy=policy,
                formats=(NoticeFormat.DOCX, NoticeFormat.PDF),
            )
    finally:
        engine.dispose()
    return [generated.paths["docx"], generated.paths["pdf"]]
