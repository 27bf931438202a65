"""village exposure for the flood-risk model

Revision ID: 0004_village_risk
Revises: 0003_cameras
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_village_risk"
down_revision = "0003_cameras"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "villageexposure",
        sa.Column("village_id", sa.String(), nullable=False),
        sa.Column("object_id", sa.String(), nullable=True),
        sa.Column("elevation_m", sa.Float(), nullable=True),
        sa.Column("river_distance_km", sa.Float(), nullable=True),
        sa.Column("no_sanitation_share", sa.Float(), nullable=True),
        sa.Column("piped_water_share", sa.Float(), nullable=True),
        sa.Column("electricity_class", sa.Float(), nullable=True),
        sa.Column("embankment_km", sa.Float(), nullable=True),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("village_id"),
    )
    with op.batch_alter_table("villageexposure", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_villageexposure_object_id"), ["object_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("villageexposure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_villageexposure_object_id"))
    op.drop_table("villageexposure")
