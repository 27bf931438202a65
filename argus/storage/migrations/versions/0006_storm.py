"""storm: alert hysteresis and cooldown state of each village

Revision ID: 0006_storm
Revises: 0005_sending
Create Date: 2026-12-04 18:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_storm"
down_revision = "0005_sending"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("villagestate", schema=None) as batch_op:
        batch_op.add_column(sa.Column("announced_level", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("pending_level", sa.String(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "pending_cycles", sa.Integer(), nullable=False, server_default="0"
            )
        )
        batch_op.add_column(
            sa.Column("downgraded_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("downgraded_from", sa.String(), nullable=True))
        batch_op.add_column(
            sa.Column("left_warning_at", sa.DateTime(timezone=True), nullable=True)
        )
    # Every level stored before this revision was announced by an alert.
    op.execute("UPDATE villagestate SET announced_level = level")


def downgrade() -> None:
    with op.batch_alter_table("villagestate", schema=None) as batch_op:
        batch_op.drop_column("left_warning_at")
        batch_op.drop_column("downgraded_from")
        batch_op.drop_column("downgraded_at")
        batch_op.drop_column("pending_cycles")
        batch_op.drop_column("pending_level")
        batch_op.drop_column("announced_level")
