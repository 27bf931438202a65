"""messaging: sending state, replies, acknowledgements, help requests, Storm Mode

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 18:02:06.693086
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stormevent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("villages_at_emergency", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("stormevent", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stormevent_changed_at"), ["changed_at"], unique=False
        )

    op.create_table(
        "inboundmessage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_sid", sa.String(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=True),
        sa.Column("sender_key", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("body", sa.String(), nullable=False),
        sa.Column("intent", sa.String(), nullable=False),
        sa.Column("language", sa.String(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscriber.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("provider_sid"),
    )
    with op.batch_alter_table("inboundmessage", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inboundmessage_sender_key"), ["sender_key"], unique=False
        )

    op.create_table(
        "acknowledgement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("inbound_id", sa.Integer(), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alert.id"],
        ),
        sa.ForeignKeyConstraint(
            ["inbound_id"],
            ["inboundmessage.id"],
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscriber.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subscriber_id", "alert_id"),
    )
    with op.batch_alter_table("acknowledgement", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_acknowledgement_alert_id"), ["alert_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_acknowledgement_subscriber_id"),
            ["subscriber_id"],
            unique=False,
        )

    op.create_table(
        "deliveryevent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("provider_sid", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("error_code", sa.String(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbox_id"],
            ["outbox.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("deliveryevent", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deliveryevent_outbox_id"), ["outbox_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_deliveryevent_provider_sid"), ["provider_sid"], unique=False
        )

    op.create_table(
        "helprequest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("village_id", sa.String(), nullable=True),
        sa.Column("inbound_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_by", sa.String(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["inbound_id"],
            ["inboundmessage.id"],
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscriber.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("helprequest", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_helprequest_status"), ["status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_helprequest_subscriber_id"), ["subscriber_id"], unique=False
        )

    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "kind", sa.String(), nullable=False, server_default="level_change"
            )
        )
        batch_op.add_column(
            sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("step", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("encoding", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("segments", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("attempts", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("provider_sid", sa.String(), nullable=True))
        batch_op.add_column(
            sa.Column("sending_started_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("delivery_status", sa.String(), nullable=True))
        batch_op.add_column(
            sa.Column("delivery_updated_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("error", sa.String(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_outbox_provider_sid"), ["provider_sid"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_outbox_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_outbox_subscriber_id"), ["subscriber_id"], unique=False
        )

    with op.batch_alter_table("subscriber", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("opted_out_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("subscriber", schema=None) as batch_op:
        batch_op.drop_column("opted_out_at")

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_subscriber_id"))
        batch_op.drop_index(batch_op.f("ix_outbox_status"))
        batch_op.drop_index(batch_op.f("ix_outbox_provider_sid"))
        batch_op.drop_column("error")
        batch_op.drop_column("delivery_updated_at")
        batch_op.drop_column("delivery_status")
        batch_op.drop_column("expires_at")
        batch_op.drop_column("sent_at")
        batch_op.drop_column("sending_started_at")
        batch_op.drop_column("provider_sid")
        batch_op.drop_column("attempts")
        batch_op.drop_column("segments")
        batch_op.drop_column("encoding")
        batch_op.drop_column("step")

    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
        batch_op.drop_column("kind")

    with op.batch_alter_table("helprequest", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_helprequest_subscriber_id"))
        batch_op.drop_index(batch_op.f("ix_helprequest_status"))

    op.drop_table("helprequest")
    with op.batch_alter_table("deliveryevent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deliveryevent_provider_sid"))
        batch_op.drop_index(batch_op.f("ix_deliveryevent_outbox_id"))

    op.drop_table("deliveryevent")
    with op.batch_alter_table("acknowledgement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_acknowledgement_subscriber_id"))
        batch_op.drop_index(batch_op.f("ix_acknowledgement_alert_id"))

    op.drop_table("acknowledgement")
    with op.batch_alter_table("inboundmessage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inboundmessage_sender_key"))

    op.drop_table("inboundmessage")
    with op.batch_alter_table("stormevent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stormevent_changed_at"))

    op.drop_table("stormevent")
