"""Broken jobs and coalesced runs: jobs.broken_reason/broken_at, runs.coalesced.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tickwork.store.types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickwork_jobs") as jobs:
        jobs.add_column(sa.Column("broken_reason", sa.Text, nullable=True))
        jobs.add_column(sa.Column("broken_at", UTCDateTime, nullable=True))
    with op.batch_alter_table("tickwork_runs") as runs:
        runs.add_column(
            sa.Column("coalesced", sa.Integer, nullable=False, server_default=sa.text("0"))
        )


def downgrade() -> None:
    with op.batch_alter_table("tickwork_runs") as runs:
        runs.drop_column("coalesced")
    with op.batch_alter_table("tickwork_jobs") as jobs:
        jobs.drop_column("broken_at")
        jobs.drop_column("broken_reason")
