"""v2 video generation: progress, storyboard, approval flag, costs, retries, updated_at

Revision ID: 0002_v2_video_generation
Revises: 0001_initial
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_v2_video_generation"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = sa.Numeric(12, 6, asdecimal=False)

# SQLite has no BEFORE-UPDATE assignment to NEW, so an AFTER trigger writes the row again;
# recursive triggers are off by default, so it fires once. The timestamp keeps microseconds
# in the format SQLAlchemy stores, so ordering by updated_at stays exact.
SQLITE_TRIGGER = """
CREATE TRIGGER trg_jobs_updated_at AFTER UPDATE ON jobs FOR EACH ROW
BEGIN
    UPDATE jobs SET updated_at = strftime('%Y-%m-%d %H:%M:%f000', 'now') WHERE id = NEW.id;
END
"""
PG_FUNCTION = """
CREATE OR REPLACE FUNCTION reelforge_set_updated_at() RETURNS trigger AS $$
BEGIN
    NEW.updated_at = clock_timestamp();
    RETURN NEW;
END;
$$ LANGUAGE plpgsql
"""
PG_TRIGGER = """
CREATE TRIGGER trg_jobs_updated_at BEFORE UPDATE ON jobs
FOR EACH ROW EXECUTE FUNCTION reelforge_set_updated_at()
"""


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("progress", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("video_url", sa.Text(), nullable=True))
        batch.add_column(sa.Column("storyboard_data", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("approved", sa.Boolean(), server_default="0", nullable=False))
        batch.add_column(sa.Column("estimated_cost", MONEY, nullable=True))
        batch.add_column(sa.Column("actual_cost", MONEY, server_default="0", nullable=False))
        batch.add_column(sa.Column("retry_count", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("error_message", sa.Text(), nullable=True))
        batch.add_column(
            sa.Column(
                "updated_at",
                sa.DateTime(timezone=True),
                server_default=sa.func.current_timestamp(),
                nullable=False,
            )
        )
        batch.create_index("ix_jobs_client_created", ["client_id", "created_at", "id"])
        batch.create_index("ix_jobs_status_updated", ["status", "updated_at"])
    # Jobs approved before v2 carried only approved_at.
    op.execute("UPDATE jobs SET approved = (approved_at IS NOT NULL)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        op.execute(PG_TRIGGER)
    else:
        op.execute(SQLITE_TRIGGER)


def downgrade() -> None:
    op.execute(
        "DROP TRIGGER IF EXISTS trg_jobs_updated_at"
        + (" ON jobs" if op.get_bind().dialect.name == "postgresql" else "")
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS reelforge_set_updated_at()")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_status_updated")
        batch.drop_index("ix_jobs_client_created")
        for column in (
            "updated_at",
            "error_message",
            "retry_count",
            "actual_cost",
            "estimated_cost",
            "approved",
            "storyboard_data",
            "video_url",
            "progress",
        ):
            batch.drop_column(column)
