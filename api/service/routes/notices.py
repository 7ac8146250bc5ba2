"""Notice pages of the UI: HTML preview of a branch's 整改通知书, the 生成 button, the files.

* ``GET /notices/{branch}/{period}``: the notice as it would be generated now (``?preview=true``
  also counts pending events and is labelled so), with the stored versions and the button;
* ``POST /notices/{branch}/{period}/generate``: write a new version (DOCX, PDF, HTML) and
  record it, then show the preview again;
* ``GET /notices/files/{notice_id}/{fmt}``: a stored version's file.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path as FilePath
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, status
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import select

from api.auth import Principal
from api.db.models import Notice
from api.db.session import parse_db_url
from api.notices import (
    NoticeError,
    NoticeFilesExist,
    NoticeFormat,
    build_notice,
    generate_notice,
    load_policy,
)
from api.notices.generate import next_version
from api.notices.html import CSS_PATH, PageControls, StoredVersion, render_html
from api.scorecards import scheme_period
from api.service.deps import MAX_ID, ChangingPageUser, PageUser, SessionDep, SettingsDep
from rules.periods import PeriodError
from rules.standard import DEFAULT_SCHEME, StandardError
from vision.config.base import ID_PATTERN

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/notices", tags=["notices"], include_in_schema=False)

BranchId = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]
PeriodText = Annotated[str, Path(min_length=4, max_length=10, pattern=r"^[0-9]{4}[0-9WQS-]*$")]
CSS_URL = "/notices/notice.css"


class NoticeSettings(BaseSettings):
    """Where the service writes notices and how, from ``BRANCHWATCH_NOTICES_*`` variables."""

    model_config = SettingsConfigDict(
        env_prefix="BRANCHWATCH_NOTICES_", extra="forbid", frozen=True
    )

    dir: FilePath | None = Field(
        default=None,
        description="Folder the 生成 button writes notices into (default: `notices` next to "
        "a SQLite store, else `notices` in the folder the service was started from).",
    )
    scheme: str = Field(
        default=DEFAULT_SCHEME,
        min_length=1,
        max_length=500,
        description="Scheme preset or YAML path.",
    )
    policy: FilePath | None = Field(
        default=None, description="YAML with issuer, deadlines and responsible roles."
    )


def notices_dir(settings: NoticeSettings, db_url: str) -> FilePath:
    """Where generated notices go: the configured folder, else next to a SQLite store."""
    if settings.dir is not None:
        return settings.dir
    url = parse_db_url(db_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return FilePath(url.database).resolve().parent / "notices"
    return FilePath("notices").resolve()


@lru_cache(maxsize=1)
def get_notice_settings() -> NoticeSettings:
    """Notice settings from the environment, read once per process."""
    return NoticeSettings()


NoticeSettingsDep = Annotated[NoticeSettings, Depends(get_notice_settings)]


def _viewable(principal: Principal, branch: str) -> None:
    if not principal.can_view(branch):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"无此网点：{branch}")


def _page_url(branch: str, period: str, preview: bool) -> str:
    return f"/notices/{quote(branch)}/{quote(period)}" + ("?preview=true" if preview else "")


@router.get("/notice.css")
def notice_css() -> FileResponse:
    """The notice stylesheet (the service's content security policy forbids inline styles)."""
    return FileResponse(CSS_PATH, media_type="text/css")


@router.get("/files/{notice_id}/{fmt}")
def notice_file(
    principal: PageUser,
    db: SessionDep,
    notice_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    fmt: NoticeFormat,
) -> FileResponse:
    """A stored version's file (paths come from the stored row only)."""
    row = db.get(Notice, notice_id)
    if row is None or not principal.can_view(row.branch_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"无此通知书：{notice_id}")
    value = row.paths.get(fmt.value)
    path = FilePath(value) if isinstance(value, str) else None
    if path is None or not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"通知书 {row.number} 无 {fmt.value} 文件")
    return FileResponse(path, filename=path.name)


@router.get("/{branch}/{period}", response_class=HTMLResponse)
def notice_page(
    principal: PageUser,
    db: SessionDep,
    settings: NoticeSettingsDep,
    branch: BranchId,
    period: PeriodText,
    preview: Annotated[bool, Query()] = False,
) -> Response:
    """The notice of a branch and period as it would be generated now."""
    _viewable(principal, branch)
    try:
        # The page shows the number the next version will carry when it is generated.
        content = build_notice(
            db,
            branch,
            period,
            scheme=settings.scheme,
            policy=load_policy(settings.policy),
            preview=preview,
            version=next_version(db, branch, scheme_period(settings.scheme, period)[1].label),
        )
    except NoticeError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"无此网点：{branch}") from exc
    except (PeriodError, StandardError) as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    rows = db.scalars(
        select(Notice)
        .where(Notice.branch_id == branch, Notice.period == content.period.label)
        .order_by(Notice.version)
    )
    controls = PageControls(
        generate_url=f"/notices/{quote(branch)}/{quote(period)}/generate",
        preview_url=_page_url(branch, period, True),
        final_url=_page_url(branch, period, False),
        csrf_token=principal.csrf_token or "",
        can_generate=principal.can_review(branch),
        preview=preview,
        versions=tuple(
            StoredVersion(id=r.id, version=r.version, preview=r.preview, formats=tuple(r.paths))
            for r in rows
        ),
    )
    return HTMLResponse(render_html(content, controls, css_href=CSS_URL))


@router.post("/{branch}/{period}/generate")
def generate(
    principal: ChangingPageUser,
    db: SessionDep,
    settings: NoticeSettingsDep,
    service: SettingsDep,
    branch: BranchId,
    period: PeriodText,
    preview: Annotated[bool, Form()] = False,
) -> RedirectResponse:
    """Write a new version of the notice and go back to its page."""
    _viewable(principal, branch)
    if not principal.can_review(branch):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "无权为该网点生成整改通知书")
    try:
        made = generate_notice(
            db,
            branch,
            period,
            notices_dir(settings, service.db),
            scheme=settings.scheme,
            policy=load_policy(settings.policy),
            preview=preview,
        )
    except NoticeFilesExist as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    except NoticeError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"无此网点：{branch}") from exc
    except (PeriodError, StandardError) as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    db.commit()
    logger.info("%s generated notice %s", principal.username, made.content.number)
    return RedirectResponse(_page_url(branch, period, preview), status.HTTP_303_SEE_OTHER)
