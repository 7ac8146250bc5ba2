"""API tokens get scopes (read, review, admin) and a lifetime.

Existing tokens keep what they were used for (reading and reviewing; the audit log now needs
the ``admin`` scope) and tokens that never expired now expire 90 days after this migration.

Revision ID: 0004_21
Revises: 0017_branch_video_items
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "0004_21"
down_revision: str | None = "0017_branch_video_items"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEGACY_SCOPES = "read review"
LEGACY_LIFETIME = timedelta(days=90)


def upgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("scopes", sa.String(length=64), nullable=False, server_default=LEGACY_SCOPES)
        )
    tokens = sa.table("api_tokens", sa.column("expires_at", sa.DateTime(timezone=True)))
    op.execute(
        tokens.update()
        .where(tokens.c.expires_at.is_(None))
        .values(expires_at=datetime.now(UTC) + LEGACY_LIFETIME)
    )


def downgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("scopes")
