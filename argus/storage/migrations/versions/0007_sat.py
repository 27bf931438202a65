"""satellite scenes, citizen reports, trust and fallback

Revision ID: 0007_sat
Revises: 0006_storm
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_sat"
down_revision = "0006_storm"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "citizenreport",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("village_id", sa.String(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("depth_m", sa.Float(), nullable=True),
        sa.Column("flag", sa.String(), nullable=True),
        sa.Column("reporter_key", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("citizenreport", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_citizenreport_reported_at"), ["reported_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_citizenreport_reporter_key"), ["reporter_key"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_citizenreport_village_id"), ["village_id"], unique=False
        )

    op.create_table(
        "fallbackoverride",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("village_id", sa.String(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("fallbackoverride", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_fallbackoverride_village_id"), ["village_id"], unique=False
        )

    op.create_table(
        "satellitescene",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("origin", sa.String(), nullable=False),
        sa.Column("variable", sa.String(), nullable=True),
        sa.Column("unit", sa.String(), nullable=True),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("reprojected_from", sa.String(), nullable=True),
        sa.Column("villages", sa.Integer(), nullable=False),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sha256"),
    )
    op.create_table(
        "sourcetrust",
        sa.Column("source_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reasons", sa.String(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source_id"),
    )
    op.create_table(
        "villagesource",
        sa.Column("village_id", sa.String(), nullable=False),
        sa.Column("cycle_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("level", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=True),
        sa.Column("degraded", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("village_id"),
    )
    op.create_table(
        "satelliteobservation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scene_id", sa.Integer(), nullable=False),
        sa.Column("village_id", sa.String(), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("flooded_fraction", sa.Float(), nullable=True),
        sa.Column("valid_fraction", sa.Float(), nullable=False),
        sa.Column("radius_km", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["scene_id"],
            ["satellitescene.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("scene_id", "village_id"),
    )
    with op.batch_alter_table("satelliteobservation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_satelliteobservation_acquired_at"),
            ["acquired_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_satelliteobservation_scene_id"), ["scene_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_satelliteobservation_village_id"),
            ["village_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("satelliteobservation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_satelliteobservation_village_id"))
        batch_op.drop_index(batch_op.f("ix_satelliteobservation_scene_id"))
        batch_op.drop_index(batch_op.f("ix_satelliteobservation_acquired_at"))

    op.drop_table("satelliteobservation")
    op.drop_table("villagesource")
    op.drop_table("sourcetrust")
    op.drop_table("satellitescene")
    with op.batch_alter_table("fallbackoverride", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fallbackoverride_village_id"))

    op.drop_table("fallbackoverride")
    with op.batch_alter_table("citizenreport", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_citizenreport_village_id"))
        batch_op.drop_index(batch_op.f("ix_citizenreport_reporter_key"))
        batch_op.drop_index(batch_op.f("ix_citizenreport_reported_at"))

    op.drop_table("citizenreport")
