"""unit of work: stored prediction outputs, export timestamps, atomic budget reservations

- `predictions.output`: what a paid prediction produced that is not a file (the plan's
  scenes), so a reused prediction answers from the database instead of the provider.
- `exports.updated_at`: lets the sweep find exports whose task was lost.
- `budget_days` + `jobs.reserved_cost` / `jobs.reserved_on`: estimates are reserved by
  one conditional UPDATE of the client's row for the day, so concurrent requests can
  never together exceed DAILY_BUDGET_DOLLARS.
- `jobs.video_url` is dropped: nothing read it (the API signs the video asset's URL).

Revision ID: 0005_unit_of_work
Revises: 0004_soundtrack
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_unit_of_work"
down_revision: str | None = "0004_soundtrack"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = sa.Numeric(12, 6, asdecimal=False)

# On SQLite a batch that drops a column copies the table, which drops its triggers: the
# updated_at trigger of 0002 is made again after each such batch (same text as 0002's).
SQLITE_TRIGGER = """
CREATE TRIGGER trg_jobs_updated_at AFTER UPDATE ON jobs FOR EACH ROW
BEGIN
    UPDATE jobs SET updated_at = strftime('%Y-%m-%d %H:%M:%f000', 'now') WHERE id = NEW.id;
END
"""


def _restore_sqlite_trigger() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS trg_jobs_updated_at")
        op.execute(SQLITE_TRIGGER)


def upgrade() -> None:
    with op.batch_alter_table("predictions") as batch:
        batch.add_column(sa.Column("output", sa.JSON(), nullable=True))
    with op.batch_alter_table("exports") as batch:
        batch.add_column(
            sa.Column(
                "updated_at",
                sa.DateTime(timezone=True),
                server_default=sa.func.current_timestamp(),
                nullable=False,
            )
        )
        batch.create_index("ix_exports_status_updated", ["status", "updated_at"])
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("reserved_cost", MONEY, server_default="0", nullable=False))
        batch.add_column(sa.Column("reserved_on", sa.String(10), nullable=True))
        batch.drop_column("video_url")
    _restore_sqlite_trigger()
    op.create_table(
        "budget_days",
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("committed", MONEY, server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("client_id", "day", name=op.f("pk_budget_days")),
    )


def downgrade() -> None:
    op.drop_table("budget_days")
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("video_url", sa.Text(), nullable=True))
        batch.drop_column("reserved_on")
        batch.drop_column("reserved_cost")
    _restore_sqlite_trigger()
    with op.batch_alter_table("exports") as batch:
        batch.drop_index("ix_exports_status_updated")
        batch.drop_column("updated_at")
    with op.batch_alter_table("predictions") as batch:
        batch.drop_column("output")
