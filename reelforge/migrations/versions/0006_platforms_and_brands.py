"""platforms and brands: brand kits, and a platform export's checks of its file

- `brand_kits`: a client's logo, colours, font and call to action (saveBrandKit).
- `exports.platform_checks`: the produced file measured against its platform's rules.

Jobs keep their platform and a copy of their brand kit in `jobs.params` (JSON): no column.

Revision ID: 0006_platforms_and_brands
Revises: 0005_unit_of_work
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_platforms_and_brands"
down_revision: str | None = "0005_unit_of_work"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "brand_kits",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("logo_asset_id", sa.String(36), nullable=True),
        sa.Column("font_asset_id", sa.String(36), nullable=True),
        sa.Column("primary_color", sa.String(7), nullable=False),
        sa.Column("secondary_color", sa.String(7), nullable=False),
        sa.Column("call_to_action", sa.String(60), nullable=True),
        sa.Column("logo_corner", sa.String(16), nullable=False),
        sa.Column("logo_opacity", sa.Float(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.current_timestamp(),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.current_timestamp(),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_brand_kits")),
    )
    op.create_index(op.f("ix_brand_kits_client_id"), "brand_kits", ["client_id"])
    with op.batch_alter_table("exports") as batch:
        batch.add_column(sa.Column("platform_checks", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("exports") as batch:
        batch.drop_column("platform_checks")
    op.drop_index(op.f("ix_brand_kits_client_id"), table_name="brand_kits")
    op.drop_table("brand_kits")
