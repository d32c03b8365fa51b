"""Soundtrack: measured loudness on assets, caption files on jobs

Revision ID: 0004_soundtrack
Revises: 0003_webhooks
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_soundtrack"
down_revision: str | None = "0003_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE (no batch copy): the jobs table keeps its updated_at trigger.
    op.add_column("assets", sa.Column("loudness_lufs", sa.Float(), nullable=True))
    op.add_column("assets", sa.Column("true_peak_db", sa.Float(), nullable=True))
    op.add_column("jobs", sa.Column("captions_vtt_asset_id", sa.String(36), nullable=True))
    op.add_column("jobs", sa.Column("captions_srt_asset_id", sa.String(36), nullable=True))


def downgrade() -> None:
    op.drop_column("jobs", "captions_srt_asset_id")
    op.drop_column("jobs", "captions_vtt_asset_id")
    op.drop_column("assets", "true_peak_db")
    op.drop_column("assets", "loudness_lufs")
