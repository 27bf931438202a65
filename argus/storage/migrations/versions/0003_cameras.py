"""camera readings

Revision ID: 0003_cameras
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_cameras"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "camerareading",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.String(), nullable=False),
        sa.Column("station_code", sa.String(), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("frame", sa.String(), nullable=False),
        sa.Column("level_cm", sa.Float(), nullable=True),
        sa.Column("level_m", sa.Float(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("reason", sa.String(), nullable=True),
        sa.Column("cycle_id", sa.Integer(), nullable=True),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("camera_id", "observed_at"),
    )
    with op.batch_alter_table("camerareading", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_camerareading_camera_id"), ["camera_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_camerareading_observed_at"), ["observed_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_camerareading_cycle_id"), ["cycle_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("camerareading", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_camerareading_cycle_id"))
        batch_op.drop_index(batch_op.f("ix_camerareading_observed_at"))
        batch_op.drop_index(batch_op.f("ix_camerareading_camera_id"))
    op.drop_table("camerareading")
