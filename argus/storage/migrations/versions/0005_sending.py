"""sending: the water depth of a citizen's reply

Revision ID: 0005_sending
Revises: 0004_village_risk
Create Date: 2026-12-04 18:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_sending"
down_revision = "0004_village_risk"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inboundmessage", schema=None) as batch_op:
        batch_op.add_column(sa.Column("water_depth_m", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inboundmessage", schema=None) as batch_op:
        batch_op.drop_column("water_depth_m")
