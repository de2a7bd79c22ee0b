"""Run-now arguments and pause notes: runs.args/kwargs/requested_by, jobs.paused_*.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from tickwork.store.types import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_json = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("tickwork_jobs") as jobs:
        jobs.add_column(sa.Column("paused_note", sa.Text, nullable=True))
        jobs.add_column(sa.Column("paused_by", sa.Text, nullable=True))
        jobs.add_column(sa.Column("paused_at", UTCDateTime, nullable=True))
    with op.batch_alter_table("tickwork_runs") as runs:
        runs.add_column(sa.Column("args", _json, nullable=True))
        runs.add_column(sa.Column("kwargs", _json, nullable=True))
        runs.add_column(sa.Column("requested_by", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tickwork_runs") as runs:
        runs.drop_column("requested_by")
        runs.drop_column("kwargs")
        runs.drop_column("args")
    with op.batch_alter_table("tickwork_jobs") as jobs:
        jobs.drop_column("paused_at")
        jobs.drop_column("paused_by")
        jobs.drop_column("paused_note")
