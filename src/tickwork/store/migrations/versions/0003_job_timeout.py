"""Run timeouts and cancel requests: jobs.timeout, runs.cancel_requested_at.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tickwork.store.types import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickwork_jobs") as jobs:
        jobs.add_column(sa.Column("timeout", sa.Float, nullable=True))
    with op.batch_alter_table("tickwork_runs") as runs:
        runs.add_column(sa.Column("cancel_requested_at", UTCDateTime, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tickwork_runs") as runs:
        runs.drop_column("cancel_requested_at")
    with op.batch_alter_table("tickwork_jobs") as jobs:
        jobs.drop_column("timeout")
