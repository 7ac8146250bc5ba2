"""``/api/tokens``: the caller's API tokens (create, list, revoke) and ``/api/me``."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request, status
from sqlalchemy import select

from api.auth import AuditAction, create_api_token, record_audit
from api.db.auth_models import ApiToken
from api.db.models import utcnow
from api.db.session import begin_write
from api.schemas.tokens import TokenCreate, TokenCreated, TokenPublic, TokensPublic, UserPublic
from api.service.deps import (
    API_ERRORS,
    MAX_ID,
    CurrentUser,
    SessionDep,
    SessionUser,
    SettingsDep,
    client_ip,
)

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api", tags=["tokens"], responses=API_ERRORS)


@router.get("/me", response_model=UserPublic)
def read_me(principal: CurrentUser) -> UserPublic:
    """Who the caller is and which branches they may see."""
    return UserPublic(
        username=principal.username,
        display_name=principal.display_name,
        role=principal.role.value,
        branches=sorted(principal.branches),
    )


@router.get("/tokens", response_model=TokensPublic)
def read_tokens(principal: CurrentUser, db: SessionDep) -> TokensPublic:
    """The caller's API tokens, revoked ones included."""
    rows = db.scalars(
        select(ApiToken).where(ApiToken.user_id == principal.user_id).order_by(ApiToken.id)
    )
    return TokensPublic(data=[TokenPublic.model_validate(r) for r in rows])


@router.post(
    "/tokens",
    response_model=TokenCreated,
    status_code=status.HTTP_201_CREATED,
    responses={403: {"description": "Called with an API token, or CSRF failure"}},
)
def create_token(
    principal: SessionUser,
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    body: TokenCreate,
) -> TokenCreated:
    """Issue an API token acting as the caller, from a browser session only (a token cannot
    mint tokens); the token is shown only in this answer."""
    begin_write(db)
    expires = utcnow() + timedelta(days=body.expires_days or settings.token_days)
    token, row = create_api_token(
        db,
        principal.user_id,
        body.name,
        settings.secret_key.get_secret_value(),
        body.scopes,
        expires,
    )
    record_audit(
        db,
        AuditAction.TOKEN_CREATED,
        principal=principal,
        target=f"token:{row.id}",
        after={"name": row.name, "prefix": row.prefix, "scopes": row.scopes},
        ip=client_ip(request),
    )
    db.commit()
    return TokenCreated(**TokenPublic.model_validate(row).model_dump(), token=token)


@router.delete(
    "/tokens/{token_id}",
    response_model=TokenPublic,
    responses={403: {"description": "Called with an API token, or CSRF failure"}, 404: {}},
)
def revoke_token(
    principal: SessionUser,
    request: Request,
    db: SessionDep,
    token_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> TokenPublic:
    """Revoke one of the caller's tokens (it stays listed, marked revoked)."""
    begin_write(db)
    row = db.get(ApiToken, token_id)
    if row is None or row.user_id != principal.user_id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no token {token_id}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        record_audit(
            db,
            AuditAction.TOKEN_REVOKED,
            principal=principal,
            target=f"token:{row.id}",
            before={"revoked_at": None},
            after={"revoked_at": row.revoked_at.isoformat()},
            ip=client_ip(request),
        )
        db.commit()
    return TokenPublic.model_validate(row)
