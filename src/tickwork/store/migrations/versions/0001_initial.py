"""The initial schema: scheduler row, nodes, jobs, runs.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from tickwork.store.types import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_json = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    scheduler = op.create_table(
        "tickwork_scheduler",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("is_paused", sa.Boolean, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.bulk_insert(scheduler, [{"id": 1, "is_paused": False, "updated_at": datetime.now(UTC)}])
    op.create_table(
        "tickwork_nodes",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("is_paused", sa.Boolean, nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("heartbeat_at", UTCDateTime, nullable=False),
        sa.Column("stopped_at", UTCDateTime, nullable=True),
    )
    op.create_table(
        "tickwork_jobs",
        sa.Column("id", sa.String(191), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("func", sa.Text, nullable=False),
        sa.Column("args", _json, nullable=False),
        sa.Column("kwargs", _json, nullable=False),
        sa.Column("trigger", sa.Text, nullable=False),
        sa.Column("executor", sa.String(64), nullable=False),
        sa.Column("misfire_grace_time", sa.Float, nullable=True),
        sa.Column("coalesce", sa.Boolean, nullable=False),
        sa.Column("max_instances", sa.Integer, nullable=False),
        sa.Column("rerun_lost", sa.Boolean, nullable=False),
        sa.Column("next_run_time", UTCDateTime, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_tickwork_jobs_next_run_time", "tickwork_jobs", ["next_run_time"])
    op.create_table(
        "tickwork_runs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("job_id", sa.String(191), nullable=False),
        sa.Column("scheduled_time", UTCDateTime, nullable=False),
        sa.Column("node_id", sa.String(64), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("manual", sa.Boolean, nullable=False),
        sa.Column("claimed_at", UTCDateTime, nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=True),
        sa.Column("finished_at", UTCDateTime, nullable=True),
        sa.Column("result", sa.Text, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("traceback", sa.Text, nullable=True),
        sa.UniqueConstraint("job_id", "scheduled_time", name="uq_tickwork_runs_job_scheduled"),
    )
    op.create_index("ix_tickwork_runs_job_id_id", "tickwork_runs", ["job_id", "id"])
    op.create_index("ix_tickwork_runs_claimed_at", "tickwork_runs", ["claimed_at"])
    op.create_index(
        "ix_tickwork_runs_running",
        "tickwork_runs",
        ["node_id", "job_id"],
        postgresql_where=sa.text("outcome = 'running'"),
        sqlite_where=sa.text("outcome = 'running'"),
    )


def downgrade() -> None:
    op.drop_table("tickwork_runs")
    op.drop_table("tickwork_jobs")
    op.drop_table("tickwork_nodes")
    op.drop_table("tickwork_scheduler")
